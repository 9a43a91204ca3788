"""The session client, both faces, against the real embedded server over real HTTP,
on every storage backend."""

from __future__ import annotations

import asyncio
import base64
import inspect
import json
import socket
import ssl
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from capture.errors import BadRequestError, StoreUnavailableError
from capture.session import (
    AsyncSessionClient,
    ImageBytes,
    ImagePart,
    SessionClient,
    TextPart,
    format_expiry,
)
from capture.store import store_from_url

if TYPE_CHECKING:  # annotations only: importing conftest again at run time would run it twice
    from tests.conftest import RunningStore, StartStore

PNG_1x1 = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)


class AsyncAsSync:
    """Drives an AsyncSessionClient from a sync test, so one test body covers both faces."""

    def __init__(self, client: AsyncSessionClient) -> None:
        self._client = client
        self._runner = asyncio.Runner()

    def __getattr__(self, name: str) -> Callable[..., Any]:
        method = getattr(self._client, name)

        def call(*args: Any, **kwargs: Any) -> Any:
            return self._runner.run(method(*args, **kwargs))

        return call

    def close(self) -> None:
        self._runner.run(self._client.close())
        self._runner.close()


@pytest.fixture
def store_server(start_store_server: StartStore, store_url: str) -> RunningStore:
    """The real server on every backend in conftest.STORE_BACKENDS: identical assertions."""
    return start_store_server(store_from_url(store_url))


@pytest.fixture(params=["sync", "async"])
def client(request: pytest.FixtureRequest, store_server: RunningStore) -> Iterator[Any]:
    if request.param == "sync":
        with SessionClient(store_server.base_url) as sync_client:
            yield sync_client
    else:
        wrapped = AsyncAsSync(AsyncSessionClient(store_server.base_url))
        yield wrapped
        wrapped.close()


def _raw_values(store_server: RunningStore, thread: str) -> dict[str, Any]:
    url = f"{store_server.base_url}/sessions/{thread}/values"
    values: dict[str, Any] = httpx.get(url).json()["values"]
    return values


def test_both_faces_have_the_same_public_methods_and_signatures() -> None:
    def public(cls: type) -> dict[str, inspect.Signature]:
        return {
            name: inspect.signature(member)
            for name, member in inspect.getmembers(cls, callable)
            if not name.startswith("_") and name not in {"close"}
        }

    sync, async_ = public(SessionClient), public(AsyncSessionClient)
    assert sync.keys() == async_.keys()
    assert {"set_session_value", "get_user_parts", "list_sessions", "clear_user_parts"} <= set(sync)
    for name in sync:
        assert sync[name] == async_[name], name
    assert inspect.iscoroutinefunction(AsyncSessionClient.get_session_value)
    assert not inspect.iscoroutinefunction(SessionClient.get_session_value)


def test_values_round_trip(client: Any, store_server: RunningStore) -> None:
    value = {"theme": "dark", "n": [1, 2.5, None, True], "ü": "✓"}
    client.set_session_value("t-values", "pref", value)
    assert client.get_session_value("t-values", "pref") == value
    assert client.get_session_value("t-values", "missing") is None
    client.set_session_value("t-values", "other", "text")
    assert client.get_session_values("t-values") == {"pref": value, "other": "text"}
    client.delete_session_value("t-values", "pref")
    client.delete_session_value("t-values", "pref")  # absent: still fine
    assert _raw_values(store_server, "t-values") == {"other": "text"}
    client.clear_session("t-values")
    assert client.get_session_values("t-values") == {}


@pytest.mark.parametrize(
    ("thread", "key"),
    [("a thread/with?odd&chars", "key/with/slashes"), ("thread-ü", "schlüssel ? & %2F #")],
)
def test_ids_and_keys_are_percent_encoded(client: Any, thread: str, key: str) -> None:
    client.set_session_value(thread, key, 1)
    assert client.get_session_value(thread, key) == 1
    assert client.get_session_values(thread) == {key: 1}
    client.delete_session_value(thread, key)
    assert client.get_session_values(thread) == {}


