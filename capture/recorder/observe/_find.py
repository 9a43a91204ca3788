"""Searching and reading the page's text itself (find.js), not the outline: the outline
walks near the viewport and cuts long text, a search must not miss what is on the page.

Every frame is read in page order (the main frame first), each with its ref prefix, so a
ref from here is one `resolve_ref` finds. The texts come back without sensitive fields'
values or redacted areas (find.js keeps to page.js's rules); known secrets are scrubbed by
the caller, like every other text it sends out.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from playwright.async_api import Error as PlaywrightError
from playwright.async_api import Page

from capture.browser import evaluate_isolated
from capture.recorder.observe._outline import live_frames
from capture.recorder.observe._script import (
    SENSITIVE_FIELD,
    frame_for_ref,
    frame_prefix,
    load_script,
    ref_count_error,
)

__all__ = ["Found", "Match", "css_ref", "element_text", "find_text"]


@cache
def _script() -> str:
    return load_script("find.js")


@dataclass(frozen=True)
class Match:
    """One match: the smallest element holding it (its ref and kind) and the text around."""

    ref: str
    kind: str
    excerpt: str


@dataclass(frozen=True)
class Found:
    """Matches `skip` to `skip + len(matches)` of `total` on the whole page."""

    total: int
    matches: list[Match]


def _arg(mode: str, prefix: str, redact: Sequence[str], **more: Any) -> dict[str, Any]:
    return {
        "mode": mode,
        "prefix": prefix,
        "sensitiveField": SENSITIVE_FIELD,
        "redactSelectors": list(redact),
        **more,
    }


async def _call(frame: Any, arg: dict[str, Any]) -> dict[str, Any] | None:
    """find.js's answer in `frame`; None for a frame that went away or cannot run it. A
    pattern or a selector the page refuses is the caller's mistake: ValueError."""
    try:
        answer = json.loads(await evaluate_isolated(frame, _script(), arg))
    except PlaywrightError as exc:
        if "SyntaxError" in str(exc) and arg.get("mode") == "find":
            raise ValueError(str(exc).splitlines()[0]) from None
        if "is not a valid selector" in str(exc):
            raise ValueError(f"{arg.get('css')!r} is not a valid CSS selector") from None
        return None
    return answer if isinstance(answer, dict) else None


async def find_text(
    page: Page,
    source: str,
    flags: str,
    *,
    skip: int,
    limit: int,
    redact_selectors: Sequence[str] = (),
) -> Found:
    """Matches of the JavaScript regular expression `source` (`flags` from i, m, s) in the
    text of every frame: the `skip`-th on, `limit` at most, and how many in all."""
    total, matches = 0, list[Match]()
    for frame in live_frames(page):
        arg = _arg(
            "find",
            frame_prefix(page, frame),
            redact_selectors,
            source=source,
            flags=flags,
            skip=max(0, skip - total),
            limit=limit - len(matches),
        )
        answer = await _call(frame, arg)
        if answer is None:
            continue
        total += int(answer["total"])
        matches += [Match(m["ref"], m["kind"], m["excerpt"]) for m in answer["found"]]
    return Found(total, matches)


async def element_text(
    page: Page, ref: str, redact_selectors: Sequence[str] = ()
) -> tuple[str, str]:
    """The whole text of the element `ref`, links and controls marked with their refs, and
    the ref; RefNotFoundError when no element has it."""
    frame = frame_for_ref(page, ref)
    arg = _arg("text", frame_prefix(page, frame), redact_selectors, ref=ref)
    answer = await _call(frame, arg)
    if not answer or not answer.get("found"):
        raise ref_count_error(ref, 0)
    return str(answer["text"]), str(answer["ref"])


async def css_ref(page: Page, css: str) -> str | None:
    """The ref of the first element matching the CSS selector `css` in any frame (given one
    if it had none), or None; ValueError when `css` is not a valid selector."""
    for frame in live_frames(page):
        answer = await _call(frame, _arg("ref", frame_prefix(page, frame), (), css=css))
        if answer and answer.get("ref"):
            return str(answer["ref"])
    return None
