"""Reading the page: one page.js call per frame, concurrently, each in the frame's isolated
world (`capture.browser.evaluate_isolated`), so nothing the page does to its own globals
changes what is read.

`page` is an async-API Page, or the implementation object behind a sync-API Page (see
`browser._internals`; `_read_sync.py` runs these same functions that way): both take these
calls, as `PageLike` says.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any, Protocol

from playwright.async_api import Error as PlaywrightError
from playwright.async_api import Locator, Page

from capture.browser import evaluate_isolated, evaluate_on_owner
from capture.recorder.observe._model import PageState, Rect
from capture.recorder.observe._outline import (
    FrameRead,
    assemble_sensitive,
    assemble_state,
    live_frames,
)
from capture.recorder.observe._script import (
    REDACT_ATTR,
    SENSITIVE_FIELD,
    SENSITIVE_FIELD_JS,
    ReadOptions,
    frame_for_ref,
    ref_count_error,
    ref_selector,
    script,
)
from capture.recorder.observe._scrub import MIN_SECRET_LENGTH

__all__ = ["PageLike", "is_sensitive", "read_page_state", "read_sensitive", "resolve_ref"]


class _FrameLike(Protocol):
    @property
    def url(self) -> str: ...
    @property
    def parent_frame(self) -> _FrameLike | None: ...
    def is_detached(self) -> bool: ...


class PageLike(Protocol):
    """What the reads use of a page: its frames (an async-API Page has them)."""

    @property
    def frames(self) -> Sequence[_FrameLike]: ...
    @property
    def main_frame(self) -> _FrameLike: ...


async def _read_frame(
    page: PageLike, frame: _FrameLike, mode: str, options: ReadOptions
) -> FrameRead | None:
    read = FrameRead.of(page, frame)
    calls = [evaluate_isolated(frame, script(), options.arg(mode, read.prefix))]
    if read.parent is not None:
        place = ReadOptions().arg("frame", read.parent)
        calls.append(evaluate_on_owner(frame, script(), place))
    return read.record(await asyncio.gather(*calls, return_exceptions=True)).kept(frame)


async def _read_frames(page: PageLike, mode: str, options: ReadOptions) -> list[FrameRead]:
    reads = [
        read
        for read in await asyncio.gather(
            *(_read_frame(page, f, mode, options) for f in live_frames(page))
        )
        if read is not None
    ]
    if reads[0].data is None:
        # Most often a navigation destroyed the context mid-call: one retry, then give up.
        reads[0] = await _read_frame(page, page.main_frame, mode, options) or reads[0]
    return reads


async def read_page_state(
    page: PageLike,
    *,
    redact_selectors: Sequence[str] = (),
    deadline: float | None = None,
    sensitive: bool = True,
    whole_page: bool = False,
    whole_text: bool = False,
) -> PageState:
    """One pass over every frame and open shadow root: the outline and what to mask.

    With a `deadline` (seconds since the epoch, as `time.time()`), each frame's walk stops
    there and answers with what it read, the viewport first: the state is then `partial`.
    `sensitive` False leaves the sensitive rects and values out of the state, for a caller
    that has just read them with `read_sensitive` (on a long page that read is not free).
    By default the walk covers the viewport and a few viewport heights around it (bounded
    work for every capture); `whole_page` lists every element of the document, for a
    search or a part of the page the capture's budget left out. A long text block is cut
    with a hint that says how much is left and the ref to read it by; `whole_text` keeps
    every text whole instead (to read an element in full, or search every character).
    """
    options = ReadOptions(
        redact_selectors, deadline, sensitive, whole_page=whole_page, whole_text=whole_text
    )
    return assemble_state(await _read_frames(page, "walk", options))


async def read_sensitive(
    page: PageLike, *, redact_selectors: Sequence[str] = (), secrets: Sequence[str] = ()
) -> tuple[list[Rect], list[str]]:
    """The fast path: what to mask (top-viewport coordinates) and the sensitive fields' values.

    Masked are the sensitive fields and redacted areas, and every place a frame shows one of
    `secrets` (known secret values) or of its own sensitive fields' values. A value first
    seen in one frame's field may be shown by another frame: then the frames are read once
    more with it, so the screenshot that follows masks it too.
    """
    reads = await _read_frames(page, "sensitive", ReadOptions(redact_selectors, secrets=secrets))
    rects, values = assemble_sensitive(reads)
    new = [v for v in values if v not in secrets and len(v) >= MIN_SECRET_LENGTH]
    if new and len(reads) > 1:
        again = ReadOptions(redact_selectors, secrets=[*secrets, *new])
        reads = await _read_frames(page, "sensitive", again)
        rects, values = assemble_sensitive(reads)
    return rects, values


async def resolve_ref(page: Page, ref: str) -> Locator:
    """A Locator for the element an observation called `ref`, in whichever frame it is."""
    locator: Locator = frame_for_ref(page, ref).locator(ref_selector(ref))
    count = await locator.count()
    if count != 1:
        raise ref_count_error(ref, count)
    return locator


async def is_sensitive(target: Any, script: str = SENSITIVE_FIELD_JS, **options: Any) -> bool:
    """Whether the field `target` (a Locator or ElementHandle; with `FOCUSED_SENSITIVE_JS`, a
    page) is sensitive: then a value typed into it stays out of every action text.

    Unknown (the field went away after the action) counts as sensitive: hiding a public
    value costs a little clarity, showing a secret cannot be undone. `target` may be the
    object behind a sync-API one (`browser._internals`), which takes `arg` only positionally.

    None of it runs in the page's own world, whose `matches` or `activeElement` a page may
    have replaced: a page's focused field is asked in the isolated world, a Locator's through
    Playwright's selector engine (its own world). Only an ElementHandle, which has no way
    into another world, is asked in the page's.
    """
    try:
        if hasattr(target, "main_frame"):  # a page: the field keyboard input goes to
            return bool(await evaluate_isolated(target.main_frame, script, None))
        if hasattr(target, "or_"):  # a Locator
            if await target.count() != 1:
                return True
            # (every option named: the object behind a sync-API Locator wants them all)
            bare = {"has_text": None, "has_not_text": None, "has": None, "has_not": None}
            field = target.locator(f":scope:is({SENSITIVE_FIELD})", **bare)
            redacted = target.locator(f"xpath=ancestor-or-self::*[@{REDACT_ATTR}]", **bare)
            return bool(await field.or_(redacted).count())
        return bool(await target.evaluate(script, None, **options))
    except PlaywrightError:
        return True
