"""The shape docs/architecture.md promises, checked on the code itself (its imports and
calls, read with `ast`) against what the page states: its floors table, who builds what,
its command table, the module size limit; and no import circle, no reach into another
package's private modules, one seam for Playwright's internals."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = (ROOT / "capture", ROOT / "capture_pytest")


def _modules() -> Iterator[tuple[str, Path, ast.Module]]:
    for package in PACKAGES:
        for path in sorted(package.rglob("*.py")):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            yield ".".join(parts), path, ast.parse(path.read_text(encoding="utf-8"))


MODULES = {name: (path, tree) for name, path, tree in _modules()}
DOC = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
MAX_LINES = 500


def _table(title: str) -> list[list[str]]:
    """The body rows of the first table under the page's `## title` heading."""
    section = DOC.split(f"\n## {title}\n", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("|")]
    return [[cell.strip() for cell in row.strip("|").split("|")] for row in rows[2:]]


def _code(cell: str) -> list[str]:
    return re.findall(r"`([^`]+)`", cell)


def _modules_named(cell: str) -> list[str]:
    """The page's `tasks/`, `cli.py`, `agent/cli.py`, `capture_pytest/` as module names."""
    found = []
    for path in _code(cell):
        parts = path.removesuffix("/").removesuffix(".py").split("/")
        if parts == ["__init__"]:
            found.append("capture")
        elif parts[0] == "capture_pytest":
            found.append(".".join(parts))
        else:
            found.append(".".join(["capture", *parts]))
    return found


def _within(module: str, named: str) -> bool:
    """Whether `module` is the page's `named` module or package (the root only as itself)."""
    return module == named or (named != "capture" and module.startswith(f"{named}."))


FLOORS = [(row[0], _modules_named(row[1])) for row in _table("The floors")]


def _floor(module: str) -> int:
    """The floor of a module, 0 at the top; the most specific entry of the table wins."""
    found = [
        (len(named), number)
        for number, (_, names) in enumerate(FLOORS)
        for named in names
        if _within(module, named)
    ]
    assert found, f"{module} is on no floor of docs/architecture.md"
    return max(found)[1]


def test_the_floors_table_is_read() -> None:
    assert [floor for floor, _ in FLOORS] == ["front doors", "the entry", "the pieces", "ground"]


def test_every_module_is_on_a_floor() -> None:
    for name in MODULES:
        _floor(name)


def _upward(imports: dict[str, set[str]]) -> set[str]:
    """`importer (floor) -> module (floor)` for every import of a higher floor."""
    return {
        f"{name} ({FLOORS[_floor(name)][0]}) -> {target} ({FLOORS[_floor(target)][0]})"
        for name, targets in imports.items()
        for target in targets
        if _floor(target) < _floor(name)
    }


def test_imports_go_down_the_floors() -> None:
    """A module imports only from its own floor or below, lazy imports included."""
    assert _upward({name: _imports(name, tree) for name, (_, tree) in MODULES.items()}) == set()


def test_the_floor_check_finds_an_upward_import() -> None:
    """The check above can fail: a piece importing a front door, or the ground the entry."""
    imports = {
        "capture.session._core": {"capture.tasks._runner", "capture.config"},
        "capture.errors": {"capture.entry"},
        "capture.tasks._runner": {"capture.actions", "capture.entry"},
    }
    assert _upward(imports) == {
        "capture.session._core (the pieces) -> capture.tasks._runner (front doors)",
        "capture.errors (ground) -> capture.entry (the entry)",
    }


def test_no_module_is_over_the_size_limit() -> None:
    """A module a newcomer can read in one sitting: split by concern before it grows."""
    long = {
        f"{name}: {len(path.read_text(encoding='utf-8').splitlines())} lines"
        for name, (path, _) in MODULES.items()
        if len(path.read_text(encoding="utf-8").splitlines()) > MAX_LINES
    }
    assert long == set()
    assert f"No module of `capture/` grows past {MAX_LINES} lines" in DOC


def _imports(name: str, tree: ast.Module) -> set[str]:
    """The capture modules `name` imports, at any depth (lazy imports are imports too)."""
    found: set[str] = set()
    package = name if MODULES[name][0].name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(
                    [*package.split(".")[: len(package.split(".")) - node.level + 1], base]
                )
            targets = [f"{base}.{alias.name}" for alias in node.names] + [base]
        else:
            continue
        for target in targets:  # every name: `from pkg import a, _b` imports `pkg._b` too
            while target and target not in MODULES:
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    return found


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in graph:
        if node not in index:
            visit(node)
    return found


def test_no_import_circle() -> None:
    # A package's __init__ re-exporting its own submodules is not a circle of the code.
    graph = {
        name: {t for t in _imports(name, tree) if not name.startswith(f"{t}.")}
        for name, (_, tree) in MODULES.items()
    }
    assert _cycles(graph) == []


def test_the_circle_check_finds_a_circle() -> None:
    """The check above can fail: two modules importing each other are a circle."""
    assert _cycles({"a": {"b"}, "b": {"a"}, "c": {"a"}}) == [["a", "b"]]


