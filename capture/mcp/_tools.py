"""The tool table: every tool `capture mcp` offers, in the order clients list them, and the
one entry that runs them.

Each tool is declared once, beside its handler (`_act`, `_look`); this table only lists them.
The listing (`tool_list`), the dispatch (`BrowserTools.call`) and the schema test against
`@playwright/mcp` all read it.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from mcp import types
from playwright.async_api import Error as PlaywrightError
from pydantic import ValidationError

from capture.errors import CaptureError
from capture.mcp import _act, _look
from capture.mcp._declare import Answer, Tool
from capture.mcp._outline import ToolError
from capture.mcp._state import BrowserState, one_line

__all__ = ["TOOLS", "BrowserTools", "tool_list"]

log = logging.getLogger(__name__)

TOOLS: tuple[Tool[BrowserState], ...] = (
    _act.navigate,
    _act.navigate_back,
    _look.snapshot,
    _act.click,
    _act.type_text,
    _act.fill_form,
    _act.press_key,
    _act.select_option,
    _act.hover,
    _act.drag,
    _act.file_upload,
    _look.take_screenshot,
    _act.wait_for,
    _look.tabs,
    _look.handle_dialog,
    _look.console_messages,
    _look.network_requests,
    _look.resize,
    _look.close,
    _look.find,
)
_BY_NAME = {tool.name: tool for tool in TOOLS}


def tool_list() -> list[types.Tool]:
    """The tools as MCP `Tool` objects."""
    return [tool.listed() for tool in TOOLS]


class BrowserTools(BrowserState):
    """The browser state of one MCP server, with the entry that runs its tools."""

    async def call(self, name: str, arguments: Mapping[str, Any] | None) -> Answer:
        """Run one tool; every failure is an error answer of one clear line, never a raise."""
        tool = _BY_NAME.get(name)
        if tool is None:
            return self.error(f"unknown tool {name!r}")
        async with self.lock:
            try:
                return await tool.handler(self, arguments or {})
            except ToolError as exc:
                return self.error(str(exc))
            except ValidationError as exc:
                first = exc.errors()[0]
                return self.error(f"bad argument: {first['msg']}")
            except (CaptureError, PlaywrightError, TimeoutError) as exc:
                return self.error(one_line(exc) if str(exc) else "timed out")
            except Exception as exc:  # a bug: the client still gets an answer, scrubbed
                reason = self.fit(f"{type(exc).__name__}: {one_line(exc)}")
                log.error("%s failed: %s", name, reason)
                return self.error(f"internal error in {name}: {reason}")
