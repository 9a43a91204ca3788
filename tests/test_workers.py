"""`capture serve --workers N`: real worker processes sharing one port over one SQLite file or
one Redis. Writes go through several connections pinned to different workers (each one asks
`/healthz` which process answers it), every acknowledged write is read back through every
worker, a worker killed mid-write loses nothing and is replaced, and the viewer follows steps
written through another worker."""

from __future__ import annotations

import os
import signal
import socket
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, expect

from capture.session import SessionClient
from tests.conftest import ServeProcess, StartServe, serve_refused, wait_until
from tests.test_viewer import shot, thread_url, write_step

SHARED = [pytest.param("sqlite"), pytest.param("redis", marks=pytest.mark.redis)]


@pytest.fixture(params=SHARED)
def shared_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A store that several processes can share: a SQLite file, or a flushed Redis database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'shared' / 'store.db'}"
    return str(request.getfixturevalue("redis_url"))


class Pinned:
    """One keep-alive connection to the server, and the pid of the worker behind it."""

    def __init__(self, server: ServeProcess) -> None:
        self.base_url = server.base_url
        limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
        self.transport = httpx.HTTPTransport(limits=limits)
        self.http = httpx.Client(base_url=server.root, transport=self.transport, timeout=30)
        self.session = SessionClient(self.base_url, transport=self.transport)  # same conn
        self.pid = self.ask_pid()

    def ask_pid(self) -> int:
        """The pid answering on this connection now (it changes only if the connection was
        closed and reopened, which the tests check for)."""
        return int(self.http.get("/healthz").json()["pid"])


PinByWorker = Callable[[ServeProcess, int, int], dict[int, list[Pinned]]]


@pytest.fixture
def pin() -> Iterator[PinByWorker]:
    """`pin(server, workers, per_worker)`: connections grouped by the worker serving them."""
    opened: list[Pinned] = []

    def by_worker(server: ServeProcess, workers: int, per_worker: int) -> dict[int, list[Pinned]]:
        """Open connections until `per_worker` of them reach each of `workers` processes.

        The kernel hands each new connection to whichever worker accepts it first, so this
        keeps opening until every worker has its share (and closes the surplus).
        """
        found: dict[int, list[Pinned]] = {}
        for _ in range(400):
            conn = Pinned(server)
            group = found.setdefault(conn.pid, [])
            if len(group) < per_worker:
                group.append(conn)
                opened.append(conn)
            else:
                conn.http.close()
            if len(found) == workers and all(len(g) == per_worker for g in found.values()):
                return found
        raise AssertionError(f"connections reached {len(found)} worker(s), not {workers}")

    yield by_worker
    for conn in opened:
        conn.http.close()


def put(http: httpx.Client, thread: str, key: str, value: object) -> int:
    body = {"key": key, "value": value, "expiry": None}
    return http.post(f"/api/v1/sessions/{thread}/values", json=body).status_code


def test_workers_share_one_store_and_every_acknowledged_write_is_read_everywhere(
    capture_serve: StartServe, pin: PinByWorker, shared_url: str
) -> None:
    server = capture_serve("--store", shared_url, "--workers", "2")
    workers = pin(server, 2, 4)
    conns = [conn for group in workers.values() for conn in group]

    def write(index: int) -> dict[str, int]:
        conn, acked = conns[index], {}
        for i in range(60):  # all in one thread, the workers contending for the write lock
            key = f"c{index}-{i}"
            status = put(conn.http, "shared", key, {"worker": conn.pid, "i": i, "pad": "x" * 300})
            assert status == 204, f"write {key} through worker {conn.pid} answered {status}"
            acked[key] = conn.pid
        return acked

    with ThreadPoolExecutor(len(conns)) as pool:
        acked = {k: v for part in pool.map(write, range(len(conns))) for k, v in part.items()}
    assert len(acked) == 60 * len(conns)
    # Each write was served by the worker its connection was pinned to: it never moved.
    assert [conn.ask_pid() for conn in conns] == [conn.pid for conn in conns]

    for group in workers.values():  # every worker reads every write, whoever took it
        stored = group[0].http.get("/api/v1/sessions/shared/values").json()["values"]
        assert {k: v["worker"] for k, v in stored.items()} == acked
        listed = group[0].http.get("/api/v1/sessions", params={"thread_id": "shared"}).json()
        assert listed[0]["key_count"] == len(acked)


def test_the_viewer_api_on_one_worker_follows_writes_made_through_another(
    capture_serve: StartServe, pin: PinByWorker, shared_url: str
) -> None:
    server = capture_serve("--store", shared_url, "--workers", "2")
    (a,), (b,) = pin(server, 2, 1).values()
    api = "/viewer/api/thread"

    assert a.http.get(api, params={"id": "view"}).status_code == 404
    write_step(b.session, "view", 1, action="goto /")
    first = a.http.get(api, params={"id": "view"}).json()
    assert [s["step"] for s in first["steps"]] == [1]
    write_step(b.session, "view", 2, action="click [ref=e4]")
    moved = a.http.get(api, params={"id": "view", "since": first["version"]}).json()
    assert [s["step"] for s in moved["steps"]] == [1, 2]
    # And back: what a writes, b's viewer shows; both answer the same version.
    write_step(a.session, "view", 3, action="scroll", changed=False)
    on_b = b.http.get(api, params={"id": "view", "since": moved["version"]}).json()
    assert [s["step"] for s in on_b["steps"]] == [1, 2, 3]
    on_a = a.http.get(api, params={"id": "view", "since": on_b["version"]}).json()
    assert on_a == {"version": on_b["version"], "unchanged": True, "now": on_a["now"]}
    assert (a.ask_pid(), b.ask_pid()) == (a.pid, b.pid)


