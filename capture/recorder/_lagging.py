"""Captures that may lag: a pytest suite's intermediate steps, taken while the test goes on.

A test that never waits cannot have an exact image per step for less than Playwright's
tracing costs (docs/pytest.md), so an intermediate step's capture is taken in the
background, as tracing's screencast frames are: the test's next action may already run, and
the frame may show its effect. The step record says so (`exact`, `lag_ms`).

Steps that end while a capture is under way wait for the next one, which is taken once for
all of them (the newest step's read, shared; the earlier ones are never exact). Masks are
never relaxed: a background read locates the sensitive fields before and after its frame
(`PageIO.read(lagging=True)`) and masks both, or drops the image. The failing step, the last
step of a test and every explicit capture stay exact: the faces `drain` the background first,
and `Sampler.redo` takes the last step again, exactly, under its own number.

Chromium sometimes holds a background frame back for the whole time box when the test
navigates while it is drawn (and then answers nothing). Nobody waits for it while the test
goes on; once someone does (the test's end, a failure, an explicit capture), a read that has
taken far longer than this page's reads do is given up and read again, with any step that
ended meanwhile: the test has stopped acting, and a fresh frame comes at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import statistics
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from capture.recorder._core import CaptureResult, RecorderCore, StepInput
from capture.recorder._io import PageIO
from capture.recorder._upload import Write
from capture.recorder.observe import EventsSnapshot

__all__ = ["OnResult", "Sampler"]

OnResult = Callable[[CaptureResult], None]

# Seconds from the start of one background read to the next: the steps that end meanwhile
# share the next one, so a test that acts quickly pays for a read every so often, not one
# per action (tracing's screencast is bounded by the frame rate the same way).
READ_EVERY = 0.3

# Once someone waits, a background read is given up when it has taken `STALL_FACTOR` times
# the median of this page's last reads (at least `STALL_MIN` seconds), once per wait: a
# busy machine makes every read slow, and the median with it.
STALL_FACTOR = 3
STALL_MIN = 0.25
_RECENT = 9


class Sampler:
    """The background captures of one recorder (see the module docstring)."""

    def __init__(
        self, io: PageIO, core: RecorderCore, queue: Callable[[list[Write]], None]
    ) -> None:
        self._io = io
        self._core = core
        self._queue = queue
        self._pending: list[tuple[StepInput, OnResult | None]] = []
        self._newest: StepInput | None = None
        self._task: asyncio.Future[None] | None = None
        self._next_read = 0.0  # monotonic seconds: no background read starts before
        self._hurry: asyncio.Event | None = None  # set: someone waits, read now
        self._recent: deque[float] = deque(maxlen=_RECENT)  # seconds of the last reads
        self.last: StepInput | None = None  # the newest step taken in the background

    def began(self) -> None:
        """An action starts now: a frame taken from now on may show its effect."""
        newest = self._newest
        if newest is not None and newest.next_began is None:
            newest.next_began = time.monotonic()

    async def add(self, page: Callable[[], Any], got: StepInput, then: OnResult | None) -> None:
        """Capture `got` in the background (with any step still waiting), on `page()`;
        `then` gets its result. Returns at once."""
        self._pending.append((got, then))
        self._newest = got
        if self._task is None or self._task.done():
            self._task = asyncio.ensure_future(self._run(page))

    async def drain(self) -> None:
        """Wait until every background capture is concluded and its writes queued (a bad
        redact selector it met is raised here, as an exact capture would raise it)."""
        task, self._task = self._task, None
        if task is not None:
            if self._hurry is not None:
                self._hurry.set()
            await task

    async def settle(self) -> None:
        """Before an exact capture: conclude the background ones first (their steps come
        first); the exact one is the newest step from then on."""
        if self._task is not None:
            await self.drain()
        self._newest = None

    async def redo(self, page: Any, events: EventsSnapshot) -> CaptureResult | None:
        """Take the newest step again, exactly and under its own number, when it was taken
        in the background and its image is not exact (a test's last step); else None."""
        await self.drain()
        last = self.last
        if last is None or last is not self._newest or last.exact:
            return None
        got = self._core.begin(
            last.action, last.status, last.error, last.url, events, redo=last.step
        )
        await self._io.read(page, self._core, got)
        self.last = self._newest = None
        result, writes = self._core.conclude(got)
        self._queue(writes)
        return result

    async def _run(self, page: Callable[[], Any]) -> None:
        self._hurry = hurry = asyncio.Event()
        may_give_up = True
        while self._pending:
            wait = self._next_read - time.monotonic()
            if wait > 0 and not hurry.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(hurry.wait(), wait)
            self._next_read = time.monotonic() + READ_EVERY
            batch, self._pending = self._pending, []
            newest, _ = batch[-1]
            if not await self._read(page(), newest, hurry, may_give_up):
                self._pending[:0] = batch  # read again, with the steps that ended since
                may_give_up = False
                continue
            for got, then in batch:
                if got is newest:
                    got.exact = got.image is not None and (
                        got.next_began is None
                        or (got.shot_at is not None and got.next_began > got.shot_at)
                    )
                    result, writes = self._core.conclude(got)
                else:  # its frame is the newest step's, later than its own next action
                    got.image, got.shot_at = newest.image, newest.shot_at
                    result, writes = self._core.record_only(got, newest.step)
                self._queue(writes)
                if then is not None:
                    then(result)
            self.last = newest

    async def _read(
        self, page: Any, got: StepInput, hurry: asyncio.Event, may_give_up: bool
    ) -> bool:
        """Read `got` in the background; False when it was given up as stalled (see the
        module docstring): `got` is as it was before, with a note that says so."""
        begun, notes = time.monotonic(), len(got.notes)
        read = asyncio.ensure_future(self._io.read(page, self._core, got, lagging=True))
        if may_give_up:
            waits = asyncio.ensure_future(hurry.wait())
            await asyncio.wait([read, waits], return_when=asyncio.FIRST_COMPLETED)
            waits.cancel()
            usual = statistics.median(self._recent) if self._recent else 0.0
            patience = begun + max(STALL_MIN, STALL_FACTOR * usual) - time.monotonic()
            done, _ = await asyncio.wait([read], timeout=max(0.0, patience))
            if not done:
                read.cancel()
                await asyncio.wait([read])
                got.forget_read(notes)
                got.notes.append("a frame the browser held back was given up and read again")
                return False
        await read
        self._recent.append(time.monotonic() - begun)
        return True
