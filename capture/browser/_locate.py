"""Finding a Chromium: the one place that decides which binary capture launches.

Order for `executable = "auto"`: Playwright's own downloaded Chromium, then the
`PATH_CANDIDATES` on PATH. A name or path in the config is used as given.

A headless launch prefers a headless shell (Chromium's old headless mode, what Playwright
itself launches headless): Playwright's own, else `HEADLESS_CANDIDATES` on PATH (Debian's
`chromium-headless-shell`). A full Chromium run headless still draws its browser window
off screen, a tab's loading animation included, which measured here as a quarter of a
core for as long as a page waits on its server, and twice the CPU per task in all
(docs/scale.md).
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from capture.errors import BrowserError

__all__ = [
    "HEADLESS_CANDIDATES",
    "PATH_CANDIDATES",
    "find_browser",
    "launch_args",
    "playwright_has_chromium",
]

PATH_CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
HEADLESS_CANDIDATES = ("chromium-headless-shell", "chrome-headless-shell")


def _ask_playwright() -> str:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        return p.chromium.executable_path


def _not_installed() -> bool:
    """Whether Playwright's Chromium is surely missing, known without starting Playwright's
    driver (~0.45 s, on the critical path of every capture-enabled pytest run): its
    `chromium-<revision>` folder is not in the registry (Playwright's own rule for where
    `playwright install` puts browsers, on Linux). False when unsure: then the driver says."""
    import playwright

    package = Path(playwright.__file__).parent / "driver" / "package"
    try:
        browsers = json.loads((package / "browsers.json").read_text())["browsers"]
        revision = next(b["revision"] for b in browsers if b["name"] == "chromium")
    except (OSError, ValueError, KeyError, TypeError, StopIteration):
        return False
    if sys.platform != "linux":
        return False
    env = os.environ.get("PLAYWRIGHT_BROWSERS_PATH")
    if env == "0":
        registry = package / ".local-browsers"
    elif env:
        registry = Path(env).resolve()
    else:
        cache = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
        registry = Path(cache) / "ms-playwright"
    return not (registry / f"chromium-{revision}").is_dir()


@functools.cache
def _playwright_chromium() -> str | None:
    """The Chromium `playwright install chromium` put in place, if it did.

    Asked in a worker thread: the sync API refuses to run inside an asyncio loop.
    """
    if _not_installed():
        return None
    with ThreadPoolExecutor(1) as pool:
        try:
            path = pool.submit(_ask_playwright).result(timeout=30)
        except Exception:
            return None
    return path if path and Path(path).is_file() else None


def headless_shell_beside(chromium: str) -> str | None:
    """Playwright's headless shell of the same revision as its `chromium` (installed with it
    by `playwright install chromium`), if present: `<browsers>/chromium-<rev>/...` has
    `<browsers>/chromium_headless_shell-<rev>/<platform>/headless_shell` (older releases)
    or `.../chrome-headless-shell` beside it."""
    install = Path(chromium).parents[1]  # <browsers>/chromium-<rev>
    _, dash, revision = install.name.partition("-")
    if not dash:
        return None
    shell = install.parent / f"chromium_headless_shell-{revision}"
    for name in ("headless_shell", "chrome-headless-shell"):
        for found in sorted(shell.glob(f"*/{name}")):
            if found.is_file():
                return str(found)
    return None


def playwright_has_chromium() -> bool:
    """Whether `playwright install chromium` put its Chromium in place (setup may instead
    have reused a system one, which Playwright does not find on its own)."""
    return _playwright_chromium() is not None


def find_browser(executable: str = "auto", *, headless: bool = False) -> str:
    """Return the path of the Chromium to launch, or raise `BrowserError` saying what to do.

    `headless`: the launch will be headless, so a headless shell is preferred (see above).
    """
    if executable != "auto":
        found = shutil.which(executable) or (executable if Path(executable).is_file() else None)
        if found is None:
            raise BrowserError(
                f"browser.executable = {executable!r} is not an executable file or a command "
                "on PATH; fix playwright.config.toml or run scripts/setup"
            )
        return found
    if own := _playwright_chromium():
        return (headless_shell_beside(own) if headless else None) or own
    for name in (*HEADLESS_CANDIDATES, *PATH_CANDIDATES) if headless else PATH_CANDIDATES:
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
