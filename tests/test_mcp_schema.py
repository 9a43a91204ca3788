"""`capture mcp`'s tool table against `@playwright/mcp` 0.0.83's real schema.

tests/playwright_mcp_tools.json holds that package's tools as tools/list gives them, boiled
down to what a client relies on: required parameters, and each parameter's type and enum
(and, for arrays and objects, what they hold). The first tests check capture's table against
it; the last checks it against the package itself, installed by `scripts/setup --test` into
.playwright-mcp/ (node and npm needed: without them the test is skipped, which scripts/test
reports as a failure).
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Mapping
from typing import Any

import pytest
from mcp import Client, StdioServerParameters

from capture.mcp import TOOLS, Answer, Tool, tool_list
from tests.conftest import ROOT

EXTRACT_PATH = ROOT / "tests" / "playwright_mcp_tools.json"
EXTRACT = json.loads(EXTRACT_PATH.read_text(encoding="utf-8"))
PACKAGE = ROOT / ".playwright-mcp" / "node_modules" / "@playwright" / "mcp"
CAPTURE_OWN = "capture's own"


def _kind(prop: Mapping[str, Any]) -> dict[str, Any]:
    """A parameter's types, enum and contents, the way a client validates against them."""
    if "anyOf" in prop:
        alternatives = [_kind(alt) for alt in prop["anyOf"]]
        found: dict[str, Any] = {"type": sorted({t for a in alternatives for t in a["type"]})}
        if enum := sorted({e for a in alternatives for e in a.get("enum", [])}):
            found["enum"] = enum
        return found
    kind = prop.get("type")
    found = {"type": sorted(kind) if isinstance(kind, list) else [kind] if kind else []}
    if "enum" in prop:
        found["enum"] = sorted(prop["enum"])
    if kind == "array":
        found["items"] = _kind(prop.get("items", {}))
    if kind == "object" and "properties" in prop:
        found.update(_shape(prop))
    return found


def _shape(schema: Mapping[str, Any]) -> dict[str, Any]:
    properties = schema.get("properties", {})
    return {
        "required": sorted(schema.get("required", [])),
        "properties": {name: _kind(properties[name]) for name in sorted(properties)},
    }


def _check(tools: tuple[Tool[Any], ...], theirs: Mapping[str, Any]) -> list[str]:
    """What differs between a tool table and @playwright/mcp's tools (empty: nothing)."""
    problems = []
    for tool in tools:
        known = tool.name in theirs
        if tool.capture_only:
            if known:
                problems.append(f"{tool.name} is said to be capture's own, yet Playwright has it")
            continue
        if not known:
            problems.append(f"{tool.name} is not a tool of @playwright/mcp {EXTRACT['version']}")
            continue
        ours, wanted = _shape(tool.input_schema), theirs[tool.name]
        if ours["required"] != wanted["required"]:
            problems.append(f"{tool.name} requires {ours['required']}, not {wanted['required']}")
        for name, kind in wanted["properties"].items():
            if ours["properties"].get(name) != kind:
                problems.append(f"{tool.name}.{name} is {ours['properties'].get(name)}, not {kind}")
        # A parameter Playwright does not have is optional and says it is capture's own, so
        # a client written for Playwright never needs it and a reader knows where it is from.
        for name in set(ours["properties"]) - set(wanted["properties"]):
            description = tool.input_schema["properties"][name].get("description", "")
            if name in ours["required"] or not description.startswith(CAPTURE_OWN):
                problems.append(
                    f"{tool.name}.{name} is not Playwright's: optional, {CAPTURE_OWN!r}"
                )
    return problems


def test_the_table_is_playwright_mcps() -> None:
    """Same names, same required parameters, every one of theirs accepted with its type and
    enum; a tool or a parameter of capture's own only where it says so."""
    assert _check(TOOLS, EXTRACT["tools"]) == []


async def _nothing(state: Any, args: Mapping[str, Any]) -> Answer:
    return Answer("")


@pytest.mark.parametrize(
    ("tool", "problem"),
    [
        (Tool("browser_peek", "", {}, _nothing), "not a tool of @playwright/mcp"),
        (Tool("browser_find", "", {}, _nothing, capture_only=True), "yet Playwright has it"),
        (
            Tool("browser_resize", "", _shape({"required": ["width"]}), _nothing),
            "requires ['width']",
        ),
        (
            Tool("browser_hover", "", {"required": ["target"], "properties": {}}, _nothing),
            "browser_hover.target is None",
        ),
        (
            Tool(
                "browser_console_messages",
                "",
                {"required": ["level"], "properties": {"level": {"type": "string"}}},
                _nothing,
            ),
            "browser_console_messages.level",
        ),
        (
            Tool(
                "browser_resize",
                "",
                _shape({"required": ["height", "width"]})
                | {
                    "properties": {
                        "width": {"type": "number"},
                        "height": {"type": "number"},
                        "zoom": {"type": "number", "description": "How much"},
                    }
                },
                _nothing,
            ),
            "browser_resize.zoom is not Playwright's",
        ),
    ],
)
def test_the_check_finds_what_differs(tool: Tool[Any], problem: str) -> None:
    """A made-up tool, a false claim of being capture's own, a wrong required list, a missing
    parameter, a missing enum and a parameter of capture's own that does not say so each
    fail the check above."""
    assert any(problem in found for found in _check((tool,), EXTRACT["tools"]))


def test_a_tool_of_capture_s_own_passes_when_it_says_so() -> None:
    assert _check((Tool("browser_peek", "", {}, _nothing, capture_only=True),), {}) == []


def test_every_tool_is_listed_once_with_its_declaration() -> None:
    listed = tool_list()
    assert [tool.name for tool in listed] == [tool.name for tool in TOOLS]
    assert len({tool.name for tool in TOOLS}) == len(TOOLS)
    for tool, entry in zip(TOOLS, listed, strict=True):
        assert entry.input_schema == tool.input_schema
        assert entry.description == tool.description
        assert entry.annotations is not None
        assert entry.annotations.read_only_hint == tool.read_only


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
    assert {tool.name: _shape(tool.input_schema) for tool in listed.tools} == EXTRACT["tools"]
