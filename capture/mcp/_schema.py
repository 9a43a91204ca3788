"""The tools `capture mcp` offers: Playwright MCP's names and parameters, capture's answers.

Names, parameter names, types and required lists follow `@playwright/mcp` 0.0.83, so that
prompts and agent configs written for it work unchanged (tests/test_mcp_schema.py checks
them against that package's real schema). The descriptions are capture's own: a `target`
is a ref from the latest response (`e12`, or `f1e3` inside a frame), or a selector.
Parameters capture has no use for (`element`, `filename`, `fullPage`, ...) are accepted
and ignored.
"""

from __future__ import annotations

from typing import Any

from mcp import types

__all__ = ["TOOLS", "tool_list"]


def _string(description: str, *, enum: list[str] | None = None) -> dict[str, Any]:
    prop: dict[str, Any] = {"type": "string", "description": description}
    if enum is not None:
        prop["enum"] = enum
    return prop


def _number(description: str) -> dict[str, Any]:
    return {"type": "number", "description": description}


def _boolean(description: str) -> dict[str, Any]:
    return {"type": "boolean", "description": description}


def _strings(description: str, *, enum: list[str] | None = None) -> dict[str, Any]:
    items: dict[str, Any] = {"type": "string"}
    if enum is not None:
        items["enum"] = enum
    return {"type": "array", "items": items, "description": description}


def _object(required: list[str], **properties: dict[str, Any]) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        schema["required"] = required
    return schema


_TARGET = _string("A ref from the latest response (e12, or f1e3 inside a frame), or a CSS selector")
_ELEMENT = _string("What the element is, in words (accepted, not needed)")
_FILENAME = _string("Accepted and ignored: capture answers in the response")

