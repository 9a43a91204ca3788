"""`Recorder`: capture the page after each step, on Playwright's async API.

A capture takes the screenshot while the sensitive fields and the outline are read (see
`_io`), masks and encodes in a worker thread, and queues the writes; every part waits at
most until the time box ends, and a part that is late is replaced by a fallback the
observation names. Uploads run in the background (see `_upload`), so the step loop never
waits on the store.
"""

from __future__ import annotations

import asyncio
from typing import Any

from playwright.async_api import Page

from capture._lifecycle import AsyncClosing
from capture.recorder._base import RecorderBase
from capture.recorder._core import CaptureResult
from capture.recorder._lagging import OnResult
from capture.recorder._upload import AsyncUploader
from capture.session import AsyncSessionClient

__all__ = ["Recorder"]


class Recorder(RecorderBase[Page, AsyncSessionClient, AsyncUploader], AsyncClosing):
    """Capture a page into a thread of the session store after every step.

    async with Recorder(page, client, "thread-1") as rec:
        await page.click("text=Next")
        await rec.capture("click Next")
    """

    _uploader_type = AsyncUploader

    # -- public surface --------------------------------------------------------------------

    async def capture(
        self, action: str = "", *, status: str = "ok", error: str | None = None
    ) -> CaptureResult:
        """Capture the page now; returns within the time box, uploads in the background."""
        self._raise_if_strict()
        core = self._core
        await self._sampler.settle()  # the background steps come first
        got = core.begin(action, status, error, self._page.url, self._events.drain())
        await self._io.read(self._page, core, got)
        result, writes = core.conclude(got)
        self._queue(writes)
        return result

    async def capture_soon(
        self, action: str = "", *, status: str = "ok", then: OnResult | None = None
    ) -> int:
        """Number this step and capture it in the background, while the caller goes on:
        its image may lag (a pytest suite's intermediate steps, see `_lagging`); `then` gets
        the result. Returns the step number."""
        self._raise_if_strict()
        got = self._core.begin(action, status, None, self._page.url, self._events.drain())
        await self._sampler.add(lambda: self._page, got, then)
        return got.step

    async def make_last_exact(self) -> CaptureResult | None:
        """Take the last step again, exactly, when `capture_soon` took it and a later
        action may show in its image; None when it is exact already."""
        return await self._sampler.redo(self._page, self._events.drain())

    async def start_run(self, name: str, **info: Any) -> None:
        """Write the run record (status "running")."""
        self._queue([self._core.start_run(name, info)])

    async def finish_run(self, status: str) -> None:
        """Queue the final run record (with the writes dropped so far); `close` sends it."""
        self._queue([self._core.finish_run(status)])

    async def flush(self, within: float | None = None) -> bool:
        """Wait until every queued write was sent or dropped; False if `within` ran out."""
        try:
            await asyncio.wait_for(self._uploader.flush(), within)
        except TimeoutError:
            return False
        finally:
            self._raise_if_strict()
        return True

    async def close(self, within: float | None = None) -> None:
        """Drain the queue (at most `within` seconds, then the rest counts as dropped) and
        stop the upload worker; the page and client stay open."""
        await self._sampler.drain()
        await self._uploader.close(within)
        await self._io.close()
        self._detach_events()
        self._raise_if_strict()
