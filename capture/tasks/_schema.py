"""The task-file schema: a name, a base URL, variables and a list of steps.

A step is a mapping with exactly one *kind* key (`click`, `fill`, ...) whose value holds the
step's arguments, plus optional common keys (`timeout`). Steps that act on an element name it
with one *target* key: `css`, `text`, `role` (+ `name`), `test_id`, `label`, `placeholder`, or
`ref` (an element ref such as `e12` from an observation, so an agent can write steps straight
from what it was shown); `frame` says which iframe to look in. Scalar shorthands keep
hand-written files short: `goto: /cart`, `click: "#buy"` (a CSS selector), `press: Enter`,
`scroll: 600`, `capture: cart`, `sleep: 1s`.

These models are the one definition of the format: the loader validates against them, the
runner executes them, `capture schema task` prints their JSON Schema, and live recording
exports them (`dump_task`).
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal, Self, Union, cast

from pydantic import (
    AfterValidator,
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
    create_model,
    field_validator,
    model_validator,
)

from capture.config import CaptureConfig, parse_duration
from capture.recorder.observe import ref_prefix

__all__ = [
    "STEP_KINDS",
    "CaptureArgs",
    "CaptureStep",
    "CheckStep",
    "ClickArgs",
    "ClickStep",
    "DblclickStep",
    "DragArgs",
    "DragStep",
    "ExpectArgs",
    "ExpectStep",
    "FillArgs",
    "FillStep",
    "FrameSpec",
    "FrameWhere",
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
]

TARGET_KEYS = ("css", "text", "role", "test_id", "label", "placeholder", "ref")
_VAR_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_REF = re.compile(r"^(f\d+)?e\d+$")  # the observation's refs: e12, or f1e3 inside a frame
_FRAME_REF = re.compile(r"^f\d+$")  # the frame part of such a ref
FRAME_KEYS = ("name", "url", "title")


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


# -- frames -------------------------------------------------------------------------------


class FrameSpec(_Model):
    """One frame, by what a person can tell it by: exactly one of `name`, `url`, `title`."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"minProperties": 1, "maxProperties": 1}
    )

    name: Text | None = Field(
        None, description="the iframe's name attribute (else its id), as Playwright's frame.name"
    )
    url: Text | None = Field(
        None, description="the frame's URL: a glob, or a path resolved against base_url"
    )
    title: Text | None = Field(None, description="contained in the frame document's title")

    @model_validator(mode="after")
    def _one_key(self) -> Self:
        given = [key for key in FRAME_KEYS if getattr(self, key) is not None]
        if len(given) != 1:
            have = f"not {len(given)}: {', '.join(given)}" if given else "none given"
            raise ValueError(f"a frame is named by one of {', '.join(FRAME_KEYS)} ({have})")
        return self

    def describe(self) -> str:
        """`frame 'pay'`, `frame at '**/pay.html'`, `frame titled 'Payment'`."""
        if self.name is not None:
            return f"frame {self.name!r}"
        if self.url is not None:
            return f"frame at {self.url!r}"
        return f"frame titled {self.title!r}"


def _frame_ref(value: str) -> str:
    if not _FRAME_REF.match(value):
        raise ValueError(f"{value!r} is not a frame ref like 'f1' (or give name, url or title)")
    return value


FrameRef = Annotated[
    str,
    AfterValidator(_frame_ref),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": _FRAME_REF.pattern,
            "description": "a frame ref from an observation: the f1 of f1e3",
        }
    ),
]


def _frame_shape(value: Any) -> str | None:
    """Which form a `frame` value has, so a mistake is reported against that form only."""
    if isinstance(value, str):
        return "ref"
    if isinstance(value, dict | FrameSpec):
        return "one frame"
    if isinstance(value, list):
        return "frame path"
    return None


FrameWhere = str | FrameSpec | list[FrameSpec]  # a `frame` value, validated

_FrameField = Annotated[
    Annotated[FrameRef, Tag("ref")]
    | Annotated[FrameSpec, Tag("one frame")]
    | Annotated[list[FrameSpec], Field(min_length=1), Tag("frame path")],
    Discriminator(
        _frame_shape,
        custom_error_type="frame_shape",
        custom_error_message=(
            "a frame is a frame ref like 'f1', a mapping with one of name, url, title, "
            "or a list of those mappings (outermost first)"
        ),
    ),
]


def describe_frame(frame: FrameWhere) -> str:
    """`frame 'pay'`, `frame f1`, `frame 'outer' > frame titled 'Card'` (outermost first)."""
    if isinstance(frame, str):
        return f"frame {frame}"
    if isinstance(frame, FrameSpec):
        return frame.describe()
    return " > ".join(spec.describe() for spec in frame)


# -- targets ------------------------------------------------------------------------------