@pytest.mark.browser
def test_the_viewer_page_shows_steps_written_through_either_worker(
    page: Page, capture_serve: StartServe, pin: PinByWorker, tmp_path: Path
) -> None:
    server = capture_serve("--store", f"sqlite:///{tmp_path / 'store.db'}", "--workers", "2")
    with SessionClient(server.base_url) as client:
        write_step(client, "live", 1, action="goto /")
    page.goto(thread_url(server.root, "live"))
    expect(page.locator("#filmstrip li.frame")).to_have_count(1)
    # Pinned only now: an idle keep-alive connection is closed after 5 s, and its
    # replacement could reach the other worker.
    (a,), (b,) = pin(server, 2, 1).values()
    # Whichever worker(s) the page polls, one of these two steps was written elsewhere.
    write_step(a.session, "live", 2, action="click [ref=e4] 'Add to cart'")
    write_step(b.session, "live", 3, action="click [ref=e9] 'Checkout'")
    assert (a.ask_pid(), b.ask_pid()) == (a.pid, b.pid)
    # A functional deadline (the page polls about once a second), not a benchmark.
    expect(page.locator("#filmstrip li.frame")).to_have_count(3, timeout=5000)
    expect(page.locator(".part[data-key=__user_part_observation]")).to_contain_text(
        "Checkout", timeout=5000
    )
    shot(page, "viewer-workers.png")


@pytest.mark.slow
def test_a_worker_killed_mid_write_loses_no_acknowledged_write_and_is_replaced(
    capture_serve: StartServe, pin: PinByWorker, shared_url: str
) -> None:
    server = capture_serve("--store", shared_url, "--workers", "2")
    (victim, victims), (survivor, survivors) = pin(server, 2, 4).items()
    conns = victims + survivors
    acked: dict[str, int] = {}
    lock = threading.Lock()
    stop = threading.Event()

    def write(n: int) -> None:
        http, i = conns[n].http, 0
        while not stop.is_set():
            key = f"w{n}-{i}"
            try:
                status = put(http, "durable", key, {"n": n, "i": i, "pad": "y" * 200})
            except httpx.TransportError:
                continue  # cut off by the kill: not acknowledged; the retry reconnects
            assert status == 204
            with lock:
                acked[key] = i
            i += 1

    def count() -> int:
        with lock:
            return len(acked)

    with ThreadPoolExecutor(len(conns)) as pool:
        writers = [pool.submit(write, n) for n in range(len(conns))]
        wait_until(lambda: count() >= 300, "300 writes")
        os.kill(victim, signal.SIGKILL)  # a worker, not the supervisor
        with lock:  # writes on the victim's connections so far were acknowledged by it
            by_victim = [key for key in acked if int(key[1:].split("-")[0]) < len(victims)]
        before = count()
        wait_until(
            lambda: count() >= before + 300, "300 more writes"
        )  # the other worker carries on
        stop.set()
        for writer in writers:
            writer.result()
    assert by_victim

    stored = survivors[0].http.get("/api/v1/sessions/durable/values").json()["values"]
    missing = [key for key in acked if key not in stored]
    assert not missing, f"{len(missing)} acknowledged writes lost, e.g. {missing[:5]}"
    assert all(stored[key]["i"] == i for key, i in acked.items())
    # The supervisor started a replacement: a new pid answers, the killed one never again.
    assert server.process.poll() is None
    seen: set[int] = set()

    def replaced() -> bool:
        with httpx.Client(timeout=30) as fresh:  # a new connection each time
            seen.add(int(fresh.get(f"{server.root}/healthz").json()["pid"]))
        return bool(seen - {survivor})

    wait_until(replaced, "a new worker")
    assert victim not in seen


def test_memory_store_with_workers_is_refused_in_one_line(tmp_path: Path) -> None:
    result = serve_refused(tmp_path, "--port", "0", "--store", "memory://", "--workers", "2")
    assert result.returncode == 1
    assert result.stderr.startswith("error: memory:// cannot be shared by 2 workers")
    assert result.stderr.count("\n") == 1
    assert "Traceback" not in result.stderr


def test_workers_exit_when_the_supervisor_is_killed(
    capture_serve: StartServe, pin: PinByWorker, tmp_path: Path
) -> None:
    # Orphaned workers would keep the port and the store busy after a crash of the parent.
    server = capture_serve("--store", f"sqlite:///{tmp_path / 'store.db'}", "--workers", "2")
    pin(server, 2, 1)
    server.stop(signal.SIGKILL)
    port = int(server.root.rsplit(":", 1)[1])

    def refused() -> bool:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=5).close()
        except ConnectionRefusedError:
            return True
        return False

    wait_until(refused, "refusal")
