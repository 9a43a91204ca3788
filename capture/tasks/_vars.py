"""`${NAME}` substitution, and knowing which values are secret.

Resolution of a name, first hit wins: `--var NAME=...`; the environment variable named by the
var's `env`; the var's `value` (or the plain string in `vars`); for names declared without a
value or `env` (as `capture record` exports a secret) and names not declared in `vars`, the
environment variable of the same name. `--env-file` adds a dotenv file's variables to the
environment (those already set win). A value is secret when its var says `secret: true` or
when it came from the environment: secrets are shown as `${NAME}` in action texts and
summaries, and handed to the recorder for redaction. `$${` writes a literal `${`.

Every reference is checked before the browser starts, so an unset variable is a `file:line`
error, not a failure half-way through a run.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping, MutableMapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from capture.actions import REFERENCE, Vars
from capture.errors import TaskError, UsageError
from capture.tasks._schema import TaskFile, VarSpec

__all__ = ["load_env_file", "parse_var_options", "resolve_vars"]

_ENV_LINE = re.compile(r"^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$")


def _env_value(raw: str) -> str:
    """A dotenv value: quoted ('...' literal, "..." with \\n escapes) or bare (a ` #` starts
    a comment)."""
    raw = raw.strip()
    if len(raw) >= 2 and raw[0] == raw[-1] and raw[0] in "'\"":
        inner = raw[1:-1]
        return inner if raw[0] == "'" else inner.replace("\\n", "\n").replace('\\"', '"')
    return re.split(r"\s+#", raw, maxsplit=1)[0].strip()


def load_env_file(path: Path, environ: MutableMapping[str, str] | None = None) -> list[str]:
    """Add a dotenv file's `NAME=value` lines to the environment (a variable already set
    wins); returns the names it holds. A bad line is a usage error naming `file:line`,
    never its value."""
    environ = os.environ if environ is None else environ
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"--env-file {path}: {exc.strerror or exc}") from exc
    names: list[str] = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        match = _ENV_LINE.match(line.strip())
        if match is None:
            raise UsageError(f"{path}:{number}: not a NAME=value line")
        name = match.group(1)
        environ.setdefault(name, _env_value(match.group(2)))
        names.append(name)
    return names


_BROKEN = re.compile(r"(?<!\$)\$\{(?![A-Za-z_][A-Za-z0-9_]*\})")


def parse_var_options(items: list[str]) -> dict[str, str]:
    """`["K=V", ...]` from `--var` into a dict; a missing `=` is a clear error."""
    result: dict[str, str] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise UsageError(f"--var {item!r}: write it as NAME=VALUE")
        result[name.strip()] = value
    return result


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, BaseModel):
        for name in type(value).model_fields:
            yield from _strings(getattr(value, name))
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _strings(item)


def _references(text: str) -> Iterator[str]:
    for match in REFERENCE.finditer(text):
        if match.group(1):
            yield match.group(1)


def resolve_vars(
    task: TaskFile, overrides: Mapping[str, str] | None = None, env: Mapping[str, str] | None = None
) -> Vars:
    """Resolve every variable the task uses; `TaskError` with `file:line` for unset ones."""
    env = os.environ if env is None else env
    overrides = overrides or {}
    values: dict[str, str] = {}
    secret: set[str] = set()

    def lookup(name: str) -> bool:
        spec = task.vars.get(name)
        if isinstance(spec, str):
            spec = VarSpec(value=spec)
        if name in overrides:
            values[name] = overrides[name]
        elif spec is not None and spec.env and spec.env in env:
            values[name] = env[spec.env]
            secret.add(name)
        elif spec is not None and spec.value is not None:
            values[name] = spec.value
        elif (spec is None or not spec.env) and name in env:
            values[name] = env[name]
            secret.add(name)
        else:
            return False
        if spec is not None and spec.secret:
            secret.add(name)
        return True

    for name in [*task.vars, *overrides]:
        lookup(name)
    uses = [(task.line_of(key), str(getattr(task, key) or "")) for key in ("base_url", "thread")]
    uses += [(step.line, text) for step in task.steps for text in _strings(step)]
    missing: list[str] = []
    for line, text in uses:
        if _BROKEN.search(text):
            missing.append(f"{task.source}:{line}: '${{' without a NAME}}' in {text!r}")
        for name in _references(text):
            if name not in values and not lookup(name):
                spec = task.vars.get(name)
                if spec is None:
                    hint = (
                        f"give --var {name}=..., set ${name} in the environment, or add it to vars"
                    )
                elif isinstance(spec, VarSpec) and spec.env:
                    hint = f"give --var {name}=... or set ${spec.env} in the environment"
                else:
                    hint = (
                        f"declared without a value: set ${name} in the environment or an "
                        f"--env-file, or give --var {name}=..."
                    )
                missing.append(f"{task.source}:{line}: variable ${{{name}}} is not set ({hint})")
    if missing:
        raise TaskError("\n".join(dict.fromkeys(missing)))
    return Vars(values, frozenset(secret))
