"""`Recorder`: capture the page after each step, on Playwright's async API.

A capture reads the sensitive fields (fast path), takes the screenshot while the outline is
read, masks and encodes in a worker thread, and queues the writes; every part waits at most
until the time box ends, and a part that is late is replaced by a fallback the observation
names. Uploads run in the background (see `_upload`), so the step loop never waits on the
store.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Iterable, Sequence
from types import TracebackType
from typing import Any, Self, TypeVar

from playwright.async_api import CDPSession, Page
from playwright.async_api import Error as PlaywrightError

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
from capture.recorder._upload import AsyncUploader
from capture.recorder.observe import Rect, read_page_state, read_sensitive
from capture.session import AsyncSessionClient

__all__ = ["Recorder"]

T = TypeVar("T")


class Recorder(RecorderBase[Page, AsyncSessionClient, AsyncUploader, CDPSession]):
    """Capture a page into a thread of the session store after every step.

    async with Recorder(page, client, "thread-1") as rec:
        await page.click("text=Next")
        await rec.capture("click Next")
    """

    _uploader_type = AsyncUploader

    def __init__(
        self,
        page: Page,
        client: AsyncSessionClient,
        thread_id: str,
        *,
        config: CaptureConfig | None = None,
        secrets: Iterable[str] = (),
    ) -> None:
        super().__init__(page, client, thread_id, config=config, secrets=secrets)
        self._background: set[asyncio.Future[Any]] = set()

    # -- public surface --------------------------------------------------------------------

    async def capture(
        self, action: str = "", *, status: str = "ok", error: str | None = None
    ) -> CaptureResult:
        """Capture the page now; returns within the time box, uploads in the background."""
        self._raise_if_strict()
        core, cfg = self._core, self.config
        loop = asyncio.get_running_loop()
        begun = loop.time()
        deadline = begun + cfg.time_box.total_seconds()
        got = core.begin(action, status, error, self._page.url, self._events.drain())
        page, selectors = self._page, cfg.redact_selectors

        sensitive = await self._within(
            read_sensitive(page, redact_selectors=selectors), deadline, "sensitive", got
        )
        state_task = asyncio.ensure_future(read_page_state(page, redact_selectors=selectors))
        if sensitive is not None:
            got.located = True
            rects, values = sensitive
            core.add_secrets(*values)
            shot = await self._within(self._shoot(page, rects), deadline, "screenshot", got)
            if shot is not None:
                got.image = await self._within(
                    asyncio.to_thread(core.encode, shot, rects, got.step), deadline, "encode", got
                )
        got.state = await self._within(state_task, deadline, "outline", got)
        got.timings["total"] = loop.time() - begun
        result, writes = core.conclude(got)
        self._queue(writes)
        return result

    async def start_run(self, name: str, **info: Any) -> None:
        """Write the run record (status "running")."""
        self._queue([self._core.start_run(name, info)])

    async def finish_run(self, status: str) -> None:
        """Drain the uploads, then write the final run record with the dropped count."""
        await self._uploader.flush()
        self._queue([self._core.finish_run(status)])
        await self.flush()

    async def flush(self) -> None:
        """Wait until every queued write was sent or dropped."""
        await self._uploader.flush()
        self._raise_if_strict()

    async def close(self) -> None:
        """Drain the queue and stop the upload worker; the page and client stay open."""
        await self._uploader.close()
        if self._background:
            await asyncio.wait(self._background, timeout=self.config.time_box.total_seconds())
        self._detach_events()
        await self._detach_cdp()
        self._raise_if_strict()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    # -- internals -------------------------------------------------------------------------

    async def _within(
        self, work: Awaitable[T], deadline: float, name: str, got: StepInput
    ) -> T | None:
        """Await `work` until `deadline`; None (and a note) when late or when the page failed."""
        loop = asyncio.get_running_loop()
        begun = loop.time()
        try:
            return await asyncio.wait_for(work, max(0.0, deadline - begun))
        except TimeoutError:
            return None
        except ConfigError:
            raise  # a bad redact selector is the user's to fix, not a page hiccup
        except (PlaywrightError, CaptureError) as exc:
            got.notes.append(failure_note(name, exc))
            return None
        finally:
            got.timings[name] = loop.time() - begun

    def _spawn(self, work: Awaitable[Any]) -> None:
        """Run `work` in the background; its failure (a closed page) is of no interest."""
        task = asyncio.ensure_future(work)
        self._background.add(task)
        task.add_done_callback(self._background.discard)
        task.add_done_callback(lambda done: done.cancelled() or done.exception())

    async def _detach_cdp(self) -> None:
        if self._cdp is not None:
            with contextlib.suppress(PlaywrightError):  # the page is gone already
                await self._cdp.detach()
            self._cdp = None

    async def _cdp_session(self, page: Page) -> CDPSession | None:
        """One CDP session per page; None for browsers without CDP (not Chromium)."""
        if self._cdp_page is not page:
            await self._detach_cdp()
            self._cdp_page = page
            try:
                self._cdp = await page.context.new_cdp_session(page)
            except PlaywrightError:
                self._cdp = None
        return self._cdp

    async def _shoot(self, page: Page, rects: Sequence[Rect]) -> Shot:
        cfg = self.config
        cdp = await self._cdp_session(page)
        if cdp is None:
            data = await page.screenshot(**fallback_options(cfg.image_format, cfg.quality))
            return fallback_shot(data, cfg.preset)
        hidden: bool | None = None  # None: unknown (cut short), so restore to be safe
        try:
            # Independent round trips: one wait instead of two.
            metrics, hidden = await asyncio.gather(
                cdp.send("Page.getLayoutMetrics"), page.evaluate(CARET_JS, True)
            )
            viewport = viewport_from_metrics(metrics)
            plan = plan_shot(
                viewport, rects, preset=cfg.preset, fmt=cfg.image_format, quality=cfg.quality
            )
            answer = await cdp.send("Page.captureScreenshot", plan.params)
        finally:
            if hidden is not False:
                # Not awaited: a capture cut short by its time box must not wait for a
                # busy page.
                self._spawn(page.evaluate(CARET_JS, False))
        return Shot(decode_shot(answer), viewport, plan.width, plan.final)
