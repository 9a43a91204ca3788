"""Running the recorder's async page I/O for a page of Playwright's sync API.

Playwright's sync API is its async implementation driven from a greenlet: each sync call
runs one coroutine on Playwright's own event loop and waits for it. A capture makes several
independent round trips (the screenshot waits about two frames; the page reads can run
meanwhile), and one sync call after another would wait for each in turn. So the sync face
hands the whole I/O of a capture to that loop as one coroutine over the objects behind the
sync ones, which take the same calls as the async API's, and the parts overlap exactly as
they do in `Recorder`: one code path, twice as fast on the sync API.

This module is the one door below Playwright's public API (`_impl_obj` and `_sync`, both
there since the sync API exists): everything else that needs them goes through it, and the
whole recorder suite runs through it.
"""

from __future__ import annotations

from collections.abc import Coroutine
from typing import Any, TypeVar

__all__ = ["impl_of", "run_sync"]

T = TypeVar("T")


def impl_of(obj: Any) -> Any:
    """The implementation object behind a Playwright API object (itself for one already)."""
    return getattr(obj, "_impl_obj", obj)


def run_sync(owner: Any, work: Coroutine[Any, Any, T]) -> T:
    """Run `work` on the event loop of `owner` (a sync-API object) and wait for it, as a
    sync-API call does; Playwright's errors are raised as they would be by that call."""
    result: T = owner._sync(work)
    return result
