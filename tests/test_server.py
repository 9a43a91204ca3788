"""The Session Store API contract over real HTTP (raw httpx, not the client), on every
backend in conftest.STORE_BACKENDS and on both mounts: statuses, bodies, limits, expiry,
history, auth."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from capture.session import rfc3339
from capture.store import MemoryStore, store_from_url
from capture.store._app import parse_expiry
from tests.conftest import Clock, RunningStore, StartStore, quote_segment

MOUNTS = ["/api/v1", "/v1"]
ODD_NAMES = [
    "with space",
    "a/b/c",
    "what?x=1&y=2",
    "100% + plus",
    "naïve/日本語/🙂",
    "..",
    "#hash;semi",
]
BODY = {"key": "k", "value": 1, "expiry": None}
IMAGE_PART = {
    "part_type": "image",
    "data": {"type": "bytes", "bytes": "iVBORw0KGgo=", "mime_type": "image/png", "name": "s.png"},
}


class Api:
    """Raw HTTP against one mount of a running server."""

    def __init__(self, http: httpx.Client, mount: str, running: RunningStore, clock: Clock) -> None:
        self.http, self.mount, self.running, self.clock = http, mount, running, clock

    def url(self, thread: str, *rest: str) -> str:
        return "/".join([f"{self.mount}/sessions", *map(quote_segment, [thread, *rest])])

    def set(self, thread: str, key: str, value: Any, expiry: str | None = None) -> httpx.Response:
        body = {"key": key, "value": value, "expiry": expiry}
        return self.http.post(self.url(thread, "values"), json=body)

    def get(self, thread: str, key: str) -> Any:
        response = self.http.get(self.url(thread, "values", key))
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/json"
        return response.json()

    def values(self, thread: str) -> Any:
        response = self.http.get(self.url(thread, "values"))
        assert response.status_code == 200
        return response.json()

    def sessions(self, **params: Any) -> Any:
        response = self.http.get(f"{self.mount}/sessions", params=params)
        assert response.status_code == 200, response.text
        return response.json()

    def history(self, thread: str, key: str, **params: Any) -> Any:
        response = self.http.get(self.url(thread, "history"), params={"key": key, **params})
        assert response.status_code == 200, response.text
        return response.json()["history"]


StartApi = Callable[..., Api]


@pytest.fixture
def start_api(start_store_server: StartStore, store_url: str) -> Iterator[StartApi]:
    """`start(mount="/api/v1", **store_config)` -> Api on a fresh server with a fake clock."""
    clients: list[httpx.Client] = []

    def start(mount: str = "/api/v1", **fields: Any) -> Api:
        clock = Clock()
        history = {k: fields.pop(k) for k in ("history_versions", "history_age") if k in fields}
        running = start_store_server(store_from_url(store_url, clock=clock, **history), **fields)
        clients.append(httpx.Client(base_url=running.root, timeout=30))
        return Api(clients[-1], mount, running, clock)

    yield start
    for client in clients:
        client.close()


@pytest.fixture(params=MOUNTS)
def api(start_api: StartApi, request: pytest.FixtureRequest) -> Api:
    return start_api(request.param)


def assert_error(response: httpx.Response, status: int) -> str:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert list(body) == ["error"]
    assert isinstance(body["error"], str)
    assert body["error"]
    return str(body["error"])


# -- the contract table, row by row -------------------------------------------------------


def test_set_answers_204_with_an_empty_body_and_get_returns_the_value(api: Api) -> None:
    response = api.set("t1", "k", {"a": [1, 2.5, None, True, "é"]})
    assert response.status_code == 204
    assert response.content == b""
    assert api.get("t1", "k") == {"value": {"a": [1, 2.5, None, True, "é"]}}


def test_missing_value_is_200_null_never_404(api: Api) -> None:
    assert api.get("nobody", "nothing") == {"value": None}
    api.set("t1", "other", 1)
    assert api.get("t1", "nothing") == {"value": None}


def test_null_is_a_value_like_any_other(api: Api) -> None:
    assert api.set("t1", "k", None).status_code == 204
    assert api.values("t1") == {"values": {"k": None}}


def test_get_all_values(api: Api) -> None:
    assert api.values("empty") == {"values": {}}
    api.set("t1", "a", 1)
    api.set("t1", "b", "two")
    api.set("t2", "c", 3)
    assert api.values("t1") == {"values": {"a": 1, "b": "two"}}


def test_delete_answers_204_also_when_absent(api: Api) -> None:
    api.set("t1", "k", 1)
    response = api.http.delete(api.url("t1", "values", "k"))
    assert (response.status_code, response.content) == (204, b"")
    assert api.get("t1", "k") == {"value": None}
    again = api.http.delete(api.url("t1", "values", "k"))
    assert (again.status_code, again.content) == (204, b"")
    assert api.http.delete(api.url("never", "values", "seen")).status_code == 204


def test_clear_session(api: Api) -> None:
    api.set("t1", "a", 1)
    api.set("t1", "__user_part_x", "text")
    api.set("t2", "a", 2)
    response = api.http.delete(api.url("t1"))
    assert (response.status_code, response.content) == (204, b"")
    assert api.values("t1") == {"values": {}}
    assert api.history("t1", "__user_part_x") == []
    assert api.values("t2") == {"values": {"a": 2}}
    assert [s["thread_id"] for s in api.sessions()] == ["t2"]
    assert api.http.delete(api.url("never-seen")).status_code == 204


def test_list_sessions_newest_first_in_the_distri_shape(api: Api) -> None:
    api.set("older", "x", 1)
    api.clock.advance(seconds=1)
    api.set("newer", "b", 1)
    api.set("newer", "a", 2)
    sessions = api.sessions()
    assert sessions == [
        {
            "session_id": "newer",
            "thread_id": "newer",
            "key_count": 2,
            "keys": ["a", "b"],
            "updated_at": "2026-11-25T12:00:01.000Z",
            "task_ids": [],
        },
        {
            "session_id": "older",
            "thread_id": "older",
            "key_count": 1,
            "keys": ["x"],
            "updated_at": "2026-11-25T12:00:00.000Z",
            "task_ids": [],
        },
    ]
    api.clock.advance(seconds=1)
    api.set("older", "y", 1)  # a write moves a session to the front
    assert [s["thread_id"] for s in api.sessions()] == ["older", "newer"]


def test_list_sessions_filter_and_paging(api: Api) -> None:
    for n in range(5):
        api.set(f"t{n}", "k", n)
        api.clock.advance(seconds=1)
    assert [s["thread_id"] for s in api.sessions(limit=2)] == ["t4", "t3"]
    assert [s["thread_id"] for s in api.sessions(limit=2, offset=2)] == ["t2", "t1"]
    assert [s["thread_id"] for s in api.sessions(offset=10)] == []
    assert [s["thread_id"] for s in api.sessions(thread_id="t1")] == ["t1"]
    assert [s["thread_id"] for s in api.sessions(thread_id="")] == ["t4", "t3", "t2", "t1", "t0"]
    assert api.sessions(thread_id="unknown") == []


def test_odd_ids_and_keys_round_trip(api: Api) -> None:
    for name in ODD_NAMES:
        check_round_trip(api, name)


def check_round_trip(api: Api, name: str) -> None:
    assert api.set(name, name, name).status_code == 204
    assert api.set(name, f"{name}/2", 2).status_code == 204
    assert api.get(name, name) == {"value": name}
    assert api.values(name) == {"values": {name: name, f"{name}/2": 2}}
    [session] = api.sessions(thread_id=name)
    assert (session["thread_id"], session["keys"]) == (name, sorted([name, f"{name}/2"]))
    assert api.http.delete(api.url(name, "values", name)).status_code == 204
    assert api.values(name) == {"values": {f"{name}/2": 2}}


def test_encoded_slash_stays_inside_the_key(api: Api) -> None:
    api.set("t", "a/b", "slash")
    assert api.get("t", "a/b") == {"value": "slash"}
    # Unencoded, the same characters are a different path that does not exist.
    assert_error(api.http.get(f"{api.mount}/sessions/t/values/a/b"), 404)


def test_user_parts_round_trip_byte_for_byte(api: Api) -> None:
    text_part = {"part_type": "text", "data": "Page: Checkout — 3 items <b>&amp;</b>"}
    for key, part in [("__user_part_screenshot", IMAGE_PART), ("__user_part_obs", text_part)]:
        sent = json.dumps(part, separators=(",", ":"), ensure_ascii=False).encode()
        body = b'{"key":"' + key.encode() + b'","value":' + sent + b',"expiry":null}'
        post = api.http.post(
            api.url("t", "values"), content=body, headers={"content-type": "application/json"}
        )
        assert post.status_code == 204
        response = api.http.get(api.url("t", "values", key))
        assert response.content == b'{"value":' + sent + b"}"
    assert api.values("t")["values"]["__user_part_screenshot"] == IMAGE_PART


# -- errors ---------------------------------------------------------------------------------


BAD_BODIES = [
    b"{not json",
    b"",
    b'{"key": "k", "value": NaN}',
    b"\xff\xfe\x00",
    b"[1, 2]",
    b'"just a string"',
    b'{"value": 1}',
    b'{"key": 5, "value": 1}',
    b'{"key": "k"}',
    b'{"key": "", "value": 1}',
    b'{"key": "bad\\u0007key", "value": 1}',
]


def test_bad_set_bodies_are_400_json(api: Api) -> None:
    for body in BAD_BODIES:
        assert_error(api.http.post(api.url("t", "values"), content=body), 400)
    assert api.values("t") == {"values": {}}


BAD_EXPIRIES = [
    "2026-11-25T12:00:00",  # no offset
    "2026-11-25",
    "tomorrow",
    "2026-13-01T00:00:00Z",
    "2026-11-25T25:00:00Z",
    "20261125T120000Z",
    "",
    1764072000,
    True,
    {"at": "2026-11-25T12:00:00Z"},
]


def test_naive_or_junk_expiry_is_400_json(api: Api) -> None:
    for expiry in BAD_EXPIRIES:
        body = {"key": "k", "value": 1, "expiry": expiry}
        assert "expiry" in assert_error(api.http.post(api.url("t", "values"), json=body), 400)
    assert api.get("t", "k") == {"value": None}


@pytest.mark.parametrize(
    "expiry",
    ["2026-11-25T13:00:00Z", "2026-11-25t13:00:00.123456789z", "2026-11-25T14:00:00+01:00"],
)
def test_rfc3339_expiry_forms_are_accepted(expiry: str) -> None:
    parsed = parse_expiry(expiry)
    assert parsed is not None
    assert parsed.replace(microsecond=0) == datetime(2026, 11, 25, 13, tzinfo=UTC)


def test_bad_ids_and_keys_in_paths_are_400_json(start_api: StartApi) -> None:
    api = start_api(max_key_length=8, max_thread_id_length=8)
    too_long = "x" * 9
    assert "longer" in assert_error(api.http.get(api.url(too_long, "values")), 400)
    assert "longer" in assert_error(api.http.get(api.url("t", "values", too_long)), 400)
    assert "longer" in assert_error(api.set("t", too_long, 1), 400)
    assert "longer" in assert_error(api.set(too_long, "k", 1), 400)
    assert "control" in assert_error(api.http.get(api.url("a\nb", "values")), 400)
    assert "control" in assert_error(api.http.delete(api.url("t", "values", "k\x00")), 400)
    assert "empty" in assert_error(api.http.get(f"{api.mount}/sessions//values"), 400)
    assert "empty" in assert_error(api.http.delete(f"{api.mount}/sessions/t/values/"), 400)
    assert "UTF-8" in assert_error(api.http.get(f"{api.mount}/sessions/%FF/values"), 400)
    assert api.set("x" * 8, "k" * 8, 1).status_code == 204  # the limits themselves are fine


def test_bad_list_parameters_are_400_json(api: Api) -> None:
    for query in [
        "limit=0",
        "limit=abc",
        "limit=1001",
        "offset=-1",
        "limit=1.5",
        "limit=%EF%BC%91",
    ]:
        assert_error(api.http.get(f"{api.mount}/sessions?{query}"), 400)


def test_body_over_the_limit_is_413_json(start_api: StartApi) -> None:
    api = start_api(max_body_bytes=2048)
    big = {"key": "k", "value": "x" * 4096}
    assert "limit" in assert_error(api.http.post(api.url("t", "values"), json=big), 413)

    def chunks() -> Iterator[bytes]:  # no Content-Length: the server must count
        yield b'{"key": "k", "value": "'
        for _ in range(64):
            yield b"x" * 1024
        yield b'"}'

    streamed = api.http.post(api.url("t", "values"), content=chunks())
    assert "content-length" not in streamed.request.headers
    assert_error(streamed, 413)
    assert api.get("t", "k") == {"value": None}
    assert api.set("t", "k", "x" * 1500).status_code == 204


def test_unknown_paths_and_methods_are_json(api: Api) -> None:
    assert_error(api.http.get(f"{api.mount}/nothing/here"), 404)
    assert_error(api.http.get("/api/v2/sessions"), 404)
    assert_error(api.http.get(f"{api.mount}/sessions/t/values/k/extra"), 404)
    response = api.http.put(api.url("t", "values", "k"), json={})
    assert_error(response, 405)
    assert set(response.headers["allow"].split(", ")) == {"GET", "DELETE"}
    assert_error(api.http.post(f"{api.mount}/sessions"), 405)


def test_a_failing_backend_is_503_json(sqlite_store_server: RunningStore) -> None:
    running = sqlite_store_server
    running.call(running.store.close())  # a real failure: the storage is gone
    with httpx.Client(base_url=running.base_url) as http:
        assert "storage" in assert_error(http.get("/sessions/t/values/k"), 503)
        assert "storage" in assert_error(http.post("/sessions/t/values", json=BODY), 503)


def test_healthz_and_openapi(api: Api) -> None:
    assert api.http.get("/healthz").json() == {"status": "ok", "pid": os.getpid()}
    document = api.http.get("/openapi.json").json()
    assert document["openapi"].startswith("3.")
    for mount in MOUNTS:
        for path, item in document["paths"].items():
            if not path.startswith(f"{mount}/"):
                continue
            concrete = path.replace("{thread_id}", "t").replace("{key}", "k")
            for method in item:
                params = {"key": "k"} if path.endswith("/history") else {}
                response = api.http.request(method.upper(), concrete, params=params, json={})
                assert response.status_code not in (404, 405), (method, path)


# -- expiry (injected clock: no sleeping) ------------------------------------------------


def test_a_past_expiry_is_invisible_to_every_read(api: Api) -> None:
    past = rfc3339(api.clock.now - timedelta(seconds=1))
    assert api.set("t", "gone", 1, expiry=past).status_code == 204
    api.set("t", "kept", 2)
    assert api.get("t", "gone") == {"value": None}
    assert api.values("t") == {"values": {"kept": 2}}
    [session] = api.sessions()
    assert (session["key_count"], session["keys"]) == (1, ["kept"])
    api.set("only-expired", "k", 1, expiry=past)
    assert api.sessions(thread_id="only-expired") == []


def test_a_future_expiry_disappears_when_reached(api: Api) -> None:
    api.set("t", "k", "v", expiry=rfc3339(api.clock.now + timedelta(minutes=10)))
    api.clock.advance(minutes=9, seconds=59)
    assert api.get("t", "k") == {"value": "v"}
    api.clock.advance(seconds=1)
    assert api.get("t", "k") == {"value": None}
    assert api.values("t") == {"values": {}}
    assert api.sessions() == []


def test_a_reset_replaces_value_and_expiry(api: Api) -> None:
    api.set("t", "k", "first", expiry=rfc3339(api.clock.now + timedelta(minutes=1)))
    api.set("t", "k", "second")  # no expiry: the old one must not linger
    api.clock.advance(hours=1)
    assert api.get("t", "k") == {"value": "second"}
    api.set("t", "k", "third", expiry=rfc3339(api.clock.now + timedelta(seconds=5)))
    api.clock.advance(seconds=6)
    assert api.get("t", "k") == {"value": None}


def test_sweep_removes_expired_rows(api: Api) -> None:
    soon = rfc3339(api.clock.now + timedelta(seconds=30))
    for n in range(3):
        api.set("t", f"short{n}", n, expiry=soon)
    api.set("t", "forever", 1)
    sweep = api.running.store.sweep
    assert api.running.call(sweep()) == 0
    api.clock.advance(minutes=1)
    assert api.running.call(sweep()) == 3
    assert api.running.call(sweep()) == 0
    assert api.values("t") == {"values": {"forever": 1}}


class CountingStore(MemoryStore):
    """Counts the server's sweeps, to know when one has run (the app logic under test)."""

    sweeps = 0

    async def sweep(self) -> int:
        self.sweeps += 1
        return await super().sweep()


