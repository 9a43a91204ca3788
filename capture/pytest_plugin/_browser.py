"""The browser pytest-playwright launches when capture is on: the one `capture run` uses.

Setup may reuse a system Chromium instead of downloading Playwright's; `capture run` finds
it (`capture.browser.find_browser`), but pytest-playwright only knows Playwright's own and
fails with "Executable doesn't exist … playwright install". So, when Playwright's Chromium
is missing, capture hands pytest-playwright capture's browser and launch flags through its
`browser_type_launch_args` fixture (declared in `capture_pytest`, registered after every
entry-point plugin, so that it extends pytest-playwright's); a `conftest.py` fixture of the
same name overrides it: a user's own launch arguments still win.
"""

from __future__ import annotations

from typing import Any

import pytest

from capture.browser import find_browser, launch_args, playwright_has_chromium
from capture.config import BrowserConfig
from capture.errors import BrowserError

__all__ = ["capture_browser", "with_capture_browser"]


def capture_browser(config: BrowserConfig, *, headless: bool) -> str | BrowserError | None:
    """The Chromium to give pytest-playwright: None when Playwright has its own and the
    config names none, else the path `capture run` would launch with the same `headless`
    (or why there is none)."""
    if config.executable == "auto" and playwright_has_chromium():
        return None
    try:
        return find_browser(config.executable, headless=headless)
    except BrowserError as exc:
        return exc


def with_capture_browser(
    chosen: dict[str, Any],
    browser: str | BrowserError | None,
    config: BrowserConfig,
    pconfig: pytest.Config,
) -> dict[str, Any]:
    """pytest-playwright's launch arguments `chosen`, with capture's Chromium `browser` when
    it needs one and nobody chose another."""
    browsers = pconfig.getoption("browser", None) or ["chromium"]
    if (
        not isinstance(browser, str)
        or browsers != ["chromium"]
        or "executable_path" in chosen
        or chosen.get("channel")
    ):
        return chosen
    flags = launch_args([*chosen.get("args", []), *config.args])
    return {**chosen, "executable_path": browser, "args": flags}
