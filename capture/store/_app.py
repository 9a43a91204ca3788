"""The embedded session store as an ASGI app: the Distri contract under /api/v1 and /v1.

Contract routes are matched on the *raw* request path, each segment percent-decoded here, so
an encoded `/` (`%2F`) in a thread id or key stays part of it (Starlette's own routing sees
the decoded path, where that distinction is already lost). Values are spliced into responses
as the JSON text the store holds, so user parts come back byte-for-byte.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import os
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import unquote_to_bytes

from starlette.applications import Starlette
from starlette.convertors import Convertor, register_url_convertor
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from capture.errors import StorageError
from capture.session import id_problem, is_unicode, rfc3339
from capture.store._base import HistoryEntry, SessionRow, Store
from capture.store._openapi import openapi_document
from capture.store._query import int_param
from capture.store._viewer import VIEWER_PUBLIC_PATHS, viewer_routes

__all__ = ["PUBLIC_PATHS", "TokenGuard", "create_app"]

log = logging.getLogger("capture.store")

PUBLIC_PATHS = frozenset({"/healthz", "/openapi.json", *VIEWER_PUBLIC_PATHS})
"""Paths answered without a token: liveness probes, the API description and the viewer's
page shell (which holds no data; the viewer's JSON API needs the token)."""

_BASES = (("api", "v1"), ("v1",))
_RFC3339 = re.compile(r"\d{4}-\d\d-\d\d[Tt ]\d\d:\d\d:\d\d(\.\d+)?([Zz]|[+-]\d\d:\d\d)")
_EXPIRY_HELP = "expected an RFC 3339 timestamp with an offset, e.g. 2026-11-25T12:00:00Z"


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status, headers=headers)


def _raw_json(text: str, status: int = 200) -> Response:
    return Response(text, status_code=status, media_type="application/json")


def _bad(message: str) -> HTTPException:
    return HTTPException(400, message)


def parse_expiry(raw: object) -> datetime | None:
    """The request's expiry as an aware datetime; anything but null or RFC 3339 is a 400."""
    if raw is None:
        return None
    if not isinstance(raw, str) or not _RFC3339.fullmatch(raw):
        raise _bad(f"bad expiry {raw!r}: {_EXPIRY_HELP}")
    try:
        return datetime.fromisoformat(raw.upper()).astimezone(UTC)
    except (ValueError, OverflowError):
        raise _bad(f"bad expiry {raw!r}: not a real date and time") from None


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


@dataclass(frozen=True)
class _Limits:
    body: int
    key: int
    thread_id: int
    body_seconds: float


def _check(what: str, text: str, limit: int) -> str:
    problem = id_problem(text, limit)
    if problem is not None:
        raise _bad(f"{what} {problem}")
    return text


def _session_json(row: SessionRow) -> dict[str, Any]:
    return {
        "session_id": row.thread_id,
        "thread_id": row.thread_id,
        "key_count": len(row.keys),
        "keys": row.keys,
        "updated_at": rfc3339(row.updated_at),
        "task_ids": [],
    }


def _history_json(entry: HistoryEntry) -> str:
    expiry = None if entry.expiry is None else rfc3339(entry.expiry)
    meta = json.dumps({"set_at": rfc3339(entry.set_at), "expiry": expiry})
    return '{"value":' + entry.value_json + "," + meta[1:]


class _AnyText(Convertor[str]):
    """Like Starlette's `path`, but also across a decoded newline (`%0A` in an id), so that
    it reaches the contract's checks (400) instead of falling through to a 404."""

    regex = "(?s:.*)"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("anytext", _AnyText())

Endpoint = Callable[..., Awaitable[Response]]


