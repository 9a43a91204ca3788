"""The shape docs/architecture.md promises, checked on the code itself (its imports and
calls, read with `ast`): no import circle, one entry that opens captures, one seam for
Playwright's internals, and every command in the package it commands."""

from __future__ import annotations

import ast
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


# Removed when the action engine lands: mcp's tools still reach the task runner's privates.
PRIVATE_IMPORTS_ALLOWED = {
    "capture.mcp._tools -> capture.tasks._runner",
    "capture.mcp._tools -> capture.tasks._schema",
    "capture.mcp._tools -> capture.tasks._steps",
}


def test_no_cross_package_private_imports() -> None:
    """A package uses another's public names (its `__init__`'s `__all__`, or a public
    module such as a command's `cli`), never its private modules."""
    imports = {name: _imports(name, tree) for name, (_, tree) in MODULES.items()}
    assert _private_reaches(imports) - PRIVATE_IMPORTS_ALLOWED == set()


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


# What opening a capture builds: only the entry builds them for a front door.
OPENERS = {
    "Recorder",
    "SyncRecorder",
    "AsyncSessionClient",
    "AsyncSessionClient.from_config",
    "SessionClient.from_config",
    "open_browser",
    "resolve_store",
    "serve_in_background",
}
# Where they may be called: the entry, and the pieces' own packages (a recorder face is
# built by its class; `open_browser` is the browser package's). The session commands
# (`capture values/parts/sessions`) and `agent-context` read and write a store directly:
# they open no capture.
ALLOWED = (
    "capture.entry",
    "capture.recorder",
    "capture.session",
    "capture.browser",
    "capture.store",
    "capture.agent.cli",
)


def test_only_the_entry_opens_captures() -> None:
    offenders = {
        f"{name}: {called}"
        for name, (_, tree) in MODULES.items()
        if not name.startswith(ALLOWED)
        for called in _calls(tree)
        if called in OPENERS
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
    "serve": "capture.store.cli",
    "values": "capture.session.cli",
    "parts": "capture.session.cli",
    "sessions": "capture.session.cli",
    "agent-context": "capture.agent.cli",
    "run": "capture.tasks.cli",
    "schema": "capture.tasks.cli",
    "demo": "capture.demo_site.cli",
    "record": "capture.live.cli",
    "snap": "capture.entry.cli",
}


@pytest.mark.parametrize(("command", "module"), sorted(COMMANDS.items()))
def test_each_command_lives_in_its_package(command: str, module: str) -> None:
    from capture.cli import app

    registered = {
        (c.name or c.callback.__name__.replace("_", "-")): c.callback
        for c in app.registered_commands
        if c.callback is not None
    }
    groups = {g.name: g.typer_instance for g in app.registered_groups}
    if command in groups:
        owner = groups[command].registered_commands[0].callback
    else:
        owner = registered[command]
    assert owner is not None
    assert owner.__module__ == module


def test_cli_only_registers() -> None:
    """capture/cli.py defines no command of its own: only `main` and the registrations."""
    _, tree = MODULES["capture.cli"]
    defined = [n.name for n in tree.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)]
    assert defined == ["main"]
