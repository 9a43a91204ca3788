"""The task-file schema: a name, a base URL, variables and a list of steps.

A step is a mapping with exactly one *kind* key (`click`, `fill`, ...) whose value holds the
step's arguments, plus optional common keys (`timeout`). Steps that act on an element name it
with one *target* key: `css`, `text`, `role` (+ `name`), `test_id`, `label`, `placeholder`, or
`ref` (an element ref such as `e12` from an observation, so an agent can write steps straight
from what it was shown). Scalar shorthands keep hand-written files short: `goto: /cart`,
`click: "#buy"` (a CSS selector), `press: Enter`, `scroll: 600`, `capture: cart`, `sleep: 1s`.

These models are the one definition of the format: the loader validates against them, the
runner executes them, `capture schema task` prints their JSON Schema, and live recording
exports them (`dump_task`).
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated, Any, ClassVar, Literal, Self, cast

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    PlainSerializer,
    PrivateAttr,
    Tag,
    ValidationError,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from capture.config import CaptureConfig, parse_duration

__all__ = [
    "STEP_KINDS",
    "CaptureArgs",
    "CaptureStep",
    "CheckStep",
    "ClickStep",
    "ExpectArgs",
    "ExpectStep",
    "FillArgs",
    "FillStep",
    "GotoArgs",
    "GotoStep",
    "HoverStep",
    "PressArgs",
    "PressStep",
    "ScrollArgs",
    "ScrollStep",
    "SelectArgs",
    "SelectStep",
    "SleepStep",
    "Step",
    "StepBase",
    "Target",
    "TaskFile",
    "TypeStep",
    "UncheckStep",
    "UploadArgs",
    "UploadStep",
    "VarSpec",
    "Viewport",
    "WaitForArgs",
    "WaitForStep",
    "format_duration",
]

TARGET_KEYS = ("css", "text", "role", "test_id", "label", "placeholder", "ref")
_VAR_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_REF = re.compile(r"^(f\d+)?e\d+$")  # the observation's refs: e12, or f1e3 inside a frame


def format_duration(value: timedelta) -> str:
    """`timedelta(seconds=1.5)` -> `"1.5s"`, the way a person writes it in a task file."""
    ms = round(value.total_seconds() * 1000)
    if ms % 1000:
        return f"{ms}ms"
    return f"{ms // 1000}s"


Duration = Annotated[
    timedelta,
    BeforeValidator(parse_duration),
    PlainSerializer(format_duration, return_type=str),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "pattern": r"^\s*\d+(\.\d+)?\s*(ms|s|m|h|d)?\s*$"},
                {"type": "number", "minimum": 0},
            ],
            "description": "a duration: '250ms', '2s', '1m', or a number of seconds",
        }
    ),
]


def _scalar_text(value: Any) -> Any:
    """YAML reads `qty: 2` as an int; a typed value is text either way."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return value


Text = Annotated[
    str,
    BeforeValidator(_scalar_text),
    WithJsonSchema({"type": ["string", "number", "boolean"]}),
]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


# -- targets ------------------------------------------------------------------------------


class Target(_Model):
    """Which element a step acts on: exactly one of the target keys.

    Strict like Playwright: a target that matches several elements is an error naming the
    count; `nth` picks one (0-based, -1 for the last).
    """

    css: str | None = Field(None, description="a CSS selector (Playwright selector syntax)")
    text: Text | None = Field(None, description="the element's visible text")
    role: str | None = Field(None, description="an ARIA role: button, link, textbox, ...")
    name: Text | None = Field(None, description="the accessible name (with `role`)")
    test_id: str | None = Field(None, description="the element's data-testid")
    label: Text | None = Field(None, description="the text of the form field's label")
    placeholder: Text | None = Field(None, description="the input's placeholder")
    ref: str | None = Field(None, description="an element ref from an observation, e.g. e12")
    exact: bool = Field(False, description="match text/name/label exactly (case-sensitive)")
    nth: int | None = Field(None, description="pick the n-th match (0-based; -1 = last)")

    target_required: ClassVar[bool] = True

    @field_validator("ref")
    @classmethod
    def _ref_shape(cls, value: str | None) -> str | None:
        if value is not None and not _REF.match(value):
            raise ValueError(f"{value!r} is not an element ref like 'e12' or 'f1e3'")
        return value

    @model_validator(mode="after")
    def _one_target(self) -> Self:
        given = [key for key in TARGET_KEYS if getattr(self, key) is not None]
        if len(given) > 1:
            raise ValueError(f"give one target, not {len(given)}: {', '.join(given)}")
        if not given and self.target_required:
            raise ValueError(f"needs a target: one of {', '.join(TARGET_KEYS)}")
        if self.name is not None and self.role is None:
            raise ValueError("'name' goes with 'role' (e.g. role: button, name: Save)")
        if self.ref is not None and (self.exact or self.nth is not None):
            raise ValueError("a ref names one element; 'exact' and 'nth' do not apply")
        return self

    @property
    def has_target(self) -> bool:
        return any(getattr(self, key) is not None for key in TARGET_KEYS)

    def target(self) -> Target:
        """Only the target fields (for the step kinds whose arguments extend a target)."""
        return Target.model_validate({key: getattr(self, key) for key in Target.model_fields})

    def describe_target(self) -> str:
        """`button 'Add to cart'`, `css '#buy'`, `ref e12`: for action texts and errors."""
        if self.role is not None:
            text = self.role if self.name is None else f"{self.role} {self.name!r}"
        elif self.ref is not None:
            text = f"ref {self.ref}"
        else:
            key = next((k for k in TARGET_KEYS if getattr(self, k) is not None), None)
            if key is None:
                return "the page"
            text = f"{key.replace('_', ' ')} {getattr(self, key)!r}"
        if self.nth is not None:
            text += f" (match #{self.nth})"
        return text


