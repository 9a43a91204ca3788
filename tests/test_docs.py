"""The docs are checked: every CLI command and every config key is documented, and the
examples in README.md and docs/ use commands, options and Python names that exist."""

from __future__ import annotations

import ast
import dataclasses
import importlib
import inspect
import re
import shlex
import typing
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pydantic
import typer.main

from capture.cli import app
from capture.config import Config

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.M | re.S)


def _examples(*languages: str) -> Iterator[tuple[str, str, str]]:
    """(file name, language, code) of the fenced blocks in `languages` in README.md and docs/."""
    for path in [ROOT / "README.md", *sorted(DOCS.glob("*.md"))]:
        for match in FENCE.finditer(path.read_text()):
            if match.group(1) in languages:
                yield path.name, match.group(1), match.group(2)


def _walk(command: Any, prefix: str = "capture") -> Iterator[tuple[str, Any]]:
    """(path, command) for the command and every subcommand (typer vendors click's types)."""
    yield prefix, command
    for name, sub in (getattr(command, "commands", None) or {}).items():
        yield from _walk(sub, f"{prefix} {name}")


def test_every_cli_command_is_documented() -> None:
    text = (DOCS / "cli.md").read_text()
    paths = [path for path, _ in _walk(typer.main.get_command(app))][1:]
    assert {"capture values set", "capture parts image", "capture sessions"} <= set(paths)
    missing = [path for path in paths if f"`{path}" not in text]
    assert not missing, f"undocumented in docs/cli.md: {missing}"


def test_every_cli_option_is_documented() -> None:
    text = (DOCS / "cli.md").read_text()
    missing = []
    for path, command in _walk(typer.main.get_command(app)):
        for param in command.params:
            if param.param_type_name != "option":
                continue
            for opt in param.opts:
                if opt.startswith("--") and opt != "--help" and f"`{opt}" not in text:
                    missing.append(f"{path} {opt}")
    assert not missing, f"options undocumented in docs/cli.md: {sorted(set(missing))}"


def test_every_config_key_is_documented() -> None:
    text = (DOCS / "config.md").read_text()
    missing = []
    for section, field in Config.model_fields.items():
        assert field.annotation is not None
        if f"`[{section}]`" not in text:
            missing.append(f"[{section}]")
        for key in field.annotation.model_fields:
            if f"| `{key}` |" not in text:
                missing.append(f"{section}.{key}")
    assert not missing, f"undocumented in docs/config.md: {missing}"


def test_every_task_step_kind_and_target_key_is_documented() -> None:
    from capture.actions import STEP_KINDS, DragArgs, FrameSpec, Target

    text = (DOCS / "tasks.md").read_text()
    first_cells = [line.split("|")[1] for line in text.splitlines() if line.startswith("| `")]
    missing = [k for k in STEP_KINDS if not any(f"`{k}`" in cell for cell in first_cells)]
    keys = [*Target.model_fields, *FrameSpec.model_fields, "from", *DragArgs.model_fields]
    missing += [key for key in keys if key != "from_" and f"`{key}" not in text]
    assert not missing, f"undocumented in docs/tasks.md: {missing}"


def test_cli_examples_use_real_commands_and_options() -> None:
    root = typer.main.get_command(app)
    problems, seen = [], 0
    for where, language, code in _examples("console", "sh"):
        for line in code.splitlines():
            if language == "console" and not line.startswith("$ "):
                continue  # output
            words = shlex.split(line.removeprefix("$ "), comments=True)
            if "--" in words:  # another tool's command line running ours after its `--`
                words = words[words.index("--") + 1 :]
            if "capture" not in words:
                continue
            seen += 1
            command, path = root, "capture"
            words = words[words.index("capture") + 1 :]
            while words and words[0] in (getattr(command, "commands", None) or {}):
                path += " " + words[0]
                command = command.commands[words.pop(0)]  # type: ignore[attr-defined]
            if path == "capture":
                problems.append(f"{where}: {line!r} names no command")
            options = {opt for param in command.params for opt in param.opts}
            for word in words:
                if word.startswith("-") and word.split("=")[0] not in options:
                    problems.append(f"{where}: {line!r}: {path} has no option {word}")
    assert seen >= 10
    assert not problems, "\n".join(problems)


