"""Background upload: the step loop queues writes and moves on; a worker sends them.

One bounded, ordered queue where the latest write per key wins (an older screenshot that was
never sent is worthless once a newer one exists). A store that is down is retried with
backoff, then the write is counted as dropped: the browser task never waits on the store.
Closing takes a deadline: what is still unsent then is dropped and counted, so a store that
died mid-run cannot hold the run's end. `AsyncUploader` runs a task on the event loop,
`SyncUploader` a daemon thread; both share the queue, the retry policy and the bookkeeping in
`UploaderBase`.

Writes can also be held (pytest's retain-on-failure): kept in order, none sent, until they
are released, each one then sent (none replaced by a later one for its key, so the store's
history has every step), or discarded, never having left the process.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from capture.errors import StoreUnavailableError
from capture.session import AsyncSessionClient, SessionClient

__all__ = ["AsyncUploader", "RecorderStats", "SyncUploader", "Write"]

log = logging.getLogger("capture.recorder")

RETRY_BASE = 0.25  # seconds before the first retry; doubles per attempt
RETRY_MAX = 2.0
MAX_ERRORS = 16


@dataclass
class RecorderStats:
    """Counters since the recorder started: writes, not captures, for uploaded/dropped."""

    captures: int = 0
    uploaded: int = 0
    dropped: int = 0
    unchanged: int = 0


@dataclass
class Write:
    """One queued store write: a set (`value` not None) or a delete of `key`.

    `on_done(ok)` runs once the write was sent (True) or dropped (False); a write superseded
    by a newer one for the same key is neither.
    """

    key: str
    value: Any | None
    expiry: datetime | None = None
    on_done: Callable[[bool], None] | None = None


class UploaderBase:
    """The queue and the bookkeeping; subclasses only run the sending loop."""

    def __init__(
        self, thread_id: str, *, queue_size: int, retries: int, stats: RecorderStats
    ) -> None:
        self.thread_id = thread_id
        self.queue_size = queue_size
        self.retries = retries
        self.stats = stats
        self.errors: list[Exception] = []
        # Queued writes by slot: the write's key, or for a released one a slot of its own.
        self._pending: OrderedDict[str, Write] = OrderedDict()
        self._sending: Write | None = None  # taken from the queue, not yet sent or dropped
        self._held: list[Write] | None = None  # None: not holding
        self._released = 0  # slots given to released writes so far

    def _enqueue(self, write: Write, *, keep: bool = False) -> None:
        """Add `write`, replacing a pending one for the same key; overflow drops the oldest.

        `keep`: a released write, which nothing replaces and the bound does not count (it
        was in memory already)."""
        if keep:
            self._released += 1
            self._pending[f"{write.key}\n{self._released}"] = write
            return
        self._pending.pop(write.key, None)
        self._pending[write.key] = write
        plain = [slot for slot, queued in self._pending.items() if slot == queued.key]
        for slot in plain[: max(0, len(plain) - self.queue_size)]:
            oldest = self._pending.pop(slot)
            self._finish(oldest, StoreUnavailableError("upload queue full; oldest write dropped"))

    def put(self, write: Write) -> None:
        """Queue `write` without waiting for the store (or hold it, see `hold`)."""
        if self._held is not None:
            self._held.append(write)
        else:
            self._admit([write], keep=False)

    def _admit(self, writes: list[Write], *, keep: bool) -> None:
        """Queue `writes` and wake the sender."""
        raise NotImplementedError

    def hold(self) -> None:
        """From now on keep every write here, unsent, until `release` or `discard`."""
        if self._held is None:
            self._held = []

    def release(self) -> None:
        """Send every held write, in order, each one (none replaced by a later one)."""
        held, self._held = self._held or [], None
        if held:
            self._admit(held, keep=True)

    def discard(self) -> int:
        """Forget the held writes, which never left the process; returns how many."""
        held, self._held = self._held or [], None
        return len(held)

    def _next(self) -> Write | None:
        self._sending = self._pending.popitem(last=False)[1] if self._pending else None
        return self._sending

    def _abandon(self, timeout: float) -> None:
        """The deadline passed: count the write in flight and every queued one as dropped."""
        left = [self._sending] if self._sending is not None else []
        left += self._pending.values()
        self._pending.clear()
        self._sending = None
        for write in left:
            self._finish(write, StoreUnavailableError(f"not sent within {timeout:g}s of closing"))

    def retry_delay(self, attempt: int, exc: Exception) -> float | None:
        """Seconds before another try of a write that failed with `exc`, or None to give up.

        Only an unreachable store is worth waiting for; a 400/401/413 will not get better.
        """
        if not isinstance(exc, StoreUnavailableError) or attempt > self.retries:
            return None
        return float(min(RETRY_MAX, RETRY_BASE * 2 ** (attempt - 1)))

    def _finish(self, write: Write, exc: Exception | None) -> None:
        if write is self._sending:
            self._sending = None
        if exc is None:
            self.stats.uploaded += 1
        else:
            self.stats.dropped += 1
            if len(self.errors) < MAX_ERRORS:  # strict mode reports the first; the rest count
                self.errors.append(exc)
            log.info("capture: dropped write of %s: %s", write.key, exc)
        if write.on_done is not None:
            write.on_done(exc is None)

    @property
    def pending(self) -> int:
        """Writes queued or in flight."""
        return len(self._pending) + (self._sending is not None)


class AsyncUploader(UploaderBase):
    """Sends queued writes from a task on the running event loop."""

    def __init__(self, client: AsyncSessionClient, thread_id: str, **options: Any) -> None:
        super().__init__(thread_id, **options)
        self.client = client.with_retries(0)  # one retry budget per write: ours
        self._wake = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        self._task: asyncio.Task[None] | None = None

    def _admit(self, writes: list[Write], *, keep: bool) -> None:
        """Queue `writes`; the worker starts on first use."""
        for write in writes:
            self._enqueue(write, keep=keep)
        self._idle.clear()
        self._wake.set()
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run())

    async def _send(self, write: Write) -> None:
        attempt = 0
        while True:
            attempt += 1
            try:
                if write.value is None:
                    await self.client.delete_session_value(self.thread_id, write.key)
                else:
                    await self.client.set_session_value(
                        self.thread_id, write.key, write.value, write.expiry
                    )
            except Exception as exc:  # any failure is this write's; the worker must live on
                if (delay := self.retry_delay(attempt, exc)) is None:
                    self._finish(write, exc)
                    return
                await asyncio.sleep(delay)
            else:
                self._finish(write, None)
                return

    async def _run(self) -> None:
        while True:
            while (write := self._next()) is not None:
                await self._send(write)
            self._idle.set()
            self._wake.clear()
            await self._wake.wait()

    async def flush(self) -> None:
        """Wait until every queued write was sent or dropped."""
        if self._pending or not self._idle.is_set():
            await self._idle.wait()

    async def close(self, within: float | None = None) -> None:
        """Drain the queue (for at most `within` seconds, then drop the rest), then stop."""
        try:
            await asyncio.wait_for(self.flush(), within)
        except TimeoutError:
            self._abandon(within or 0.0)
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None


class SyncUploader(UploaderBase):
    """Sends queued writes from a daemon thread (the sync client is not shared with others)."""

    def __init__(self, client: SessionClient, thread_id: str, **options: Any) -> None:
        super().__init__(thread_id, **options)
        self.client = client.with_retries(0)  # one retry budget per write: ours
        self._cond = threading.Condition()
        self._closed = False
        self._thread: threading.Thread | None = None

    def _admit(self, writes: list[Write], *, keep: bool) -> None:
        with self._cond:
            for write in writes:
                self._enqueue(write, keep=keep)
            self._cond.notify_all()
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="capture-upload", daemon=True
                )
                self._thread.start()

    def _send(self, write: Write) -> Exception | None:
        attempt = 0
        while True:
            attempt += 1
            try:
                if write.value is None:
                    self.client.delete_session_value(self.thread_id, write.key)
                else:
                    self.client.set_session_value(
                        self.thread_id, write.key, write.value, write.expiry
                    )
            except Exception as exc:  # any failure is this write's; the worker must live on
                if (delay := self.retry_delay(attempt, exc)) is None:
                    return exc
                time.sleep(delay)
            else:
                return None

    def _run(self) -> None:
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._pending or self._closed)
                write = self._next()
                if write is None:
                    return
            exc = self._send(write)
            with self._cond:
                if write is self._sending:  # else the close deadline dropped it already
                    self._finish(write, exc)
                self._cond.notify_all()

    def flush(self, within: float | None = None) -> bool:
        """Block until every queued write was sent or dropped; False if `within` ran out."""
        with self._cond:
            return self._cond.wait_for(lambda: not self.pending, within)

    def close(self, within: float | None = None) -> None:
        """Drain the queue (for at most `within` seconds, then drop the rest), then stop.

        A send still blocked in the store's socket is left to its daemon thread."""
        drained = self.flush(within)
        with self._cond:
            if not drained:
                self._abandon(within or 0.0)
            self._closed = True
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(None if drained else 0.1)
            self._thread = None