def test_user_parts_are_stored_in_the_distri_shape(client: Any, store_server: RunningStore) -> None:
    client.set_user_part_text("t-parts", "observation", "Page: Checkout")
    client.set_user_part_image(
        "t-parts", "screenshot", PNG_1x1, mime_type="image/png", filename="step-1.png"
    )
    client.set_session_value("t-parts", "plain", 1)
    raw = _raw_values(store_server, "t-parts")
    assert raw["__user_part_observation"] == {"part_type": "text", "data": "Page: Checkout"}
    assert raw["__user_part_screenshot"] == {
        "part_type": "image",
        "data": {
            "type": "bytes",
            "bytes": base64.b64encode(PNG_1x1).decode(),
            "mime_type": "image/png",
            "name": "step-1.png",
        },
    }
    parts = client.get_user_parts("t-parts")
    assert parts == {
        "observation": TextPart(data="Page: Checkout"),
        "screenshot": ImagePart(
            data=ImageBytes(
                bytes=base64.b64encode(PNG_1x1).decode(), mime_type="image/png", name="step-1.png"
            )
        ),
    }
    client.delete_user_part("t-parts", "observation")
    assert set(client.get_user_parts("t-parts")) == {"screenshot"}
    client.clear_user_parts("t-parts")
    assert _raw_values(store_server, "t-parts") == {"plain": 1}


def test_image_part_accepts_base64_and_checks_input(client: Any) -> None:
    client.set_user_part_image("t-img", "__user_part_shot", base64.b64encode(PNG_1x1).decode())
    part = client.get_user_parts("t-img")["shot"]
    assert isinstance(part, ImagePart)
    assert part.data.mime_type == "image/png"
    with pytest.raises(ValueError, match="not an image type"):
        client.set_user_part_image("t-img", "x", PNG_1x1, mime_type="text/plain")
    with pytest.raises(ValueError, match="base64"):
        client.set_user_part_image("t-img", "x", "not base64!!")


def test_user_parts_are_read_the_way_distri_reads_them(client: Any) -> None:
    client.set_session_value("t-read", "__user_part_a", "a bare string")
    client.set_session_value("t-read", "__user_part_b", {"partType": "image", "data": {}})
    parts = client.get_user_parts("t-read")
    assert parts["a"] == TextPart(data="a bare string")
    # a mis-shaped part reaches the model as a JSON text dump, as on a Distri server
    assert isinstance(parts["b"], TextPart)
    assert json.loads(parts["b"].data) == {"partType": "image", "data": {}}


def test_expiry_forms(client: Any) -> None:
    client.set_session_value("t-exp", "td", 1, timedelta(minutes=5))
    client.set_session_value("t-exp", "dt", 2, datetime.now(UTC) + timedelta(minutes=5))
    client.set_session_value("t-exp", "str", 3, "2999-01-01T00:00:00+02:00")
    client.set_session_value("t-exp", "past", 4, datetime.now(UTC) - timedelta(seconds=1))
    assert client.get_session_values("t-exp") == {"td": 1, "dt": 2, "str": 3}
    assert client.get_session_value("t-exp", "past") is None


def test_naive_expiry_is_rejected_before_any_request() -> None:
    # The port is closed: had a request been attempted, this would be StoreUnavailableError.
    with SessionClient(f"http://127.0.0.1:{_closed_port()}/api/v1", retries=0) as client:
        with pytest.raises(ValueError, match="naive"):
            client.set_session_value("t", "k", 1, datetime(2030, 1, 1))
        with pytest.raises(ValueError, match="no UTC offset"):
            client.set_session_value("t", "k", 1, "2030-01-01T00:00:00")
        with pytest.raises(ValueError, match="not an RFC 3339"):
            client.set_session_value("t", "k", 1, "tomorrow")


def test_format_expiry_is_js_iso_string() -> None:
    now = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
    assert format_expiry(timedelta(minutes=10), now) == "2026-11-25T12:10:00.000Z"
    assert format_expiry("2026-11-25T14:00:00+02:00") == "2026-11-25T12:00:00.000Z"
    assert format_expiry(None) is None


def test_list_sessions(client: Any) -> None:
    client.set_session_value("t-list-1", "a", 1)
    client.set_session_value("t-list-2", "a", 1)
    client.set_session_value("t-list-2", "b", 2)
    rows = client.list_sessions()
    ids = [row.thread_id for row in rows]
    assert ids.index("t-list-2") < ids.index("t-list-1")  # newest first
    only = client.list_sessions("t-list-2")
    assert [(r.session_id, r.key_count, sorted(r.keys)) for r in only] == [
        ("t-list-2", 2, ["a", "b"])
    ]
    assert len(client.list_sessions(limit=1)) == 1


