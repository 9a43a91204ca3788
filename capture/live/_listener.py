"""What the in-page listener (listen.js) reports, parsed and checked.

The binding is callable by any script on the page, so a payload is validated like any other
untrusted input: wrong token, wrong shape or unknown type -> dropped, never an exception in
the browser's callback.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from functools import cache
from importlib import resources
from typing import Any, Literal

from playwright.async_api import Frame
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from capture.recorder.observe import SENSITIVE_FIELD

__all__ = ["ElementInfo", "PageEvent", "frame_path", "listener_script", "parse_event"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class ElementInfo(_Model):
    """The element an event happened on, as the page describes it."""

    role: str | None = None
    name: str = ""
    tag: str = ""
    type: str | None = None
    sensitive: bool = False
    # Target candidates that each match exactly this element, best first; every one is a
    # mapping with the keys of a task-file target (`role`+`name`, `label`, `css`, ...).
    targets: list[dict[str, str]] = Field(default_factory=list)

    def describe(self) -> str:
        """`button 'Add to cart'` — how an action text names the element."""
        if self.tag in ("html", "body") and not self.role:
            return "the page"
        if self.role:
            kind = self.role
        elif self.tag == "input" and self.type:
            kind = f"{self.type} field"
        else:
            kind = self.tag or "element"
        if self.name:
            return f"{kind} '{self.name}'"
        css = next((t["css"] for t in self.targets if "css" in t), "")
        return f"{kind} {css}".strip()


class SelectedOption(_Model):
    value: str
    label: str


class PageEvent(_Model):
    """One report of the listener; `trusted` is false for events a page script produced."""

    type: Literal[
        "click",
        "dblclick",
        "input",
        "select",
        "check",
        "key",
        "submit",
        "scroll",
        "hover",
        "drag",
        "upload",
        "chooser",
        "visible",
        "hello",
        "hold",
    ]
    trusted: bool
    url: str = ""
    title: str = ""
    doc: str = ""  # the document's id: field ids count per document
    element: ElementInfo | None = None
    to: ElementInfo | None = None  # where a drag ended
    field: int | None = None
    text_field: bool = False
    value: str | None = None
    done: bool = True  # typing: false while the listener has a later report of it coming
    options: list[SelectedOption] = Field(default_factory=list)
    checked: bool | None = None
    key: str | None = None
    files: list[str] = Field(default_factory=list)  # names of the chosen files, never paths
    caused: bool = False
    # A held gesture (type "hold"): its number in the document, and which part of it this is
    # ("down" and "up" of a press, or "key").
    gesture: int = 0
    phase: Literal["down", "up", "key"] | None = None
    time: float = 0.0  # when the press happened (the page's clock, ms)
    ends: bool = False  # the held gesture is not text entry: it completes a pending action
    button: int = 0  # a held press: 0 the primary button, 3 back, 4 forward
    code: str = ""  # a held key: its physical key, key code and the text it enters
    key_code: int = 0
    text: str = ""
    x: int = 0
    y: int = 0

    @property
    def sensitive(self) -> bool:
        return self.element is not None and self.element.sensitive


def parse_event(payload: Any, token: str) -> PageEvent | None:
    """The event in a binding payload, or None when it is not from our listener."""
    if not isinstance(payload, str) or len(payload) > 200_000:
        return None
    try:
        data = json.loads(payload)
    except ValueError:
        return None
    if not isinstance(data, dict) or data.get("token") != token:
        return None
    try:
        return PageEvent.model_validate(data)
    except ValidationError:
        return None


@cache
def _source() -> str:
    return resources.files("capture.live").joinpath("listen.js").read_text(encoding="utf-8")


def listener_script(binding: str, token: str, redact_selectors: Sequence[str]) -> str:
    """The init script: listen.js called with the binding name, token, redact selectors and
    the recorder's sensitive-field rule.

    The binding's name is visible to page scripts (it is a window property); the token is
    not (it lives in the listener's closure), so a payload with the token came from us.
    """
    args = json.dumps(
        {
            "binding": binding,
            "token": token,
            "redact": list(redact_selectors),
            "field": SENSITIVE_FIELD,
        }
    )
    return f"({_source().strip().rstrip(';')})({args});"


def frame_path(frame: Frame, title: str) -> list[dict[str, str]]:
    """How a task names the iframe `frame` (outermost first; empty for the top document).

    Each level by its name (the iframe's name or id attribute, as Playwright's `frame.name`),
    else its URL, else its title (`title` is the innermost document's, from the listener; a
    nameless srcdoc frame around it keeps its `about:srcdoc` URL).
    """
    levels: list[dict[str, str]] = []
    while frame.parent_frame is not None:
        if frame.name:
            levels.append({"name": frame.name})
        elif (frame.url.startswith("about:") or not frame.url) and title and not levels:
            levels.append({"title": title})
        else:
            levels.append({"url": frame.url})
        frame = frame.parent_frame
    return levels[::-1]