class _OptionalTarget(Target):
    target_required: ClassVar[bool] = False


# -- step arguments -----------------------------------------------------------------------


class GotoArgs(_Model):
    url: Text = Field(description="absolute URL, or a path resolved against base_url")
    wait_until: Literal["load", "domcontentloaded", "networkidle", "commit"] = "load"


class FillArgs(Target):
    value: Text = Field(description="the text to put in the field (replaces its content)")


class TypeArgs(Target):
    value: Text = Field(description="the text to type key by key (appends)")
    delay: int = Field(0, ge=0, le=1000, description="milliseconds between keys")


class PressArgs(_OptionalTarget):
    key: Text = Field(description="a key or chord: Enter, Tab, Control+A, ...")


class SelectArgs(Target):
    option: Text | list[Text] = Field(description="option value(s) or label(s) to select")


class ScrollArgs(_OptionalTarget):
    dx: int = Field(0, description="pixels to scroll right (negative: left)")
    dy: int = Field(0, description="pixels to scroll down (negative: up)")

    @model_validator(mode="after")
    def _target_or_amount(self) -> Self:
        if self.has_target == bool(self.dx or self.dy):
            raise ValueError("give either a target to scroll into view, or dx/dy (not both)")
        return self


class WaitForArgs(_OptionalTarget):
    state: Literal["visible", "hidden", "attached", "detached"] = Field(
        "visible", description="the target's state to wait for"
    )
    url: Text | None = Field(None, description="wait until the URL matches (glob, or a path)")
    load_state: Literal["load", "domcontentloaded", "networkidle"] | None = None

    @model_validator(mode="after")
    def _one_condition(self) -> Self:
        count = self.has_target + (self.url is not None) + (self.load_state is not None)
        if count != 1:
            raise ValueError("wait for one thing: a target, a url, or a load_state")
        return self


class ExpectArgs(_OptionalTarget):
    """Assertions, polled until they hold or the step times out; all given must hold.

    A target (for example `text: Order placed`) must be visible; `url` is a glob or a path
    resolved against base_url; `url_matches` a regular expression searched in the URL;
    `title` must be contained in the page title.
    """

    url: Text | None = None
    url_matches: str | None = None
    title: Text | None = None

    @field_validator("url_matches")
    @classmethod
    def _regex(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"not a regular expression: {exc}") from None
        return value

    @model_validator(mode="after")
    def _something(self) -> Self:
        if not (self.has_target or self.url or self.url_matches or self.title is not None):
            raise ValueError("expect what? give a target (e.g. text), url, url_matches or title")
        return self


class CaptureArgs(_Model):
    label: Text = Field(description="what this capture shows; becomes its action text")


class UploadArgs(Target):
    files: str | list[str] = Field(description="file path(s), relative to the task file")


# -- steps --------------------------------------------------------------------------------


class StepBase(_Model):
    """Keys every step may have besides its kind key."""

    kind: ClassVar[str]  # the one field a step class adds, e.g. `goto` (derived from it)
    shorthand: ClassVar[str | None] = None  # the argument a scalar value stands for

    timeout: Duration | None = Field(None, description="this step's time limit")
    _line: int = PrivateAttr(0)

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        """The kind is the name of the field a step class adds (`goto: GotoArgs`): no copy."""
        super().__pydantic_init_subclass__(**kwargs)
        (cls.kind,) = [name for name in cls.model_fields if name not in StepBase.model_fields]

    @property
    def line(self) -> int:
        """The step's line in its task file (0 when not loaded from a file)."""
        return self._line

    @property
    def args(self) -> Any:
        return getattr(self, self.kind)

    @model_validator(mode="before")
    @classmethod
    def _expand_shorthand(cls, data: Any) -> Any:
        if cls.shorthand and isinstance(data, dict):
            value = data.get(cls.kind)
            if isinstance(value, str | int | float) and not isinstance(value, bool):
                return {**data, cls.kind: {cls.shorthand: value}}
        return data

    @classmethod
    def __get_pydantic_json_schema__(cls, core_schema: Any, handler: Any) -> dict[str, Any]:
        schema: dict[str, Any] = handler(core_schema)
        schema = handler.resolve_ref_schema(schema)
        if cls.shorthand:
            args = cast(type[BaseModel], cls.model_fields[cls.kind].annotation)
            short = "integer" if args.model_fields[cls.shorthand].annotation is int else "string"
            props = schema["properties"]
            props[cls.kind] = {
                "anyOf": [props[cls.kind], {"type": short}],
                "description": f"arguments, or just the {cls.shorthand}",
            }
        return schema


