"""`capture mcp`'s tools against `@playwright/mcp` 0.0.83's real schema.

tests/playwright_mcp_tools.json holds that package's tool names, parameter names and
required parameters (read with tools/list). The first tests check capture's tools against
it; the last checks it against the package itself, installed by `scripts/setup --test`
into .playwright-mcp/ (node and npm needed: without them the test is skipped, which
scripts/test reports as a failure).
"""

from __future__ import annotations

import json
import shutil
from typing import Any

import pytest
from mcp import Client, StdioServerParameters

from capture.mcp import TOOLS, tool_list
from tests.conftest import ROOT

EXTRACT = json.loads((ROOT / "tests" / "playwright_mcp_tools.json").read_text(encoding="utf-8"))
PACKAGE = ROOT / ".playwright-mcp" / "node_modules" / "@playwright" / "mcp"

# The tools the issue asks for, by Playwright MCP's names.
WANTED = {
    "browser_navigate", "browser_navigate_back", "browser_snapshot", "browser_click",
    "browser_type", "browser_fill_form", "browser_press_key", "browser_select_option",
    "browser_hover", "browser_drag", "browser_file_upload", "browser_take_screenshot",
    "browser_wait_for", "browser_tabs", "browser_handle_dialog", "browser_console_messages",
    "browser_network_requests", "browser_resize", "browser_close", "browser_find",
}  # fmt: skip


def _shape(schema: dict[str, Any]) -> tuple[list[str], list[str]]:
    return sorted(schema.get("required", [])), sorted(schema.get("properties", {}))


def test_every_wanted_tool_is_offered() -> None:
    assert {tool.name for tool in tool_list()} == WANTED


@pytest.mark.parametrize(("name", "schema"), [(t[0], t[2]) for t in TOOLS])
def test_names_and_parameters_are_playwright_mcps(name: str, schema: dict[str, Any]) -> None:
    """Same name, same required parameters, every one of its parameters accepted."""
    theirs = EXTRACT["tools"].get(name)
    assert theirs is not None, f"{name} is not a tool of @playwright/mcp {EXTRACT['version']}"
    required, properties = _shape(schema)
    assert required == theirs["required"]
    assert set(theirs["properties"]) <= set(properties)


def test_fill_form_fields_are_playwright_mcps() -> None:
    schema = dict((t[0], t[2]) for t in TOOLS)["browser_fill_form"]
    item = schema["properties"]["fields"]["items"]
    assert sorted(item["required"]) == ["name", "target", "type", "value"]
    enum = item["properties"]["type"]["enum"]
    assert enum == ["textbox", "checkbox", "radio", "combobox", "slider"]


@pytest.mark.slow
async def test_the_extract_is_the_packages_schema() -> None:
    """The committed extract is what the installed @playwright/mcp lists (tools/list)."""
    node = shutil.which("node")
    if node is None or not (PACKAGE / "cli.js").is_file():
        pytest.skip("@playwright/mcp is not installed (scripts/setup --test, needs node + npm)")
    version = json.loads((PACKAGE / "package.json").read_text(encoding="utf-8"))["version"]
    assert version == EXTRACT["version"]
    params = StdioServerParameters(command=node, args=[str(PACKAGE / "cli.js"), "--headless"])
    async with Client(params) as client:
        listed = await client.list_tools()
    live = {
        tool.name: dict(zip(("required", "properties"), _shape(tool.input_schema), strict=True))
        for tool in listed.tools
    }
    assert live == EXTRACT["tools"]
