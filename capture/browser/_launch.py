"""Launching a browser (or attaching over CDP) with the configured context.

`open_browser()` is an async context manager so every caller closes what it opened, also
on Ctrl+C: a leaked Chromium per run adds up quickly on a developer's machine.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from playwright.async_api import Browser, BrowserContext, Page, async_playwright
from playwright.async_api import Error as PlaywrightError

from capture.browser._locate import find_browser, launch_args
from capture.config import BrowserConfig, ContextConfig
from capture.errors import BrowserError

__all__ = ["BrowserSession", "context_options", "open_browser"]


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


@asynccontextmanager
async def open_browser(
    browser: BrowserConfig | None = None,
    context: ContextConfig | None = None,
    *,
    headless: bool | None = None,
    cdp_url: str | None = None,
) -> AsyncIterator[BrowserSession]:
    """Launch Chromium (or attach over CDP) and yield a `BrowserSession`.

    When attached, the person's existing context and page are reused and left open on exit.
    """
    browser = browser or BrowserConfig()
    context = context or ContextConfig()
    cdp = cdp_url if cdp_url is not None else browser.cdp_url
    async with async_playwright() as pw:
        try:
            if cdp:
                instance = await pw.chromium.connect_over_cdp(
                    cdp, timeout=browser.launch_timeout.total_seconds() * 1000
                )
            else:
                instance = await pw.chromium.launch(
                    executable_path=find_browser(browser.executable),
                    headless=browser.headless if headless is None else headless,
                    args=launch_args(browser.args),
                    timeout=browser.launch_timeout.total_seconds() * 1000,
                )
        except PlaywrightError as exc:
            where = f"attach to {cdp}" if cdp else "launch Chromium"
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else repr(exc)
            raise BrowserError(f"could not {where}: {first}") from exc
        try:
            if cdp and instance.contexts:
                ctx = instance.contexts[0]
                page = ctx.pages[0] if ctx.pages else await ctx.new_page()
            else:
                ctx = await instance.new_context(**context_options(context))
                page = await ctx.new_page()
            yield BrowserSession(instance, ctx, page, attached=bool(cdp))
        finally:
            if not cdp:
                await instance.close()
