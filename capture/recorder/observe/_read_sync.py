"""The sync twin of `_read.py`, for Playwright's sync API (pytest-playwright, scripts).

Same calls, made one after another; options, prefixes, errors and assembly are shared.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Frame, Locator, Page

from capture.recorder.observe._model import PageState, Rect
from capture.recorder.observe._outline import (
    FrameRead,
    assemble_sensitive,
    assemble_state,
    live_frames,
)
from capture.recorder.observe._script import (
    frame_for_ref,
    options,
    ref_count_error,
    ref_selector,
    script,
)

__all__ = ["read_page_state_sync", "read_sensitive_sync", "resolve_ref_sync"]


def _call(fn: Callable[[], Any]) -> object:
    try:
        return fn()
    except PlaywrightError as exc:
        return exc


def _place(frame: Frame, parent_prefix: str) -> Any:
    handle = frame.frame_element()
    try:
        return handle.evaluate(script(), options("frame", parent_prefix, ()))
    finally:
        handle.dispose()


def _read_frame(
    page: Page, frame: Frame, mode: str, redact_selectors: Sequence[str]
) -> FrameRead | None:
    read = FrameRead.of(page, frame)
    walk = options(mode, read.prefix, redact_selectors)
    results = [_call(lambda: frame.evaluate(script(), walk))]
    if read.parent is not None:
        parent_prefix = read.parent
        results.append(_call(lambda: _place(frame, parent_prefix)))
    return read.record(results).kept(frame)


def _read_frames(page: Page, mode: str, redact_selectors: Sequence[str]) -> list[FrameRead]:
    frames = live_frames(page)
    reads = [r for r in (_read_frame(page, f, mode, redact_selectors) for f in frames) if r]
    if reads[0].data is None:
        reads[0] = _read_frame(page, page.main_frame, mode, redact_selectors) or reads[0]
    return reads


def read_page_state_sync(page: Page, *, redact_selectors: Sequence[str] = ()) -> PageState:
    """`read_page_state` for a sync-API page."""
    return assemble_state(_read_frames(page, "walk", redact_selectors))


def read_sensitive_sync(
    page: Page, *, redact_selectors: Sequence[str] = ()
) -> tuple[list[Rect], list[str]]:
    """`read_sensitive` for a sync-API page."""
    return assemble_sensitive(_read_frames(page, "sensitive", redact_selectors))


def resolve_ref_sync(page: Page, ref: str) -> Locator:
    """`resolve_ref` for a sync-API page."""
    locator: Locator = frame_for_ref(page, ref).locator(ref_selector(ref))
    count = locator.count()
    if count != 1:
        raise ref_count_error(ref, count)
    return locator
