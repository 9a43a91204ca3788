"""The browser side of one MCP server: its tabs, open dialog, file chooser, console and
network logs, and what every tool does around its own work.

An action is a step of the action engine (`capture.actions`): the same target resolution
(refs from the latest response), time limits, settling, one-line failure reasons and
sensitive-field rules as `capture run`. The capture after it goes through the recorder, so
the thread holds the same user parts and step records a Distri agent or the viewer reads,
and the MCP client gets that observation and, as `--image` says, a small glance of the
screenshot (`_glance`). A failed action is still captured, and answers with the reason on
its first line and the page as it is now.

Every text that leaves passes the scrubber (configured secrets, `--secrets` values, values
typed into sensitive fields) and fits `max_chars`.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Mapping, Sequence
from contextlib import suppress
from pathlib import Path
from typing import Any

from playwright.async_api import ConsoleMessage, Dialog, FileChooser, Page, Request, Response
from playwright.async_api import Error as PlaywrightError

from capture.actions import (
    FillStep,
    StepBase,
    StepContext,
    StepFailed,
    Tabs,
    TypeStep,
    Vars,
    describe,
    perform,
)
from capture.config import Config
from capture.entry import Capture
from capture.errors import NEW_CAPTURE, SessionStoreError
from capture.mcp._declare import Answer
from capture.mcp._glance import Glances, ImageMode
from capture.mcp._outline import ToolError
from capture.recorder import Recorder
from capture.recorder.observe import (
    Found,
    Scrubber,
    css_ref,
    element_text,
    find_text,
    mark_secret_text,
    read_page_state,
)

__all__ = [
    "ACTION_SECONDS",
    "ERROR_ROOM",
    "REF",
    "BrowserState",
    "literal",
    "need",
    "one_line",
    "text",
]

log = logging.getLogger(__name__)

ACTION_SECONDS = 10.0  # an action's time limit (Playwright's own default is 30 s)
READ_SECONDS = 60.0  # a whole-page read (browser_find, browser_snapshot with target or depth)
# Room kept in a response for the error line ahead of the observation: the recorder's
# observation budget is --max-chars minus this.
ERROR_ROOM = 400
REF = re.compile(r"^(f\d+)?e\d+$")  # a ref as the observation prints it: e12, or f1e3 in a frame
_MAX_KEPT = 1000  # console messages and requests kept per browser


class _Failed(Exception):
    """An action that failed part-way: what was done (in words) and why it stopped."""

    def __init__(self, action: str, reason: str) -> None:
        super().__init__(reason)
        self.action = action
        self.reason = reason


def literal(text: str) -> str:
    """A client's text as a step value: `${` stays literal (steps expand `${NAME}`)."""
    return text.replace("${", "$${")


def _ours(reason: str) -> str:
    """An error in this server's words: an MCP client gets fresh refs from browser_snapshot."""
    return reason.replace(NEW_CAPTURE, "call browser_snapshot")


def one_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def need(args: Mapping[str, Any], key: str) -> Any:
    if args.get(key) is None:
        raise ToolError(f"missing required argument {key!r}")
    return args[key]


def text(args: Mapping[str, Any], key: str) -> str:
    value = need(args, key)
    if not isinstance(value, str | int | float) or isinstance(value, bool):
        raise ToolError(f"{key!r} must be a string")
    return str(value)


