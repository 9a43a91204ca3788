"""Frames that may lag (a pytest suite's intermediate steps, `Recorder.capture_soon`): a frame
Chromium holds back does not hold the test up for the whole time box."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from playwright.async_api import Browser

from capture.config import CaptureConfig
from capture.recorder import Recorder
from capture.recorder._io import PageIO
from capture.session import AsyncSessionClient
from tests.conftest import RunningStore, Site
from tests.test_runner import steps_of, values

pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="module")]


class _HeldScreenshots:
    """A page's real CDP session, except that Chromium never answers a screenshot (as it
    did on the demo shop, around a navigation, for the whole time box): a fault that cannot
    be caused on purpose."""

    def __init__(self, session: Any) -> None:
        self._session = session

    async def send(self, method: str, params: Any = None, **kwargs: Any) -> Any:
        if method == "Page.captureScreenshot":
            await asyncio.Event().wait()  # never answered
        return await self._session.send(method, params, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._session, name)


async def test_a_frame_chromium_holds_back_is_given_up_after_a_third_of_the_time_box(
    chromium: Browser, site: Site, store_server: RunningStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The step keeps its record, says why it has no image, and the recorder closes without
    waiting out the time box for it (before: the frame was waited for until the time box ran
    out, and a test's last step, retaken exactly, waited as long)."""
    real = PageIO._cdp_session

    async def held(self: PageIO, page: Any) -> Any:
        session = await real(self, page)
        return None if session is None else _HeldScreenshots(session)

    monkeypatch.setattr(PageIO, "_cdp_session", held)
    context = await chromium.new_context()
    page = await context.new_page()
    try:
        await page.goto(site.url("login.html"))
        config = CaptureConfig.model_validate({"time_box": "6s"})
        async with (
            AsyncSessionClient(store_server.base_url) as client,
            Recorder(page, client, "held-frame", config=config) as recorder,
        ):
            await recorder.capture_soon("typed into Username")
            # Closing concludes it: a third of the time box (2 s) at most, not 6 s.
            await asyncio.wait_for(recorder.close(), 5)
    finally:
        await context.close()
    [step] = steps_of(await values(store_server.base_url, "held-frame"))
    assert step["exact"] is False
    assert step["notes"] == ["screenshot not ready in time: no image stored yet"]
