"""Finding, launching, connecting and attaching to a browser, from the `[browser]` and
`[context]` config."""

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

__all__ = [
    "HEADLESS_CANDIDATES",
    "PATH_CANDIDATES",
    "BrowserSession",
    "context_options",
    "find_browser",
    "launch_args",
    "open_browser",
    "playwright_has_chromium",
    "remote_launch_options",
    "start_browser",
]
