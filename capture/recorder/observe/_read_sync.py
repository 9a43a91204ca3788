"""The reads for Playwright's sync API: `_read.py`'s own functions, run on the page's loop.

They run through `browser._internals`, so a sync-API page is read exactly as an async one,
its frames concurrently.
"""

from __future__ import annotations

from collections.abc import Sequence

from playwright.sync_api import Locator, Page

from capture.browser._internals import impl_of, run_sync
from capture.recorder.observe._model import PageState, Rect
from capture.recorder.observe._read import read_page_state, read_sensitive
from capture.recorder.observe._script import frame_for_ref, ref_count_error, ref_selector

__all__ = ["read_page_state_sync", "read_sensitive_sync", "resolve_ref_sync"]


def read_page_state_sync(
    page: Page,
    *,
    redact_selectors: Sequence[str] = (),
    deadline: float | None = None,
    sensitive: bool = True,
    whole_page: bool = False,
) -> PageState:
    """`read_page_state` for a sync-API page."""
    state = read_page_state(
        impl_of(page),
        redact_selectors=redact_selectors,
        deadline=deadline,
        sensitive=sensitive,
        whole_page=whole_page,
    )
    return run_sync(page, state)


def read_sensitive_sync(
    page: Page, *, redact_selectors: Sequence[str] = (), secrets: Sequence[str] = ()
) -> tuple[list[Rect], list[str]]:
    """`read_sensitive` for a sync-API page."""
    return run_sync(
        page,
        read_sensitive(impl_of(page), redact_selectors=redact_selectors, secrets=secrets),
    )


def resolve_ref_sync(page: Page, ref: str) -> Locator:
    """`resolve_ref` for a sync-API page."""
    locator: Locator = frame_for_ref(page, ref).locator(ref_selector(ref))
    count = locator.count()
    if count != 1:
        raise ref_count_error(ref, count)
    return locator
