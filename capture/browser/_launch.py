"""Launching a browser, connecting to a Playwright browser server, or attaching over CDP.

`start_browser()` and `open_browser()` are async context managers so every caller closes
what it opened, also on Ctrl+C: a leaked Chromium per run adds up quickly on a developer's
machine.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from typing import Any

from playwright.async_api import Browser, BrowserContext, Page, async_playwright
from playwright.async_api import Error as PlaywrightError

from capture.browser._clicks import watch_clicks
from capture.browser._locate import find_browser, launch_args
from capture.config import BrowserConfig, ContextConfig
from capture.errors import BrowserError

__all__ = [
    "BrowserSession",
    "context_options",
    "open_browser",
    "remote_launch_options",
    "start_browser",
]


def context_options(context: ContextConfig) -> dict[str, Any]:
    """`browser.new_context()` keyword arguments for the `[context]` section."""
    return {
        "viewport": {"width": context.viewport_width, "height": context.viewport_height},
        "device_scale_factor": context.device_scale_factor,
        "locale": context.locale,
        "timezone_id": context.timezone,
        "ignore_https_errors": context.ignore_https_errors,
    }


@dataclass
class BrowserSession:
    """What `open_browser()` yields: the browser, its context and a first page."""

    browser: Browser
    context: BrowserContext
    page: Page
    attached: bool


def remote_launch_options(browser: BrowserConfig, *, headless: bool | None = None) -> str:
    """The `x-playwright-launch-options` header for a Playwright browser server.

    Playwright's own test runner sends its launch options this way when it connects. A server
    started with `--unsafe` honours the executable and the arguments (so a machine with only
    a system Chromium can serve one); otherwise it keeps only `headless` and `timeout`. The
    executable is named only when configured: the server's own Chromium is the `auto` one.
    A name is resolved on this machine when it can be; a path is sent as written, for the
    server's file system.
    """
    options: dict[str, Any] = {
        "headless": browser.headless if headless is None else headless,
        "args": launch_args(browser.args),
        "timeout": browser.launch_timeout.total_seconds() * 1000,
    }
    if browser.executable != "auto":
        options["executablePath"] = shutil.which(browser.executable) or browser.executable
    return json.dumps(options)  # ASCII only, as HTTP headers must be


@asynccontextmanager
async def start_browser(
    browser: BrowserConfig | None = None,
    *,
    headless: bool | None = None,
    cdp_url: str | None = None,
    connect_url: str | None = None,
) -> AsyncIterator[Browser]:
    """Yield a `Browser`: launched here, from a Playwright browser server (`connect_url`, or
    `browser.connect_url`), or attached over CDP (`cdp_url`, or `browser.cdp_url`).

    A launched browser is closed on exit, a served one disconnected (the server closes the
    browser it started for us); a CDP browser is the person's and is left running. A browser
    that cannot be had is one `BrowserError` line.
    """
    browser = browser or BrowserConfig()
    cdp = cdp_url if cdp_url is not None else browser.cdp_url
    remote = connect_url if connect_url is not None else browser.connect_url
    if cdp and remote:
        raise BrowserError(
            "attach over CDP (--cdp, browser.cdp_url) or connect to a browser server "
            "(--connect, browser.connect_url), not both"
        )
    if remote and not remote.startswith(("ws://", "wss://")):
        raise BrowserError(f"cannot connect to {remote!r}: a browser server URL is ws:// or wss://")
    timeout = browser.launch_timeout.total_seconds() * 1000
    async with async_playwright() as pw:
        try:
            if cdp:
                instance = await pw.chromium.connect_over_cdp(cdp, timeout=timeout)
            elif remote:
                header = remote_launch_options(browser, headless=headless)
                instance = await pw.chromium.connect(
                    remote, timeout=timeout, headers={"x-playwright-launch-options": header}
                )
            else:
                headless = browser.headless if headless is None else headless
                instance = await pw.chromium.launch(
                    executable_path=find_browser(browser.executable, headless=headless),
                    headless=headless,
                    args=launch_args(browser.args),
                    timeout=timeout,
                )
        except PlaywrightError as exc:
            where = (
                f"attach to {cdp}"
                if cdp
                else f"connect to the browser server at {remote}"
                if remote
                else "launch Chromium"
            )
            reason = _first_line(exc)
            if remote and "Executable doesn't exist" in reason:
                reason += (
                    "; name the server's Chromium in browser.executable and start the server "
                    "with `playwright run-server --unsafe`, or install Playwright's Chromium there"
                )
            raise BrowserError(f"could not {where}: {reason}") from exc
        try:
            yield instance
        finally:
            if not cdp:
                with suppress(PlaywrightError):  # a server that went away took it already
                    await instance.close()


def _first_line(exc: PlaywrightError) -> str:
    """Playwright's message without its call log (and the ANSI colours a server adds)."""
    text = re.sub(r"\x1b\[[0-9;]*m", "", str(exc)).strip()
    lines = [line.strip() for line in text.splitlines() if line.strip() and "===" not in line]
    return lines[0] if lines else repr(exc)


@asynccontextmanager
async def open_browser(
    browser: BrowserConfig | None = None,
    context: ContextConfig | None = None,
    *,
    headless: bool | None = None,
    cdp_url: str | None = None,
    connect_url: str | None = None,
) -> AsyncIterator[BrowserSession]:
    """`start_browser()` plus a context with a first page: a `BrowserSession`.

    When attached over CDP, the person's existing context and page are reused and left open
    on exit. Click listeners are noted in the context's documents from here on
    (`watch_clicks`).
    """
    context = context or ContextConfig()
    async with start_browser(
        browser, headless=headless, cdp_url=cdp_url, connect_url=connect_url
    ) as instance:
        attached = bool(cdp_url if cdp_url is not None else (browser or BrowserConfig()).cdp_url)
        if attached and instance.contexts:
            ctx = instance.contexts[0]
            page = ctx.pages[0] if ctx.pages else await ctx.new_page()
            await watch_clicks(ctx, page)
        else:
            ctx = await instance.new_context(**context_options(context))
            await watch_clicks(ctx)
            page = await ctx.new_page()
        yield BrowserSession(instance, ctx, page, attached=attached)
