"""Running the tools: each call acts on the page, is captured into the thread, and answers
with what the capture saw.

An action is a task step (`capture.tasks`): the same target resolution (refs from the latest
response), time limits, one-line failure reasons and sensitive-field rules as `capture run`.
The capture after it goes through the recorder, so the thread holds the same user parts and
step records a Distri agent or the viewer reads, and the MCP client gets that observation
and, as `--image` says, a small glance of the screenshot (`_glance`); browser_take_screenshot
answers with the screenshot itself. A failed action is still captured, and answers with
the reason on its first line and the page as it is now.

Every text that leaves passes the scrubber (configured secrets, `--secrets` values, values
typed into sensitive fields) and fits `max_chars`. Calls are served one at a time: a page
has one mouse.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from playwright.async_api import ConsoleMessage, Dialog, FileChooser, Page, Request, Response
from playwright.async_api import Error as PlaywrightError
from pydantic import ValidationError

from capture.config import Config
from capture.entry import Capture
from capture.errors import CaptureError, SessionStoreError
from capture.mcp._glance import Glances, ImageMode
from capture.mcp._outline import ToolError, find_lines, parse_pattern, subtree
from capture.recorder import EncodedImage, Recorder
from capture.recorder.observe import Scrubber, mark_secret_text, read_page_state
from capture.tasks import StepBase, StepContext, StepFailed, Vars, perform
from capture.tasks._runner import _NEW_TAB_GRACE, _NEW_TAB_GRACE_MAX, _Tabs
from capture.tasks._schema import (
    CheckStep,
    ClickStep,
    DblclickStep,
    DragStep,
    FillStep,
    GotoStep,
    HoverStep,
    PressStep,
    SelectStep,
    SleepStep,
    TypeStep,
    UncheckStep,
    WaitForStep,
)
from capture.tasks._steps import describe

__all__ = ["ERROR_ROOM", "Answer", "BrowserTools"]

log = logging.getLogger(__name__)

ACTION_SECONDS = 10.0  # an action's time limit (Playwright's own default is 30 s)
NAVIGATE_SECONDS = 60.0  # as Playwright MCP's navigation timeout
WAIT_SECONDS = 30.0  # browser_wait_for waits at most this long
READ_SECONDS = 60.0  # a whole-page read (browser_find, browser_snapshot with target or depth)
# Room kept in a response for the error line ahead of the observation: the recorder's
# observation budget is --max-chars minus this.
ERROR_ROOM = 400
_REF = re.compile(r"^(f\d+)?e\d+$")
_STATIC = frozenset({"image", "font", "script", "stylesheet", "media"})
_LEVELS = {"error": 0, "warning": 1, "info": 2, "debug": 3}
_MAX_KEPT = 1000  # console messages and requests kept per browser


@dataclass
class Answer:
    """One tool result: text (scrubbed, within the budget), maybe an image, error or not."""

    text: str
    image: EncodedImage | None = None
    is_error: bool = False

    @property
    def image_base64(self) -> str:
        return base64.b64encode(self.image.data).decode("ascii") if self.image else ""


class _Failed(Exception):
    """An action that failed part-way: what was done (in words) and why it stopped."""

    def __init__(self, action: str, reason: str) -> None:
        super().__init__(reason)
        self.action = action
        self.reason = reason


def _literal(text: str) -> str:
    """A client's text as a step value: `${` stays literal (steps expand `${NAME}`)."""
    return text.replace("${", "$${")


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _need(args: Mapping[str, Any], key: str) -> Any:
    if args.get(key) is None:
        raise ToolError(f"missing required argument {key!r}")
    return args[key]


def _text(args: Mapping[str, Any], key: str) -> str:
    value = _need(args, key)
    if not isinstance(value, str | int | float) or isinstance(value, bool):
        raise ToolError(f"{key!r} must be a string")
    return str(value)


