"""Reading and writing task files, with `file:line` in every complaint.

The YAML is parsed twice from the same text: once into plain data (`safe_load`) and once into
a node tree whose marks give each mapping key and list item its line. A pydantic error's
location (`steps -> 3 -> click -> role`) is walked through the data to the deepest part that
exists, and that part's line goes in the message. So every invalid file fails before any
browser starts, naming the line a person has to fix.
"""

from __future__ import annotations

import difflib
import functools
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from capture.actions import STEP_KINDS, STEP_TYPES, StepBase
from capture.errors import TaskError
from capture.tasks._schema import TaskFile

__all__ = ["dump_task", "load_task", "parse_task"]

Path_ = tuple[str | int, ...]


def _line_map(node: yaml.Node, path: Path_, lines: dict[Path_, int]) -> None:
    """Record the 1-based line of every mapping key and sequence item under `node`."""
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            child = (*path, key.value if isinstance(key, yaml.ScalarNode) else str(key.value))
            lines.setdefault(child, key.start_mark.line + 1)
            _line_map(value, child, lines)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            lines[(*path, index)] = item.start_mark.line + 1
            _line_map(item, (*path, index), lines)


def _existing_path(data: Any, loc: tuple[str | int, ...]) -> Path_:
    """The longest prefix of a pydantic error location that exists in the data.

    Locations carry extra parts (union tags, validator names) that are not in the data;
    they are skipped.
    """
    path: list[str | int] = []
    here = data
    for part in loc:
        in_list = isinstance(here, list) and isinstance(part, int) and 0 <= part < len(here)
        if in_list or (isinstance(here, dict) and part in here):
            here = here[part]
            path.append(part)
    return tuple(path)


def _dotted(path: Path_) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(top level)"


class _Problems:
    """Collects `file:line: where: what` lines; raises one TaskError with all of them."""

    def __init__(self, source: str, lines: dict[Path_, int]) -> None:
        self.source = source
        self.lines = lines
        self.items: list[tuple[int, str]] = []

    def add(self, path: Path_, message: str) -> None:
        line = self.lines.get(path, 0)
        probe = path
        while not line and probe:
            probe = probe[:-1]
            line = self.lines.get(probe, 0)
        self.items.append((line or 1, f"{_dotted(path)}: {message}"))

    def raise_if_any(self) -> None:
        if not self.items:
            return
        self.items.sort(key=lambda item: item[0])
        text = "\n".join(f"{self.source}:{line}: {what}" for line, what in self.items)
        count = len(self.items)
        head = "invalid task file" + (f" ({count} problems)" if count > 1 else "")
        raise TaskError(f"{head}:\n{text}" if count > 1 else f"{text}")


def _check_step_kinds(data: dict[str, Any], problems: _Problems) -> set[int]:
    """Name unknown or doubled step kinds plainly (pydantic would only say 'no tag').

    Returns the indices of the steps reported, so their other errors are not piled on.
    """
    steps = data.get("steps")
    if not isinstance(steps, list):
        return set()
    bad: set[int] = set()
    for index, step in enumerate(steps):
        path: Path_ = ("steps", index)
        kinds = [key for key in step if key in STEP_TYPES] if isinstance(step, dict) else []
        if len(kinds) != 1:
            bad.add(index)
        if not isinstance(step, dict):
            problems.add(path, f"a step is a mapping like '- click: \"#buy\"', not {step!r}")
            continue
        if len(kinds) > 1:
            problems.add(path, f"one step with {len(kinds)} kinds ({', '.join(kinds)}): split it")
        elif not kinds:
            unknown = [str(key) for key in step if key not in StepBase.model_fields]
            if not unknown:
                problems.add(path, f"missing the step kind: one of {', '.join(STEP_KINDS)}")
                continue
            near = difflib.get_close_matches(unknown[0], STEP_KINDS, n=1)
            hint = f" (did you mean '{near[0]}'?)" if near else f"; known: {', '.join(STEP_KINDS)}"
            problems.add((*path, unknown[0]), f"unknown step kind '{unknown[0]}'{hint}")
    return bad


def _message(err: Any) -> str:
    kind = err["type"]
    if kind == "missing":
        return f"missing required field '{err['loc'][-1]}'"
    if kind == "extra_forbidden":
        field = str(err["loc"][-1])
        near = difflib.get_close_matches(field, _field_names(), n=1)
        return f"unknown field '{field}'" + (f" (did you mean '{near[0]}'?)" if near else "")
    message = str(err["msg"]).removeprefix("Value error, ")
    if "input" in err and kind not in ("value_error", "assertion_error") and "type" in kind:
        message += f" (got {type(err['input']).__name__} {err['input']!r})"
    return message