class GotoStep(StepBase):
    """Open a URL (a path is resolved against base_url)."""

    shorthand = "url"
    goto: GotoArgs


class ClickStep(StepBase):
    """Click an element (a bare string is a CSS selector)."""

    shorthand = "css"
    click: Target


class FillStep(StepBase):
    """Replace a field's content."""

    fill: FillArgs


class TypeStep(StepBase):
    """Type text key by key into an element (for fields that react to keystrokes)."""

    type: TypeArgs


class PressStep(StepBase):
    """Press a key, on a target or on whatever has focus."""

    shorthand = "key"
    press: PressArgs


class SelectStep(StepBase):
    """Choose option(s) of a <select> by value or label."""

    select: SelectArgs


class CheckStep(StepBase):
    """Tick a checkbox or radio button."""

    shorthand = "css"
    check: Target


class UncheckStep(StepBase):
    """Untick a checkbox."""

    shorthand = "css"
    uncheck: Target


class HoverStep(StepBase):
    """Move the mouse over an element."""

    shorthand = "css"
    hover: Target


class ScrollStep(StepBase):
    """Scroll a target into view, or the page by dx/dy pixels (a number is dy)."""

    shorthand = "dy"
    scroll: ScrollArgs


class WaitForStep(StepBase):
    """Wait for an element state, a URL, or a load state."""

    wait_for: WaitForArgs


class ExpectStep(StepBase):
    """Assert what the page shows; the run fails when it does not hold in time."""

    expect: ExpectArgs


class CaptureStep(StepBase):
    """An explicit capture with a label (every step is captured anyway)."""

    shorthand = "label"
    capture: CaptureArgs


class UploadStep(StepBase):
    """Set the files of a file input."""

    upload: UploadArgs


class SleepStep(StepBase):
    """Wait a fixed time (prefer wait_for: it is faster and says what it waits for)."""

    sleep: Duration


STEP_TYPES: dict[str, type[StepBase]] = {
    cls.kind: cls
    for cls in (
        GotoStep,
        ClickStep,
        FillStep,
        TypeStep,
        PressStep,
        SelectStep,
        CheckStep,
        UncheckStep,
        HoverStep,
        ScrollStep,
        WaitForStep,
        ExpectStep,
        CaptureStep,
        UploadStep,
        SleepStep,
    )
}
STEP_KINDS = tuple(STEP_TYPES)


def step_kind(value: Any) -> str | None:
    """The kind key of a raw step mapping (None when it has none or several)."""
    if isinstance(value, StepBase):
        return value.kind
    if isinstance(value, dict):
        kinds = [key for key in value if key in STEP_TYPES]
        return kinds[0] if len(kinds) == 1 else None
    return None


Step = Annotated[
    Annotated[GotoStep, Tag("goto")]
    | Annotated[ClickStep, Tag("click")]
    | Annotated[FillStep, Tag("fill")]
    | Annotated[TypeStep, Tag("type")]
    | Annotated[PressStep, Tag("press")]
    | Annotated[SelectStep, Tag("select")]
    | Annotated[CheckStep, Tag("check")]
    | Annotated[UncheckStep, Tag("uncheck")]
    | Annotated[HoverStep, Tag("hover")]
    | Annotated[ScrollStep, Tag("scroll")]
    | Annotated[WaitForStep, Tag("wait_for")]
    | Annotated[ExpectStep, Tag("expect")]
    | Annotated[CaptureStep, Tag("capture")]
    | Annotated[UploadStep, Tag("upload")]
    | Annotated[SleepStep, Tag("sleep")],
    Discriminator(
        step_kind,
        custom_error_type="step_kind",
        custom_error_message=f"a step needs exactly one kind key: {', '.join(STEP_KINDS)}",
    ),
]


# -- the task file --------------------------------------------------------------------------


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


class TaskFile(_Model):
    """A scripted browser task: `capture run TASK.yaml` runs its steps, capturing each."""

    name: str = Field(min_length=1, description="the task's name (run record, summaries)")
    base_url: Text = Field(description="relative goto URLs resolve against it; may use ${VARS}")
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

    def capture_config(self, base: CaptureConfig) -> CaptureConfig:
        """The `[capture]` config with this task's overrides applied."""
        if not self.capture:
            return base
        return CaptureConfig.model_validate({**base.model_dump(), **self.capture})
