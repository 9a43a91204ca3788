"""Opening what the MCP server captures with: store, session client, browser, recorder.

One small function, so that switching to the shared entry every front door uses is a
change of a few lines. The browser is opened (and reopened, after a crash or a
`browser_close`) on demand: an MCP client may list tools for minutes before the first call.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field

from playwright.async_api import Page

from capture.browser import BrowserSession, open_browser
from capture.config import Config
from capture.recorder import Recorder
from capture.session import AsyncSessionClient
from capture.store import store_or_embedded

__all__ = ["OpenCapture", "open_capture"]


@dataclass
class OpenCapture:
    """The store's base URL and client, and a browser launched when asked for."""

    config: Config
    base_url: str
    client: AsyncSessionClient
    headless: bool | None = None
    cdp_url: str | None = None
    browser: BrowserSession | None = None
    _browser_stack: AsyncExitStack = field(default_factory=AsyncExitStack)

    async def launch(self) -> BrowserSession:
        """A browser that is connected: the current one, or a new one (the old is closed)."""
        if self.browser is not None and self.browser.browser.is_connected():
            return self.browser
        await self.close_browser()
        self.browser = await self._browser_stack.enter_async_context(
            open_browser(
                self.config.browser,
                self.config.context,
                headless=self.headless,
                cdp_url=self.cdp_url,
            )
        )
        return self.browser

    async def close_browser(self) -> None:
        """Close the browser (a crashed one too); the next `launch` opens a new one."""
        stack, self._browser_stack = self._browser_stack, AsyncExitStack()
        self.browser = None
        await stack.aclose()

    def recorder(self, page: Page, thread: str, *, secrets: Iterable[str] = ()) -> Recorder:
        """The recorder every step is captured with (closed by the caller)."""
        return Recorder(page, self.client, thread, config=self.config.capture, secrets=secrets)


@asynccontextmanager
async def open_capture(
    config: Config,
    *,
    explicit_server: bool,
    headless: bool | None = None,
    cdp_url: str | None = None,
    announce: Callable[[str], None] | None = None,
) -> AsyncIterator[OpenCapture]:
    """The configured store when one answers (else the embedded one), its client, and a
    browser on demand; everything is closed in order on exit (browser first)."""
    async with (
        store_or_embedded(config, explicit=explicit_server, announce=announce) as base_url,
        AsyncSessionClient.from_config(config.session, base_url=base_url) as client,
    ):
        opened = OpenCapture(config, base_url, client, headless=headless, cdp_url=cdp_url)
        try:
            yield opened
        finally:
            await opened.close_browser()
