"""The task-file schema: a name, a base URL, variables and a list of steps.

The steps are the action engine's models (`capture.actions`): a mapping with exactly one
*kind* key whose value holds the step's arguments, a target named by one key (`css`, `text`,
`role` + `name`, `test_id`, `label`, `placeholder`, or an observation's `ref`), and scalar
shorthands (`goto: /cart`, `press: Enter`). These models are the one definition of the
format: the loader validates against them, the runner executes them, `capture schema task`
prints their JSON Schema, and live recording exports them (`dump_task`).
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any, Self

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from capture.actions import Duration, Step, Text
from capture.config import CaptureConfig

__all__ = ["TaskFile", "VarSpec", "Viewport"]

_VAR_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Viewport(_Model):
    width: int = Field(ge=200, le=7680)
    height: int = Field(ge=200, le=4320)


class VarSpec(_Model):
    """A variable with more than a value: where else it may come from, and whether it is secret.

    Resolution: `--var NAME=...` first, then the environment variable named by `env`, then
    `value`. A secret's value is masked in action texts and output and joins the recorder's
    redaction list; a value read from the environment is always treated as secret.
    """

    value: Text | None = Field(None, description="the default value")
    env: str | None = Field(None, description="read this environment variable when set")
    secret: bool = Field(False, description="mask it everywhere (passwords, tokens)")
    description: str | None = None


_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")


def _is_relative_url(url: str) -> bool:
    """Whether `url` needs a base URL: not `scheme:...`, and not a variable that may hold one."""
    return not (_SCHEME.match(url) or url.startswith("${"))


class TaskFile(_Model):
    """A scripted browser task: `capture run TASK.yaml` runs its steps, capturing each."""

    name: str = Field(min_length=1, description="the task's name (run record, summaries)")
    base_url: Text = Field(
        "",
        description="relative goto URLs resolve against it; may use ${VARS}; optional when "
        "every goto is an absolute URL",
    )
    description: str | None = None
    thread: str | None = Field(None, description="the thread to capture into (--thread wins)")
    viewport: Viewport | None = Field(None, description="the browser viewport in CSS pixels")
    timeout: Duration = Field(timedelta(seconds=10), description="default per-step time limit")
    capture: dict[str, Any] = Field(
        default_factory=dict,
        description="overrides of the [capture] config section for this task",
    )
    vars: dict[str, Text | VarSpec] = Field(
        default_factory=dict, description="${NAME} values: a string, or a spec with secret/env"
    )
    steps: list[Step] = Field(min_length=1)

    _source: str = PrivateAttr("<task>")
    _lines: dict[tuple[str | int, ...], int] = PrivateAttr(default_factory=dict)

    @property
    def source(self) -> str:
        """Where the task came from (a path, or `<string>`), for `file:line` messages."""
        return self._source

    def line_of(self, *path: str | int) -> int:
        """The line of a key in the task file (`line_of("base_url")`); 0 when unknown."""
        return self._lines.get(path, 0)

    @field_validator("vars")
    @classmethod
    def _var_names(cls, value: dict[str, str | VarSpec]) -> dict[str, str | VarSpec]:
        for name in value:
            if not _VAR_NAME.match(name):
                raise ValueError(f"{name!r} is not a variable name (letters, digits, _)")
        return value

    @field_validator("capture")
    @classmethod
    def _capture_options(cls, value: dict[str, Any]) -> dict[str, Any]:
        try:
            CaptureConfig.model_validate(value)
        except ValidationError as exc:
            problems = [
                f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()
            ]
            raise ValueError("; ".join(problems)) from None
        return value

    @model_validator(mode="after")
    def _relative_gotos_need_a_base(self) -> Self:
        if not self.base_url:
            for number, step in enumerate(self.steps, 1):
                if step.kind == "goto" and _is_relative_url(step.args.url):
                    # `step` in the context lets the loader name the step's own line.
                    raise PydanticCustomError(
                        "relative_goto",
                        "step {number} goes to '{url}', a path: give the task a base_url, or "
                        "the step an absolute URL",
                        {"step": number - 1, "number": number, "url": step.args.url},
                    )
        return self

    def capture_config(self, base: CaptureConfig) -> CaptureConfig:
        """The `[capture]` config with this task's overrides applied."""
        if not self.capture:
            return base
        return CaptureConfig.model_validate({**base.model_dump(), **self.capture})