def test_the_server_sweeps_periodically(start_store_server: StartStore) -> None:
    clock = Clock()
    store = CountingStore(clock=clock)
    running = start_store_server(store, sweep_interval=0.05)
    expiry = rfc3339(clock.now + timedelta(seconds=1))
    body = {"key": "k", "value": 1, "expiry": expiry}
    assert httpx.post(f"{running.base_url}/sessions/t/values", json=body).status_code == 204
    clock.advance(seconds=2)
    seen = store.sweeps
    deadline = time.monotonic() + 20
    while store.sweeps < seen + 2:  # one whole sweep after the clock moved
        assert time.monotonic() < deadline, "the periodic sweep never ran"
        time.sleep(0.01)
    assert running.call(MemoryStore.sweep(store)) == 0  # nothing left: the server swept it


# -- history extension ---------------------------------------------------------------------


def test_history_keeps_user_part_versions_newest_first(api: Api) -> None:
    expiry = api.clock.now + timedelta(minutes=10)
    for step in range(5):
        api.set("t", "__user_part_screenshot", {"step": step}, expiry=rfc3339(expiry))
        api.clock.advance(seconds=1)
    history = api.history("t", "__user_part_screenshot")
    assert [h["value"] for h in history] == [{"step": n} for n in (4, 3, 2, 1, 0)]
    assert history[0]["set_at"] == "2026-11-25T12:00:04.000Z"
    assert history[0]["expiry"] == "2026-11-25T12:10:00.000Z"
    assert [h["value"]["step"] for h in api.history("t", "__user_part_screenshot", limit=2)] == [
        4,
        3,
    ]
    api.set("t", "__user_part_obs", "no expiry")
    assert api.history("t", "__user_part_obs") == [
        {"value": "no expiry", "set_at": "2026-11-25T12:00:05.000Z", "expiry": None}
    ]


