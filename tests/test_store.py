"""The storage backends through the `Store` protocol (every backend in STORE_BACKENDS), the
URL factory, the SQLite specifics, and the helpers that run the server."""

from __future__ import annotations

import asyncio
import socket
import sqlite3
import threading
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from capture.config import StoreConfig
from capture.errors import ConfigError, StorageError
from capture.store import (
    DEFAULT_STORE_URL,
    Entry,
    MemoryStore,
    SqliteStore,
    Store,
    StoreServer,
    check_exposure,
    legacy_store_note,
    serve_in_background,
    sqlite_path,
    store_from_url,
)
from tests.conftest import Clock

NOW = Clock.START


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def store(store_url: str, clock: Clock) -> AsyncIterator[Store]:
    opened = store_from_url(store_url, clock=clock, history_versions=3)
    await opened.open()
    await opened.open()  # idempotent: the server opens early, then its lifespan again
    yield opened
    await opened.close()
    await opened.close()


async def test_concurrent_writes_all_land(store: Store) -> None:
    await asyncio.gather(*(store.set("t", f"k{n}", str(n), None) for n in range(200)))
    assert await store.get_all("t") == {f"k{n}": str(n) for n in range(200)}


async def test_value_text_is_kept_verbatim(store: Store) -> None:
    text = '{"part_type":"text","data":"é — 日本 🙂 \\u0000"}'
    await store.set("t", "__user_part_x", text, None)
    assert await store.get("t", "__user_part_x") == text
    [entry] = await store.history("t", "__user_part_x", 10)
    assert (entry.value_json, entry.set_at, entry.expiry) == (text, NOW, None)


async def test_entries_are_the_live_values_with_expiry_and_write_time(
    store: Store, clock: Clock
) -> None:
    part = '{"part_type":"text","data":"x"}'
    later = NOW + timedelta(minutes=10, microseconds=123457)  # µs survive every backend
    await store.set("t", "forever", '"a"', None)
    clock.advance(seconds=1)
    await store.set("t", "__user_part_x", part, later)
    await store.set("t", "soon", "1", NOW + timedelta(seconds=5))
    await store.set("t", "past", "2", NOW)  # already expired when written
    await store.set("other", "k", "3", None)
    entries = await store.entries("t")
    assert entries == {
        "forever": Entry('"a"', None, NOW),
        "__user_part_x": Entry(part, later, NOW + timedelta(seconds=1)),
        "soon": Entry("1", NOW + timedelta(seconds=5), NOW + timedelta(seconds=1)),
    }
    assert await store.get_all("t") == {key: e.value_json for key, e in entries.items()}
    assert await store.stamps("t") == {k: (e.updated_at, e.expiry) for k, e in entries.items()}

    clock.advance(seconds=4)  # the expiry instant itself: no longer live
    assert set(await store.entries("t")) == {"forever", "__user_part_x"}
    assert set(await store.stamps("t")) == {"forever", "__user_part_x"}
    clock.advance(seconds=1)
    await store.set("t", "__user_part_x", '"y"', None)  # value, expiry and time all replaced
    await store.delete("t", "forever")
    assert await store.entries("t") == {
        "__user_part_x": Entry('"y"', None, NOW + timedelta(seconds=6))
    }
    assert await store.entries("nobody") == {}
    assert await store.stamps("nobody") == {}


async def test_history_orders_same_instant_versions_by_arrival(store: Store) -> None:
    for n in range(5):  # the clock stands still: order must come from arrival
        await store.set("t", "__user_part_s", str(n), NOW + timedelta(minutes=n))
    history = await store.history("t", "__user_part_s", 10)
    assert [h.value_json for h in history] == ["4", "3", "2"]  # history_versions=3
    assert history[0].expiry == NOW + timedelta(minutes=4)
    assert [h.value_json for h in await store.history("t", "__user_part_s", 1)] == ["4"]


async def test_sessions_written_at_the_same_instant_have_a_stable_order(store: Store) -> None:
    for thread in ["b", "c", "a"]:
        await store.set(thread, "k", "1", None)
    first = [row.thread_id for row in await store.list_sessions(None, 10, 0)]
    assert sorted(first) == ["a", "b", "c"]
    paged = [row.thread_id for o in range(3) for row in await store.list_sessions(None, 1, o)]
    assert paged == first


# -- the URL factory -----------------------------------------------------------------------