class _Contract:
    """The contract endpoints: parse, one store call, respond."""

    def __init__(self, store: Store, limits: _Limits) -> None:
        self.store = store
        self.limits = limits
        # (path shape after the base, with None for a parameter) -> {method: endpoint}
        self.routes: dict[tuple[str | None, ...], dict[str, Endpoint]] = {
            ("sessions",): {"GET": self.list_sessions},
            ("sessions", None): {"DELETE": self.clear},
            ("sessions", None, "values"): {"GET": self.get_all, "POST": self.set},
            ("sessions", None, "values", None): {"GET": self.get, "DELETE": self.delete},
            ("sessions", None, "history"): {"GET": self.history},
        }

    async def dispatch(self, request: Request) -> Response:
        """Route on the raw path so that `%2F` inside an id or key is not a separator."""
        raw = request.scope.get("raw_path") or request.scope["path"].encode()
        segments = raw.split(b"?", 1)[0].decode("latin-1").split("/")[1:]
        for base in _BASES:
            if tuple(segments[: len(base)]) == base:
                rest = segments[len(base) :]
                break
        else:
            raise HTTPException(404)
        for shape, methods in self.routes.items():
            if len(shape) == len(rest) and all(
                s is None or s == r for s, r in zip(shape, rest, strict=True)
            ):
                endpoint = methods.get(request.method)
                if endpoint is None:
                    raise HTTPException(405, headers={"Allow": ", ".join(methods)})
                params = [self._decode(r) for s, r in zip(shape, rest, strict=True) if s is None]
                return await endpoint(request, *params)
        raise HTTPException(404)

    def _decode(self, segment: str) -> str:
        try:
            return unquote_to_bytes(segment).decode("utf-8")
        except UnicodeDecodeError:
            raise _bad(f"path segment {segment!r} is not UTF-8 once percent-decoded") from None

    def _thread(self, thread_id: str) -> str:
        return _check("thread id", thread_id, self.limits.thread_id)

    def _key(self, key: str) -> str:
        return _check("key", key, self.limits.key)

    async def _body(self, request: Request) -> bytes:
        """The body, refused with 413 as soon as it is known to be over the limit."""
        limit = self.limits.body
        too_large = HTTPException(413, f"request body is over the limit of {limit} bytes")
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            raise too_large
        body = bytearray()
        seconds = self.limits.body_seconds
        try:
            # uvicorn waits for a body forever; a stalled or trickling client gets 408.
            async with asyncio.timeout(seconds):
                async for chunk in request.stream():
                    body += chunk
                    if len(body) > limit:
                        raise too_large
        except TimeoutError:
            raise HTTPException(408, f"request body not received within {seconds:g} s") from None
        except ClientDisconnect:  # a truncated body: nobody is left to answer, so no traceback
            raise _bad("the client went away before the body was complete") from None
        return bytes(body)

    async def set(self, request: Request, thread_id: str) -> Response:
        thread_id = self._thread(thread_id)
        try:
            data = json.loads(await self._body(request), parse_constant=_reject_constant)
        except (ValueError, RecursionError):  # includes UnicodeDecodeError; deep nesting
            raise _bad("request body is not valid JSON (or nested too deeply)") from None
        if not isinstance(data, dict) or not isinstance(data.get("key"), str):
            raise _bad('body must be a JSON object {"key": str, "value": any, "expiry": ...}')
        if "value" not in data:
            raise _bad("body has no 'value' (send null to store null)")
        key, expiry = self._key(data["key"]), parse_expiry(data.get("expiry"))
        try:  # an overflowing number reads as inf, which has no JSON spelling
            value_json = json.dumps(
                data["value"], ensure_ascii=False, separators=(",", ":"), allow_nan=False
            )
        except ValueError:
            raise _bad("value holds a number too large for JSON") from None
        if not is_unicode(value_json):
            # A lone surrogate (U+D800-U+DFFF) is JSON but not Unicode text: kept as its
            # escape, which every backend stores and which reads back as the same value.
            value_json = json.dumps(data["value"], separators=(",", ":"), allow_nan=False)
        await self.store.set(thread_id, key, value_json, expiry)
        return Response(status_code=204)

    async def get(self, request: Request, thread_id: str, key: str) -> Response:
        value = await self.store.get(self._thread(thread_id), self._key(key))
        return _raw_json('{"value":' + (value or "null") + "}")

    async def get_all(self, request: Request, thread_id: str) -> Response:
        values = await self.store.get_all(self._thread(thread_id))
        items = ",".join(f"{json.dumps(k, ensure_ascii=False)}:{v}" for k, v in values.items())
        return _raw_json('{"values":{' + items + "}}")

    async def delete(self, request: Request, thread_id: str, key: str) -> Response:
        await self.store.delete(self._thread(thread_id), self._key(key))
        return Response(status_code=204)

    async def clear(self, request: Request, thread_id: str) -> Response:
        await self.store.clear(self._thread(thread_id))
        return Response(status_code=204)

    async def list_sessions(self, request: Request) -> Response:
        thread_id = request.query_params.get("thread_id") or None
        limit = int_param(request, "limit", 50, 1, 1000)
        offset = int_param(request, "offset", 0, 0, 10**9)
        rows = await self.store.list_sessions(thread_id, limit, offset)
        return JSONResponse([_session_json(row) for row in rows])

    async def history(self, request: Request, thread_id: str) -> Response:
        key = self._key(request.query_params.get("key", ""))
        limit = int_param(request, "limit", 100, 1, 10_000)
        entries = await self.store.history(self._thread(thread_id), key, limit)
        return _raw_json('{"history":[' + ",".join(map(_history_json, entries)) + "]}")


