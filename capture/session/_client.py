"""The two faces of the session client: `SessionClient` (sync) and `AsyncSessionClient`.

Both drive the same retry flows of `BaseSessionClient` (its operations, each wrapped in the
one retry policy); all a face adds is sending, sleeping when the flow says so, and closing.
Public method names and signatures are identical on both faces.
"""

from __future__ import annotations

import asyncio
import functools
import ssl
import time
from collections.abc import Awaitable, Callable
from typing import Any, Concatenate, ParamSpec, TypeVar

import httpx

from capture._lifecycle import AsyncClosing, Closing
from capture.session._core import BaseSessionClient, Op, Reply

__all__ = ["AsyncSessionClient", "SessionClient"]

P = ParamSpec("P")
T = TypeVar("T")


@functools.cache
def shared_tls() -> ssl.SSLContext:
    """The TLS context every client uses: httpx builds one per client (its CA bundle read,
    30-50 ms) even for a plain-http store, and a pytest run makes a client per async test."""
    return httpx.create_ssl_context()


def _sync(
    op: Callable[Concatenate[BaseSessionClient, P], Op[T]],
) -> Callable[Concatenate[SessionClient, P], T]:
    def method(self: SessionClient, /, *args: P.args, **kwargs: P.kwargs) -> T:
        return self._drive(op(self, *args, **kwargs))

    functools.update_wrapper(method, op)
    method.__name__ = method.__qualname__ = op.__name__.lstrip("_")
    return method


def _async(
    op: Callable[Concatenate[BaseSessionClient, P], Op[T]],
) -> Callable[Concatenate[AsyncSessionClient, P], Awaitable[T]]:
    async def method(self: AsyncSessionClient, /, *args: P.args, **kwargs: P.kwargs) -> T:
        return await self._drive(op(self, *args, **kwargs))

    functools.update_wrapper(method, op)
    method.__name__ = method.__qualname__ = op.__name__.lstrip("_")
    return method


class SessionClient(BaseSessionClient, Closing):
    """Blocking client: `with SessionClient(url) as c: c.set_session_value(...)`."""

    def __init__(
        self,
        base_url: str = "http://127.0.0.1:8787/api/v1",
        *,
        transport: httpx.BaseTransport | None = None,
        **options: Any,
    ) -> None:
        super().__init__(base_url, **options)
        self._http = httpx.Client(timeout=self.timeout, transport=transport, verify=shared_tls())

    def _drive(self, op: Op[T]) -> T:
        flow = self._retrying(op)
        try:
            step = next(flow)
            while True:
                if not isinstance(step, httpx.Request):
                    time.sleep(step)
                    step = next(flow)
                    continue
                try:
                    reply: Reply = self._http.send(step)
                except httpx.TransportError as exc:
                    reply = exc
                step = flow.send(reply)
        except StopIteration as stop:
            result: T = stop.value
            return result

    def close(self) -> None:
        self._http.close()

    set_session_value = _sync(BaseSessionClient._set_session_value)
    get_session_value = _sync(BaseSessionClient._get_session_value)
    get_session_values = _sync(BaseSessionClient._get_session_values)
    delete_session_value = _sync(BaseSessionClient._delete_session_value)
    clear_session = _sync(BaseSessionClient._clear_session)
    set_user_part_text = _sync(BaseSessionClient._set_user_part_text)
    set_user_part_image = _sync(BaseSessionClient._set_user_part_image)
    delete_user_part = _sync(BaseSessionClient._delete_user_part)
    clear_user_parts = _sync(BaseSessionClient._clear_user_parts)
    get_user_parts = _sync(BaseSessionClient._get_user_parts)
    list_sessions = _sync(BaseSessionClient._list_sessions)
    get_history = _sync(BaseSessionClient._get_history)


class AsyncSessionClient(BaseSessionClient, AsyncClosing):
    """Asyncio client: `async with AsyncSessionClient(url) as c: await c.set_session_value(...)`."""

    def __init__(
        self,
        base_url: str = "http://127.0.0.1:8787/api/v1",
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        **options: Any,
    ) -> None:
        super().__init__(base_url, **options)
        self._http = httpx.AsyncClient(
            timeout=self.timeout, transport=transport, verify=shared_tls()
        )

    async def _drive(self, op: Op[T]) -> T:
        flow = self._retrying(op)
        try:
            step = next(flow)
            while True:
                if not isinstance(step, httpx.Request):
                    await asyncio.sleep(step)
                    step = next(flow)
                    continue
                try:
                    reply: Reply = await self._http.send(step)
                except httpx.TransportError as exc:
                    reply = exc
                step = flow.send(reply)
        except StopIteration as stop:
            result: T = stop.value
            return result

    async def close(self) -> None:
        await self._http.aclose()

    set_session_value = _async(BaseSessionClient._set_session_value)
    get_session_value = _async(BaseSessionClient._get_session_value)
    get_session_values = _async(BaseSessionClient._get_session_values)
    delete_session_value = _async(BaseSessionClient._delete_session_value)
    clear_session = _async(BaseSessionClient._clear_session)
    set_user_part_text = _async(BaseSessionClient._set_user_part_text)
    set_user_part_image = _async(BaseSessionClient._set_user_part_image)
    delete_user_part = _async(BaseSessionClient._delete_user_part)
    clear_user_parts = _async(BaseSessionClient._clear_user_parts)
    get_user_parts = _async(BaseSessionClient._get_user_parts)
    list_sessions = _async(BaseSessionClient._list_sessions)
    get_history = _async(BaseSessionClient._get_history)
