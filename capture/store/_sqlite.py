"""The SQLite backend (the default): one file, WAL mode, writes never blocking the event loop.

Writes go to a single writer thread through a queue (Datasette's pattern): the thread takes
every job waiting, runs them in one transaction (a savepoint each, so one failing job does
not sink the others) and commits once. A caller's future resolves only after that commit, so
the server's 204 means the value is committed. Reads by key (one value, one thread's values)
run on the event loop's own connection, since they take microseconds and WAL never makes
them wait for the writer; scans across threads run in a small thread pool.

Several processes may share the file (`capture serve --workers N`): each has its own writer
thread, SQLite's write lock (taken up front by `BEGIN IMMEDIATE`) serialises their
transactions, and a writer that finds it taken waits up to `busy_timeout` instead of failing.
WAL lets every process read while another writes, and see each commit once it is made.

Durability is SQLite's `synchronous` setting, chosen in the URL: `normal` (the default) keeps
every committed write through a crash or SIGKILL of the server, and may lose the last
moments to a power cut or kernel crash; `?synchronous=full` fsyncs every commit (concurrent
writers share one fsync) and survives those too, at a fraction of the write throughput.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import queue
import sqlite3
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar, Unpack

from capture.errors import StorageError
from capture.store._base import Backend, Entry, HistoryEntry, SessionRow, Timing, from_us, to_us

__all__ = ["SqliteStore"]

T = TypeVar("T")
_LIVE = "(expiry IS NULL OR expiry > :now)"
_SCHEMA = """
CREATE TABLE IF NOT EXISTS kv (
    thread_id TEXT NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    expiry INTEGER,                -- microseconds since the epoch, NULL = never
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (thread_id, key)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS kv_expiry ON kv (expiry) WHERE expiry IS NOT NULL;
CREATE TABLE IF NOT EXISTS history (
    id INTEGER PRIMARY KEY,        -- insertion order = newest last
    thread_id TEXT NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    set_at INTEGER NOT NULL,
    expiry INTEGER
);
CREATE INDEX IF NOT EXISTS history_key ON history (thread_id, key, id);
CREATE INDEX IF NOT EXISTS history_age ON history (set_at);
"""


SYNCHRONOUS = ("normal", "full")


def _connect(path: Path, synchronous: str = "normal") -> sqlite3.Connection:
    # isolation_level=None: we issue BEGIN/COMMIT ourselves. check_same_thread=False only so
    # that close() may close a reader's connection from another thread once it is idle.
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA busy_timeout = 5000")
    conn.execute(f"PRAGMA synchronous = {synchronous.upper()}")
    return conn


_Job = tuple[Callable[[sqlite3.Connection], Any], "asyncio.Future[Any]", asyncio.AbstractEventLoop]


_Settled = tuple["asyncio.Future[Any]", Any, BaseException | None]


def _resolve_all(settled: list[_Settled]) -> None:
    for future, result, error in settled:
        if future.cancelled():
            continue
        if error is None:
            future.set_result(result)
        else:
            future.set_exception(error)


class _Writer(threading.Thread):
    """The one thread that writes; jobs are batched into one transaction per wake-up."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        super().__init__(name="capture-sqlite-writer", daemon=True)
        self._conn = conn
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()

    def submit(self, fn: Callable[[sqlite3.Connection], T]) -> asyncio.Future[T]:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        self._jobs.put((fn, future, loop))
        return future

    def stop(self) -> None:
        self._jobs.put(None)

    def run(self) -> None:
        stopping = False
        while not stopping:
            batch: list[_Job] = []
            job = self._jobs.get()
            while job is not None:
                batch.append(job)
                try:
                    job = self._jobs.get_nowait()
                except queue.Empty:
                    break
            stopping = job is None
            if batch:
                self._run_batch(batch)
        self._conn.close()

    def _run_batch(self, batch: list[_Job]) -> None:
        outcomes: list[tuple[Any, BaseException | None]] = []
        try:
            self._conn.execute("BEGIN IMMEDIATE")
            for fn, _, _ in batch:
                self._conn.execute("SAVEPOINT job")
                try:
                    outcomes.append((fn(self._conn), None))
                except Exception as exc:  # not only sqlite3.Error: this thread must not die
                    self._conn.execute("ROLLBACK TO job")
                    outcomes.append((None, StorageError(f"sqlite write failed: {exc}")))
                self._conn.execute("RELEASE job")
            self._conn.execute("COMMIT")
        except Exception as exc:
            if self._conn.in_transaction:
                with contextlib.suppress(sqlite3.Error):
                    self._conn.execute("ROLLBACK")
            failed = StorageError(f"sqlite commit failed: {exc}")
            outcomes = [(None, failed)] * len(batch)
        # One wake-up per loop for the whole batch, not one per job: each wake-up costs the
        # busy event loop a self-pipe round trip.
        by_loop: dict[asyncio.AbstractEventLoop, list[_Settled]] = {}
        for (_, future, loop), (result, error) in zip(batch, outcomes, strict=True):
            by_loop.setdefault(loop, []).append((future, result, error))
        for loop, settled in by_loop.items():
            # RuntimeError: the caller's loop is already closed, so nobody is waiting.
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(_resolve_all, settled)


class SqliteStore(Backend):
    """A `Store` in one SQLite file (created with its parent directory on `open`)."""

    def __init__(
        self,
        path: str | Path,
        *,
        readers: int = 4,
        synchronous: str = "normal",
        **timing: Unpack[Timing],
    ) -> None:
        super().__init__(**timing)
        if synchronous not in SYNCHRONOUS:
            raise StorageError(
                f"sqlite synchronous must be one of {SYNCHRONOUS}, not {synchronous!r}"
            )
        self.synchronous = synchronous
        self.path = Path(path).expanduser().resolve()
        self._reader_count = readers
        self._local = threading.local()
        self._read_conns: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        self._writer: _Writer | None = None
        self._readers: ThreadPoolExecutor | None = None
        self._loop_conn: sqlite3.Connection | None = None

    def describe(self) -> str:
        extra = "" if self.synchronous == "normal" else f" (synchronous={self.synchronous})"
        return f"sqlite {self.path}{extra}"

    async def open(self) -> None:
        if self._writer is not None:
            return
        try:
            conn = await asyncio.to_thread(self._create)
        except (OSError, sqlite3.Error) as exc:
            raise StorageError(f"cannot open sqlite store {self.path}: {exc}") from exc
        self._writer = _Writer(conn)
        self._writer.start()
        self._loop_conn = _connect(self.path)
        self._readers = ThreadPoolExecutor(self._reader_count, "capture-sqlite-read")

    def _create(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = _connect(self.path, self.synchronous)
        conn.execute("PRAGMA journal_mode = WAL")
        conn.executescript(_SCHEMA)
        return conn

    async def close(self) -> None:
        if self._writer is not None:
            self._writer.stop()
            await asyncio.to_thread(self._writer.join)
            self._writer = None
        if self._readers is not None:
            self._readers.shutdown(wait=True)
            self._readers = None
        if self._loop_conn is not None:
            self._loop_conn.close()
            self._loop_conn = None
        with self._lock:
            for conn in self._read_conns:
                conn.close()
            self._read_conns.clear()

    async def _write(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        if self._writer is None:
            raise StorageError("sqlite store is not open")
        return await self._writer.submit(fn)

    async def _read(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        if self._readers is None:
            raise StorageError("sqlite store is not open")
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self._readers, self._in_reader, fn)
        except sqlite3.Error as exc:
            raise StorageError(f"sqlite read failed: {exc}") from exc

    def _read_inline(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """A read by primary key (one value, or one thread's values) on the loop's connection.

        Such a read takes microseconds and, in WAL mode, never waits for the writer; a hop to
        a thread costs more than the read itself (an executor future, a self-pipe wake-up,
        and the worker winning the GIL back from a busy loop). Scans across threads
        (list_sessions, history) stay on the thread pool.
        """
        if self._loop_conn is None:
            raise StorageError("sqlite store is not open")
        try:
            return fn(self._loop_conn)
        except sqlite3.Error as exc:
            raise StorageError(f"sqlite read failed: {exc}") from exc

    def _in_reader(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._local.conn = _connect(self.path)
            with self._lock:
                self._read_conns.append(conn)
        return fn(conn)

    async def set(self, thread_id: str, key: str, value_json: str, expiry: datetime | None) -> None:
        now = self._clock()
        args = {
            "t": thread_id,
            "k": key,
            "v": value_json,
            "e": None if expiry is None else to_us(expiry),
            "now": to_us(now),
            "cutoff": to_us(now - self._policy.age),
            "n": self._policy.versions,
        }
        keep = self._policy.keeps(key)

        def write(conn: sqlite3.Connection) -> None:
            conn.execute(
                "INSERT INTO kv VALUES (:t, :k, :v, :e, :now) ON CONFLICT DO UPDATE SET"
                " value = excluded.value, expiry = excluded.expiry,"
                " updated_at = excluded.updated_at",
                args,
            )
            if keep:
                conn.execute(
                    "INSERT INTO history (thread_id, key, value, set_at, expiry)"
                    " VALUES (:t, :k, :v, :now, :e)",
                    args,
                )
                conn.execute(
                    "DELETE FROM history WHERE thread_id = :t AND key = :k AND (set_at < :cutoff"
                    " OR id NOT IN (SELECT id FROM history WHERE thread_id = :t AND key = :k"
                    " ORDER BY id DESC LIMIT :n))",
                    args,
                )

        await self._write(write)

    async def get(self, thread_id: str, key: str) -> str | None:
        args = {"t": thread_id, "k": key, "now": to_us(self._clock())}
        sql = f"SELECT value FROM kv WHERE thread_id = :t AND key = :k AND {_LIVE}"

        def read(conn: sqlite3.Connection) -> str | None:
            row = conn.execute(sql, args).fetchone()
            return None if row is None else str(row[0])

        return self._read_inline(read)

    async def entries(self, thread_id: str) -> dict[str, Entry]:
        args = {"t": thread_id, "now": to_us(self._clock())}
        sql = (
            "SELECT key, value, expiry, updated_at FROM kv"
            f" WHERE thread_id = :t AND {_LIVE} ORDER BY key"
        )
        rows = self._read_inline(lambda conn: conn.execute(sql, args).fetchall())
        return {k: Entry(v, None if e is None else from_us(e), from_us(u)) for k, v, e, u in rows}

    async def stamps(self, thread_id: str) -> dict[str, tuple[datetime, datetime | None]]:
        args = {"t": thread_id, "now": to_us(self._clock())}
        sql = f"SELECT key, updated_at, expiry FROM kv WHERE thread_id = :t AND {_LIVE}"
        rows = self._read_inline(lambda conn: conn.execute(sql, args).fetchall())
        return {k: (from_us(u), None if e is None else from_us(e)) for k, u, e in rows}

    async def delete(self, thread_id: str, key: str) -> None:
        sql = "DELETE FROM kv WHERE thread_id = ? AND key = ?"
        await self._write(lambda conn: conn.execute(sql, (thread_id, key)))

    async def clear(self, thread_id: str) -> None:
        def write(conn: sqlite3.Connection) -> None:
            conn.execute("DELETE FROM kv WHERE thread_id = ?", (thread_id,))
            conn.execute("DELETE FROM history WHERE thread_id = ?", (thread_id,))

        await self._write(write)

    async def list_sessions(
        self, thread_id: str | None, limit: int, offset: int
    ) -> list[SessionRow]:
        args = {"t": thread_id, "now": to_us(self._clock()), "limit": limit, "offset": offset}
        sql = (
            "SELECT thread_id, json_group_array(key), MAX(updated_at) AS u FROM kv"
            f" WHERE {_LIVE} AND (:t IS NULL OR thread_id = :t) GROUP BY thread_id"
            " ORDER BY u DESC, thread_id DESC LIMIT :limit OFFSET :offset"
        )
        rows = await self._read(lambda conn: conn.execute(sql, args).fetchall())
        return [SessionRow(tid, sorted(json.loads(keys)), from_us(u)) for tid, keys, u in rows]

    async def history(self, thread_id: str, key: str, limit: int) -> list[HistoryEntry]:
        cutoff = to_us(self._clock() - self._policy.age)
        args = {"t": thread_id, "k": key, "cutoff": cutoff, "limit": limit}
        sql = (
            "SELECT value, set_at, expiry FROM history WHERE thread_id = :t AND key = :k"
            " AND set_at >= :cutoff ORDER BY id DESC LIMIT :limit"
        )
        rows = await self._read(lambda conn: conn.execute(sql, args).fetchall())
        return [HistoryEntry(v, from_us(s), None if e is None else from_us(e)) for v, s, e in rows]

    async def sweep(self) -> int:
        now = self._clock()
        args = {"now": to_us(now), "cutoff": to_us(now - self._policy.age)}

        def write(conn: sqlite3.Connection) -> int:
            removed = conn.execute("DELETE FROM kv WHERE expiry <= :now", args).rowcount
            conn.execute("DELETE FROM history WHERE set_at < :cutoff", args)
            return removed

        return await self._write(write)
