"""The page I/O of a capture, shared by both faces: what runs at once, and for how long.

Three parts: the sensitive fields (and every place the page shows a known secret: the
core's secrets go into that read, and only there) and the screenshot start together (caret
hidden and layout read meanwhile; Chromium's `Page.captureScreenshot` itself is sent once the
fields are located, as an image that might show a secret is never taken), and the outline
starts once that request is on its way: its walk holds the renderer's main thread, and the
frame the screenshot waits for must not wait behind it.

Every part waits at most until the time box ends; a late or failed part is left out and
the observation names why. The outline's walk is told to stop before then (`OUTLINE_SHARE`
of the box is left for its answer to arrive), and answers with what it read, the viewport
first, marked partial: a slow page costs detail, not the whole outline.

`page` is an async-API Page, or the object behind a sync-API one
(`capture.browser._internals`): both take the same calls.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Sequence
from typing import Any, TypeVar

from playwright.async_api import Error as PlaywrightError

from capture.browser import evaluate_isolated, watch_clicks
from capture.config import CaptureConfig
from capture.errors import CaptureError, ConfigError
from capture.recorder._core import RecorderCore, StepInput, failure_note
from capture.recorder._screenshot import (
    CARET_JS,
    Shot,
    decode_shot,
    fallback_options,
    fallback_shot,
    plan_shot,
    viewport_from_metrics,
)
from capture.recorder.observe import PageState, Rect, read_page_state, read_sensitive

__all__ = ["PageIO"]

T = TypeVar("T")

# The share of the time box kept for the outline's answer to travel and be assembled
# after its walk stops (at least `_OUTLINE_MARGIN_MIN` seconds).
OUTLINE_SHARE = 0.25
_OUTLINE_MARGIN_MIN = 0.05


class PageIO:
    """A recorder's page I/O: its CDP session (one page at a time) and background work."""

    def __init__(self, config: CaptureConfig) -> None:
        self.config = config
        self._cdp: Any = None
        self._cdp_page: Any = None
        self._background: set[asyncio.Future[Any]] = set()
        self._clicks_page: Any = None

    async def read(
        self, page: Any, core: RecorderCore, got: StepInput, *, lagging: bool = False
    ) -> None:
        """Fill `got` with this step's image and page state, within the time box.

        `lagging`: the test goes on meanwhile (`_lagging`), so the fields may move while the
        frame is drawn: they are located again once it is back, and the image masks both
        places, or is dropped when the second look fails."""
        cfg = self.config
        loop = asyncio.get_running_loop()
        begun = loop.time()
        deadline = begun + cfg.time_box.total_seconds()
        selectors = cfg.redact_selectors
        if page is not self._clicks_page:
            # A page capture did not open (a test's own): note click listeners from now on.
            self._clicks_page = page
            self._spawn(watch_clicks(page.context, page))
        # In this order, so the renderer runs the sensitive read first and the outline while
        # the screenshot's frames are drawn.
        sensitive_part = self._part(
            read_sensitive(page, redact_selectors=selectors, secrets=core.scrub.secrets),
            "sensitive",
            got,
        )
        shot_sent = asyncio.Event()
        shot_part = self._part(self._shoot(page, sensitive_part, shot_sent), "screenshot", got)
        state_part = self._part(
            self._outline(page, shot_sent, sensitive_part, deadline), "outline", got
        )
        parts = (sensitive_part, shot_part, state_part)
        try:
            sensitive = await self._within(sensitive_part, deadline, "sensitive", got)
            if sensitive is None:
                shot_part.cancel()  # waits for the fields: never taken
            else:
                got.located = True
                rects, values = sensitive
                core.add_secrets(*values)
                shot = await self._within(shot_part, deadline, "screenshot", got)
                masks: Sequence[Rect] | None = rects
                if shot is not None:
                    got.shot_at = time.monotonic()
                    if lagging:
                        masks = await self._masks_after(page, core, got, rects, deadline)
                if shot is not None and masks is not None:
                    got.image = await self._within(
                        self._part(
                            asyncio.to_thread(core.encode, shot, masks, got.step), "encode", got
                        ),
                        deadline,
                        "encode",
                        got,
                    )
            got.state = await self._within(state_part, deadline, "outline", got)
            got.timings["total"] = loop.time() - begun
        finally:
            # Nothing of a read outlives it: a read given up (`_lagging`) is read again
            # into the same step, and a late part must not write into it. (A read that ran
            # its course has none left: no turn of the loop is spent on it.)
            unfinished = [part for part in parts if not part.done()]
            for part in unfinished:
                part.cancel()
            if unfinished:
                await asyncio.wait(unfinished)

    async def _masks_after(
        self,
        page: Any,
        core: RecorderCore,
        got: StepInput,
        before: Sequence[Rect],
        deadline: float,
    ) -> list[Rect] | None:
        """The masks of a frame the test may have changed the page around: the places read
        before it, and those read after it; None (the frame is dropped) without the second."""
        read = read_sensitive(
            page, redact_selectors=self.config.redact_selectors, secrets=core.scrub.secrets
        )
        part = self._part(read, "sensitive_after", got)
        after = await self._within(part, deadline, "sensitive (after the frame)", got)
        if after is None:
            got.masks_unsure = True
            return None
        rects, values = after
        core.add_secrets(*values)
        if list(rects) == list(before):
            return list(before)
        got.notes.append("fields moved around its frame: masked where they were before and after")
        return [*before, *rects]

    async def close(self) -> None:
        """Let background work (a caret restore) finish briefly; detach the CDP session."""
        if self._background:
            await asyncio.wait(self._background, timeout=self.config.time_box.total_seconds())
        await self._detach_cdp()

    # -- internals -------------------------------------------------------------------------

    def _part(self, work: Awaitable[T], name: str, got: StepInput) -> asyncio.Future[T]:
        """Start `work` now; its own duration goes to `got.timings[name]` when it ends."""
        loop = asyncio.get_running_loop()
        begun = loop.time()
        future = asyncio.ensure_future(work)

        def timed(done: asyncio.Future[T]) -> None:
            got.timings[name] = loop.time() - begun
            if not done.cancelled():
                done.exception()  # awaited by `_within`, unless the part was given up

        future.add_done_callback(timed)
        return future

    async def _within(
        self, work: Awaitable[T], deadline: float, name: str, got: StepInput
    ) -> T | None:
        """Await `work` until `deadline`; None (and a note) when late or when the page failed."""
        remaining = deadline - asyncio.get_running_loop().time()
        try:
            return await asyncio.wait_for(work, max(0.0, remaining))
        except TimeoutError:
            return None
        except ConfigError:
            raise  # a bad redact selector is the user's to fix, not a page hiccup
        except (PlaywrightError, CaptureError) as exc:
            got.notes.append(failure_note(name, exc))
            return None

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

    async def _cdp_session(self, page: Any) -> Any:
        """One CDP session per page; None for browsers without CDP (not Chromium)."""
        if self._cdp_page is not page:
            await self._detach_cdp()
            self._cdp_page = page
            try:
                self._cdp = await page.context.new_cdp_session(page)
            except PlaywrightError:
                self._cdp = None
        return self._cdp

    async def _outline(
        self,
        page: Any,
        shot_sent: asyncio.Event,
        sensitive: asyncio.Future[Any],
        deadline: float,
    ) -> PageState:
        """The outline, read once the screenshot is on its way (or given up), its walk told
        to stop early enough for its answer to arrive within the time box.

        The walk reads the sensitive fields again only when the `sensitive` part gave no
        answer: its values must still reach the scrubber.
        """
        loop = asyncio.get_running_loop()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(shot_sent.wait(), max(0.0, deadline - loop.time()))
        box = self.config.time_box.total_seconds()
        margin = max(_OUTLINE_MARGIN_MIN, OUTLINE_SHARE * box)
        stop = time.time() + (deadline - loop.time()) - margin
        known = sensitive.done() and not sensitive.cancelled() and sensitive.exception() is None
        return await read_page_state(
            page, redact_selectors=self.config.redact_selectors, deadline=stop, sensitive=not known
        )

    async def _shoot(
        self,
        page: Any,
        sensitive: Awaitable[tuple[Sequence[Rect], Any]],
        sent: asyncio.Event,
    ) -> Shot:
        """The screenshot, taken once `sensitive` (the fields to mask) is known; `sent` is
        set once its request is on its way, or once it will not be sent."""
        try:
            return await self._take_shot(page, sensitive, sent)
        finally:
            sent.set()

    async def _take_shot(
        self,
        page: Any,
        sensitive: Awaitable[tuple[Sequence[Rect], Any]],
        sent: asyncio.Event,
    ) -> Shot:
        cfg = self.config
        cdp = await self._cdp_session(page)  # attached once per page, within the time box
        if cdp is None:
            await sensitive
            data = await page.screenshot(**fallback_options(cfg.image_format, cfg.quality))
            return fallback_shot(data, cfg.preset)
        hidden: bool | None = None  # None: unknown (cut short), so restore to be safe
        try:
            metrics: dict[str, Any]
            metrics, hidden = await asyncio.gather(
                cdp.send("Page.getLayoutMetrics", None, timeout=None),
                evaluate_isolated(page.main_frame, CARET_JS, True),
            )
            viewport = viewport_from_metrics(metrics)
            rects, _ = await sensitive
            plan = plan_shot(
                viewport,
                rects,
                preset=cfg.preset,
                fmt=cfg.image_format,
                quality=cfg.quality,
            )
            request = asyncio.ensure_future(
                cdp.send("Page.captureScreenshot", plan.params, timeout=None)
            )
            await asyncio.sleep(0)  # one turn of the loop: the request is written
            sent.set()
            answer = await request
        finally:
            if hidden is not False:
                # Not awaited: a capture cut short by its time box must not wait for a
                # busy page.
                self._spawn(evaluate_isolated(page.main_frame, CARET_JS, False))
        return Shot(decode_shot(answer), viewport, plan.width, plan.final)