class BrowserState:
    """The browser state of one MCP server and the work every tool shares: the page to act
    on, steps through the action engine, the capture that answers. Calls are served one at
    a time (`lock`): a page has one mouse."""

    def __init__(
        self,
        opened: Capture,
        thread: str,
        *,
        image: ImageMode = "changed",
        max_chars: int = 16_000,
        secrets: Mapping[str, str] | None = None,
        headless: bool | None = None,
        cdp_url: str | None = None,
    ) -> None:
        secrets = dict(secrets or {})
        self.thread = thread
        self.max_chars = max_chars
        self.opened = opened
        self._launch_options: dict[str, Any] = {"headless": headless, "cdp_url": cdp_url}
        self._glances = Glances(image)
        # Named secrets: a client types one by its name; everywhere else it is `${NAME}`.
        self._vars = Vars(secrets, frozenset(secrets))
        self._ctx = StepContext("", Path.cwd(), self._vars)
        # Known secret values: scrubbed from every text, and marked on the page before each
        # capture so that where the page shows one, the screenshot masks it.
        self._secrets = {*opened.config.capture.secrets, *secrets.values()}
        self._scrub = Scrubber(self._secrets)
        self.lock = asyncio.Lock()
        self.recorder: Recorder | None = None
        self.tabs: Tabs | None = None
        self._context: Any = None
        self._crashed: set[Page] = set()
        self.dialogs: list[Dialog] = []
        self.chooser: FileChooser | None = None
        self.console: list[tuple[str, str]] = []
        self.console_from = 0  # first message since the current page's last navigation
        self.requests: list[tuple[str, str, str, str]] = []  # method, url, outcome, type
        self.requests_from = 0
        # The whole-page read that pages of `browser_snapshot` come from, until the next
        # capture (every action, or a plain look) or another page or URL.
        self._looks = 0
        self._whole: tuple[tuple[int, str, int], tuple[list[str], str]] | None = None

    @property
    def config(self) -> Config:
        return self.opened.config

    async def close(self) -> None:
        """Write the run's end; the capture's entry then flushes (bounded) and closes the
        recorder and the browser."""
        if self.recorder is not None:
            with suppress(SessionStoreError):
                await self.recorder.finish_run("finished")

    # -- answers ----------------------------------------------------------------------------

    def fit(self, text: str) -> str:
        text = self._scrub(self._vars.mask(text))
        if len(text) <= self.max_chars:
            return text
        marker = "\n[… cut at --max-chars …]"
        return text[: self.max_chars - len(marker)] + marker

    def error(self, reason: str) -> Answer:
        return Answer(self.fit(f"Error: {' '.join(_ours(reason).split())}"), is_error=True)

    async def capture(
        self, action: str, *, error: str | None = None, screenshot: bool = False
    ) -> Answer:
        """Capture the page into the thread and answer with what the capture saw."""
        self._looks += 1
        recorder = self.recorder
        error = None if error is None else _ours(error)
        if recorder is None or self.dialogs:
            # With a dialog open the page runs no script: say what is open instead.
            lines = [f"# {action}"]
            if error is not None:
                lines.insert(0, f"Error: {error}")
            lines += [f"Open dialog: {d.type} {d.message!r}" for d in self.dialogs]
            lines.append("Answer it with browser_handle_dialog.")
            return Answer(self.fit("\n".join(lines)), is_error=error is not None)
        await mark_secret_text(recorder.page, self._secrets)
        try:
            result = await recorder.capture(action, status="failed" if error else "ok", error=error)
        except SessionStoreError as exc:  # strict mode only: the store is failing
            return self.error(f"the session store failed: {one_line(exc)}")
        text = result.observation
        if screenshot:  # the image is the answer; the header says which page it shows
            text = text.split("\n\n", 1)[0]
        if error is not None:
            text = f"Error: {' '.join(error.split())[: ERROR_ROOM - 10]}\n\n{text}"
        url = recorder.page.url
        if not screenshot:
            image = await asyncio.to_thread(self._glances.glance, result.image, url)
            if image is not None:  # the thread keeps it, for the viewer
                recorder.sent_image(result.step, image)
        elif (image := result.image) is not None:
            await asyncio.to_thread(self._glances.shown, image, url)
        return Answer(self.fit(text), image, is_error=error is not None)

    # -- the page -----------------------------------------------------------------------------

    async def page(self) -> Page:
        """The current tab: the browser is (re)launched and a crashed or closed tab replaced,
        so one call after a crash works again."""
        session = self.opened.browser
        if session is None or not session.browser.is_connected():
            session = await self.opened.launch(**self._launch_options)
        if self.tabs is None or self._context is not session.context:
            self._watch(session.context)
            page = session.page if not session.page.is_closed() else None
            self.tabs = Tabs(page or await session.context.new_page())
        tabs = self.tabs
        await tabs.settle()
        if tabs.current.is_closed() or tabs.current in self._crashed:
            self._crashed.discard(tabs.current)
            with suppress(PlaywrightError):
                await tabs.current.close()
            tabs.current = await session.context.new_page()
        if self.recorder is None:
            self.recorder = self.opened.recorder(
                tabs.current, self.thread, secrets=self._scrub_values()
            )
            with suppress(SessionStoreError):
                await self.recorder.start_run("mcp", source="capture mcp")
        else:
            self.recorder.page = tabs.current
        return tabs.current

    def _scrub_values(self) -> list[str]:
        return [*self._vars.secrets]

    def _watch(self, context: Any) -> None:
        """Listen to a (new) browser context: dialogs wait for browser_handle_dialog, file
        choosers for browser_file_upload; console and network are logged."""
        self._context = context
        self.dialogs.clear()
        self.chooser = None

        def on_page(page: Page) -> None:
            page.on("filechooser", on_chooser)
            page.on("crash", lambda crashed: self._crashed.add(crashed))
            page.on("framenavigated", lambda frame: on_navigated(page, frame))

        def on_chooser(chooser: FileChooser) -> None:
            self.chooser = chooser

        def on_navigated(page: Page, frame: Any) -> None:
            if self.tabs is not None and page is self.tabs.current and frame.parent_frame is None:
                self.console_from = len(self.console)
                self.requests_from = len(self.requests)

        def on_dialog(dialog: Dialog) -> None:
            self.dialogs.append(dialog)

        def on_console(message: ConsoleMessage) -> None:
            self._keep(self.console, (message.type, message.text))

        def on_response(response: Response) -> None:
            request = response.request
            outcome = f"{response.status} {response.status_text}".strip()
            self._keep(self.requests, (request.method, request.url, outcome, request.resource_type))

        def on_failed(request: Request) -> None:
            outcome = f"failed: {request.failure or 'unknown'}"
            self._keep(self.requests, (request.method, request.url, outcome, request.resource_type))

        context.on("page", on_page)
        context.on("dialog", on_dialog)
        context.on("console", on_console)
        context.on("response", on_response)
        context.on("requestfailed", on_failed)
        for page in context.pages:
            on_page(page)

    def _keep(self, kept: list[Any], item: Any) -> None:
        """Log an event, keeping the newest `_MAX_KEPT` (the "since" marks move along)."""
        kept.append(item)
        if len(kept) > _MAX_KEPT:
            del kept[0]
            if kept is self.console:
                self.console_from = max(0, self.console_from - 1)
            else:
                self.requests_from = max(0, self.requests_from - 1)

    def _learn(self, step: StepBase, action: str) -> None:
        """A value typed into a sensitive field is a secret from now on, wherever it shows."""
        if not isinstance(step, FillStep | TypeStep):
            return
        if action == describe(step, self._vars, value_hidden=True, names=self._ctx.names):
            self.add_secrets(self._vars.expand(step.args.value))

    def add_secrets(self, *values: str) -> None:
        self._secrets.update(values)
        self._scrub.add(*values)
        if self.recorder is not None:
            self.recorder.add_secrets(*values)

    async def steps(self, steps: Sequence[StepBase], *, limit: float = ACTION_SECONDS) -> Answer:
        """Perform steps in order, settle, then capture; a failure is captured with its
        reason."""
        if self.dialogs:
            raise ToolError(self.dialog_pending())
        page = await self.page()
        assert self.recorder is not None
        self._ctx.names = self.recorder.names()
        began = asyncio.get_running_loop().time()
        done: list[str] = []
        try:
            for step in steps:
                try:
                    action = await perform(page, step, self._ctx, limit)
                except StepFailed as exc:
                    hidden = describe(step, self._vars, value_hidden=True, names=self._ctx.names)
                    raise _Failed("; ".join([*done, hidden]), exc.reason) from None
                self._learn(step, action)
                done.append(action)
        except _Failed as failed:
            return await self.capture(failed.action, error=failed.reason)
        assert self.tabs is not None
        assert self.recorder is not None
        seconds = asyncio.get_running_loop().time() - began
        # With a dialog open the page loads nothing until it is answered.
        if await self.tabs.after(steps, seconds, load_within=None if self.dialogs else 5.0):
            self.recorder.page = self.tabs.current
        return await self.capture("; ".join(done))

    async def whole_page(self) -> tuple[list[str], str]:
        """The outline of the whole page (every element, not only near the viewport; every
        text whole). Following the pages of one part reads the page once: the pages come
        from one read, consistent with each other, until the next capture."""
        page = await self._readable()
        key = (id(page), page.url, self._looks)
        if self._whole is not None and self._whole[0] == key:
            return self._whole[1]
        selectors = self.opened.config.capture.redact_selectors
        async with asyncio.timeout(READ_SECONDS):
            state = await read_page_state(
                page, redact_selectors=selectors, whole_page=True, whole_text=True
            )
        self.add_secrets(*state.secret_values)
        self._whole = (key, (state.outline, f"{state.title} ({state.url})"))
        return self._whole[1]

    async def find(self, source: str, flags: str, skip: int, limit: int) -> tuple[Found, str]:
        """Matches in the text of the whole page (every frame), and the page's title."""
        page = await self._readable()
        selectors = self.opened.config.capture.redact_selectors
        async with asyncio.timeout(READ_SECONDS):
            try:
                found = await find_text(
                    page, source, flags, skip=skip, limit=limit, redact_selectors=selectors
                )
            except ValueError as exc:
                raise ToolError(
                    f"/{source}/ is not a regular expression the page takes: {exc}"
                ) from None
            return found, f"{await page.title()} ({page.url})"

    async def element_text(self, ref: str) -> str:
        """The whole text of the element `ref`, with the refs of what it holds."""
        page = await self._readable()
        selectors = self.opened.config.capture.redact_selectors
        async with asyncio.timeout(READ_SECONDS):
            return (await element_text(page, ref, selectors))[0]

    async def css_ref(self, css: str) -> str:
        """The ref of the first element matching the CSS selector `css`; ToolError if none."""
        page = await self._readable()
        try:
            found = await css_ref(page, css)
        except ValueError as exc:
            raise ToolError(str(exc)) from None
        if found is None:
            raise ToolError(
                f"no element matches the CSS selector {css!r}; call browser_snapshot for the "
                "page's refs"
            )
        return found

    async def _readable(self) -> Page:
        """The page to read, where it shows a known secret marked redacted (as for a capture),
        so a search or a read leaves that place out as the outline does."""
        if self.dialogs:
            raise ToolError(self.dialog_pending())
        page = await self.page()
        await mark_secret_text(page, self._secrets)
        return page

    def forget_browser(self) -> None:
        """The browser is being closed: the next call starts from a new one."""
        self.tabs = None
        self._context = None
        self.dialogs.clear()
        self.chooser = None

    def dialog_pending(self) -> str:
        dialog = self.dialogs[0]
        return (
            f"a {dialog.type} dialog is open ({dialog.message!r}): answer it with "
            "browser_handle_dialog first"
        )

    # -- targets ----------------------------------------------------------------------------

    @staticmethod
    def target(value: Any, key: str = "target") -> dict[str, str]:
        if not isinstance(value, str) or not value.strip():
            raise ToolError(f"{key!r} must be a ref like e12 (from the latest response)")
        value = value.strip()
        return {"ref": value} if REF.match(value) else {"css": literal(value)}

    def text_value(self, text: str) -> str:
        """The value to type: a --secrets name types its value, anything else as is."""
        return "${" + text + "}" if text in self._vars.values else literal(text)
