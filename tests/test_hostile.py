"""Hostile input against the real server over real sockets: huge keys, deep JSON, bad UTF-8
and lone surrogates, `..` and encoded slashes, slow, truncated and oversized bodies, and
many connections. Each gets a 4xx JSON answer (or, below HTTP, a bounded refusal), and the
server stays up: every test ends by checking /healthz and a normal write.
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from collections.abc import Iterator

import httpx
import pytest

from capture.session import SessionClient
from capture.store import MemoryStore, store_from_url
from tests.conftest import RunningStore, StartStore, quote_segment


@pytest.fixture
def served(start_store_server: StartStore, store_url: str) -> Iterator[RunningStore]:
    """The server on each backend (conftest.STORE_BACKENDS), for input that reaches a store."""
    store = store_from_url(store_url)
    running = start_store_server(store, max_body_bytes=1024 * 1024, body_timeout=1)
    yield running
    _assert_still_serving(running)


@pytest.fixture
def server(start_store_server: StartStore) -> Iterator[RunningStore]:
    """One server (memory), for input refused before any store is involved."""
    running = start_store_server(MemoryStore(), max_body_bytes=1024 * 1024, body_timeout=1)
    yield running
    _assert_still_serving(running)


def _assert_still_serving(running: RunningStore) -> None:
    with httpx.Client(timeout=10) as http:
        assert http.get(f"{running.root}/healthz").json()["status"] == "ok"
        values = f"{running.base_url}/sessions/after/values"
        assert http.post(values, json={"key": "k", "value": "ok"}).status_code == 204
        assert http.get(f"{values}/k").json() == {"value": "ok"}


def _port(running: RunningStore) -> int:
    return int(running.root.rsplit(":", 1)[1])


def _raw(running: RunningStore, data: bytes, *, timeout: float = 10) -> tuple[int, bytes]:
    """Send raw bytes while reading the answer, as a server may answer (413) and close
    before the body is all sent; return (status, body)."""
    with socket.create_connection(("127.0.0.1", _port(running)), timeout=timeout) as sock:

        def send() -> None:
            with contextlib.suppress(OSError):  # the server closed early: fine
                sock.sendall(data)

        sender = threading.Thread(target=send)
        sender.start()
        answer = b""
        with contextlib.suppress(ConnectionResetError):
            while chunk := sock.recv(65536):
                answer += chunk
        sender.join()
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 "), f"no HTTP answer: {answer[:200]!r}"
    return int(head.split(b" ", 2)[1]), body


def _request(method: str, path: str, body: bytes = b"", **headers: str) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", "Connection: close"]
    lines += [f"{name.replace('_', '-')}: {value}" for name, value in headers.items()]
    if body or method == "POST":
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def _assert_json_error(status: int, body: bytes, expected: int) -> str:
    assert status == expected, body[:300]
    error = json.loads(body)["error"]
    assert isinstance(error, str)
    return error


POST = "/api/v1/sessions/t/values"


def _post(running: RunningStore, body: bytes) -> tuple[int, bytes]:
    return _raw(running, _request("POST", POST, body, Content_Type="application/json"))


# -- oversized input ---------------------------------------------------------------------


def test_huge_keys_and_ids_are_400_json(served: RunningStore) -> None:
    body = json.dumps({"key": "k" * 600_000, "value": 1}).encode()
    error = _assert_json_error(*_post(served, body), 400)
    assert "key is longer than 512 characters" in error
    status, body = _raw(served, _request("GET", "/api/v1/sessions/" + "t" * 300 + "/values"))
    assert "thread id is longer than 256" in _assert_json_error(status, body, 400)


def test_a_request_line_too_long_for_http_is_refused_below_the_app(server: RunningStore) -> None:
    status, _ = _raw(server, _request("GET", "/api/v1/sessions/" + "t" * 200_000 + "/values"))
    assert 400 <= status < 500  # the HTTP parser's own answer (not JSON: no app involved)


def test_bodies_over_the_limit_are_413_json_declared_or_chunked(server: RunningStore) -> None:
    declared = _request("POST", POST, Content_Type="application/json")
    declared = declared.replace(b"Content-Length: 0", b"Content-Length: 2000000")
    _assert_json_error(*_raw(server, declared), 413)  # refused before any body byte is sent
    chunked = _request("POST", POST, Content_Type="application/json", Transfer_Encoding="chunked")
    chunked = chunked.replace(b"Content-Length: 0\r\n", b"")
    for _ in range(3):
        chunked += b"%x\r\n" % (512 * 1024) + b"x" * (512 * 1024) + b"\r\n"
    _assert_json_error(*_raw(server, chunked + b"0\r\n\r\n"), 413)


# -- malformed JSON and text -------------------------------------------------------------


@pytest.mark.parametrize("depth", [100_000, 5_000])
def test_deeply_nested_json_is_400_json(server: RunningStore, depth: int) -> None:
    body = b'{"key": "k", "value": ' + b"[" * depth + b"]" * depth + b"}"
    _assert_json_error(*_post(server, body), 400)


@pytest.mark.parametrize(
    "body",
    [
        b'{"key": "k", "value": "\xff\xfe"}',  # invalid UTF-8
        b'{"key": "\\ud800", "value": 1}',  # a lone surrogate: valid JSON, not Unicode
        b'{"key": "k", "value": 1e999}',  # would be stored as the non-JSON `Infinity`
        b'{"key": "k", "value": NaN}',
        b'{"key": "k", "value": 1',  # cut short
        b'{"key": "k", "value": 1}{"key": "j", "value": 2}',
    ],
    ids=["bad-utf8", "surrogate-key", "overflow", "nan", "cut", "two"],
)
def test_bad_json_text_is_400_json(served: RunningStore, body: bytes) -> None:
    _assert_json_error(*_post(served, body), 400)


def test_a_lone_surrogate_in_a_value_is_kept_as_its_escape(served: RunningStore) -> None:
    """Valid JSON that is not Unicode text: refusing it would refuse a request the API
    description allows, so it is stored escaped and reads back as the same value."""
    status, _ = _post(served, b'{"key": "k", "value": {"\\udfff": ["x\\ud800", "\xc3\xa9"]}}')
    assert status == 204
    with httpx.Client(base_url=served.base_url, timeout=10) as http:
        reply = http.get("/sessions/t/values/k")
    assert reply.status_code == 200
    assert json.loads(reply.content) == {"value": {"\udfff": ["x\ud800", "\u00e9"]}}


def test_invalid_utf8_in_the_path_and_query_is_never_a_5xx(server: RunningStore) -> None:
    status, body = _raw(server, _request("GET", "/api/v1/sessions/%FF%FE/values"))
    assert "not UTF-8" in _assert_json_error(status, body, 400)
    status, body = _raw(server, _request("GET", "/api/v1/sessions?thread_id=%FF&limit=%FF"))
    _assert_json_error(status, body, 400)
    status, body = _raw(server, _request("GET", "/api/v1/sessions/t/history?key=%ED%A0%80"))
    assert status in (200, 400)


# -- paths -------------------------------------------------------------------------------


PATHS = [("..", "../../etc/passwd"), ("a/b", "c"), ("a", "b/c"), (".", "."), ("..", "%2F")]


def test_dot_dot_and_encoded_slashes_are_plain_characters(served: RunningStore) -> None:
    with httpx.Client(base_url=served.base_url, timeout=10) as http:
        for thread, key in PATHS:
            path = f"/sessions/{quote_segment(thread)}/values"
            assert http.post(path, json={"key": key, "value": [thread, key]}).status_code == 204
        for thread, key in PATHS:
            path = f"/sessions/{quote_segment(thread)}/values/{quote_segment(key)}"
            assert http.get(path).json() == {"value": [thread, key]}
        assert http.get("/sessions/a/values").json() == {"values": {"b/c": ["a", "b/c"]}}
        assert http.get("/sessions/%2E/values").json() == {"values": {".": [".", "."]}}
    # Unencoded dot segments are not resolved into another route: they are 404 JSON.
    for path in ("/api/v1/sessions/x/values/../../../healthz", "/api/v1/../healthz"):
        _assert_json_error(*_raw(served, _request("GET", path)), 404)


# -- slow, truncated and many connections ------------------------------------------------


def test_a_stalled_body_gets_408_json_within_the_body_timeout(server: RunningStore) -> None:
    head = _request("POST", POST, Content_Type="application/json")
    stalled = head.replace(b"Content-Length: 0", b"Content-Length: 100") + b'{"key": "k"'
    error = _assert_json_error(*_raw(server, stalled), 408)  # body_timeout=1 (s) here
    assert error == "request body not received within 1 s"


def test_a_truncated_body_leaves_the_server_up(server: RunningStore) -> None:
    for _ in range(5):
        with socket.create_connection(("127.0.0.1", _port(server)), timeout=5) as sock:
            head = _request("POST", POST, Content_Type="application/json")
            sock.sendall(head.replace(b"Content-Length: 0", b"Content-Length: 1000"))
            sock.sendall(b'{"key": "k", "va')
            sock.shutdown(socket.SHUT_WR)  # the client gives up half-way
            sock.settimeout(5)
            sock.recv(65536)  # whatever the server says (or nothing), it must not hang


def test_slow_and_idle_connections_do_not_starve_others(server: RunningStore) -> None:
    """Hundreds of connections that send half a request and stall, plus one trickling a body
    byte by byte: a normal client is still server promptly meanwhile."""
    stalled = []
    try:
        for i in range(300):
            sock = socket.create_connection(("127.0.0.1", _port(server)), timeout=5)
            sock.sendall(
                b"POST /api/v1/sessions/t/values HTTP/1.1\r\nHost: x\r\n" if i % 2 else b"GE"
            )
            stalled.append(sock)
        body = json.dumps({"key": "slow", "value": "trickled"}).encode()
        trickle = socket.create_connection(("127.0.0.1", _port(server)), timeout=10)
        stalled.append(trickle)
        trickle.sendall(_request("POST", POST, body, Content_Type="application/json")[: -len(body)])

        def send_slowly() -> None:
            for byte in body:
                trickle.sendall(bytes([byte]))
                time.sleep(0.005)

        sender = threading.Thread(target=send_slowly)
        sender.start()
        with httpx.Client(timeout=5) as http:
            for _ in range(20):
                assert http.get(f"{server.root}/healthz").status_code == 200
        sender.join()
        answer = trickle.recv(65536)
        assert answer.startswith(b"HTTP/1.1 204")
    finally:
        for sock in stalled:
            sock.close()


def test_many_concurrent_connections_are_all_answered(served: RunningStore) -> None:
    results: list[int] = []

    def one(i: int) -> None:
        body = json.dumps({"key": f"k{i}", "value": i}).encode()
        results.append(_post(served, body)[0])

    threads = [threading.Thread(target=one, args=(i,)) for i in range(200)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [204] * 200
    with httpx.Client(timeout=10) as http:
        values = http.get(f"{served.base_url}/sessions/t/values").json()["values"]
    assert values == {f"k{i}": i for i in range(200)}


def test_the_client_round_trips_dot_segment_ids(served: RunningStore) -> None:
    with SessionClient(served.base_url) as client:
        client.set_session_value("..", ".", "dots")
        client.set_session_value(".", "..", "more dots")
        assert client.get_session_value("..", ".") == "dots"
        assert client.get_session_values(".") == {"..": "more dots"}
        assert sorted(s.thread_id for s in client.list_sessions()) == [".", ".."]


def test_extreme_expiries_are_stored_or_hidden_exactly(served: RunningStore) -> None:
    with httpx.Client(base_url=served.base_url, timeout=10) as http:
        far, past = "9999-12-31T23:59:59.999Z", "0001-01-01T00:00:00.000Z"
        for key, expiry in (("__user_part_far", far), ("__user_part_past", past)):
            body = {"key": key, "value": key, "expiry": expiry}
            assert http.post("/sessions/t/values", json=body).status_code == 204
        values = http.get("/sessions/t/values").json()
        assert values == {"values": {"__user_part_far": "__user_part_far"}}
        history = http.get("/sessions/t/history", params={"key": "__user_part_past"}).json()
        assert [entry["expiry"] for entry in history["history"]] == [past]
        history = http.get("/sessions/t/history", params={"key": "__user_part_far"}).json()
        assert [entry["expiry"] for entry in history["history"]] == [far]
