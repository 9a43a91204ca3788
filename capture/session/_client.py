"""The two faces of the session client: `SessionClient` (sync) and `AsyncSessionClient`.

Both drive the same operation generators of `BaseSessionClient`; all they add is sending
with retries (connection errors, 429 and 5xx -- every operation here is idempotent) and the
context-manager protocol. Public method names and signatures are identical on both faces.
"""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import Any, Concatenate, ParamSpec, Self, TypeVar

import httpx

from capture.errors import StoreUnavailableError
from capture.session._core import BaseSessionClient, Op

__all__ = ["AsyncSessionClient", "SessionClient"]

P = ParamSpec("P")
T = TypeVar("T")


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


def _unavailable(request: httpx.Request, exc: Exception) -> StoreUnavailableError:
    return StoreUnavailableError(
        f"session store at {request.url.scheme}://{request.url.netloc.decode()} "
        f"is unreachable: {exc.__class__.__name__}: {exc}"
    )


class SessionClient(BaseSessionClient):
    """Blocking client: `with SessionClient(url) as c: c.set_session_value(...)`."""

    def __init__(
        self,
        base_url: str = "http://127.0.0.1:8787/api/v1",
        *,
        transport: httpx.BaseTransport | None = None,
        **options: Any,
    ) -> None:
        super().__init__(base_url, **options)
        self._http = httpx.Client(timeout=self.timeout, transport=transport)

    def _send(self, request: httpx.Request) -> httpx.Response:
        attempt = 0
        while True:
            attempt += 1
            try:
                response = self._http.send(request)
            except httpx.TransportError as exc:
                if (delay := self.retry_delay(attempt, None)) is None:
                    raise _unavailable(request, exc) from exc
            else:
                if (delay := self.retry_delay(attempt, response)) is None:
                    return response
            time.sleep(delay)

    def _drive(self, op: Op[T]) -> T:
        try:
            request = next(op)
            while True:
                request = op.send(self._send(request))
        except StopIteration as stop:
            result: T = stop.value
            return result

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

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


class AsyncSessionClient(BaseSessionClient):
    """Asyncio client: `async with AsyncSessionClient(url) as c: await c.set_session_value(...)`."""

    def __init__(
        self,
        base_url: str = "http://127.0.0.1:8787/api/v1",
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        **options: Any,
    ) -> None:
        super().__init__(base_url, **options)
        self._http = httpx.AsyncClient(timeout=self.timeout, transport=transport)

    async def _send(self, request: httpx.Request) -> httpx.Response:
        attempt = 0
        while True:
            attempt += 1
            try:
                response = await self._http.send(request)
            except httpx.TransportError as exc:
                if (delay := self.retry_delay(attempt, None)) is None:
                    raise _unavailable(request, exc) from exc
            else:
                if (delay := self.retry_delay(attempt, response)) is None:
                    return response
            await asyncio.sleep(delay)

    async def _drive(self, op: Op[T]) -> T:
        try:
            request = next(op)
            while True:
                request = op.send(await self._send(request))
        except StopIteration as stop:
            result: T = stop.value
            return result

    async def close(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

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
