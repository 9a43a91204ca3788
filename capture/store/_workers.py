"""`capture serve`: `serve_foreground` runs the store in this process, or (`--workers N`) in
N server processes sharing one listening socket.

The parent binds and listens once, then spawns the workers, each running the usual uvicorn
server on that same socket, so the kernel hands every new connection to one of them. The
parent only supervises: it announces the address once every worker is ready, starts a
replacement when a worker dies, and on SIGINT/SIGTERM stops them all.

Each worker talks to the shared backend (one SQLite file, one Redis), so any worker answers
any request: nothing about a thread lives in a worker's memory except caches keyed by what
the backend reports. A worker also exits when the parent dies, even by SIGKILL: it watches
its end of a pipe to the parent, which reads EOF once the parent is gone.

This is our own small supervisor rather than uvicorn's `Multiprocess`, whose constructor and
internals changed between uvicorn releases, and which cannot say when all workers are ready.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import multiprocessing
import os
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable
from multiprocessing.connection import Connection, wait
from types import FrameType
from urllib.parse import urlsplit

from capture.config import StoreConfig
from capture.errors import ConfigError, StorageError
from capture.store._base import Store
from capture.store._serve import bind_socket, listen_url, serve, store_for

__all__ = ["run_workers", "serve_foreground"]

Announce = Callable[[str, Store], None]

log = logging.getLogger("capture.store")

_READY = "ready"
_START_SECONDS = 60.0  # a worker spawns a fresh interpreter and imports capture: seconds
_STOP_SECONDS = 30.0
_spawn = multiprocessing.get_context("spawn")  # a clean interpreter: nothing but the socket shared


def _watch_parent(conn: Connection, stop: Callable[[], None]) -> None:
    """Block until the parent's end of the pipe closes (it exited or was killed), then stop."""
    try:
        while True:
            conn.recv()
    except (EOFError, OSError):
        stop()


def _worker_main(cfg: StoreConfig, sock: socket.socket, conn: Connection) -> None:
    """A worker process: serve `cfg` on the inherited `sock` until told to stop."""

    def ready(*_: object) -> None:
        # The parent gone: SIGTERM to ourselves, which uvicorn's handler turns into a
        # graceful shutdown like any other.
        stop = functools.partial(os.kill, os.getpid(), signal.SIGTERM)
        threading.Thread(target=_watch_parent, args=(conn, stop), daemon=True).start()
        conn.send(_READY)

    try:
        asyncio.run(serve(cfg, announce=ready, sock=sock))
    except KeyboardInterrupt:  # Ctrl+C reaches the whole process group; uvicorn re-raises it
        pass  # after its graceful shutdown, and the parent stops the rest
    except StorageError as exc:
        print(f"error: worker: {exc}", file=sys.stderr)
        sys.exit(1)


class _Worker:
    """One worker process and the parent's end of its pipe."""

    def __init__(self, cfg: StoreConfig, sock: socket.socket) -> None:
        self.conn, child = _spawn.Pipe()
        self.process = _spawn.Process(
            target=_worker_main, args=(cfg, sock, child), name="capture-store-worker"
        )
        self.process.start()
        child.close()  # the child has its own copy now
        self.ready = False

    def stop(self) -> None:
        if self.process.is_alive():
            self.process.terminate()  # SIGTERM: uvicorn finishes open requests first

    def reap(self, deadline: float) -> None:
        self.process.join(max(0.0, deadline - time.monotonic()))
        if self.process.is_alive():
            self.process.kill()
            self.process.join()
        self.conn.close()


def _await_ready(workers: list[_Worker]) -> None:
    """Wait until every worker has said it serves; a worker that dies first is an error."""
    deadline = time.monotonic() + _START_SECONDS
    while not all(w.ready for w in workers):
        waiting = [w for w in workers if not w.ready]
        events = wait(
            [w.conn for w in waiting] + [w.process.sentinel for w in waiting],
            timeout=max(0.0, deadline - time.monotonic()),
        )
        if not events:
            raise StorageError(f"the store workers did not start within {_START_SECONDS:g} s")
        for worker in waiting:
            if worker.conn in events:
                with contextlib.suppress(EOFError):  # it died: its sentinel says so below
                    worker.ready = worker.conn.recv() == _READY
            if not worker.ready and worker.process.sentinel in events:
                raise StorageError(
                    f"a store worker exited during startup (exit code {worker.process.exitcode})"
                )


def run_workers(
    cfg: StoreConfig, sock: socket.socket, count: int, on_ready: Callable[[], None]
) -> None:
    """Serve `cfg` on the bound `sock` from `count` worker processes until SIGINT/SIGTERM.

    `on_ready()` runs once every worker serves. A worker that dies later is replaced.
    """
    stopping = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stopping.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    sock.listen(2048)
    workers: list[_Worker] = []
    try:
        workers.extend(_Worker(cfg, sock) for _ in range(count))
        _await_ready(workers)
        on_ready()
        while not stopping.is_set():
            # A short timeout: a signal only sets the flag, it does not interrupt the wait.
            wait([w.process.sentinel for w in workers], timeout=0.25)
            for i, worker in enumerate(workers):
                if not worker.process.is_alive() and not stopping.is_set():
                    code = worker.process.exitcode
                    pid = worker.process.pid
                    log.warning("store worker %s exited with code %s; starting another", pid, code)
                    worker.reap(time.monotonic())
                    workers[i] = _Worker(cfg, sock)
                    _await_ready([workers[i]])
    finally:
        for worker in workers:
            worker.stop()
        deadline = time.monotonic() + _STOP_SECONDS
        for worker in workers:
            worker.reap(deadline)
        sock.close()
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _worker_count(cfg: StoreConfig) -> int:
    """How many server processes `cfg` asks for: `workers`, where 0 means one per core.

    The in-memory store cannot be shared: each process would hold its own data, and a value
    written through one would be missing from the next, so it is refused with more than one.
    """
    count = cfg.workers or os.cpu_count() or 1
    if count > 1 and urlsplit(cfg.url).scheme == "memory":
        raise ConfigError(
            f"memory:// cannot be shared by {count} workers (each process would hold its own "
            "data): use sqlite:///path.db or redis://host:port/db, or --workers 1"
        )
    return count


def serve_foreground(cfg: StoreConfig, *, announce: Announce | None = None) -> None:
    """Serve `cfg` until SIGINT/SIGTERM, in this process or in `_worker_count(cfg)` worker
    processes sharing one listening socket."""
    count = _worker_count(cfg)
    if count == 1:
        asyncio.run(serve(cfg, announce=announce))
        return
    store = store_for(cfg)
    # Open once here before any worker starts: a bad store is one clear error, and SQLite's
    # file, schema and WAL mode are made by one process instead of N racing ones.
    asyncio.run(_check_store(store))
    sock = bind_socket(cfg.host, cfg.port)
    port = int(sock.getsockname()[1])

    def ready() -> None:
        if announce is not None:
            announce(listen_url(cfg.host, port), store)

    run_workers(cfg, sock, count, ready)


async def _check_store(store: Store) -> None:
    await store.open()
    await store.close()
