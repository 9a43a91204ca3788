"""The reads for Playwright's sync API: `_read.py`'s own functions, run on the page's loop.

They run through `browser._internals`, so a sync-API page is read exactly as an async one,
its frames concurrently.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Coroutine
from typing import Any, Concatenate, ParamSpec, TypeVar

from playwright.sync_api import Locator, Page

from capture.browser import impl_of, run_sync
from capture.recorder.observe._read import PageLike, read_page_state, read_sensitive
from capture.recorder.observe._script import frame_for_ref, ref_count_error, ref_selector

__all__ = ["read_page_state_sync", "read_sensitive_sync", "resolve_ref_sync"]

P = ParamSpec("P")
T = TypeVar("T")


def _on_page_loop(
    read: Callable[Concatenate[PageLike, P], Coroutine[Any, Any, T]], name: str
) -> Callable[Concatenate[Page, P], T]:
    """`read` for a sync-API page, under `name`: made from the async read itself, so that
    the two take the same options and cannot drift apart."""

    @functools.wraps(read)
    def on_page_loop(page: Page, /, *args: P.args, **kwargs: P.kwargs) -> T:
        return run_sync(page, read(impl_of(page), *args, **kwargs))

    on_page_loop.__name__ = on_page_loop.__qualname__ = name
    on_page_loop.__doc__ = f"`{read.__name__}` for a sync-API page."
    return on_page_loop


read_page_state_sync = _on_page_loop(read_page_state, "read_page_state_sync")
read_sensitive_sync = _on_page_loop(read_sensitive, "read_sensitive_sync")


def resolve_ref_sync(page: Page, ref: str) -> Locator:
    """`resolve_ref` for a sync-API page."""
    locator: Locator = frame_for_ref(page, ref).locator(ref_selector(ref))
    count = locator.count()
    if count != 1:
        raise ref_count_error(ref, count)
    return locator