class Target(_Model):
    """Which element a step acts on: exactly one of the target keys.

    Strict like Playwright: a target that matches several elements is an error naming the
    count; `nth` picks one (0-based, -1 for the last). `frame` looks for it inside an iframe
    (a `ref` already says which frame it is in).
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
    frame: _FrameField | None = Field(
        None,
        description="the iframe to look in: a frame ref (f1), {name|url|title: ...}, "
        "or a list of those from the outermost frame in",
    )

    target_required: ClassVar[bool] = True
    frame_alone: ClassVar[bool] = False  # whether `frame` without a target means something

    @field_validator("ref")
    @classmethod
    def _ref_shape(cls, value: str | None) -> str | None:
        if value is not None and not _REF.match(value):
            raise ValueError(f"{value!r} is not an element ref like 'e12' or 'f1e3'")
        return value

    @model_validator(mode="after")
    def _one_target(self) -> Self:
        given = [key for key in TARGET_KEYS if getattr(self, key) is not None]
        if self.frame is not None and not given and not self.frame_alone:
            raise ValueError(
                f"'frame' says where to look; also give what: one of {', '.join(TARGET_KEYS)}"
            )
        if len(given) > 1:
            raise ValueError(f"give one target, not {len(given)}: {', '.join(given)}")
        if not given and self.target_required:
            raise ValueError(f"needs a target: one of {', '.join(TARGET_KEYS)}")
        if self.name is not None and self.role is None:
            raise ValueError("'name' goes with 'role' (e.g. role: button, name: Save)")
        if self.ref is not None and (self.exact or self.nth is not None):
            raise ValueError("a ref names one element; 'exact' and 'nth' do not apply")
        if self.frame is not None and self.ref is not None:
            raise ValueError("a ref already names its frame (f1e3 is in frame f1); drop 'frame'")
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
        return text + self.in_frame()

    def in_frame(self) -> str:
        """` in frame 'pay'` when the target is inside a named frame, else empty."""
        return "" if self.frame is None else f" in {describe_frame(self.frame)}"


class _OptionalTarget(Target):
    target_required: ClassVar[bool] = False


# -- step arguments -----------------------------------------------------------------------


class GotoArgs(_Model):
    url: Text = Field(description="absolute URL, or a path resolved against base_url")
    wait_until: Literal["load", "domcontentloaded", "networkidle", "commit"] = "load"


class ClickArgs(Target):
    """A click's target and how to click it: the button, and keys held meanwhile (a
    Shift-click selects a range, a Control-click opens a link in a new tab, a right click
    opens a context menu)."""

    button: Literal["left", "right", "middle"] = Field("left", description="the mouse button")
    modifiers: list[Literal["Alt", "Control", "ControlOrMeta", "Meta", "Shift"]] = Field(
        default_factory=list, description="keys held during the click"
    )

    def describe_how(self) -> str:
        """` with the right button holding Shift`: empty for a plain left click."""
        how = "" if self.button == "left" else f" with the {self.button} button"
        return how + (f" holding {'+'.join(self.modifiers)}" if self.modifiers else "")


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
    """A target alone is scrolled into view; dx/dy alone scroll the page (or, with `frame`,
    that frame's document); a target with dx/dy scrolls inside that element's own box."""

    dx: int = Field(0, description="pixels to scroll right (negative: left)")
    dy: int = Field(0, description="pixels to scroll down (negative: up)")

    frame_alone: ClassVar[bool] = True

    @model_validator(mode="after")
    def _target_or_amount(self) -> Self:
        if not self.has_target and not (self.dx or self.dy):
            raise ValueError(
                "scroll what? give a target to scroll into view, dx/dy to scroll the page, "
                "or both to scroll inside the target"
            )
        return self

    @property
    def by(self) -> bool:
        """Whether this scrolls by an amount (rather than a target into view)."""
        return bool(self.dx or self.dy)


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


def _frame_of(target: Target) -> str | None:
    """Where a target is, as far as the file can tell: None on the top page, a frame ref
    ("f1") when it names one, else "" (a frame only the runner can match by name or url)."""
    if target.ref is not None:
        return ref_prefix(target.ref) or None
    if target.frame is None:
        return None
    return target.frame if isinstance(target.frame, str) else ""


class DragArgs(_Model):
    """Drag one element onto another with the mouse; both in the same frame."""

    model_config = ConfigDict(
        extra="forbid", validate_by_name=True, validate_by_alias=True, serialize_by_alias=True
    )

    from_: Target = Field(alias="from", description="the element to pick up")
    to: Target = Field(description="the element to drop it on")

    @model_validator(mode="after")
    def _same_frame(self) -> Self:
        start, end = _frame_of(self.from_), _frame_of(self.to)
        # Top page against a frame, or two different frame refs; the runner checks the rest.
        if (start is None) != (end is None) or (start and end and start != end):
            raise ValueError(
                f"drag within one frame: 'from' is {self._where(self.from_)}, "
                f"'to' is {self._where(self.to)}"
            )
        return self

    @staticmethod
    def _where(target: Target) -> str:
        if target.ref is not None and ref_prefix(target.ref):
            return f"in frame {ref_prefix(target.ref)}"
        return target.in_frame().strip() or "on the top page"


class CaptureArgs(_Model):
    label: Text = Field(description="what this capture shows; becomes its action text")


class UploadArgs(Target):
    files: str | list[str] = Field(description="file path(s), relative to the task file")


# -- steps --------------------------------------------------------------------------------


class StepBase(_Model):
    """Keys every step may have besides its kind key."""

    kind: ClassVar[str]  # the one field a step class adds, e.g. `goto`
    shorthand: ClassVar[str | None] = None  # the argument a scalar value stands for

    timeout: Duration | None = Field(None, description="this step's time limit")
    _line: int = PrivateAttr(0)

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


STEP_TYPES: dict[str, type[StepBase]] = {}  # kind -> class, in the order messages list them


def _step(kind: str, arguments: Any, doc: str, shorthand: str | None = None) -> type[StepBase]:
    """The step class for one kind (`wait_for` -> `WaitForStep`): a `StepBase` whose one added
    field, named after the kind, holds `arguments`; `doc` describes it in the JSON Schema."""
    name = kind.title().replace("_", "") + "Step"
    field: dict[str, Any] = {kind: (arguments, ...)}
    cls = create_model(name, __base__=StepBase, __module__=__name__, __doc__=doc, **field)
    cls.kind, cls.shorthand = kind, shorthand
    STEP_TYPES[kind] = cls
    return cls


# Each kind once: the key, its arguments, what it does, and what a bare scalar stands for.
GotoStep = _step("goto", GotoArgs, "Open a URL (a path is resolved against base_url).", "url")
ClickStep = _step("click", ClickArgs, "Click an element (a bare string is a CSS selector).", "css")
DblclickStep = _step(
    "dblclick", ClickArgs, "Double-click an element (a bare string is a CSS selector).", "css"
)
FillStep = _step("fill", FillArgs, "Replace a field's content.")
TypeStep = _step(
    "type", TypeArgs, "Type text key by key into an element (for fields that react to keystrokes)."
)
PressStep = _step("press", PressArgs, "Press a key, on a target or on whatever has focus.", "key")
SelectStep = _step("select", SelectArgs, "Choose option(s) of a <select> by value or label.")
CheckStep = _step("check", Target, "Tick a checkbox or radio button.", "css")
UncheckStep = _step("uncheck", Target, "Untick a checkbox.", "css")
HoverStep = _step("hover", Target, "Move the mouse over an element.", "css")
DragStep = _step(
    "drag",
    DragArgs,
    "Drag an element onto another with real mouse input (HTML5 and pointer-event drags).",
)
ScrollStep = _step(
    "scroll",
    ScrollArgs,
    "Scroll a target into view, or the page by dx/dy pixels (a number is dy).",
    "dy",
)
WaitForStep = _step("wait_for", WaitForArgs, "Wait for an element state, a URL, or a load state.")
ExpectStep = _step(
    "expect", ExpectArgs, "Assert what the page shows; the run fails when it does not hold in time."
)
CaptureStep = _step(
    "capture",
    CaptureArgs,
    "An explicit capture with a label (every step is captured anyway).",
    "label",
)
UploadStep = _step("upload", UploadArgs, "Set the files of a file input.")
SleepStep = _step(
    "sleep",
    Duration,
    "Wait a fixed time (prefer wait_for: it is faster and says what it waits for).",
)
STEP_KINDS = tuple(STEP_TYPES)


def step_kind(value: Any) -> str | None:
    """The kind key of a raw step mapping (None when it has none or several)."""
    if isinstance(value, StepBase):
        return value.kind
    if isinstance(value, dict):
        kinds = [key for key in value if key in STEP_TYPES]
        return kinds[0] if len(kinds) == 1 else None
    return None


if TYPE_CHECKING:
    Step = StepBase  # what a step offers code; pydantic validates against the union below
else:
    Step = Annotated[
        Union[tuple(Annotated[cls, Tag(kind)] for kind, cls in STEP_TYPES.items())],  # noqa: UP007
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
                    raise ValueError(
                        f"step {number} goes to {step.args.url!r}, a path: give the task a "
                        "base_url, or the step an absolute URL"
                    )
        return self

    def capture_config(self, base: CaptureConfig) -> CaptureConfig:
        """The `[capture]` config with this task's overrides applied."""
        if not self.capture:
            return base
        return CaptureConfig.model_validate({**base.model_dump(), **self.capture})
