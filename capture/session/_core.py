"""Everything the session client does that needs no I/O, shared by the sync and async faces.

Each operation is a generator: it yields the `httpx.Request` to send, receives the
`httpx.Response`, and returns the parsed result. The retry policy is one more generator
around an operation (`BaseSessionClient._retrying`), the way httpx drives its auth flows:
`SessionClient` and `AsyncSessionClient` only send and sleep when it says so, so request
building, retries, expiry handling and error mapping exist exactly once.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import copy
import json
from collections.abc import Callable, Generator, Mapping
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Self, TypeVar
from urllib.parse import quote

import httpx
from pydantic import ValidationError

from capture.errors import (
    AuthError,
    BadRequestError,
    PayloadTooLargeError,
    SessionStoreError,
    StoreUnavailableError,
)
from capture.session.models import (
    USER_PART_PREFIX,
    HistoryEntry,
    ImageBytes,
    ImagePart,
    Part,
    SessionInfo,
    TextPart,
    part_adapter,
    user_part_key,
)

if TYPE_CHECKING:
    from capture.config import SessionConfig

__all__ = [
    "BaseSessionClient",
    "Expiry",
    "Flow",
    "Op",
    "Reply",
    "encode_json",
    "format_expiry",
    "read_part",
    "rfc3339",
]

T = TypeVar("T")
Op = Generator[httpx.Request, httpx.Response, T]
# A retry flow yields a request to send, or seconds to wait before it goes on; what a face
# sends back for a request is its response, or the transport error that sending it raised.
Reply = httpx.Response | httpx.TransportError
Flow = Generator[httpx.Request | float, Reply, T]
Expiry = datetime | timedelta | str | None
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


def format_expiry(expiry: Expiry, now: datetime | None = None) -> str | None:
    """RFC 3339 in UTC with milliseconds and `Z`, like JS `toISOString()`.

    A naive datetime or an offset-less string is a `ValueError` here, before any request,
    because the server could only guess its zone.
    """
    if expiry is None:
        return None
    if isinstance(expiry, timedelta):
        expiry = (now or datetime.now(UTC)) + expiry
    elif isinstance(expiry, str):
        try:
            parsed = datetime.fromisoformat(expiry.strip())
        except ValueError:
            raise ValueError(f"expiry {expiry!r} is not an RFC 3339 timestamp") from None
        if parsed.tzinfo is None:
            raise ValueError(f"expiry {expiry!r} has no UTC offset (add 'Z' or '+00:00')")
        expiry = parsed
    elif not isinstance(expiry, datetime):
        raise TypeError(f"expiry must be a datetime, timedelta or str, not {type(expiry)}")
    if expiry.tzinfo is None or expiry.utcoffset() is None:
        raise ValueError("expiry is a naive datetime; pass an aware one (tzinfo=UTC)")
    return rfc3339(expiry)


def rfc3339(moment: datetime) -> str:
    """UTC with milliseconds and `Z`, the way JS `toISOString()` writes it."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def encode_json(data: Any) -> bytes:
    """Compact UTF-8 JSON, the exact bytes sent (the recorder sizes requests with it)."""
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode()


