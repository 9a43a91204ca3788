"""`scripts/bench pytest`'s `screenshot only` way, a pytest plugin copied into its test folder.

capture's own action wrappers (`pytest_plugin._calls`), each action followed by one bare CDP
screenshot with the recorder's parameters for a 1280x800 page and nothing else: the cost of
making the test wait for a screenshot after every action.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import pytest
from playwright.sync_api import CDPSession, Error, Page

from capture.browser import impl_of, run_sync
from capture.pytest_plugin import _calls

PARAMS = {"format": "jpeg", "quality": 70, "captureBeyondViewport": False, "optimizeForSpeed": True}


class Shots:
    """The hook: one screenshot after every action."""

    busy = False
    cdp: CDPSession | None = None
    page: Page | None = None
    count = 0

    def after_sync(self, call: _calls.Call, error: BaseException | None) -> None:
        if self.cdp is None or self.page is None:
            return
        # Bounded like the recorder's time box: a screenshot asked for while a submit swaps
        # documents can go unanswered.
        shot = impl_of(self.cdp).send("Page.captureScreenshot", PARAMS, None)
        with contextlib.suppress(Error, TimeoutError):
            run_sync(self.page, asyncio.wait_for(shot, 1.5))
        self.count += 1

    async def after_async(self, call: _calls.Call, error: BaseException | None) -> None:
        """The bench's tests are sync-API tests."""


SHOTS = Shots()


def pytest_configure(config: pytest.Config) -> None:
    _calls.install()
    _calls.use(SHOTS)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    terminalreporter.write_line(f"{SHOTS.count} bare screenshots")


@pytest.fixture(autouse=True)
def _screenshot_session(page: Page) -> None:
    SHOTS.cdp = page.context.new_cdp_session(page)
    SHOTS.page = page