def _private_reaches(imports: dict[str, set[str]]) -> set[str]:
    """`importer -> module` for every module of a package `capture.<pkg>` with a private
    part (`capture.<pkg>._x`, `capture.<pkg>.sub._y`) imported from outside that package."""
    found = set()
    for importer, targets in imports.items():
        for target in targets:
            parts = target.split(".")
            if parts[0] != "capture" or len(parts) < 3:
                continue
            owner = ".".join(parts[:2])
            inside = importer == owner or importer.startswith(f"{owner}.")
            if not inside and any(part.startswith("_") for part in parts[2:]):
                found.add(f"{importer} -> {target}")
    return found


def test_no_cross_package_private_imports() -> None:
    """A package uses another's public names (its `__init__`'s `__all__`, or a public
    module such as a command's `cli`), never its private modules."""
    imports = {name: _imports(name, tree) for name, (_, tree) in MODULES.items()}
    assert _private_reaches(imports) == set()


def test_the_private_import_check_finds_one() -> None:
    """The check above can fail: a package reaching into another's private module (or a
    private module of its subpackage) is found; its own private modules and public names
    of other packages are not."""
    imports = {
        "capture.live.cli": {"capture.session._ids", "capture.live._recording", "capture.entry"},
        "capture.entry": {"capture.recorder.observe._outline", "capture.recorder.observe"},
        "capture_pytest": {"capture.pytest_plugin._tasks", "capture.pytest_plugin.tasks"},
    }
    assert _private_reaches(imports) == {
        "capture.live.cli -> capture.session._ids",
        "capture.entry -> capture.recorder.observe._outline",
        "capture_pytest -> capture.pytest_plugin._tasks",
    }


def _calls(tree: ast.Module) -> Iterator[str]:
    """The names called in `tree`: `Recorder(...)` and `SessionClient.from_config(...)` alike."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
                yield f"{func.value.id}.{func.attr}"
                yield func.attr
            elif isinstance(func, ast.Name):
                yield func.id


def test_only_the_entry_opens_captures() -> None:
    """Each builder in the page's "Who builds what" table is called only where it says."""
    rows = _table("Who builds what")
    assert rows, "docs/architecture.md has no 'Who builds what' table"
    allowed = {name: _modules_named(where) for what, where in rows for name in _code(what)}
    offenders = {
        f"{name}: {called}"
        for name, (_, tree) in MODULES.items()
        for called in _calls(tree)
        if called in allowed and not any(_within(name, m) for m in allowed[called])
    }
    assert offenders == set(), "open captures through capture.entry.open_capture"


def _strings(tree: ast.Module) -> set[str]:
    return {
        n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)
    }


def test_the_front_door_rules_live_in_the_entry() -> None:
    """A door (a module that opens captures through the entry) takes its config, its store
    choice and its thread-id check from `capture.entry` (`door_config`, `store_choice`,
    `check_thread`) and restates none of them."""
    doors = {
        name: tree
        for name, (_, tree) in MODULES.items()
        if not name.startswith("capture.entry")
        and any(t.startswith("capture.entry") for t in _imports(name, tree))
    }
    assert "capture.mcp.cli" in doors
    assert "capture.pytest_plugin._plugin" in doors
    restated = {
        f"{name}: {what}"
        for name, tree in doors.items()
        for what in ({"config_from", "check_thread_id"} & set(_calls(tree)))
        | ({"required", "fallback"} & _strings(tree))
    }
    assert restated == set(), "use capture.entry's door_config, store_choice and check_thread"


PRIVATE = {"_impl_obj", "_sync", "_actual_locator", "listeners"}
SEAM = "capture.browser._internals"


def _private_names(tree: ast.Module) -> set[str]:
    names = {n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute)}
    names |= {
        n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)
    }
    return names & PRIVATE


def test_one_module_touches_playwrights_internals() -> None:
    touching = {name for name, (_, tree) in MODULES.items() if _private_names(tree)}
    assert touching == {SEAM}


COMMANDS = {
    command: module
    for cell, where in _table("The commands")
    for command in _code(cell)
    for module in _modules_named(where)
}


def test_the_command_table_is_every_command() -> None:
    from capture.cli import COMMANDS as REGISTERED

    assert set(COMMANDS) == set(REGISTERED)
    assert "mcp" in COMMANDS


@pytest.mark.parametrize(("command", "module"), sorted(COMMANDS.items()))
def test_each_command_lives_in_its_package(command: str, module: str) -> None:
    import importlib

    import typer

    from capture.cli import COMMANDS as REGISTERED

    where, _, name = REGISTERED[command].partition(":")
    assert where == module
    owner = getattr(importlib.import_module(where), name)
    if isinstance(owner, typer.Typer):
        owner = owner.registered_commands[0].callback
    assert owner.__module__ == module


def test_cli_only_registers() -> None:
    """capture/cli.py defines no command of its own: only `main` and the registrations."""
    _, tree = MODULES["capture.cli"]
    defined = [n.name for n in tree.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)]
    assert defined == ["main"]
