"""Finding a Chromium: the one place that decides which binary capture launches.

Order for `executable = "auto"`: Playwright's own downloaded Chromium, then the
`PATH_CANDIDATES` on PATH. A name or path in the config is used as given.
"""

from __future__ import annotations

import functools
import os
import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from capture.errors import BrowserError

__all__ = ["PATH_CANDIDATES", "find_browser", "launch_args", "playwright_has_chromium"]

PATH_CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def _ask_playwright() -> str:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        return p.chromium.executable_path


@functools.cache
def _playwright_chromium() -> str | None:
    """The Chromium `playwright install chromium` put in place, if it did.

    Asked in a worker thread: the sync API refuses to run inside an asyncio loop.
    """
    with ThreadPoolExecutor(1) as pool:
        try:
            path = pool.submit(_ask_playwright).result(timeout=30)
        except Exception:
            return None
    return path if path and Path(path).is_file() else None


def playwright_has_chromium() -> bool:
    """Whether `playwright install chromium` put its Chromium in place (setup may instead
    have reused a system one, which Playwright does not find on its own)."""
    return _playwright_chromium() is not None


def find_browser(executable: str = "auto") -> str:
    """Return the path of the Chromium to launch, or raise `BrowserError` saying what to do."""
    if executable != "auto":
        found = shutil.which(executable) or (executable if Path(executable).is_file() else None)
        if found is None:
            raise BrowserError(
                f"browser.executable = {executable!r} is not an executable file or a command "
                "on PATH; fix playwright.config.toml or run scripts/setup"
            )
        return found
    if own := _playwright_chromium():
        return own
    for name in PATH_CANDIDATES:
        if found := shutil.which(name):
            return found
    raise BrowserError(
        "no Chromium found (looked for Playwright's own and for "
        + ", ".join(PATH_CANDIDATES)
        + " on PATH); run scripts/setup to install one"
    )


def launch_args(extra: list[str] | None = None) -> list[str]:
    """Chromium flags capture always wants, plus `extra` from the config.

    `--no-sandbox` only as root (Chromium refuses to start as root otherwise); the
    background-networking flags stop Chromium from dialling out on a closed network.
    """
    args = [
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--disable-dev-shm-usage",
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        args.append("--no-sandbox")
    for arg in extra or []:
        if arg not in args:
            args.append(arg)
    return args
