"""The step kinds: a mapping with exactly one *kind* key (`click`, `fill`, ...) whose value
holds the step's arguments, plus optional common keys (`timeout`). Scalar shorthands keep
hand-written steps short: `goto: /cart`, `click: "#buy"` (a CSS selector), `press: Enter`,
`scroll: 600`, `capture: cart`, `sleep: 1s`.

Each kind is declared once (`_step`): its name is a `StepKind`, so a kind added here and not
handled by the engine's `match` fails the type checker (`assert_never`), and at run time the
engine refuses it instead of letting it pass.
"""

from __future__ import annotations

import re
from typing import (
    TYPE_CHECKING,
    Annotated,
    Any,
    ClassVar,
    Literal,
    Never,
    NoReturn,
    Self,
    Union,
    cast,
)

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    PrivateAttr,
    Tag,
    create_model,
    field_validator,
    model_validator,
)

from capture.actions._target import Duration, Target, Text, _Model, _OptionalTarget
from capture.errors import TaskError
from capture.recorder.observe import ref_prefix

__all__ = [
    "STEP_KINDS",
    "STEP_TYPES",
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
    "StepKind",
    "TypeStep",
    "UncheckStep",
    "UploadArgs",
    "UploadStep",
    "WaitForArgs",
    "WaitForStep",
    "step_kind",
    "unhandled",
]

# Every kind, once: `_step` takes only these, and the engine's dispatch must handle each.
StepKind = Literal[
    "goto",
    "click",
    "dblclick",
    "fill",
    "type",
    "press",
    "select",
    "check",
    "uncheck",
    "hover",
    "drag",
    "scroll",
    "wait_for",
    "expect",
    "capture",
    "upload",
    "sleep",
]


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

    kind: ClassVar[StepKind]  # the one field a step class adds, e.g. `goto`
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


STEP_TYPES: dict[StepKind, type[StepBase]] = {}  # kind -> class, in the order messages list them


def _step(kind: StepKind, arguments: Any, doc: str, shorthand: str | None = None) -> type[StepBase]:
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


def unhandled(kind: Never) -> NoReturn:
    """The `case _:` of every dispatch on a step's kind: mypy proves it unreachable (a kind
    missing a case is an error there), and a kind that slips past typing fails, loudly."""
    raise TaskError(f"step kind {kind!r} has no action here")


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
