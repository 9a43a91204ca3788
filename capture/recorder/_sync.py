"""`SyncRecorder`: the same recorder for Playwright's sync API (pytest-playwright's `page`).

Only the I/O differs from `Recorder`: page reads and the screenshot are blocking calls, the
encoding runs in a worker thread while the outline is read, and uploads go through a daemon
thread. Every decision (budgets, masks, hashes, records, observation) is `RecorderCore`'s.

The time box here cannot interrupt a blocking Playwright call; instead a part is skipped
(with the same fallback notes as the async face) once the box is spent, and the encoding
result is waited for only until the box ends.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from types import TracebackType
from typing import Any, Self, TypeVar

from playwright.sync_api import CDPSession, Page
from playwright.sync_api import Error as PlaywrightError

from capture.config import CaptureConfig
from capture.errors import CaptureError, ConfigError
from capture.recorder._base import RecorderBase
from capture.recorder._core import (
    CaptureResult,
    StepInput,
    failure_note,
)
from capture.recorder._screenshot import (
    CARET_JS,
    Shot,
    decode_shot,
    fallback_options,
    fallback_shot,
    plan_shot,
    viewport_from_metrics,
)
from capture.recorder._upload import SyncUploader
from capture.recorder.observe import Rect, read_page_state_sync, read_sensitive_sync
from capture.session import SessionClient

__all__ = ["SyncRecorder"]

T = TypeVar("T")


class SyncRecorder(RecorderBase[Page, SessionClient, SyncUploader, CDPSession]):
    """`Recorder` for the sync API: same names, blocking methods.

    with SyncRecorder(page, SessionClient(url), "thread-1") as rec:
        page.click("text=Next")
        rec.capture("click Next")
    """

    _uploader_type = SyncUploader

    def __init__(
        self,
        page: Page,
        client: SessionClient,
        thread_id: str,
        *,
        config: CaptureConfig | None = None,
        secrets: Iterable[str] = (),
    ) -> None:
        super().__init__(page, client, thread_id, config=config, secrets=secrets)
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="capture-encode")

    def capture(
        self, action: str = "", *, status: str = "ok", error: str | None = None
    ) -> CaptureResult:
        """Capture the page now; uploads in the background."""
        self._raise_if_strict()
        core, cfg = self._core, self.config
        begun = time.monotonic()
        deadline = begun + cfg.time_box.total_seconds()
        got = core.begin(action, status, error, self._page.url, self._events.drain())
        page, selectors = self._page, cfg.redact_selectors

        sensitive = self._within(
            lambda: read_sensitive_sync(page, redact_selectors=selectors),
            deadline,
            "sensitive",
            got,
        )
        encoding = None
        if sensitive is not None:
            got.located = True
            rects, values = sensitive
            core.add_secrets(*values)
            shot = self._within(lambda: self._shoot(page, rects), deadline, "screenshot", got)
            if shot is not None:
                encoding = self._pool.submit(core.encode, shot, rects, got.step)
        got.state = self._within(
            lambda: read_page_state_sync(page, redact_selectors=selectors),
            deadline,
            "outline",
            got,
        )
        if encoding is not None:
            encode_begun = time.monotonic()
            try:
                got.image = encoding.result(timeout=max(0.0, deadline - time.monotonic()))
            except FutureTimeout:
                got.image = None
            got.timings["encode"] = time.monotonic() - encode_begun
        got.timings["total"] = time.monotonic() - begun
        result, writes = core.conclude(got)
        self._queue(writes)
        return result

    def start_run(self, name: str, **info: Any) -> None:
        """Write the run record (status "running")."""
        self._queue([self._core.start_run(name, info)])

    def finish_run(self, status: str) -> None:
        """Drain the uploads, then write the final run record with the dropped count."""
        self._uploader.flush()
        self._queue([self._core.finish_run(status)])
        self.flush()

    def flush(self) -> None:
        """Block until every queued write was sent or dropped."""
        self._uploader.flush()
        self._raise_if_strict()

    def close(self) -> None:
        """Drain the queue and stop the worker threads; the page and client stay open."""
        self._uploader.close()
        self._pool.shutdown(wait=True)
        self._detach_events()
        self._detach_cdp()
        self._raise_if_strict()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- internals -------------------------------------------------------------------------

    def _within(
        self, work: Callable[[], T], deadline: float, name: str, got: StepInput
    ) -> T | None:
        """Run `work` if the time box is not spent; None (and a note) if late or failed."""
        begun = time.monotonic()
        if begun >= deadline:
            return None
        try:
            return work()
        except ConfigError:
            raise
        except (PlaywrightError, CaptureError) as exc:
            got.notes.append(failure_note(name, exc))
            return None
        finally:
            got.timings[name] = time.monotonic() - begun

    def _detach_cdp(self) -> None:
        if self._cdp is not None:
            with contextlib.suppress(PlaywrightError):  # the page is gone already
                self._cdp.detach()
            self._cdp = None

    def _cdp_session(self, page: Page) -> CDPSession | None:
        if self._cdp_page is not page:
            self._detach_cdp()
            self._cdp_page = page
            try:
                self._cdp = page.context.new_cdp_session(page)
            except PlaywrightError:
                self._cdp = None
        return self._cdp

    def _shoot(self, page: Page, rects: Sequence[Rect]) -> Shot:
        cfg = self.config
        cdp = self._cdp_session(page)
        if cdp is None:
            data = page.screenshot(**fallback_options(cfg.image_format, cfg.quality))
            return fallback_shot(data, cfg.preset)
        viewport = viewport_from_metrics(cdp.send("Page.getLayoutMetrics"))
        plan = plan_shot(
            viewport, rects, preset=cfg.preset, fmt=cfg.image_format, quality=cfg.quality
        )
        hidden = page.evaluate(CARET_JS, True)
        try:
            answer = cdp.send("Page.captureScreenshot", plan.params)
        finally:
            if hidden:
                page.evaluate(CARET_JS, False)
        return Shot(decode_shot(answer), viewport, plan.width, plan.final)