def test_history_outlives_expiry_and_delete_but_not_clear(api: Api) -> None:
    api.set("t", "__user_part_x", "v1", expiry=rfc3339(api.clock.now + timedelta(seconds=5)))
    api.clock.advance(minutes=1)
    api.running.call(api.running.store.sweep())
    api.http.delete(api.url("t", "values", "__user_part_x"))
    assert [h["value"] for h in api.history("t", "__user_part_x")] == ["v1"]
    api.http.delete(api.url("t"))
    assert api.history("t", "__user_part_x") == []


def test_history_is_only_for_user_parts(api: Api) -> None:
    api.set("t", "capture.run", {"status": "ok"})
    assert api.history("t", "capture.run") == []
    assert api.history("t", "never-set") == []


def test_history_bounds_versions_and_age(start_api: StartApi) -> None:
    api = start_api(history_versions=3, history_age=timedelta(minutes=10))
    for step in range(5):  # at minutes 0, 2, 4, 6, 8
        api.set("t", "__user_part_s", step)
        api.clock.advance(minutes=2)
    assert [h["value"] for h in api.history("t", "__user_part_s")] == [4, 3, 2]
    api.clock.advance(minutes=5)  # minute 15: step 2 (minute 4) is now too old
    assert [h["value"] for h in api.history("t", "__user_part_s")] == [4, 3]
    api.running.call(api.running.store.sweep())
    assert [h["value"] for h in api.history("t", "__user_part_s")] == [4, 3]


