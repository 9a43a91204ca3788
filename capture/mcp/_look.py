"""The tools that look and manage: the page read whole (snapshot with a target or depth,
find), the screenshot, tabs, dialogs, the console and network logs, the viewport, closing."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from contextlib import suppress
from typing import Any

from playwright.async_api import Error as PlaywrightError
from playwright.async_api import Page

from capture.mcp._act import navigate
from capture.mcp._declare import (
    ELEMENT,
    FILENAME,
    TARGET,
    Answer,
    boolean,
    number,
    string,
    tool,
)
from capture.mcp._outline import ToolError, js_pattern, page_of, parse_pattern, subtree
from capture.mcp._state import BrowserState, need, text

__all__ = [
    "close",
    "console_messages",
    "find",
    "handle_dialog",
    "network_requests",
    "resize",
    "snapshot",
    "tabs",
    "take_screenshot",
]

_STATIC = frozenset({"image", "font", "script", "stylesheet", "media"})
_LEVELS = {"error": 0, "warning": 1, "info": 2, "debug": 3}
# Room one match takes in browser_find's answer, at most (find.js: 2 x 80 around 200).
_MATCH_CHARS = 420


PAGE = number(
    "capture's own: which page of a long answer (from 1); each page but the last names the "
    "call that reads the next"
)


def _page(args: Mapping[str, Any]) -> int:
    page = args.get("page", 1)
    if not isinstance(page, int | float) or isinstance(page, bool) or page < 1 or page != int(page):
        raise ToolError("'page' must be a whole number, 1 or more")
    return int(page)


def _call(name: str, args: Mapping[str, Any]) -> str:
    """The call that reads the next page: `name` with these `args` and page={page}."""
    given = [
        f"{key}={json.dumps(value, ensure_ascii=False)}"
        for key, value in args.items()
        if key != "page"
    ]
    return " ".join([name, *given, "page={page}"])


@tool(
    "browser_snapshot",
    "Look at the page now. Without arguments: the viewport-first outline within the "
    "character budget. With `target` (a ref or a CSS selector) and/or `depth`: that part of "
    "the whole page (also what the budget left out), `depth` levels deep, its text whole; a "
    "long part comes in pages (`page`).",
    read_only=True,
    target=TARGET,
    depth=number("How many levels below the target (or the page's top) to show"),
    filename=FILENAME,
    boxes=boolean("Accepted and ignored"),
    page=PAGE,
)
async def snapshot(state: BrowserState, args: Mapping[str, Any]) -> Answer:
    target, depth = args.get("target"), args.get("depth")
    if target is None and depth is None and args.get("page") is None:
        await state.page()
        return await state.capture("snapshot")
    page = _page(args)
    if depth is not None and (not isinstance(depth, int | float) or depth < 0):
        raise ToolError("'depth' must be a number, 0 or more")
    ref = None
    if target is not None:
        where = state.target(target)
        ref = where["ref"] if "ref" in where else await state.css_ref(str(target).strip())
    lines, title = await state.whole_page()
    part = subtree(lines, ref, int(depth) if depth is not None else None)
    if ref is None:
        head = "# Outline of the whole page{page}: " + title
    else:
        head = f"# Part of the page from {ref}" + "{page}: " + title
        if len(part) <= 1:
            # Not an outline line with parts of its own (text, code, any element): its text.
            whole = await state.element_text(ref)
            part = [*part, *whole.splitlines()]
    return Answer(
        state.fit(page_of(head, part, state.max_chars, page, _call("browser_snapshot", args)))
    )


@tool(
    "browser_find",
    "Search the text of the whole page (every frame, code, what is off screen and what the "
    "budget left out) for text or a regular expression (/re/i for flags); answers with each "
    "match's excerpt and the ref of the element holding it, many matches in pages (`page`).",
    read_only=True,
    text=string("Text to find (case-insensitive; any blanks match any blanks)"),
    regex=string("A regular expression (case-sensitive unless written /re/i)"),
    filename=FILENAME,
    page=PAGE,
)
async def find(state: BrowserState, args: Mapping[str, Any]) -> Answer:
    pattern = parse_pattern(args.get("text"), args.get("regex"))
    page = _page(args)
    per_page = max(1, (state.max_chars - 400) // _MATCH_CHARS)
    source, flags = js_pattern(pattern)
    found, title = await state.find(source, flags, (page - 1) * per_page, per_page)
    what = json.dumps(args.get("text")) if args.get("text") is not None else f"/{pattern.pattern}/"
    if not found.total:
        return Answer(state.fit(f"# No match for {what} in the page's text: {title}"))
    if not found.matches:
        last = -(-found.total // per_page)
        raise ToolError(f"page {page}: the {found.total} matches fill {last}")
    first = (page - 1) * per_page + 1
    shown = f"{first}-{first + len(found.matches) - 1} of " if found.total > per_page else ""
    lines = [f"# {shown}{found.total} match{'es' if found.total != 1 else ''} for {what}: {title}"]
    lines += [f"- {m.kind} [ref={m.ref}]: {m.excerpt}" for m in found.matches]
    if first - 1 + len(found.matches) < found.total:
        again = _call("browser_find", args).replace("{page}", str(page + 1))
        lines.append(f"[… more matches; continue with {again} …]")
    return Answer(state.fit("\n".join(lines)))


@tool(
    "browser_take_screenshot",
    "The viewport as an image (sensitive fields masked), sized for a model.",
    required=("scale",),
    read_only=True,
    element=ELEMENT,
    target=string("Accepted and ignored: the screenshot is of the viewport"),
    type=string("Accepted and ignored (capture's image format)", enum=["png", "jpeg", "webp"]),
    filename=FILENAME,
    fullPage=boolean("Accepted and ignored: the screenshot is of the viewport"),
    scale=string("Accepted and ignored (model-sized)", enum=["css", "device"]),
)
async def take_screenshot(state: BrowserState, args: Mapping[str, Any]) -> Answer:
    if state.dialogs:
        raise ToolError(state.dialog_pending())
    await state.page()
    return await state.capture("screenshot", screenshot=True)


@tool(
    "browser_tabs",
    "List, open, close or select a tab.",
    required=("action",),
    action=string("What to do", enum=["list", "new", "close", "select"]),
    index=number("The tab's index (close: the current one when left out)"),
    url=string("For new: the URL to open"),
)
async def tabs(state: BrowserState, args: Mapping[str, Any]) -> Answer:
    action = text(args, "action")
    if action not in ("list", "new", "close", "select"):
        raise ToolError(f"action {action!r}: use list, new, close or select")
    current = await state.page()
    assert state.tabs is not None
    assert state.recorder is not None
    pages = [p for p in current.context.pages if not p.is_closed()]
    index = args.get("index")
    if action == "list":
        lines = ["# Tabs"]
        for at, page in enumerate(pages):
            title = ""
            with suppress(PlaywrightError):
                title = await asyncio.wait_for(page.title(), 2)
            mark = " (current)" if page is current else ""
            lines.append(f"- {at}{mark}: {title!r} at {page.url}")
        return Answer(state.fit("\n".join(lines)))
    if action == "new":
        page = await current.context.new_page()
        state.tabs.current = page
        state.recorder.page = page
        url = args.get("url")
        if url:
            return await navigate.handler(state, {"url": url})
        return await state.capture("open a new tab")
    if index is None and action == "select":
        raise ToolError("select needs the tab's index (browser_tabs action=list shows them)")
    chosen = current if index is None else _tab(pages, index)
    number = pages.index(chosen)
    if action == "select":
        await chosen.bring_to_front()
        state.tabs.current = chosen
        state.recorder.page = chosen
        return await state.capture(f"select tab {number}")
    await chosen.close()
    await state.tabs.settle()
    await state.page()
    return await state.capture(f"close tab {number}")


def _tab(pages: list[Page], index: Any) -> Page:
    if not isinstance(index, int | float) or int(index) != index:
        raise ToolError("'index' must be a whole number")
    if not 0 <= int(index) < len(pages):
        raise ToolError(f"no tab {int(index)}: there are {len(pages)} (0 to {len(pages) - 1})")
    return pages[int(index)]


@tool(
    "browser_handle_dialog",
    "Accept or dismiss the JavaScript dialog that is open.",
    required=("accept",),
    accept=boolean("Accept (true) or dismiss (false)"),
    promptText=string("The answer to a prompt() dialog"),
)
async def handle_dialog(state: BrowserState, args: Mapping[str, Any]) -> Answer:
    if not state.dialogs:
        raise ToolError("no dialog is open")
    dialog = state.dialogs.pop(0)
    accept = bool(need(args, "accept"))
    what = f"{dialog.type} {dialog.message!r}"
    with suppress(PlaywrightError):  # the page may have closed it meanwhile
        if accept:
            await dialog.accept(str(args.get("promptText") or ""))
        else:
            await dialog.dismiss()
    await state.page()
    if not state.dialogs:
        assert state.tabs is not None
        with suppress(PlaywrightError):
            await state.tabs.current.wait_for_load_state("load", timeout=5000)
    return await state.capture(f"{'accept' if accept else 'dismiss'} the {what} dialog")


@tool(
    "browser_console_messages",
    "The page's console messages (secrets scrubbed), at the given level and above.",
    required=("level",),
    read_only=True,
    level=string(
        "The lowest level to list (default info)", enum=["error", "warning", "info", "debug"]
    ),
    all=boolean("Also messages from before the last navigation"),
    filename=FILENAME,
)
async def console_messages(state: BrowserState, args: Mapping[str, Any]) -> Answer:
    level = str(args.get("level") or "info")
    if level not in _LEVELS:
        raise ToolError(f"level {level!r}: use error, warning, info or debug")
    start = 0 if args.get("all") else state.console_from
    shown = [
        f"[{kind}] {text}"
        for kind, text in state.console[start:]
        if _LEVELS.get(_level_of(kind), 2) <= _LEVELS[level]
    ]
    head = f"# Console messages ({len(shown)}, level {level} and above)"
    return Answer(state.fit("\n".join([head, *shown])))


@tool(
    "browser_network_requests",
    "The requests since the page loaded, with status (secrets scrubbed).",
    required=("static",),
    read_only=True,
    static=boolean("Include successful images, fonts, scripts and styles"),
    filter=string("Only URLs matching this regular expression"),
    filename=FILENAME,
)
async def network_requests(state: BrowserState, args: Mapping[str, Any]) -> Answer:
    static = bool(args.get("static"))
    pattern = parse_pattern(None, str(args["filter"])) if args.get("filter") else None
    shown: list[str] = []
    for method, url, outcome, kind in state.requests[state.requests_from :]:
        ok = outcome[:1] in ("2", "3")
        if kind in _STATIC and ok and not static:
            continue
        if pattern is not None and not pattern.search(url):
            continue
        shown.append(f"{len(shown) + 1}. [{method}] {url} => {outcome}")
    head = f"# Network requests since the page loaded ({len(shown)})"
    return Answer(state.fit("\n".join([head, *shown])))


@tool(
    "browser_resize",
    "Resize the viewport.",
    required=("width", "height"),
    width=number("Width in CSS pixels"),
    height=number("Height in CSS pixels"),
)
async def resize(state: BrowserState, args: Mapping[str, Any]) -> Answer:
    width, height = need(args, "width"), need(args, "height")
    if not all(isinstance(v, int | float) and 1 <= v <= 10_000 for v in (width, height)):
        raise ToolError("width and height must be numbers of CSS pixels (1 to 10000)")
    page = await state.page()
    await page.set_viewport_size({"width": int(width), "height": int(height)})
    return await state.capture(f"resize the viewport to {int(width)}x{int(height)}")


@tool("browser_close", "Close the browser; the next call opens a new one.")
async def close(state: BrowserState, args: Mapping[str, Any]) -> Answer:
    state.forget_browser()
    with suppress(PlaywrightError):
        await state.opened.close_browser()
    return Answer("Closed the browser; the next call opens a new one.")


def _level_of(kind: str) -> str:
    """A console message type as a level: log, dir, table... count as info."""
    return {"error": "error", "warning": "warning", "debug": "debug"}.get(kind, "info")
