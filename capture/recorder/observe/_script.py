"""The in-page observer (page.js), its call options, and the ref registry of frames.

page.js ships inside this package and is read once with importlib.resources. Frames get
ref prefixes ("f1", "f2", ...) that stay with the Playwright `Frame` object for its life,
so an element in a frame keeps its ref across captures like one in the main frame.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any
from weakref import WeakKeyDictionary

from capture.browser import impl_of
from capture.errors import NEW_CAPTURE, RefNotFoundError
from capture.recorder.observe._scrub import MIN_SECRET_LENGTH

__all__ = [
    "FOCUSED_SENSITIVE_JS",
    "REDACT_ATTR",
    "REF_ATTR",
    "SENSITIVE_FIELD",
    "SENSITIVE_FIELD_JS",
    "ReadOptions",
    "frame_for_ref",
    "frame_numbered",
    "frame_prefix",
    "load_script",
    "ref_count_error",
    "ref_prefix",
    "ref_selector",
    "script",
]

REF_ATTR = "data-capture-ref"
# An element page.js masks in the screenshot and keeps out of the outline (a redacted area).
REDACT_ATTR = "data-capture-redact"

# The sensitive-field rule, in one place: page.js masks these fields and never reads their
# values into an outline, listen.js never reports what is typed into them, and the task
# runner and the pytest plugin never name a value filled into them. page.js also marks a
# password field `data-capture-sensitive` once seen, so a "show password" toggle (which makes
# it type=text) leaves it sensitive for all of them.
SENSITIVE_FIELD = ", ".join(
    [
        "input[type=password i]",
        "[data-capture-sensitive]",
        "[autocomplete*='cc-' i]",
        "[autocomplete*='one-time-code' i]",
        "[autocomplete*='password' i]",
    ]
)

# Whether a filled value may be named: not for a sensitive field, nor for one inside a
# `data-capture-redact` area.
SENSITIVE_FIELD_JS = (
    f"el => el.matches({json.dumps(SENSITIVE_FIELD)})"
    ' || el.closest("[data-capture-redact]") !== null'
)

# The same question for the element keyboard input goes to. Inside a frame the focused
# element is out of reach, which counts as sensitive (unknown is treated as secret).
FOCUSED_SENSITIVE_JS = f"""() => {{
  let el = document.activeElement;
  while (el && el.shadowRoot && el.shadowRoot.activeElement) el = el.shadowRoot.activeElement;
  if (!el || el.tagName === "IFRAME" || el.tagName === "FRAME") return true;
  if (el === document.body) return false;
  return ({SENSITIVE_FIELD_JS})(el);
}}"""
REF_PATTERN = re.compile(r"^(f\d+)?e\d+$")

# How far from the viewport page.js still lists elements one by one (in viewport heights),
# and how many items one frame may yield: beyond that it only counts what it skipped.
# Bounded work is what keeps a 1 MB document fast; the character budget would cut the
# rest anyway.
WALK_ABOVE = 1
WALK_BELOW = 2
MAX_ITEMS = 1500
# A whole-page read (the MCP server's browser_find and browser_snapshot with a target) lists
# every element, however far from the viewport, up to this many per frame.
WHOLE_PAGE_VIEWPORTS = 1_000_000
WHOLE_PAGE_ITEMS = 50_000
# A text block longer than this (plus a little) is cut at a word, with the count of the
# characters left and the ref of its block to read them; a select lists this many options
# (and about this many characters of them), then how many more.
TEXT_CHARS = 300
MAX_OPTIONS = 10
OPTION_CHARS = 200
WHOLE_OPTIONS = 1_000_000

_prefixes: WeakKeyDictionary[Any, str] = WeakKeyDictionary()
_counters: WeakKeyDictionary[Any, int] = WeakKeyDictionary()


def load_script(name: str) -> str:
    """The source of an in-page script of this package (a function expression for
    `evaluate`), with common.js spliced in where it says `/* common.js */`."""
    files = resources.files(__package__)
    common = files.joinpath("common.js").read_text(encoding="utf-8")
    return files.joinpath(name).read_text(encoding="utf-8").replace("/* common.js */", common)


@cache
def script() -> str:
    """The source of page.js."""
    return load_script("page.js")


@dataclass(frozen=True)
class ReadOptions:
    """What a read asks of page.js besides its mode and frame: one value that the reads pass
    down to every frame's call, so a new option is added here and nowhere in between.

    `redact_selectors` are areas to mask as well as the sensitive fields. `deadline`
    (seconds since the epoch, the clock `time.time()` reads) is when a walk stops and
    answers with what it read, marked partial; None: it reads all it lists. `sensitive`
    False: a walk leaves out the sensitive rects and values (read already). `secrets`
    (known secret values, "sensitive" mode only) are the one thing sent into the page that
    must never go anywhere else: page.js masks wherever the frame shows them. `whole_page`
    walks the whole document instead of the viewport and its neighbourhood, and lists every
    option of a select. `whole_text` keeps every text block whole (never cut).
    """

    redact_selectors: Sequence[str] = ()
    deadline: float | None = None
    sensitive: bool = True
    secrets: Sequence[str] = ()
    whole_page: bool = False
    whole_text: bool = False

    def arg(self, mode: str, prefix: str) -> dict[str, Any]:
        """The argument page.js takes for `mode` ("walk", "sensitive" or "frame") in the
        frame whose refs start with `prefix`."""
        return {
            "mode": mode,
            "prefix": prefix,
            "sensitiveField": SENSITIVE_FIELD,
            "redactSelectors": list(self.redact_selectors),
            "secrets": list(self.secrets),
            "minSecret": MIN_SECRET_LENGTH,
            "above": WHOLE_PAGE_VIEWPORTS if self.whole_page else WALK_ABOVE,
            "below": WHOLE_PAGE_VIEWPORTS if self.whole_page else WALK_BELOW,
            "maxItems": WHOLE_PAGE_ITEMS if self.whole_page else MAX_ITEMS,
            "deadline": None if self.deadline is None else self.deadline * 1000,
            "skipSensitive": not self.sensitive,
            "textChars": None if self.whole_text else TEXT_CHARS,
            "maxOptions": WHOLE_OPTIONS if self.whole_page else MAX_OPTIONS,
            "optionChars": WHOLE_OPTIONS if self.whole_page else OPTION_CHARS,
        }


def frame_prefix(page: Any, frame: Any) -> str:
    """The ref prefix of `frame` on `page`: "" for the main frame, else a stable "f<n>".

    Numbered by the objects behind the API ones (`impl_of`), so a frame has one prefix
    whether a capture read it through the sync or the async API.
    """
    page, frame = impl_of(page), impl_of(frame)
    if frame == page.main_frame:
        return ""
    prefix = _prefixes.get(frame)
    if prefix is None:
        number = _counters.get(page, 0) + 1
        _counters[page] = number
        prefix = _prefixes[frame] = f"f{number}"
    return prefix


def ref_prefix(ref: str) -> str:
    """The frame prefix of a well-formed ref ("" for the main frame); else RefNotFoundError."""
    match = REF_PATTERN.match(ref.strip())
    if match is None:
        raise RefNotFoundError(f"{ref!r} is not an element ref (refs look like 'e12' or 'f1e3')")
    return match.group(1) or ""


def frame_numbered(page: Any, prefix: str) -> Any | None:
    """The frame of `page` with ref prefix `prefix` ("" = the main frame, "f1", ...), or None.

    Frames not numbered yet get their numbers here, in page order, as a capture would give
    them: so a task's `frame: f1` finds the frame the observation called f1.
    """
    for frame in page.frames:
        if frame_prefix(page, frame) == prefix:
            return frame
    return None


def frame_for_ref(page: Any, ref: str) -> Any:
    """The frame of `page` whose elements carry `ref`; RefNotFoundError when there is none."""
    frame = frame_numbered(page, ref_prefix(ref))
    if frame is None:
        raise RefNotFoundError(f"ref {ref}: its frame is gone; {NEW_CAPTURE}")
    return frame


def ref_selector(ref: str) -> str:
    """The CSS selector of a ref's element (Playwright's CSS pierces open shadow roots)."""
    return f'[{REF_ATTR}="{ref.strip()}"]'


def ref_count_error(ref: str, count: int) -> RefNotFoundError:
    """The error for a ref that matches no element, or more than one."""
    if count == 0:
        return RefNotFoundError(
            f"ref {ref} is not on the page any more; {NEW_CAPTURE} for current refs"
        )
    return RefNotFoundError(f"ref {ref} matches {count} elements; {NEW_CAPTURE}")