def test_history_can_be_turned_off(start_api: StartApi) -> None:
    api = start_api(history_versions=0)
    api.set("t", "__user_part_s", 1)
    assert api.history("t", "__user_part_s") == []


def test_history_parameters_are_checked(api: Api) -> None:
    assert "key" in assert_error(api.http.get(api.url("t", "history")), 400)
    assert_error(api.http.get(api.url("t", "history"), params={"key": "k", "limit": 0}), 400)
    assert_error(api.http.get(api.url("t", "history"), params={"key": "a\x01"}), 400)


# -- auth ------------------------------------------------------------------------------------


def test_a_token_is_required_when_set(start_api: StartApi) -> None:
    api = start_api(token="s3cret")
    url = api.url("t", "values", "k")
    for headers in [
        {},
        {"Authorization": "Bearer wrong"},
        {"Authorization": "s3cret"},
        {"Authorization": "Basic s3cret"},
        {"x-api-key": "wrong"},
        {"x-api-key": "s3cret-and-more"},
    ]:
        assert "token" in assert_error(api.http.get(url, headers=headers), 401)
    assert_error(api.http.post(api.url("t", "values"), json={"key": "k", "value": 1}), 401)
    assert api.http.get(url, headers={"Authorization": "Bearer s3cret"}).json() == {"value": None}
    assert api.http.get(url, headers={"authorization": "bearer s3cret"}).status_code == 200
    assert api.http.get(url, headers={"x-api-key": "s3cret"}).json() == {"value": None}
    assert api.http.get("/healthz").status_code == 200
    document = api.http.get("/openapi.json").json()
    assert set(document["components"]["securitySchemes"]) == {"bearer", "apiKey"}
