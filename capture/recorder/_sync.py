"""`SyncRecorder`: the same recorder for Playwright's sync API (pytest-playwright's `page`).

Only the waiting differs from `Recorder`: a capture's page I/O is `Recorder`'s own
(`_io`), run on the sync page's event loop through the seam (`browser._internals`), so its parts
overlap and its time box holds as on the async API; uploads go through a daemon thread. Every
decision (budgets, masks, hashes, records, observation) is `RecorderCore`'s.
"""

from __future__ import annotations

import contextlib
from typing import Any

from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Page

from capture._lifecycle import Closing
from capture.browser import impl_of, run_sync
from capture.recorder._base import RecorderBase
from capture.recorder._core import CaptureResult
from capture.recorder._lagging import OnResult
from capture.recorder._upload import SyncUploader
from capture.session import SessionClient

__all__ = ["SyncRecorder"]


class SyncRecorder(RecorderBase[Page, SessionClient, SyncUploader], Closing):
    """`Recorder` for the sync API: same names, blocking methods.

    with SyncRecorder(page, SessionClient(url), "thread-1") as rec:
        page.click("text=Next")
        rec.capture("click Next")
    """

    _uploader_type = SyncUploader

    def capture(
        self, action: str = "", *, status: str = "ok", error: str | None = None
    ) -> CaptureResult:
        """Capture the page now; returns within the time box, uploads in the background."""
        self._raise_if_strict()
        core, page = self._core, self._page
        run_sync(page, self._sampler.settle())  # the background steps come first
        got = core.begin(action, status, error, page.url, self._events.drain())
        run_sync(page, self._io.read(impl_of(page), core, got))
        result, writes = core.conclude(got)
        self._queue(writes)
        return result

    def capture_soon(
        self, action: str = "", *, status: str = "ok", then: OnResult | None = None
    ) -> int:
        """Number this step and capture it in the background, while the caller goes on:
        its image may lag (a pytest suite's intermediate steps, see `_lagging`); `then` gets
        the result. Returns the step number."""
        self._raise_if_strict()
        page = self._page
        got = self._core.begin(action, status, None, page.url, self._events.drain())
        run_sync(page, self._sampler.add(lambda: impl_of(self._page), got, then))
        return got.step

    def make_last_exact(self) -> CaptureResult | None:
        """Take the last step again, exactly, when `capture_soon` took it and a later
        action may show in its image; None when it is exact already."""
        page = self._page
        redo = self._sampler.redo(impl_of(page), self._events.drain())
        return run_sync(page, redo)

    def start_run(self, name: str, **info: Any) -> None:
        """Write the run record (status "running")."""
        self._queue([self._core.start_run(name, info)])

    def finish_run(self, status: str) -> None:
        """Queue the final run record (with the writes dropped so far); `close` sends it."""
        self._queue([self._core.finish_run(status)])

    def flush(self, within: float | None = None) -> bool:
        """Block until every queued write was sent or dropped; False if `within` ran out."""
        drained = self._uploader.flush(within)
        self._raise_if_strict()
        return drained

    def close(self, within: float | None = None) -> None:
        """Drain the queue (at most `within` seconds, then the rest counts as dropped) and
        stop the upload thread; the page and client stay open."""
        with contextlib.suppress(PlaywrightError):  # Playwright has stopped already
            run_sync(self._page, self._sampler.drain())
        self._uploader.close(within)
        with contextlib.suppress(PlaywrightError):  # Playwright has stopped already
            run_sync(self._page, self._io.close())
        self._detach_events()
        self._raise_if_strict()
