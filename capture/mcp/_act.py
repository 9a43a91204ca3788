"""The tools that act on the page: each builds action-engine steps from its arguments, and
the state performs them, settles and answers with the capture (`BrowserState.steps`)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from playwright.async_api import Error as PlaywrightError

from capture.actions import (
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
    StepBase,
    TypeStep,
    UncheckStep,
    WaitForStep,
)
from capture.mcp._declare import (
    ELEMENT,
    TARGET,
    Answer,
    boolean,
    number,
    obj,
    string,
    strings,
    tool,
)
from capture.mcp._outline import ToolError
from capture.mcp._state import ACTION_SECONDS, BrowserState, literal, need, one_line, text

__all__ = [
    "click",
    "drag",
    "file_upload",
    "fill_form",
    "hover",
    "navigate",
    "navigate_back",
    "press_key",
    "select_option",
    "type_text",
    "wait_for",
]

NAVIGATE_SECONDS = 60.0  # as Playwright MCP's navigation timeout
WAIT_SECONDS = 30.0  # browser_wait_for waits at most this long
_FIELD_KINDS = ["textbox", "checkbox", "radio", "combobox", "slider"]


@tool(
    "browser_navigate",
    "Go to a URL; answers with the page as capture sees it (outline with refs, changes, "
    "screenshot).",
    required=("url",),
    url=string("The URL to go to"),
)
async def navigate(state: BrowserState, args: Mapping[str, Any]) -> Answer:
    url = text(args, "url").strip()
    step = GotoStep.model_validate({"goto": {"url": literal(url)}})
    return await state.steps([step], limit=NAVIGATE_SECONDS)


@tool("browser_navigate_back", "Go back to the previous page in the tab's history.")
async def navigate_back(state: BrowserState, args: Mapping[str, Any]) -> Answer:
    page = await state.page()
    try:
        went = await page.go_back(timeout=NAVIGATE_SECONDS * 1000)
    except PlaywrightError as exc:
        return await state.capture("go back", error=one_line(exc))
    if went is None:
        return await state.capture("go back", error="there is no previous page in this tab")
    return await state.capture("go back")


@tool(
    "browser_click",
    "Click an element.",
    required=("target",),
    element=ELEMENT,
    target=TARGET,
    doubleClick=boolean("Double-click instead"),
    button=string("Mouse button (default left)", enum=["left", "right", "middle"]),
    modifiers=strings(
        "Modifier keys held during the click",
        enum=["Alt", "Control", "ControlOrMeta", "Meta", "Shift"],
    ),
)
async def click(state: BrowserState, args: Mapping[str, Any]) -> Answer:
    how: dict[str, Any] = {**state.target(need(args, "target"))}
    for key in ("button", "modifiers"):
        if args.get(key) is not None:
            how[key] = args[key]
    if args.get("doubleClick"):
        step: StepBase = DblclickStep.model_validate({"dblclick": how})
    else:
        step = ClickStep.model_validate({"click": how})
    return await state.steps([step])


@tool(
    "browser_type",
    "Type text into a field (replacing its content). A value typed into a password or card "
    "field, or named in --secrets, never appears in any response or stored byte.",
    required=("target", "text"),
    element=ELEMENT,
    target=TARGET,
    text=string("The text (or the name of a secret from --secrets)"),
    submit=boolean("Press Enter afterwards"),
    slowly=boolean("Type key by key, so the page's key handlers run"),
)
async def type_text(state: BrowserState, args: Mapping[str, Any]) -> Answer:
    target = state.target(need(args, "target"))
    value = state.text_value(text(args, "text"))
    steps: list[StepBase] = [
        TypeStep.model_validate({"type": {**target, "value": value}})
        if args.get("slowly")
        else FillStep.model_validate({"fill": {**target, "value": value}})
    ]
    if args.get("submit"):
        steps.append(PressStep.model_validate({"press": {**target, "key": "Enter"}}))
    return await state.steps(steps)


@tool(
    "browser_fill_form",
    "Fill several fields at once (text, checkboxes, radios, selects), one capture after.",
    required=("fields",),
    fields={
        "type": "array",
        "description": "The fields to fill",
        "items": {
            **obj(
                ["target", "name", "type", "value"],
                element=ELEMENT,
                target=TARGET,
                name=string("The field's name, in words"),
                type=string("The kind of field", enum=_FIELD_KINDS),
                value=string(
                    "Text to fill; `true`/`false` for a checkbox or radio; the option for a "
                    "combobox"
                ),
            ),
            "additionalProperties": False,
        },
    },
)
async def fill_form(state: BrowserState, args: Mapping[str, Any]) -> Answer:
    fields = need(args, "fields")
    if not isinstance(fields, list) or not fields:
        raise ToolError("'fields' must be a list of {target, name, type, value}")
    steps: list[StepBase] = []
    for field in fields:
        if not isinstance(field, dict):
            raise ToolError("each field must be an object {target, name, type, value}")
        target = state.target(need(field, "target"))
        kind, value = text(field, "type"), text(field, "value")
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
                SelectStep.model_validate({"select": {**target, "option": literal(value)}})
            )
        elif kind in ("textbox", "slider"):
            step = {**target, "value": state.text_value(value)}
            steps.append(FillStep.model_validate({"fill": step}))
        else:
            raise ToolError(
                f"field type {kind!r}: use textbox, checkbox, radio, combobox or slider"
            )
    return await state.steps(steps)


@tool(
    "browser_press_key",
    "Press a key or chord (Enter, ArrowDown, Control+A) on the focused element.",
    required=("key",),
    key=string("The key, as Playwright names it"),
)
async def press_key(state: BrowserState, args: Mapping[str, Any]) -> Answer:
    key = text(args, "key")
    return await state.steps([PressStep.model_validate({"press": {"key": key}})])


@tool(
    "browser_select_option",
    "Select option(s) of a dropdown, by value or label.",
    required=("target", "values"),
    element=ELEMENT,
    target=TARGET,
    values=strings("The option values or labels to select"),
)
async def select_option(state: BrowserState, args: Mapping[str, Any]) -> Answer:
    target = state.target(need(args, "target"))
    values = need(args, "values")
    if isinstance(values, str):
        values = [values]
    if not isinstance(values, list) or not values:
        raise ToolError("'values' must be a list of option values or labels")
    options = [literal(str(v)) for v in values]
    step = SelectStep.model_validate({"select": {**target, "option": options}})
    return await state.steps([step])


@tool(
    "browser_hover",
    "Move the mouse over an element.",
    required=("target",),
    element=ELEMENT,
    target=TARGET,
)
async def hover(state: BrowserState, args: Mapping[str, Any]) -> Answer:
    target = state.target(need(args, "target"))
    return await state.steps([HoverStep.model_validate({"hover": target})])


@tool(
    "browser_drag",
    "Drag one element onto another, with real mouse movement.",
    required=("startTarget", "endTarget"),
    startElement=ELEMENT,
    startTarget=TARGET,
    endElement=ELEMENT,
    endTarget=TARGET,
)
async def drag(state: BrowserState, args: Mapping[str, Any]) -> Answer:
    start = state.target(need(args, "startTarget"), "startTarget")
    end = state.target(need(args, "endTarget"), "endTarget")
    step = DragStep.model_validate({"drag": {"from": start, "to": end}})
    return await state.steps([step])


@tool(
    "browser_file_upload",
    "Choose files for the file chooser a click opened; without paths, cancel it.",
    paths=strings("Absolute paths of the files"),
)
async def file_upload(state: BrowserState, args: Mapping[str, Any]) -> Answer:
    if state.chooser is None:
        raise ToolError("no file chooser is open: click the file input first")
    paths = args.get("paths") or []
    if not isinstance(paths, list):
        raise ToolError("'paths' must be a list of absolute file paths")
    files = [Path(str(p)).expanduser() for p in paths]  # noqa: ASYNC240 (a path, no I/O)
    for file in files:
        if not file.is_file():
            raise ToolError(f"file to upload not found: {file}")
    chooser, state.chooser = state.chooser, None
    await state.page()
    await chooser.set_files(files, timeout=ACTION_SECONDS * 1000)
    names = ", ".join(f.name for f in files)
    return await state.capture(f"upload {names}" if files else "cancel the file chooser")


@tool(
    "browser_wait_for",
    "Wait for text to appear, to disappear, or for a number of seconds (at most 30).",
    time=number("Seconds to wait, at most 30"),
    text=string("Text to wait for"),
    textGone=string("Text to wait to disappear"),
)
async def wait_for(state: BrowserState, args: Mapping[str, Any]) -> Answer:
    seconds, shown, gone = args.get("time"), args.get("text"), args.get("textGone")
    if seconds is None and shown is None and gone is None:
        raise ToolError("give time, text or textGone")
    steps: list[StepBase] = []
    if seconds is not None:
        if not isinstance(seconds, int | float) or seconds < 0:
            raise ToolError("'time' must be a number of seconds")
        steps.append(SleepStep.model_validate({"sleep": min(float(seconds), WAIT_SECONDS)}))
    for value, wanted in ((shown, "visible"), (gone, "hidden")):
        if value is not None:
            wait = {"text": literal(str(value)), "state": wanted}
            steps.append(WaitForStep.model_validate({"wait_for": wait}))
    return await state.steps(steps, limit=WAIT_SECONDS)
