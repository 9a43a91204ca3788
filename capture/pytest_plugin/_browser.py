"""The browser pytest-playwright launches when capture is on: the one `capture run` uses.

Setup may reuse a system Chromium instead of downloading Playwright's; `capture run` finds
it (`capture.browser.find_browser`), but pytest-playwright only knows Playwright's own and
fails with "Executable doesn't exist … playwright install". So, when Playwright's Chromium
is missing, this plugin module hands pytest-playwright capture's browser and launch flags
through its `browser_type_launch_args` fixture. It is registered after every entry-point
plugin (pytest-playwright's fixture is the one it extends), and a `conftest.py` fixture of
the same name overrides it: a user's own launch arguments still win.
"""

from __future__ import annotations

from typing import Any

import pytest

from capture.browser import find_browser, launch_args, playwright_has_chromium
from capture.config import BrowserConfig
from capture.errors import BrowserError
from capture.pytest_plugin._names import PLUGIN_NAME

__all__ = ["BROWSER_PLUGIN", "browser_type_launch_args", "capture_browser"]

BROWSER_PLUGIN = "capture-session-browser"


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


@pytest.fixture(scope="session")
def browser_type_launch_args(
    browser_type_launch_args: dict[str, Any], pytestconfig: pytest.Config
) -> dict[str, Any]:
    """pytest-playwright's launch arguments, with capture's Chromium when it needs one."""
    plugin = pytestconfig.pluginmanager.get_plugin(PLUGIN_NAME)
    browsers = pytestconfig.getoption("browser", None) or ["chromium"]
    chosen = browser_type_launch_args
    if (
        plugin is None
        or not isinstance(plugin.browser, str)
        or browsers != ["chromium"]
        or "executable_path" in chosen
        or chosen.get("channel")
    ):
        return chosen
    flags = launch_args([*chosen.get("args", []), *plugin.config.browser.args])
    return {**chosen, "executable_path": plugin.browser, "args": flags}