@functools.cache
def _field_names() -> list[str]:
    """Every field name a task file may use anywhere (the JSON Schema's properties, by
    their YAML names): what a misspelt one is matched against."""
    schema = TaskFile.model_json_schema()
    names: set[str] = set()
    for part in [schema, *schema.get("$defs", {}).values()]:
        names.update(part.get("properties", {}))
    return sorted(names)


def parse_task(text: str, source: str = "<string>") -> TaskFile:
    """Validate task-file YAML; raise `TaskError` with `source:line: where: what` lines."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        line = mark.line + 1 if mark is not None else 1
        what = getattr(exc, "problem", None) or str(exc)
        context = getattr(exc, "context", None)
        if context and (start := getattr(exc, "context_mark", None)) is not None:
            what += f" ({context} at line {start.line + 1})"
        raise TaskError(f"{source}:{line}: not valid YAML: {what}") from None
    lines: dict[Path_, int] = {}
    if node is not None:
        _line_map(node, (), lines)
    problems = _Problems(source, lines)
    if not isinstance(data, dict):
        problems.add((), "a task file is a mapping with name, steps and (usually) base_url")
        problems.raise_if_any()
    bad_steps = _check_step_kinds(data, problems)
    try:
        task = TaskFile.model_validate(data)
    except ValidationError as exc:
        found: list[tuple[Path_, Any]] = []
        for err in exc.errors():
            loc = err["loc"]
            if loc[:1] == ("steps",) and len(loc) > 1:
                if loc[1] in bad_steps:
                    continue  # already named by _check_step_kinds
                loc = loc[:2] + loc[3:]  # drop the union tag (the step kind)
            if err["type"] == "relative_goto":
                loc = ("steps", err["ctx"]["step"], "goto")
            path = _existing_path(data, loc)
            if err["type"] == "missing":
                path = (*path, str(loc[-1]))
            found.append((path, err))
        for path, err in found:
            # In a union (`str | VarSpec`) the member that fits the shape has the useful
            # error; "should be a valid string" beside it is noise.
            deeper = any(p[: len(path)] == path and len(p) > len(path) for p, _ in found)
            if not (deeper and str(err["type"]).endswith("_type")):
                problems.add(path, _message(err))
        problems.raise_if_any()
        raise TaskError(f"{source}: invalid task file: {exc}") from exc
    problems.raise_if_any()
    for index, step in enumerate(task.steps):
        step._line = lines.get(("steps", index), 0)
    task._source = source
    task._lines = lines
    return task


def load_task(path: str | Path) -> TaskFile:
    """Read and validate a task file; every error names `path:line`."""
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise TaskError(f"task file {file} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise TaskError(f"cannot read task file {file}: {exc}") from exc
    return parse_task(text, str(file))


class _Flow(dict[str, Any]):
    """A mapping written on one line (`{role: button, name: Save}`)."""


class _Dumper(yaml.SafeDumper):
    pass


_Dumper.add_representer(
    _Flow, lambda dumper, data: dumper.represent_mapping("tag:yaml.org,2002:map", data, True)
)


def _compact_step(step: StepBase) -> dict[str, Any]:
    """One step as a person would write it: defaults left out, scalar shorthand when it fits."""
    data = step.model_dump(mode="json", exclude_defaults=True, exclude_none=True)
    args = data.pop(step.kind)
    if isinstance(args, dict):
        fits = step.shorthand and list(args) == [step.shorthand]
        args = args[step.shorthand] if fits else _Flow(args)
    return {step.kind: args, **data}


def dump_task(task: TaskFile) -> str:
    """The task as YAML text that `parse_task` reads back to an equal task."""
    head = task.model_dump(mode="json", exclude_defaults=True, exclude_none=True)
    if task.base_url:
        head["base_url"] = task.base_url
    head["steps"] = [_compact_step(step) for step in task.steps]
    if "viewport" in head:
        head["viewport"] = _Flow(head["viewport"])
    if "vars" in head:
        head["vars"] = {k: _Flow(v) if isinstance(v, dict) else v for k, v in head["vars"].items()}
    ordered = {key: head[key] for key in TaskFile.model_fields if key in head}
    text: str = yaml.dump(ordered, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100)
    return text
