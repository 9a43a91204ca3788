"""Finding, launching, connecting and attaching to a browser, from the `[browser]` and
`[context]` config; the init script that notes click listeners (`watch_clicks`); the
isolated world capture reads pages in (`evaluate_isolated`, `_world`); and the
one seam below Playwright's public API (`_internals`), whose names the recorder and the
pytest plugin use from here."""

from capture.browser._clicks import CLICK_LISTENERS_JS, watch_clicks
from capture.browser._internals import actual_locator, dialog_listeners, impl_of, run_sync
from capture.browser._launch import (
    BrowserSession,
    context_options,
    open_browser,
    remote_launch_options,
    start_browser,
)
from capture.browser._locate import (
    HEADLESS_CANDIDATES,
    PATH_CANDIDATES,
    find_browser,
    launch_args,
    playwright_has_chromium,
)
from capture.browser._world import evaluate_isolated, evaluate_on_owner

__all__ = [
    "CLICK_LISTENERS_JS",
    "HEADLESS_CANDIDATES",
    "PATH_CANDIDATES",
    "BrowserSession",
    "actual_locator",
    "context_options",
    "dialog_listeners",
    "evaluate_isolated",
    "evaluate_on_owner",
    "find_browser",
    "impl_of",
    "launch_args",
    "open_browser",
    "playwright_has_chromium",
    "remote_launch_options",
    "run_sync",
    "start_browser",
    "watch_clicks",
]