def test_store_urls(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert isinstance(store_from_url("memory://"), MemoryStore)
    absolute = store_from_url(f"sqlite:///{tmp_path}/a.db")
    assert isinstance(absolute, SqliteStore)
    assert absolute.path == tmp_path / "a.db"
    monkeypatch.chdir(tmp_path)
    relative = store_from_url("sqlite:///data/b.db")
    assert isinstance(relative, SqliteStore)
    assert relative.path == tmp_path / "data" / "b.db"
    assert relative.describe() == f"sqlite {tmp_path / 'data' / 'b.db'}"
    assert relative.synchronous == "normal"
    full = store_from_url("sqlite:///c.db?synchronous=FULL")
    assert isinstance(full, SqliteStore)
    assert full.synchronous == "full"
    assert full.describe().endswith("c.db (synchronous=full)")


def test_the_default_store_is_in_the_users_data_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    default = store_from_url(DEFAULT_STORE_URL)
    assert isinstance(default, SqliteStore)
    assert default.path == tmp_path / "xdg" / "capture" / "store.db"
    monkeypatch.setenv("XDG_DATA_HOME", "relative/is/ignored")  # the XDG spec's rule
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert sqlite_path("$XDG_DATA_HOME/x.db") == tmp_path / "home" / ".local" / "share" / "x.db"
    monkeypatch.delenv("XDG_DATA_HOME")
    assert sqlite_path("~/y.db") == tmp_path / "home" / "y.db"


def test_a_store_at_the_old_default_place_is_named_in_a_note(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert legacy_store_note(DEFAULT_STORE_URL) is None
    (tmp_path / ".capture").mkdir()
    (tmp_path / ".capture" / "store.db").write_bytes(b"")
    note = legacy_store_note(DEFAULT_STORE_URL)
    assert note is not None
    assert note.startswith("note: .capture/store.db here is a capture store at the old default")
    assert "capture serve --store sqlite:///.capture/store.db" in note
    assert legacy_store_note("sqlite:///.capture/store.db") is None  # chosen: no note


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("mongodb://x", "unknown store URL 'mongodb://x': expected one of memory://, sqlite://"),
        ("store.db", "unknown store URL"),
        ("sqlite://host/x.db", "bad sqlite URL"),
        ("sqlite://", "bad sqlite URL"),
        ("sqlite:///x.db?journal=off", "bad sqlite URL"),
        ("sqlite:///x.db?synchronous=off", "synchronous must be one of"),
    ],
)
def test_bad_store_urls(url: str, message: str) -> None:
    with pytest.raises(StorageError, match=message):
        store_from_url(url)


# -- SQLite specifics ----------------------------------------------------------------------


async def test_sqlite_creates_its_directory_uses_wal_and_persists(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "er" / "store.db"
    first = SqliteStore(path)
    await first.open()
    await first.set("t", "k", '"v"', None)
    await first.close()
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    second = SqliteStore(path)
    await second.open()
    assert await second.get("t", "k") == '"v"'
    await second.close()


async def test_sqlite_unusable_path_is_a_storage_error(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("not a directory")
    with pytest.raises(StorageError, match="cannot open sqlite store"):
        await SqliteStore(tmp_path / "file" / "store.db").open()


async def test_sqlite_closed_store_is_a_storage_error(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "s.db")
    with pytest.raises(StorageError, match="not open"):
        await store.get("t", "k")
    with pytest.raises(StorageError, match="not open"):
        await store.set("t", "k", "1", None)


async def test_sqlite_one_failing_write_does_not_sink_its_batch(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "s.db")
    await store.open()
    writes = [store.set("t", f"k{n}", str(n), None) for n in range(20)]
    writes.insert(10, store.set("t", "bad", '"\ud800"', None))  # not encodable as UTF-8
    results = await asyncio.gather(*writes, return_exceptions=True)
    assert isinstance(results[10], StorageError)
    assert [r for r in results if r is not None] == [results[10]]
    assert await store.get_all("t") == {f"k{n}": str(n) for n in range(20)}
    await store.set("t", "after", "1", None)  # the writer thread is still alive
    assert await store.get("t", "after") == "1"
    await store.close()


async def test_sqlite_writes_stay_off_the_event_loop(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "s.db")
    await store.open()
    seen: list[int] = []

    def probe(conn: sqlite3.Connection) -> None:
        seen.append(threading.get_ident())

    await store._write(probe)
    await store._read(probe)
    await store.close()
    assert threading.get_ident() not in seen  # this test runs on the event loop's thread
    assert len(seen) == 2


# -- running the server --------------------------------------------------------------------


async def test_serve_in_background_yields_a_working_base_url() -> None:
    cfg = StoreConfig(url="memory://")
    async with serve_in_background(cfg, port=0) as base_url:
        assert base_url.startswith("http://127.0.0.1:")
        async with httpx.AsyncClient() as http:
            body = {"key": "k", "value": [1], "expiry": None}
            assert (await http.post(f"{base_url}/sessions/t/values", json=body)).status_code == 204
            assert (await http.get(f"{base_url}/sessions/t/values/k")).json() == {"value": [1]}
    with pytest.raises(httpx.ConnectError):
        async with httpx.AsyncClient() as http:
            await http.get(f"{base_url}/sessions")


async def test_the_server_socket_gets_tcp_nodelay() -> None:
    # asyncio sets TCP_NODELAY only on sockets created with IPPROTO_TCP; without it each
    # response (headers, then body) stalls on a delayed ACK: ~40 ms per request.
    server = StoreServer(StoreConfig(), MemoryStore(), host="127.0.0.1", port=0, embedded=True)
    task = await server.start()
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        writer.write(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        await reader.readuntil(b"\r\n\r\n")
        [connection] = server.server_state.connections
        accepted = connection.transport.get_extra_info("socket")
        assert accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0
        writer.close()
    finally:
        server.should_exit = True
        await task


async def test_serve_in_background_on_a_busy_port_is_a_storage_error() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(StorageError, match=f"cannot listen on 127.0.0.1:{port}"):
            async with serve_in_background(StoreConfig(url="memory://"), port=port):
                pass


@pytest.mark.parametrize(
    ("host", "token", "insecure", "allowed"),
    [
        ("127.0.0.1", "", False, True),
        ("127.0.0.2", "", False, True),
        ("::1", "", False, True),
        ("localhost", "", False, True),
        ("0.0.0.0", "", False, False),
        ("::", "", False, False),
        ("example.org", "", False, False),
        ("0.0.0.0", "tok", False, True),
        ("0.0.0.0", "", True, True),
    ],
)
def test_check_exposure(host: str, token: str, insecure: bool, allowed: bool) -> None:
    if allowed:
        check_exposure(host, token, insecure=insecure)
    else:
        with pytest.raises(ConfigError, match=f"refusing to listen on {host} without a token"):
            check_exposure(host, token, insecure=insecure)