def _error_message(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and isinstance(error := body.get("error"), str):
        return error
    text = response.text.strip()
    return text[:200] if text else response.reason_phrase or "no message"


def raise_for_status(response: httpx.Response) -> None:
    """Map an error status onto the exception tree; the server's message is kept."""
    status = response.status_code
    if status < 400:
        return
    message = f"{status} from {response.request.method} {response.request.url}: "
    message += _error_message(response)
    cls: type[SessionStoreError]
    if status == 400:
        cls = BadRequestError
    elif status in (401, 403):
        cls = AuthError
    elif status == 413:
        cls = PayloadTooLargeError
    elif status in RETRY_STATUSES:
        cls = StoreUnavailableError
    else:
        cls = SessionStoreError
    raise cls(message, status=status)


def _unavailable(request: httpx.Request, exc: Exception) -> StoreUnavailableError:
    return StoreUnavailableError(
        f"session store at {request.url.scheme}://{request.url.netloc.decode()} "
        f"is unreachable: {exc.__class__.__name__}: {exc}"
    )


def _json(response: httpx.Response) -> Any:
    raise_for_status(response)
    try:
        return response.json()
    except ValueError as exc:
        raise SessionStoreError(
            f"store answered {response.status_code} with a body that is not JSON",
            status=response.status_code,
        ) from exc


def read_part(value: Any) -> tuple[TextPart | ImagePart, bool]:
    """The part Distri builds from a stored value, and whether the value was a proper Part.

    Distri passes a bare string on as text and any other non-Part value as a JSON text dump
    -- which is how a mis-shaped image part silently stops being an image.
    """
    if isinstance(value, str):
        return TextPart(data=value), True
    try:
        return part_adapter.validate_python(value), True
    except ValidationError:
        return TextPart(data=json.dumps(value, ensure_ascii=False)), False


def _segment(text: str) -> str:
    encoded = quote(text, safe="")
    return encoded.replace(".", "%2E") if text in (".", "..") else encoded


class BaseSessionClient:
    """Configuration and the operations as generators; subclasses add sending."""

    def __init__(
        self,
        base_url: str = "http://127.0.0.1:8787/api/v1",
        *,
        token: str | None = None,
        api_key: str | None = None,
        timeout: float = 10.0,
        retries: int = 3,
        backoff: float = 0.2,
        max_backoff: float = 5.0,
        headers: Mapping[str, str] | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        url = httpx.URL(base_url)
        if url.scheme not in ("http", "https") or not url.host:
            raise ValueError(f"server URL {base_url!r} must look like http://host:port/api/v1")
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self.max_backoff = max_backoff
        self._clock = clock
        self._headers = {"accept": "application/json", **(headers or {})}
        if token:
            self._headers["authorization"] = f"Bearer {token}"
        if api_key:
            self._headers["x-api-key"] = api_key

    @classmethod
    def from_config(cls, session: SessionConfig, **options: Any) -> Self:
        """A client for the `[session]` config section; keyword options win over it."""
        base_url = options.pop("base_url", session.server)
        settings: dict[str, Any] = {
            "token": session.token or None,
            "api_key": session.api_key or None,
            "timeout": session.timeout.total_seconds(),
            "retries": session.retries,
        }
        settings.update(options)
        return cls(base_url, **settings)

    # -- request building --------------------------------------------------------------

    def _url(self, *segments: str) -> str:
        """Percent-encode every id and key: a `/` in a key stays part of the key, and an id
        `.` or `..` is spelled with %2E, or URL normalization would resolve it as a path step."""
        return "/".join([self.base_url, *(_segment(s) for s in segments)])

    def _request(
        self,
        method: str,
        *segments: str,
        content: bytes | None = None,
        params: Mapping[str, str | int] | None = None,
    ) -> httpx.Request:
        headers = dict(self._headers)
        if content is not None:
            headers["content-type"] = "application/json"
        return httpx.Request(
            method, self._url(*segments), headers=headers, content=content, params=params
        )

    def set_body(self, key: str, value: Any, expiry: Expiry = None) -> bytes:
        """The exact request body of a set; lets callers check a byte budget first."""
        return encode_json(
            {"key": key, "value": value, "expiry": format_expiry(expiry, self._clock())}
        )

    def with_retries(self, retries: int) -> Self:
        """This client, on the same connections, with another retry budget: the recorder's
        uploader sends with none, so its own retries are the one budget of a write."""
        clone = copy.copy(self)
        clone.retries = retries
        return clone

    def retry_delay(self, attempt: int, response: httpx.Response | None) -> float | None:
        """Seconds to wait before retry `attempt` (1-based), or None to give up."""
        if attempt > self.retries:
            return None
        if response is not None and response.status_code not in RETRY_STATUSES:
            return None
        delay: float = min(self.max_backoff, self.backoff * 2.0 ** (attempt - 1))
        if response is not None and (after := response.headers.get("retry-after")):
            with contextlib.suppress(ValueError):  # an HTTP-date Retry-After: keep ours
                delay = min(self.max_backoff, max(delay, float(after)))
        return delay

    def _retrying(self, op: Op[T]) -> Flow[T]:
        """`op` with the retry policy, for a face to drive: every operation is idempotent, so
        a connection error, 429 or 5xx is sent again after `retry_delay`; when the retries
        are spent, an error status is the operation's to map and a connection error is a
        `StoreUnavailableError`."""
        try:
            request = next(op)
            while True:
                request = op.send((yield from self._attempts(request)))
        except StopIteration as stop:
            result: T = stop.value
            return result

    def _attempts(self, request: httpx.Request) -> Flow[httpx.Response]:
        attempt = 0
        while True:
            attempt += 1
            reply = yield request
            if isinstance(reply, httpx.Response):
                if (delay := self.retry_delay(attempt, reply)) is None:
                    return reply
            elif (delay := self.retry_delay(attempt, None)) is None:
                raise _unavailable(request, reply) from reply
            yield delay

    # -- operations (generators driven by the sync and async faces) ----------------------

    def _set_session_value(
        self, thread_id: str, key: str, value: Any, expiry: Expiry = None
    ) -> Op[None]:
        """Set `key` to any JSON value; expiry: aware datetime, timedelta or RFC 3339."""
        content = self.set_body(key, value, expiry)
        raise_for_status(
            (yield self._request("POST", "sessions", thread_id, "values", content=content))
        )

    def _get_session_value(self, thread_id: str, key: str) -> Op[Any]:
        """The value of `key`, or None when it is missing or expired."""
        body = _json((yield self._request("GET", "sessions", thread_id, "values", key)))
        return body.get("value") if isinstance(body, dict) else None

    def _get_session_values(self, thread_id: str) -> Op[dict[str, Any]]:
        """Every live value of the thread, by key."""
        body = _json((yield self._request("GET", "sessions", thread_id, "values")))
        values = body.get("values") if isinstance(body, dict) else None
        return dict(values) if isinstance(values, dict) else {}

    def _delete_session_value(self, thread_id: str, key: str) -> Op[None]:
        """Delete `key`; deleting an absent key is not an error."""
        raise_for_status((yield self._request("DELETE", "sessions", thread_id, "values", key)))

    def _clear_session(self, thread_id: str) -> Op[None]:
        """Delete every value of the thread."""
        raise_for_status((yield self._request("DELETE", "sessions", thread_id)))

    def _set_user_part_text(
        self, thread_id: str, name: str, text: str, expiry: Expiry = None
    ) -> Op[None]:
        """Attach `text` to the agent's next user messages as a text part."""
        part = TextPart(data=text).model_dump(mode="json")
        yield from self._set_session_value(thread_id, user_part_key(name), part, expiry)

    def _set_user_part_image(
        self,
        thread_id: str,
        name: str,
        image: bytes | str,
        *,
        mime_type: str = "image/png",
        filename: str | None = None,
        expiry: Expiry = None,
    ) -> Op[None]:
        """Attach an image (raw bytes, or base64 text) as an image part."""
        if not mime_type.startswith("image/"):
            raise ValueError(f"mime_type {mime_type!r} is not an image type (image/...)")
        if isinstance(image, bytes | bytearray):
            encoded = base64.b64encode(image).decode("ascii")
        else:
            try:
                base64.b64decode(image, validate=True)
            except (binascii.Error, ValueError):
                raise ValueError("image text is not valid base64") from None
            encoded = image
        part = ImagePart(data=ImageBytes(bytes=encoded, mime_type=mime_type, name=filename))
        value = part.model_dump(mode="json")
        yield from self._set_session_value(thread_id, user_part_key(name), value, expiry)

    def _delete_user_part(self, thread_id: str, name: str) -> Op[None]:
        """Stop attaching the user part `name`."""
        yield from self._delete_session_value(thread_id, user_part_key(name))

    def _get_user_parts(self, thread_id: str) -> Op[dict[str, Part]]:
        """The thread's user parts by name (prefix removed), read as Distri reads them."""
        values = yield from self._get_session_values(thread_id)
        return {
            key[len(USER_PART_PREFIX) :]: read_part(value)[0]
            for key, value in sorted(values.items())
            if key.startswith(USER_PART_PREFIX)
        }

    def _clear_user_parts(self, thread_id: str) -> Op[None]:
        """Delete every user part of the thread, leaving other values alone."""
        values = yield from self._get_session_values(thread_id)
        for key in values:
            if key.startswith(USER_PART_PREFIX):
                yield from self._delete_session_value(thread_id, key)

    def _get_history(self, thread_id: str, key: str, *, limit: int = 1) -> Op[list[HistoryEntry]]:
        """Versions of `key`, newest first, expired ones included. Only the embedded store
        keeps history (an extension of the API): any other store answers with none."""
        params: dict[str, str | int] = {"key": key, "limit": limit}
        reply = yield self._request("GET", "sessions", thread_id, "history", params=params)
        if reply.status_code == 404:
            return []
        body = _json(reply)
        rows = body.get("history") if isinstance(body, dict) else None
        return [HistoryEntry.model_validate(row) for row in rows or []]

    def _list_sessions(
        self, thread_id: str | None = None, *, limit: int = 50, offset: int = 0
    ) -> Op[list[SessionInfo]]:
        """Sessions newest first; `thread_id` narrows the list to that thread."""
        params: dict[str, str | int] = {"limit": limit, "offset": offset}
        if thread_id:
            params["thread_id"] = thread_id
        body = _json((yield self._request("GET", "sessions", params=params)))
        if not isinstance(body, list):
            raise SessionStoreError("session list is not a JSON array", status=200)
        return [SessionInfo.model_validate(row) for row in body]
