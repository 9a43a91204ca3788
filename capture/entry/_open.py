"""`open_capture`: the one way a front door opens a capture.

`capture run`, `capture record`, `capture snap`, `capture mcp` and the pytest plugin all
need the same pieces, opened in the same order and closed in reverse: a store (the one
named, else the configured one when it answers, else the embedded one), a session client
on it, a browser (launched, attached over CDP, or the caller's), and recorders on its
pages. Here, and nowhere else, are they built; a front door is an adapter around a
`Capture`.

Closing is bounded: the recorders get one overall deadline (`capture.flush_timeout`) to
send what they queued, with one line said while they wait; what is left then is counted as
dropped, so a store that died mid-run cannot hold the end of the run.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field

from playwright.async_api import Browser, Page

from capture.browser import BrowserSession, context_options, open_browser, watch_clicks
from capture.config import CaptureConfig, Config
from capture.entry._store import ResolvedStore, StoreChoice, resolve_store
from capture.errors import SessionStoreError
from capture.recorder import Recorder
from capture.session import AsyncSessionClient

__all__ = ["FLUSH_GRACE", "Capture", "open_capture", "say_on_stderr", "waiting_line"]

# Closing waits this long in silence: a healthy store takes the last capture's writes in a
# few milliseconds, so the "waiting for uploads" line only appears when something is wrong.
FLUSH_GRACE = 0.5


def say_on_stderr(message: str) -> None:
    """The default voice of a capture: one line on stderr (stdout may carry JSON)."""
    print(message, file=sys.stderr, flush=True)


def waiting_line(pending: int, base_url: str) -> str:
    """What closing says while the final uploads are outstanding."""
    return f"waiting for {pending} upload{'s' if pending != 1 else ''} to {base_url}…"


@dataclass
class Capture:
    """An open capture: the store it writes into, its client, its browser and recorders.

    `browser` is None until `launch()` (or when the caller brought its own page);
    `page` is the page to start on.
    """

    config: Config
    store: ResolvedStore
    client: AsyncSessionClient
    say: Callable[[str], None]
    page: Page | None = None
    browser: BrowserSession | None = None
    _stack: AsyncExitStack = field(default_factory=AsyncExitStack)
    _browser_stack: AsyncExitStack | None = None
    _recorders: list[Recorder] = field(default_factory=list)

    @property
    def base_url(self) -> str:
        """The base URL of the store the captures go to."""
        return self.store.base_url

    async def launch(
        self, *, headless: bool | None = None, cdp_url: str | None = None
    ) -> BrowserSession:
        """Launch the configured browser (or attach over CDP); a browser this capture opened
        before is closed first, so an MCP server relaunches after a crash with this call."""
        await self.close_browser()
        stack = AsyncExitStack()
        try:
            session = await stack.enter_async_context(
                open_browser(
                    self.config.browser, self.config.context, headless=headless, cdp_url=cdp_url
                )
            )
        except BaseException:
            await stack.aclose()
            raise
        self._browser_stack, self.browser, self.page = stack, session, session.page
        return session

    async def close_browser(self) -> None:
        """Close the browser this capture launched (an attached one is left running)."""
        stack, self._browser_stack, self.browser = self._browser_stack, None, None
        if stack is not None:
            await stack.aclose()

    async def new_page(self, browser: Browser | None = None) -> Page:
        """A page in a fresh, isolated context of `browser` (default: the launched one),
        closed with the capture: no cookie or storage is shared with other pages."""
        owner = browser or (self.browser.browser if self.browser else None)
        if owner is None:
            raise RuntimeError("no browser: call launch() first or pass one")
        context = await owner.new_context(**context_options(self.config.context))
        self._stack.push_async_callback(context.close)
        await watch_clicks(context)
        return await context.new_page()

    def recorder(
        self,
        page: Page,
        thread: str,
        *,
        secrets: Iterable[str] = (),
        config: CaptureConfig | None = None,
    ) -> Recorder:
        """A recorder of `page` into `thread`, closed (bounded) with the capture.

        `secrets` add to the configured `capture.secrets`, which the recorder always uses."""
        recorder = Recorder(
            page, self.client, thread, config=config or self.config.capture, secrets=secrets
        )
        self._recorders.append(recorder)
        return recorder

    async def close_recorders(self, *recorders: Recorder) -> None:
        """Send what `recorders` (default: all still open) queued, within one deadline."""
        chosen = list(recorders) or list(self._recorders)
        self._recorders = [r for r in self._recorders if r not in chosen]
        if not chosen:
            return
        deadline = self.config.capture.flush_timeout.total_seconds()
        closing = asyncio.gather(*(r.close(deadline) for r in chosen), return_exceptions=True)
        try:
            errors = await asyncio.wait_for(asyncio.shield(closing), min(FLUSH_GRACE, deadline))
        except TimeoutError:
            if pending := sum(r.pending for r in chosen):
                self.say(waiting_line(pending, self.base_url))
            errors = await closing
        # A strict recorder's store error is counted in its stats, which its caller reports.
        for error in errors:
            if isinstance(error, BaseException) and not isinstance(error, SessionStoreError):
                raise error


@asynccontextmanager
async def open_capture(
    config: Config,
    *,
    store: StoreChoice = "fallback",
    say: Callable[[str], None] = say_on_stderr,
    client: AsyncSessionClient | None = None,
    launch: bool = False,
    headless: bool | None = None,
    cdp_url: str | None = None,
    browser: Browser | None = None,
    page: Page | None = None,
) -> AsyncIterator[Capture]:
    """Open a capture: the store (per `store`), a client on it, and the browser side.

    The browser side is the caller's `page`, else a fresh context of the caller's `browser`,
    else (with `launch`) the configured browser, launched or attached over `cdp_url`;
    without any, call `Capture.launch()` later. A caller's `client` is used as it is (its
    store is not probed). Everything opened here is closed on exit, in reverse order:
    recorders (bounded flush), browser, client, embedded store.
    """
    async with AsyncExitStack() as stack:
        if client is None:
            resolved = await stack.enter_async_context(resolve_store(config, store))
            if resolved.embedded:
                say(resolved.embedded)
            client = AsyncSessionClient.from_config(config.session, base_url=resolved.base_url)
            stack.push_async_callback(client.close)
        else:
            resolved = ResolvedStore(client.base_url)
        capture = Capture(config, resolved, client, say, page=page)
        stack.push_async_callback(capture.close_browser)
        await stack.enter_async_context(capture._stack)
        stack.push_async_callback(capture.close_recorders)
        if page is None and browser is not None:
            capture.page = await capture.new_page(browser)
        elif page is None and launch:
            await capture.launch(headless=headless, cdp_url=cdp_url)
        yield capture
