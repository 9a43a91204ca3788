"""What a step acts on: a target (css, text, role + name, test id, label, placeholder or an
observation's ref, maybe `nth`) inside an optional frame, and the field types step arguments
share (durations and scalar text as people write them in YAML).

These models are the one definition of a target: task files, the MCP tools and live
recording's export all build them, and `capture schema task` prints their JSON Schema.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated, Any, ClassVar, Self

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    PlainSerializer,
    Tag,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from capture.config import parse_duration

__all__ = [
    "Duration",
    "FrameSpec",
    "FrameWhere",
    "Target",
    "Text",
    "describe_frame",
    "format_duration",
    "text_or_pattern",
]

TARGET_KEYS = ("css", "text", "role", "test_id", "label", "placeholder", "ref")
_VAR_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_REF = re.compile(r"^(f\d+)?e\d+$")  # the observation's refs: e12, or f1e3 inside a frame
_FRAME_REF = re.compile(r"^f\d+$")  # the frame part of such a ref
# A name, text or label written `/.../` (or `/.../i`) is a regular expression, as codegen
# writes them: `name: '/^Cart \(\d+\)$/'` matches "Cart (1)" and "Cart (12)".
_PATTERN = re.compile(r"^/(.+)/(i?)$", re.DOTALL)


def text_or_pattern(value: str | None) -> str | re.Pattern[str] | None:
    """What a name, text or label matches: the string, or the regular expression it writes."""
    if value is None:
        return None
    written = _PATTERN.match(value)
    if written is None:
        return value
    return re.compile(written.group(1), re.IGNORECASE if written.group(2) else 0)


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

    @field_validator("name", "text", "label")
    @classmethod
    def _pattern_compiles(cls, value: str | None) -> str | None:
        try:
            text_or_pattern(value)
        except re.error as exc:
            raise ValueError(f"{value!r} is not a regular expression: {exc}") from None
        return value

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
