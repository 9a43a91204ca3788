"""Settling after an action: the tab to act on next, and the page an action led to.

A person follows a tab that a click opens and waits for a page that a click or key press
starts loading; so does every front door that acts on a page (task runs, MCP tools), so
that the capture after an action shows where it led, not where it started.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from contextlib import suppress

from playwright.async_api import Error as PlaywrightError
from playwright.async_api import Page

from capture.actions._step import ClickStep, DblclickStep, PressStep, StepBase

__all__ = ["Tabs", "may_navigate"]

# Playwright reports a tab opened by a click some milliseconds after the click returns
# (0-40 ms measured on an idle machine); steps that can open one wait at least this long for
# it, so their capture shows the new tab rather than the old one. On a loaded machine the
# report lags like everything else, so the wait grows with the step's own duration (capped).
NEW_TAB_GRACE = 0.1
NEW_TAB_GRACE_MAX = 2.0  # a CI run at four workers per two cores saw a popup reported over 1 s late
LOAD_WAIT = 5.0  # seconds an action's navigation may take to load before the capture


def may_navigate(step: StepBase) -> bool:
    """Whether a step can start a navigation or open a tab (a click, a key press)."""
    return isinstance(step, ClickStep | DblclickStep | PressStep)


class Tabs:
    """Follows the newest tab, as a person would: a click that opens a popup moves the run
    (and the recorder) into it; closing it moves back."""

    def __init__(self, page: Page) -> None:
        self.current = page
        self._opened: list[Page] = []
        self._context = page.context
        self._arrived = asyncio.Event()

        def opened(new: Page) -> None:  # a plain function: Playwright tags its handlers
            self._opened.append(new)
            self._arrived.set()

        self._handler = opened
        self._context.on("page", opened)

    def close(self) -> None:
        """Stop listening (a caller's page outlives the run)."""
        self._context.remove_listener("page", self._handler)

    async def settle(self, *, grace: float = 0.0) -> bool:
        """Switch to a tab opened since the last call (waiting up to `grace` seconds for one),
        or away from a closed one; True when the current tab changed."""
        if grace and not self._opened:
            with suppress(TimeoutError):
                await asyncio.wait_for(self._arrived.wait(), grace)
        self._arrived.clear()
        fresh = [p for p in self._opened if not p.is_closed()]
        self._opened.clear()
        if fresh:
            self.current = fresh[-1]
            with suppress(PlaywrightError):  # a slow tab is still the tab to follow
                await self.current.wait_for_load_state("domcontentloaded", timeout=5000)
            return True
        if self.current.is_closed():
            still_open = [p for p in self._context.pages if not p.is_closed()]
            if still_open:
                self.current = still_open[-1]
                return True
        return False

    async def after(
        self, done: Sequence[StepBase], seconds: float, *, load_within: float | None = LOAD_WAIT
    ) -> bool:
        """Settle after the steps `done` took `seconds`: where one may navigate, wait for a
        tab it opens and let a navigation it started load (within `load_within` seconds; None
        when nothing may load now, an open dialog say). True when the current tab changed."""
        if not any(may_navigate(step) for step in done):
            return await self.settle()
        changed = await self.settle(grace=min(NEW_TAB_GRACE_MAX, max(NEW_TAB_GRACE, seconds)))
        if load_within:
            # Bounded, so a never-ending load cannot stall the run.
            with suppress(PlaywrightError):
                await self.current.wait_for_load_state("load", timeout=load_within * 1000)
        return changed