class TokenGuard:
    """Refuse every non-public request without the token (Bearer or x-api-key) with 401.

    Public because the MCP server's HTTP transport guards its app the same way."""

    def __init__(self, app: ASGIApp, token: str) -> None:
        self.app = app
        self.token = token.encode()

    def authorized(self, headers: Headers) -> bool:
        scheme, _, bearer = headers.get("authorization", "").partition(" ")
        offered = [headers.get("x-api-key", "")]
        if scheme.lower() == "bearer":
            offered.append(bearer.strip())
        # Compare every offer so timing does not reveal which header was checked.
        return any([hmac.compare_digest(o.encode(), self.token) for o in offered])

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        public = scope["type"] != "http" or scope["path"] in PUBLIC_PATHS
        if not public and not self.authorized(Headers(scope=scope)):
            response = _error(401, "missing or wrong token", {"WWW-Authenticate": "Bearer"})
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)


async def _sweep_forever(store: Store, interval: timedelta) -> None:
    while True:
        await asyncio.sleep(interval.total_seconds())
        try:
            removed = await store.sweep()
        except StorageError as exc:
            log.warning("sweep failed: %s", exc)
        else:
            log.debug("sweep removed %d expired values", removed)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    return _error(exc.status_code, exc.detail, dict(exc.headers or {}))


async def _storage_error(request: Request, exc: Exception) -> Response:
    log.error("storage error: %s", exc)
    return _error(503, f"storage unavailable: {exc}")


async def _internal_error(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error", exc_info=exc)
    return _error(500, "internal server error")


def create_app(
    store: Store,
    *,
    token: str | None = None,
    max_body_bytes: int = 8 * 1024 * 1024,
    max_key_length: int = 512,
    max_thread_id_length: int = 256,
    body_timeout: timedelta = timedelta(seconds=30),
    sweep_interval: timedelta = timedelta(seconds=30),
) -> Starlette:
    """The ASGI app over `store`; its lifespan opens and closes the store and sweeps it
    every `sweep_interval` (zero turns the sweep off). With `token`, every route except
    `PUBLIC_PATHS` (liveness, the API description, the viewer's page shell) needs it."""
    limits = _Limits(
        max_body_bytes, max_key_length, max_thread_id_length, body_timeout.total_seconds()
    )
    contract = _Contract(store, limits)
    document = openapi_document(
        secured=bool(token), thread_id_length=max_thread_id_length, key_length=max_key_length
    )

    async def healthz(request: Request) -> Response:
        # The pid tells which worker answered when `capture serve --workers N` runs several.
        return JSONResponse({"status": "ok", "pid": os.getpid()})

    async def openapi(request: Request) -> Response:
        return JSONResponse(document)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await store.open()
        sweeper = None
        if sweep_interval > timedelta(0):
            sweeper = asyncio.create_task(_sweep_forever(store, sweep_interval))
        try:
            yield
        finally:
            if sweeper is not None:
                sweeper.cancel()
                with suppress(asyncio.CancelledError):
                    await sweeper
            await store.close()

    every_method = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
    routes = [
        Route("/healthz", healthz, methods=["GET"]),
        Route("/openapi.json", openapi, methods=["GET"]),
        Route("/api/v1/{rest:anytext}", contract.dispatch, methods=every_method),
        Route("/v1/{rest:anytext}", contract.dispatch, methods=every_method),
        *viewer_routes(store),
    ]
    return Starlette(
        routes=routes,
        middleware=[Middleware(TokenGuard, token=token)] if token else [],
        exception_handlers={
            HTTPException: _http_error,
            StorageError: _storage_error,
            Exception: _internal_error,
        },
        lifespan=lifespan,
    )