# (name, description, input schema, read_only)
TOOLS: list[tuple[str, str, dict[str, Any], bool]] = [
    (
        "browser_navigate",
        "Go to a URL; answers with the page as capture sees it (outline with refs, changes, "
        "screenshot).",
        _object(["url"], url=_string("The URL to go to")),
        False,
    ),
    (
        "browser_navigate_back",
        "Go back to the previous page in the tab's history.",
        _object([]),
        False,
    ),
    (
        "browser_snapshot",
        "Look at the page now. Without arguments: the viewport-first outline within the "
        "character budget. With `target` and/or `depth`: that part of the whole page (also "
        "what the budget left out), `depth` levels deep.",
        _object(
            [],
            target=_TARGET,
            depth=_number("How many levels below the target (or the page's top) to show"),
            filename=_FILENAME,
            boxes=_boolean("Accepted and ignored"),
        ),
        True,
    ),
    (
        "browser_click",
        "Click an element.",
        _object(
            ["target"],
            element=_ELEMENT,
            target=_TARGET,
            doubleClick=_boolean("Double-click instead"),
            button=_string("Mouse button (default left)", enum=["left", "right", "middle"]),
            modifiers=_strings(
                "Modifier keys held during the click",
                enum=["Alt", "Control", "ControlOrMeta", "Meta", "Shift"],
            ),
        ),
        False,
    ),
    (
        "browser_type",
        "Type text into a field (replacing its content). A value typed into a password or "
        "card field, or named in --secrets, never appears in any response or stored byte.",
        _object(
            ["target", "text"],
            element=_ELEMENT,
            target=_TARGET,
            text=_string("The text (or the name of a secret from --secrets)"),
            submit=_boolean("Press Enter afterwards"),
            slowly=_boolean("Type key by key, so the page's key handlers run"),
        ),
        False,
    ),
    (
        "browser_fill_form",
        "Fill several fields at once (text, checkboxes, radios, selects), one capture after.",
        _object(
            ["fields"],
            fields={
                "type": "array",
                "description": "The fields to fill",
                "items": {
                    **_object(
                        ["target", "name", "type", "value"],
                        element=_ELEMENT,
                        target=_TARGET,
                        name=_string("The field's name, in words"),
                        type=_string(
                            "The kind of field",
                            enum=["textbox", "checkbox", "radio", "combobox", "slider"],
                        ),
                        value=_string(
                            "Text to fill; `true`/`false` for a checkbox or radio; the option "
                            "for a combobox"
                        ),
                    ),
                    "additionalProperties": False,
                },
            },
        ),
        False,
    ),
    (
        "browser_press_key",
        "Press a key or chord (Enter, ArrowDown, Control+A) on the focused element.",
        _object(["key"], key=_string("The key, as Playwright names it")),
        False,
    ),
    (
        "browser_select_option",
        "Select option(s) of a dropdown, by value or label.",
        _object(
            ["target", "values"],
            element=_ELEMENT,
            target=_TARGET,
            values=_strings("The option values or labels to select"),
        ),
        False,
    ),
    (
        "browser_hover",
        "Move the mouse over an element.",
        _object(["target"], element=_ELEMENT, target=_TARGET),
        False,
    ),
    (
        "browser_drag",
        "Drag one element onto another, with real mouse movement.",
        _object(
            ["startTarget", "endTarget"],
            startElement=_ELEMENT,
            startTarget=_TARGET,
            endElement=_ELEMENT,
            endTarget=_TARGET,
        ),
        False,
    ),
    (
        "browser_file_upload",
        "Choose files for the file chooser a click opened; without paths, cancel it.",
        _object([], paths=_strings("Absolute paths of the files")),
        False,
    ),
    (
        "browser_take_screenshot",
        "The viewport as an image (sensitive fields masked), sized for a model.",
        _object(
            ["scale"],
            element=_ELEMENT,
            target=_string("Accepted and ignored: the screenshot is of the viewport"),
            type=_string(
                "Accepted and ignored (capture's image format)", enum=["png", "jpeg", "webp"]
            ),
            filename=_FILENAME,
            fullPage=_boolean("Accepted and ignored: the screenshot is of the viewport"),
            scale=_string("Accepted and ignored (model-sized)", enum=["css", "device"]),
        ),
        True,
    ),
    (
        "browser_wait_for",
        "Wait for text to appear, to disappear, or for a number of seconds (at most 30).",
        _object(
            [],
            time=_number("Seconds to wait, at most 30"),
            text=_string("Text to wait for"),
            textGone=_string("Text to wait to disappear"),
        ),
        False,
    ),
    (
        "browser_tabs",
        "List, open, close or select a tab.",
        _object(
            ["action"],
            action=_string("What to do", enum=["list", "new", "close", "select"]),
            index=_number("The tab's index (close: the current one when left out)"),
            url=_string("For new: the URL to open"),
        ),
        False,
    ),
    (
        "browser_handle_dialog",
        "Accept or dismiss the JavaScript dialog that is open.",
        _object(
            ["accept"],
            accept=_boolean("Accept (true) or dismiss (false)"),
            promptText=_string("The answer to a prompt() dialog"),
        ),
        False,
    ),
    (
        "browser_console_messages",
        "The page's console messages (secrets scrubbed), at the given level and above.",
        _object(
            ["level"],
            level=_string(
                "The lowest level to list (default info)",
                enum=["error", "warning", "info", "debug"],
            ),
            all=_boolean("Also messages from before the last navigation"),
            filename=_FILENAME,
        ),
        True,
    ),
    (
        "browser_network_requests",
        "The requests since the page loaded, with status (secrets scrubbed).",
        _object(
            ["static"],
            static=_boolean("Include successful images, fonts, scripts and styles"),
            filter=_string("Only URLs matching this regular expression"),
            filename=_FILENAME,
        ),
        True,
    ),
    (
        "browser_resize",
        "Resize the viewport.",
        _object(
            ["width", "height"],
            width=_number("Width in CSS pixels"),
            height=_number("Height in CSS pixels"),
        ),
        False,
    ),
    (
        "browser_close",
        "Close the browser; the next call opens a new one.",
        _object([]),
        False,
    ),
    (
        "browser_find",
        "Search the whole page (not only what the budget showed) for text or a regular "
        "expression (/re/i for flags); answers with the matching lines and their refs.",
        _object(
            [],
            text=_string("Text to find (case-insensitive)"),
            regex=_string("A regular expression (case-sensitive unless written /re/i)"),
            filename=_FILENAME,
        ),
        True,
    ),
]


def tool_list() -> list[types.Tool]:
    """The tools as MCP `Tool` objects."""
    return [
        types.Tool(
            name=name,
            description=description,
            input_schema=schema,
            annotations=types.ToolAnnotations(read_only_hint=read_only),
        )
        for name, description, schema, read_only in TOOLS
    ]