@dataclasses.dataclass
class _Instance:
    """What an example variable holds, when the example shows it: an instance of `cls`."""

    cls: type


@dataclasses.dataclass
class _Method:
    """A method looked up on an example's instance: called with `self` first."""

    function: Any


def _returns(obj: Any) -> _Instance | None:
    """The instance a call of `obj` makes: a class, a classmethod (`from_config`), or a
    function annotated to return a class."""
    if isinstance(obj, _Method):
        obj = obj.function
    if isinstance(obj, type):
        return _Instance(obj)
    if inspect.ismethod(obj) and isinstance(obj.__self__, type):
        return _Instance(obj.__self__)
    try:
        hint = typing.get_type_hints(obj).get("return")
    except Exception:  # no hints, or one that only resolves under TYPE_CHECKING
        return None
    return _Instance(hint) if isinstance(hint, type) else None


class _Example:
    """Follows the names of one Python example: what it imported and what it built."""

    def __init__(self, where: str, problems: list[str]) -> None:
        self.where, self.problems = where, problems
        self.names: dict[str, Any] = {}
        self.calls = 0

    def lookup(self, node: ast.expr) -> Any:
        """The object `node` evaluates to, an `_Instance`, a `_Method`, or None (unknown)."""
        if isinstance(node, ast.Await):
            return self.lookup(node.value)
        if isinstance(node, ast.Call):
            return _returns(self.lookup(node.func))
        if isinstance(node, ast.Name):
            return self.names.get(node.id)
        if not isinstance(node, ast.Attribute) or (base := self.lookup(node.value)) is None:
            return None
        if not isinstance(base, _Instance):
            return getattr(base, node.attr, None)
        cls = base.cls
        if (dataclasses.is_dataclass(cls) or issubclass(cls, pydantic.BaseModel)) and not (
            hasattr(cls, node.attr) or node.attr in typing.get_type_hints(cls)
        ):  # only classes that declare their fields can be checked for a missing one
            self.problems.append(f"{self.where}: {cls.__name__} has no {node.attr!r}")
        attr = getattr(cls, node.attr, None)
        return _Method(attr) if inspect.isfunction(attr) else None

    def check_call(self, node: ast.Call) -> None:
        """Bind the call's arguments to the real signature of a capture callable."""
        callee = self.lookup(node.func)
        positional = len(node.args)
        if isinstance(callee, _Method):
            callee, positional = callee.function, positional + 1
        if not callable(callee) or not getattr(callee, "__module__", "").startswith("capture"):
            return
        if any(isinstance(a, ast.Starred) for a in node.args):
            return
        keywords = {k.arg: None for k in node.keywords if k.arg is not None}
        try:
            inspect.signature(callee).bind(*range(positional), **keywords)
        except TypeError as exc:
            self.problems.append(f"{self.where}: {ast.unparse(node)}: {exc}")
        self.calls += 1

    def run(self, tree: ast.Module) -> None:
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module:
                module = importlib.import_module(node.module)
                for alias in node.names:
                    if not hasattr(module, alias.name):
                        self.problems.append(f"{self.where}: {node.module} has no {alias.name}")
                    self.names[alias.asname or alias.name] = getattr(module, alias.name, None)
        for node in sorted(ast.walk(tree), key=lambda n: getattr(n, "lineno", 0)):
            if isinstance(node, ast.withitem) and isinstance(node.optional_vars, ast.Name):
                self.names[node.optional_vars.id] = self.lookup(node.context_expr)
            elif isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
                self.names[node.targets[0].id] = self.lookup(node.value)
            elif isinstance(node, ast.Attribute):
                self.lookup(node)
            elif isinstance(node, ast.Call):
                self.check_call(node)


def test_python_examples_use_real_names_and_signatures() -> None:
    """Imports resolve; calls of capture's functions and classes, and methods of the objects
    an example builds, bind to the real signatures; dataclass and model fields exist."""
    problems: list[str] = []
    calls = 0
    for where, _, code in _examples("python"):
        flags = ast.PyCF_ONLY_AST | ast.PyCF_ALLOW_TOP_LEVEL_AWAIT
        example = _Example(where, problems)
        example.run(compile(code, where, "exec", flags=flags))
        calls += example.calls
    assert calls >= 20
    assert not problems, "\n".join(dict.fromkeys(problems))