def test_server_errors_become_exceptions(client: Any) -> None:
    with pytest.raises(BadRequestError) as info:
        client.set_session_value("t-err", "", 1)
    assert info.value.status == 400
    assert info.value.message


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def test_unreachable_store_is_store_unavailable_after_retries() -> None:
    url = f"http://127.0.0.1:{_closed_port()}/v1"
    with (
        SessionClient(url, retries=2, backoff=0.01) as c,
        pytest.raises(StoreUnavailableError, match="unreachable"),
    ):
        c.get_session_values("t")


class _Flaky(BaseHTTPRequestHandler):
    """Answers 503 to the first two requests of each path, then 200: a store restarting."""

    seen: dict[str, int] = {}  # noqa: RUF012 - per-test server state

    def do_GET(self) -> None:
        count = self.seen[self.path] = self.seen.get(self.path, 0) + 1
        status, body = (503, b'{"error":"restarting"}') if count <= 2 else (200, b'{"value":7}')
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def flaky_server() -> Iterator[str]:
    _Flaky.seen = {}
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Flaky)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/api/v1"
    server.shutdown()
    server.server_close()


def test_retries_carry_through_5xx(flaky_server: str) -> None:
    with SessionClient(flaky_server, retries=3, backoff=0.01) as c:
        assert c.get_session_value("t", "k") == 7
    with SessionClient(flaky_server, retries=1, backoff=0.01) as c:
        with pytest.raises(StoreUnavailableError, match="restarting") as info:
            c.get_session_value("t", "other")
        assert info.value.status == 503


async def test_async_face_as_context_manager(store_server: Any) -> None:
    async with AsyncSessionClient(store_server.base_url) as c:
        await c.set_user_part_text("t-async", "note", "hi", expiry=timedelta(minutes=1))
        assert await c.get_user_parts("t-async") == {"note": TextPart(data="hi")}


def test_bad_server_url_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="must look like"):
        SessionClient("127.0.0.1:8787")


async def test_async_face_drives_the_same_retry_policy(flaky_server: str) -> None:
    """The retry flow is one generator; the async face must honour it exactly as the sync
    face does (5xx retried, then mapped; a refused connection is StoreUnavailableError)."""
    async with AsyncSessionClient(flaky_server, retries=3, backoff=0.01) as c:
        assert await c.get_session_value("t", "k") == 7
    async with AsyncSessionClient(flaky_server, retries=1, backoff=0.01) as c:
        with pytest.raises(StoreUnavailableError, match="restarting") as info:
            await c.get_session_value("t", "other")
        assert info.value.status == 503
    url = f"http://127.0.0.1:{_closed_port()}/v1"
    async with AsyncSessionClient(url, retries=2, backoff=0.01) as c:
        with pytest.raises(StoreUnavailableError, match="unreachable"):
            await c.get_session_values("t")


def test_retry_delay_paces_the_attempts(flaky_server: str) -> None:
    """Each retry waits what retry_delay says, and the attempts stop when it says None."""
    asked: list[tuple[int, int | None]] = []

    class Counting(SessionClient):
        def retry_delay(self, attempt: int, response: httpx.Response | None) -> float | None:
            asked.append((attempt, None if response is None else response.status_code))
            return super().retry_delay(attempt, response)

    with Counting(flaky_server, retries=5, backoff=0.01) as c:
        assert c.get_session_value("t", "paced") == 7
    assert asked == [(1, 503), (2, 503), (3, 200)]


async def test_every_client_shares_one_tls_context() -> None:
    """httpx builds a TLS context per client (its CA bundle read, 30-50 ms) even for a
    plain-http store, and a pytest run makes a client per async test: they share one, which
    still verifies certificates. (The context is read from httpx's internals.)"""
    clients = [SessionClient(), AsyncSessionClient(), SessionClient("https://127.0.0.1:1/v1")]
    try:
        contexts = {id(c._http._transport._pool._ssl_context) for c in clients}
        assert len(contexts) == 1
        context = clients[0]._http._transport._pool._ssl_context
        assert context.verify_mode is ssl.CERT_REQUIRED
        assert context.check_hostname
    finally:
        clients[0].close()
        await clients[1].close()
        clients[2].close()