class BrowserTools:
    """The browser state of one MCP server (its tabs, open dialog, file chooser, console and
    network logs) and the tool handlers, by tool name."""

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
        self._opened = opened
        self._launch_options: dict[str, Any] = {"headless": headless, "cdp_url": cdp_url}
        self._glances = Glances(image)
        # Named secrets: a client types one by its name; everywhere else it is `${NAME}`.
        self._vars = Vars(secrets, frozenset(secrets))
        self._ctx = StepContext("", Path.cwd(), self._vars)
        # Known secret values: scrubbed from every text, and marked on the page before each
        # capture so that where the page shows one, the screenshot masks it.
        self._secrets = {*opened.config.capture.secrets, *secrets.values()}
        self._scrub = Scrubber(self._secrets)
        self._lock = asyncio.Lock()
        self._recorder: Recorder | None = None
        self._tabs: _Tabs | None = None
        self._context: Any = None
        self._crashed: set[Page] = set()
        self._dialogs: list[Dialog] = []
        self._chooser: FileChooser | None = None
        self._console: list[tuple[str, str]] = []
        self._console_from = 0  # first message since the current page's last navigation
        self._requests: list[tuple[str, str, str, str]] = []  # method, url, outcome, type
        self._requests_from = 0
        self._handlers: dict[str, Callable[[Mapping[str, Any]], Awaitable[Answer]]] = {
            "browser_navigate": self._navigate,
            "browser_navigate_back": self._navigate_back,
            "browser_snapshot": self._snapshot,
            "browser_click": self._click,
            "browser_type": self._type,
            "browser_fill_form": self._fill_form,
            "browser_press_key": self._press_key,
            "browser_select_option": self._select_option,
            "browser_hover": self._hover,
            "browser_drag": self._drag,
            "browser_file_upload": self._file_upload,
            "browser_take_screenshot": self._take_screenshot,
            "browser_wait_for": self._wait_for,
            "browser_tabs": self._tabs_tool,
            "browser_handle_dialog": self._handle_dialog,
            "browser_console_messages": self._console_messages,
            "browser_network_requests": self._network_requests,
            "browser_resize": self._resize,
            "browser_close": self._close,
            "browser_find": self._find,
        }

    @property
    def config(self) -> Config:
        return self._opened.config

    # -- the one entry --------------------------------------------------------------------

    async def call(self, name: str, arguments: Mapping[str, Any] | None) -> Answer:
        """Run one tool; every failure is an error answer of one clear line, never a raise."""
        handler = self._handlers.get(name)
        if handler is None:
            return self._error(f"unknown tool {name!r}")
        async with self._lock:
            try:
                return await handler(arguments or {})
            except ToolError as exc:
                return self._error(str(exc))
            except ValidationError as exc:
                first = exc.errors()[0]
                return self._error(f"bad argument: {first['msg']}")
            except (CaptureError, PlaywrightError, TimeoutError) as exc:
                return self._error(_one_line(exc) if str(exc) else "timed out")
            except Exception as exc:  # a bug: the client still gets an answer, scrubbed
                reason = self._fit(f"{type(exc).__name__}: {_one_line(exc)}")
                log.error("%s failed: %s", name, reason)
                return self._error(f"internal error in {name}: {reason}")

    async def close(self) -> None:
        """Write the run's end; the capture's entry then flushes (bounded) and closes the
        recorder and the browser."""
        if self._recorder is not None:
            with suppress(SessionStoreError):
                await self._recorder.finish_run("finished")

    # -- answers ----------------------------------------------------------------------------

    def _fit(self, text: str) -> str:
        text = self._scrub(self._vars.mask(text))
        if len(text) <= self.max_chars:
            return text
        marker = "\n[… cut at --max-chars …]"
        return text[: self.max_chars - len(marker)] + marker

    def _error(self, reason: str) -> Answer:
        return Answer(self._fit(f"Error: {' '.join(reason.split())}"), is_error=True)

    async def _capture(
        self, action: str, *, error: str | None = None, screenshot: bool = False
    ) -> Answer:
        """Capture the page into the thread and answer with what the capture saw."""
        recorder = self._recorder
        if recorder is None or self._dialogs:
            # With a dialog open the page runs no script: say what is open instead.
            lines = [f"# {action}"]
            if error is not None:
                lines.insert(0, f"Error: {error}")
            lines += [f"Open dialog: {d.type} {d.message!r}" for d in self._dialogs]
            lines.append("Answer it with browser_handle_dialog.")
            return Answer(self._fit("\n".join(lines)), is_error=error is not None)
        await mark_secret_text(recorder.page, self._secrets)
        try:
            result = await recorder.capture(action, status="failed" if error else "ok", error=error)
        except SessionStoreError as exc:  # strict mode only: the store is failing
            return self._error(f"the session store failed: {_one_line(exc)}")
        text = result.observation
        if screenshot:  # the image is the answer; the header says which page it shows
            text = text.split("\n\n", 1)[0]
        if error is not None:
            text = f"Error: {' '.join(error.split())[: ERROR_ROOM - 10]}\n\n{text}"
        url = recorder.page.url
        if not screenshot:
            image = await asyncio.to_thread(self._glances.glance, result.image, url)
        elif (image := result.image) is not None:
            await asyncio.to_thread(self._glances.shown, image, url)
        return Answer(self._fit(text), image, is_error=error is not None)

    # -- the page -----------------------------------------------------------------------------

    async def _page(self) -> Page:
        """The current tab: the browser is (re)launched and a crashed or closed tab replaced,
        so one call after a crash works again."""
        session = self._opened.browser
        if session is None or not session.browser.is_connected():
            session = await self._opened.launch(**self._launch_options)
        if self._tabs is None or self._context is not session.context:
            self._watch(session.context)
            page = session.page if not session.page.is_closed() else None
            self._tabs = _Tabs(page or await session.context.new_page())
        tabs = self._tabs
        await tabs.settle()
        if tabs.current.is_closed() or tabs.current in self._crashed:
            self._crashed.discard(tabs.current)
            with suppress(PlaywrightError):
                await tabs.current.close()
            tabs.current = await session.context.new_page()
        if self._recorder is None:
            self._recorder = self._opened.recorder(
                tabs.current, self.thread, secrets=self._scrub_values()
            )
            with suppress(SessionStoreError):
                await self._recorder.start_run("mcp", source="capture mcp")
        else:
            self._recorder.page = tabs.current
        return tabs.current

    def _scrub_values(self) -> list[str]:
        return [*self._vars.secrets]

    def _watch(self, context: Any) -> None:
        """Listen to a (new) browser context: dialogs wait for browser_handle_dialog, file
        choosers for browser_file_upload; console and network are logged."""
        self._context = context
        self._dialogs.clear()
        self._chooser = None

        def on_page(page: Page) -> None:
            page.on("filechooser", on_chooser)
            page.on("crash", lambda crashed: self._crashed.add(crashed))
            page.on("framenavigated", lambda frame: on_navigated(page, frame))

        def on_chooser(chooser: FileChooser) -> None:
            self._chooser = chooser

        def on_navigated(page: Page, frame: Any) -> None:
            if self._tabs is not None and page is self._tabs.current and frame.parent_frame is None:
                self._console_from = len(self._console)
                self._requests_from = len(self._requests)

        def on_dialog(dialog: Dialog) -> None:
            self._dialogs.append(dialog)

        def on_console(message: ConsoleMessage) -> None:
            self._keep(self._console, (message.type, message.text))

        def on_response(response: Response) -> None:
            request = response.request
            outcome = f"{response.status} {response.status_text}".strip()
            self._keep(
                self._requests, (request.method, request.url, outcome, request.resource_type)
            )

        def on_failed(request: Request) -> None:
            outcome = f"failed: {request.failure or 'unknown'}"
            self._keep(
                self._requests, (request.method, request.url, outcome, request.resource_type)
            )

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
            if kept is self._console:
                self._console_from = max(0, self._console_from - 1)
            else:
                self._requests_from = max(0, self._requests_from - 1)

    def _learn(self, step: StepBase, action: str) -> None:
        """A value typed into a sensitive field is a secret from now on, wherever it shows."""
        if not isinstance(step, FillStep | TypeStep):
            return
        if action == describe(step, self._vars, value_hidden=True):
            self._add_secrets(self._vars.expand(step.args.value))

    def _add_secrets(self, *values: str) -> None:
        self._secrets.update(values)
        self._scrub.add(*values)
        if self._recorder is not None:
            self._recorder.add_secrets(*values)

    async def _settle(self, began: float) -> None:
        """After a click or key press: follow a tab it opened, and let a navigation it
        started load (bounded), so the capture shows where the action led."""
        assert self._tabs is not None
        assert self._recorder is not None
        loop = asyncio.get_running_loop()
        grace = min(_NEW_TAB_GRACE_MAX, max(_NEW_TAB_GRACE, loop.time() - began))
        if await self._tabs.settle(grace=grace):
            self._recorder.page = self._tabs.current
        if not self._dialogs:
            with suppress(PlaywrightError):
                await self._tabs.current.wait_for_load_state("load", timeout=5000)

    async def _steps(
        self, steps: Sequence[StepBase], *, settle: bool = False, limit: float = ACTION_SECONDS
    ) -> Answer:
        """Perform steps in order, then capture; a failure is captured with its reason."""
        if self._dialogs:
            raise ToolError(self._dialog_pending())
        page = await self._page()
        began = asyncio.get_running_loop().time()
        done: list[str] = []
        try:
            for step in steps:
                try:
                    action = await perform(page, step, self._ctx, limit)
                except StepFailed as exc:
                    hidden = describe(step, self._vars, value_hidden=True)
                    raise _Failed("; ".join([*done, hidden]), exc.reason) from None
                self._learn(step, action)
                done.append(action)
        except _Failed as failed:
            return await self._capture(failed.action, error=failed.reason)
        if settle:
            await self._settle(began)
        return await self._capture("; ".join(done))

    def _dialog_pending(self) -> str:
        dialog = self._dialogs[0]
        return (
            f"a {dialog.type} dialog is open ({dialog.message!r}): answer it with "
            "browser_handle_dialog first"
        )

    # -- targets ----------------------------------------------------------------------------

    @staticmethod
    def _target(value: Any, key: str = "target") -> dict[str, str]:
        if not isinstance(value, str) or not value.strip():
            raise ToolError(f"{key!r} must be a ref like e12 (from the latest response)")
        value = value.strip()
        return {"ref": value} if _REF.match(value) else {"css": _literal(value)}

    def _text_value(self, text: str) -> str:
        """The value to type: a --secrets name types its value, anything else as is."""
        return "${" + text + "}" if text in self._vars.values else _literal(text)

    # -- the tools ----------------------------------------------------------------------------

    async def _navigate(self, args: Mapping[str, Any]) -> Answer:
        url = _text(args, "url").strip()
        step = GotoStep.model_validate({"goto": {"url": _literal(url)}})
        return await self._steps([step], limit=NAVIGATE_SECONDS)

    async def _navigate_back(self, args: Mapping[str, Any]) -> Answer:
        page = await self._page()
        try:
            went = await page.go_back(timeout=NAVIGATE_SECONDS * 1000)
        except PlaywrightError as exc:
            return await self._capture("go back", error=_one_line(exc))
        if went is None:
            return await self._capture("go back", error="there is no previous page in this tab")
        return await self._capture("go back")

    async def _snapshot(self, args: Mapping[str, Any]) -> Answer:
        target, depth = args.get("target"), args.get("depth")
        if target is None and depth is None:
            await self._page()
            return await self._capture("snapshot")
        if target is not None and not (isinstance(target, str) and _REF.match(target.strip())):
            raise ToolError("'target' must be a ref like e12 (from the latest response)")
        if depth is not None and (not isinstance(depth, int | float) or depth < 0):
            raise ToolError("'depth' must be a number, 0 or more")
        lines, title = await self._whole_page()
        text = subtree(
            lines,
            target.strip() if isinstance(target, str) else None,
            int(depth) if depth is not None else None,
            self.max_chars,
            title,
        )
        return Answer(self._fit(text))

    async def _whole_page(self) -> tuple[list[str], str]:
        """The outline of the whole page (every element, not only near the viewport)."""
        if self._dialogs:
            raise ToolError(self._dialog_pending())
        page = await self._page()
        selectors = self._opened.config.capture.redact_selectors
        async with asyncio.timeout(READ_SECONDS):
            state = await read_page_state(page, redact_selectors=selectors, whole_page=True)
        self._add_secrets(*state.secret_values)
        return state.outline, f"{state.title} ({state.url})"

    async def _find(self, args: Mapping[str, Any]) -> Answer:
        pattern = parse_pattern(args.get("text"), args.get("regex"))
        lines, title = await self._whole_page()
        return Answer(self._fit(find_lines(lines, pattern, self.max_chars, title)))

    async def _click(self, args: Mapping[str, Any]) -> Answer:
        how: dict[str, Any] = {**self._target(_need(args, "target"))}
        for key in ("button", "modifiers"):
            if args.get(key) is not None:
                how[key] = args[key]
        if args.get("doubleClick"):
            step: StepBase = DblclickStep.model_validate({"dblclick": how})
        else:
            step = ClickStep.model_validate({"click": how})
        return await self._steps([step], settle=True)

    async def _type(self, args: Mapping[str, Any]) -> Answer:
        target = self._target(_need(args, "target"))
        value = self._text_value(_text(args, "text"))
        steps: list[StepBase] = [
            TypeStep.model_validate({"type": {**target, "value": value}})
            if args.get("slowly")
            else FillStep.model_validate({"fill": {**target, "value": value}})
        ]
        if args.get("submit"):
            steps.append(PressStep.model_validate({"press": {**target, "key": "Enter"}}))
        return await self._steps(steps, settle=bool(args.get("submit")))

    async def _fill_form(self, args: Mapping[str, Any]) -> Answer:
        fields = _need(args, "fields")
        if not isinstance(fields, list) or not fields:
            raise ToolError("'fields' must be a list of {target, name, type, value}")
        steps: list[StepBase] = []
        for field in fields:
            if not isinstance(field, dict):
                raise ToolError("each field must be an object {target, name, type, value}")
            target = self._target(_need(field, "target"))
            kind, value = _text(field, "type"), _text(field, "value")
            if kind in ("checkbox", "radio"):
                # A radio button is unchecked by choosing another: only "check" applies.
                on = kind == "radio" or value.strip().lower() in ("true", "on", "yes", "1")
                steps.append(
                    CheckStep.model_validate({"check": target})
                    if on
                    else UncheckStep.model_validate({"uncheck": target})
                )
            elif kind == "combobox":
                steps.append(
                    SelectStep.model_validate({"select": {**target, "option": _literal(value)}})
                )
            elif kind in ("textbox", "slider"):
                step = {**target, "value": self._text_value(value)}
                steps.append(FillStep.model_validate({"fill": step}))
            else:
                raise ToolError(
                    f"field type {kind!r}: use textbox, checkbox, radio, combobox or slider"
                )
        return await self._steps(steps)

    async def _press_key(self, args: Mapping[str, Any]) -> Answer:
        key = _text(args, "key")
        return await self._steps([PressStep.model_validate({"press": {"key": key}})], settle=True)

    async def _select_option(self, args: Mapping[str, Any]) -> Answer:
        target = self._target(_need(args, "target"))
        values = _need(args, "values")
        if isinstance(values, str):
            values = [values]
        if not isinstance(values, list) or not values:
            raise ToolError("'values' must be a list of option values or labels")
        options = [_literal(str(v)) for v in values]
        step = SelectStep.model_validate({"select": {**target, "option": options}})
        return await self._steps([step])

    async def _hover(self, args: Mapping[str, Any]) -> Answer:
        target = self._target(_need(args, "target"))
        return await self._steps([HoverStep.model_validate({"hover": target})])

    async def _drag(self, args: Mapping[str, Any]) -> Answer:
        start = self._target(_need(args, "startTarget"), "startTarget")
        end = self._target(_need(args, "endTarget"), "endTarget")
        step = DragStep.model_validate({"drag": {"from": start, "to": end}})
        return await self._steps([step])

    async def _file_upload(self, args: Mapping[str, Any]) -> Answer:
        if self._chooser is None:
            raise ToolError("no file chooser is open: click the file input first")
        paths = args.get("paths") or []
        if not isinstance(paths, list):
            raise ToolError("'paths' must be a list of absolute file paths")
        files = [Path(str(p)).expanduser() for p in paths]  # noqa: ASYNC240 (a path, no I/O)
        for file in files:
            if not file.is_file():
                raise ToolError(f"file to upload not found: {file}")
        chooser, self._chooser = self._chooser, None
        await self._page()
        await chooser.set_files(files, timeout=ACTION_SECONDS * 1000)
        names = ", ".join(f.name for f in files)
        return await self._capture(f"upload {names}" if files else "cancel the file chooser")

    async def _take_screenshot(self, args: Mapping[str, Any]) -> Answer:
        if self._dialogs:
            raise ToolError(self._dialog_pending())
        await self._page()
        return await self._capture("screenshot", screenshot=True)

    async def _wait_for(self, args: Mapping[str, Any]) -> Answer:
        seconds, text, gone = args.get("time"), args.get("text"), args.get("textGone")
        if seconds is None and text is None and gone is None:
            raise ToolError("give time, text or textGone")
        steps: list[StepBase] = []
        if seconds is not None:
            if not isinstance(seconds, int | float) or seconds < 0:
                raise ToolError("'time' must be a number of seconds")
            steps.append(SleepStep.model_validate({"sleep": min(float(seconds), WAIT_SECONDS)}))
        for value, state in ((text, "visible"), (gone, "hidden")):
            if value is not None:
                wait = {"text": _literal(str(value)), "state": state}
                steps.append(WaitForStep.model_validate({"wait_for": wait}))
        return await self._steps(steps, limit=WAIT_SECONDS)

    async def _tabs_tool(self, args: Mapping[str, Any]) -> Answer:
        action = _text(args, "action")
        if action not in ("list", "new", "close", "select"):
            raise ToolError(f"action {action!r}: use list, new, close or select")
        current = await self._page()
        assert self._tabs is not None
        assert self._recorder is not None
        pages = [p for p in current.context.pages if not p.is_closed()]
        index = args.get("index")
        if action == "list":
            lines = ["# Tabs"]
            for number, page in enumerate(pages):
                title = ""
                with suppress(PlaywrightError):
                    title = await asyncio.wait_for(page.title(), 2)
                mark = " (current)" if page is current else ""
                lines.append(f"- {number}{mark}: {title!r} at {page.url}")
            return Answer(self._fit("\n".join(lines)))
        if action == "new":
            page = await current.context.new_page()
            self._tabs.current = page
            self._recorder.page = page
            url = args.get("url")
            if url:
                return await self._navigate({"url": url})
            return await self._capture("open a new tab")
        if index is None and action == "select":
            raise ToolError("select needs the tab's index (browser_tabs action=list shows them)")
        chosen = current if index is None else self._tab(pages, index)
        number = pages.index(chosen)
        if action == "select":
            await chosen.bring_to_front()
            self._tabs.current = chosen
            self._recorder.page = chosen
            return await self._capture(f"select tab {number}")
        await chosen.close()
        await self._tabs.settle()
        await self._page()
        return await self._capture(f"close tab {number}")

    @staticmethod
    def _tab(pages: list[Page], index: Any) -> Page:
        if not isinstance(index, int | float) or int(index) != index:
            raise ToolError("'index' must be a whole number")
        if not 0 <= int(index) < len(pages):
            raise ToolError(f"no tab {int(index)}: there are {len(pages)} (0 to {len(pages) - 1})")
        return pages[int(index)]

    async def _handle_dialog(self, args: Mapping[str, Any]) -> Answer:
        if not self._dialogs:
            raise ToolError("no dialog is open")
        dialog = self._dialogs.pop(0)
        accept = bool(_need(args, "accept"))
        what = f"{dialog.type} {dialog.message!r}"
        with suppress(PlaywrightError):  # the page may have closed it meanwhile
            if accept:
                await dialog.accept(str(args.get("promptText") or ""))
            else:
                await dialog.dismiss()
        await self._page()
        if not self._dialogs:
            assert self._tabs is not None
            with suppress(PlaywrightError):
                await self._tabs.current.wait_for_load_state("load", timeout=5000)
        return await self._capture(f"{'accept' if accept else 'dismiss'} the {what} dialog")

    async def _console_messages(self, args: Mapping[str, Any]) -> Answer:
        level = str(args.get("level") or "info")
        if level not in _LEVELS:
            raise ToolError(f"level {level!r}: use error, warning, info or debug")
        start = 0 if args.get("all") else self._console_from
        shown = [
            f"[{kind}] {text}"
            for kind, text in self._console[start:]
            if _LEVELS.get(_level_of(kind), 2) <= _LEVELS[level]
        ]
        head = f"# Console messages ({len(shown)}, level {level} and above)"
        return Answer(self._fit("\n".join([head, *shown])))

    async def _network_requests(self, args: Mapping[str, Any]) -> Answer:
        static = bool(args.get("static"))
        pattern = parse_pattern(None, str(args["filter"])) if args.get("filter") else None
        shown: list[str] = []
        for method, url, outcome, kind in self._requests[self._requests_from :]:
            ok = outcome[:1] in ("2", "3")
            if kind in _STATIC and ok and not static:
                continue
            if pattern is not None and not pattern.search(url):
                continue
            shown.append(f"{len(shown) + 1}. [{method}] {url} => {outcome}")
        head = f"# Network requests since the page loaded ({len(shown)})"
        return Answer(self._fit("\n".join([head, *shown])))

    async def _resize(self, args: Mapping[str, Any]) -> Answer:
        width, height = _need(args, "width"), _need(args, "height")
        if not all(isinstance(v, int | float) and 1 <= v <= 10_000 for v in (width, height)):
            raise ToolError("width and height must be numbers of CSS pixels (1 to 10000)")
        page = await self._page()
        await page.set_viewport_size({"width": int(width), "height": int(height)})
        return await self._capture(f"resize the viewport to {int(width)}x{int(height)}")

    async def _close(self, args: Mapping[str, Any]) -> Answer:
        self._tabs = None
        self._context = None
        self._dialogs.clear()
        self._chooser = None
        with suppress(PlaywrightError):
            await self._opened.close_browser()
        return Answer("Closed the browser; the next call opens a new one.")


def _level_of(kind: str) -> str:
    """A console message type as a level: log, dir, table... count as info."""
    return {"error": "error", "warning": "warning", "debug": "debug"}.get(kind, "info")
