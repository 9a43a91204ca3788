"""Per-tab state of a recording, and waiting for a page to settle after an action.

A tab keeps its CDP session (for the history entries that tell a typed URL from a click's),
and when the last main-frame navigation was requested and committed, so the capture after
an action that started one (a link, a form sent by Enter) waits for the new document instead
of showing the moment before it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from playwright.async_api import CDPSession, Page

__all__ = ["Tab", "settle"]

# A navigation an action starts is requested within this (seconds).
_NAVIGATES = 0.3


@dataclass
class Tab:
    """Per-page state: the CDP session for history, the history entries seen, navigations."""

    cdp: CDPSession | None = None
    ready: asyncio.Event = field(default_factory=asyncio.Event)  # set once `cdp` is known
    seen: set[int] = field(default_factory=set)
    index: int = -1
    requested: float = 0.0  # when the last main-frame navigation was requested (loop time)
    committed: float = 0.0  # ... and when the last one committed
    moved: asyncio.Event = field(default_factory=asyncio.Event)  # set on either

    async def until(self, done: Callable[[], bool], end: float, hurry: asyncio.Future[Any]) -> None:
        """Wait until `done()` (checked when a navigation is requested or commits), the loop
        time `end`, or `hurry`."""
        loop = asyncio.get_running_loop()
        while not done() and not hurry.done() and loop.time() < end:
            self.moved.clear()
            moved = asyncio.ensure_future(self.moved.wait())
            await asyncio.wait(
                {moved, hurry}, timeout=end - loop.time(), return_when="FIRST_COMPLETED"
            )
            moved.cancel()


async def settle(
    page: Page, tab: Tab | None, at: float, limit: float, hurry: asyncio.Event
) -> None:
    """Wait for a navigation the action at loop time `at` started (requested within
    `_NAVIGATES`), until its document committed, then until the page loaded and the network
    is quiet, at most `limit` seconds each; not once `hurry` is set (the person's next gesture
    is held: the moment before it is the capture)."""
    hurried = asyncio.ensure_future(hurry.wait())
    loop = asyncio.get_running_loop()
    try:
        if tab is not None and at:
            await tab.until(lambda: tab.requested >= at, at + _NAVIGATES, hurried)
            await tab.until(lambda: tab.committed >= tab.requested, loop.time() + limit, hurried)
        for state in ("load", "networkidle"):
            loading = asyncio.ensure_future(page.wait_for_load_state(state, timeout=limit * 1000))
            await asyncio.wait({loading, hurried}, return_when=asyncio.FIRST_COMPLETED)
            if not loading.done():
                loading.cancel()
                return
            if loading.exception() is not None:
                return  # closed, or busy past the settle time: capture as it is
    finally:
        hurried.cancel()
