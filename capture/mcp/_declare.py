"""How an MCP tool is declared: once, with its name, description, parameters and handler.

`@tool(...)` turns a handler into a `Tool`; the table (`_tools.TOOLS`) lists them, and the
listing clients see (`tool_list`), the dispatch (`BrowserTools.call`) and the schema test
all follow from it. Names, parameter names, types and required lists follow `@playwright/mcp`
0.0.83, so prompts and agent configs written for it work unchanged; a tool it does not have
says so with `capture_only=True`. Descriptions are capture's own: a `target` is a ref from
the latest response (`e12`, or `f1e3` inside a frame), or a CSS selector.
"""

from __future__ import annotations

import base64
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from mcp import types

from capture.recorder import EncodedImage

__all__ = [
    "ELEMENT",
    "FILENAME",
    "TARGET",
    "Answer",
    "Tool",
    "boolean",
    "number",
    "obj",
    "string",
    "strings",
    "tool",
]

S = TypeVar("S")  # the state a handler acts on (`BrowserState`), kept out to avoid a cycle


@dataclass
class Answer:
    """One tool result: text (scrubbed, within the budget), maybe an image, error or not."""

    text: str
    image: EncodedImage | None = None
    is_error: bool = False

    @property
    def image_base64(self) -> str:
        return base64.b64encode(self.image.data).decode("ascii") if self.image else ""


Handler = Callable[[S, Mapping[str, Any]], Awaitable[Answer]]


@dataclass(frozen=True)
class Tool(Generic[S]):
    """One tool: what a client is told (name, description, input schema, read-only) and
    what runs when it is called."""

    name: str
    description: str
    input_schema: dict[str, Any]
    handler: Handler[S] = field(repr=False)
    read_only: bool = False
    capture_only: bool = False  # not a tool of @playwright/mcp (the schema test knows)

    def listed(self) -> types.Tool:
        """The tool as an MCP `Tool` object."""
        return types.Tool(
            name=self.name,
            description=self.description,
            input_schema=self.input_schema,
            annotations=types.ToolAnnotations(read_only_hint=self.read_only),
        )


def tool(
    name: str,
    description: str,
    *,
    required: tuple[str, ...] = (),
    read_only: bool = False,
    capture_only: bool = False,
    **parameters: dict[str, Any],
) -> Callable[[Handler[S]], Tool[S]]:
    """Declare a tool around its handler: `parameters` are JSON Schema properties."""

    def declare(handler: Handler[S]) -> Tool[S]:
        missing = set(required) - set(parameters)
        assert not missing, f"{name}: required parameters not declared: {missing}"
        return Tool(
            name,
            description,
            obj(list(required), **parameters),
            handler,
            read_only=read_only,
            capture_only=capture_only,
        )

    return declare


def string(description: str, *, enum: list[str] | None = None) -> dict[str, Any]:
    prop: dict[str, Any] = {"type": "string", "description": description}
    if enum is not None:
        prop["enum"] = enum
    return prop


def number(description: str) -> dict[str, Any]:
    return {"type": "number", "description": description}


def boolean(description: str) -> dict[str, Any]:
    return {"type": "boolean", "description": description}


def strings(description: str, *, enum: list[str] | None = None) -> dict[str, Any]:
    items: dict[str, Any] = {"type": "string"}
    if enum is not None:
        items["enum"] = enum
    return {"type": "array", "items": items, "description": description}


def obj(required: list[str], **properties: dict[str, Any]) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        schema["required"] = required
    return schema


TARGET = string("A ref from the latest response (e12, or f1e3 inside a frame), or a CSS selector")
ELEMENT = string("What the element is, in words (accepted, not needed)")
FILENAME = string("Accepted and ignored: capture answers in the response")
