"""The one seam below Playwright's public API: nothing else in capture names a private
Playwright attribute. tests/test_internals.py fails, naming the attribute, when a Playwright
release moves one of them.

Why each is needed:
- `_impl_obj` / `_sync` (both there since the sync API exists): Playwright's sync API is its
  async implementation driven from a greenlet; each sync call runs one coroutine on
  Playwright's own event loop and waits for it. A capture makes several independent round
  trips (the screenshot waits about two frames; the page reads can run meanwhile), and one
  sync call after another would wait for each in turn. So the sync recorder hands the whole
  I/O of a capture to that loop as one coroutine over the objects behind the sync ones,
  which take the same calls as the async API's: one code path, twice as fast on the sync API.
- the pyee `listeners` of the implementation objects: whether anybody but capture handles a
  page's dialogs (there is no public way to ask).
- `_actual_locator` of `LocatorAssertions`: the locator an `expect(...)` checks, for the text
  of a pytest step (there is no public way back).
"""

from __future__ import annotations

from collections.abc import Coroutine
from typing import Any, TypeVar

__all__ = ["INTERNALS", "actual_locator", "dialog_listeners", "impl_of", "run_sync"]

T = TypeVar("T")

# Every private name used here, for the test that checks a Playwright release still has them.
INTERNALS = ("_impl_obj", "_sync", "listeners", "_actual_locator")


def impl_of(obj: Any) -> Any:
    """The implementation object behind a Playwright API object (itself for one already)."""
    return getattr(obj, "_impl_obj", obj)


def run_sync(owner: Any, work: Coroutine[Any, Any, T]) -> T:
    """Run `work` on the event loop of `owner` (a sync-API object) and wait for it, as a
    sync-API call does; Playwright's errors are raised as they would be by that call."""
    result: T = owner._sync(work)
    return result


def dialog_listeners(page: Any) -> int | None:
    """How many "dialog" listeners `page` and its context have, or None when Playwright no
    longer tells (its event emitters are pyee emitters on the implementation objects)."""
    try:
        impl = impl_of(page)
        return len(impl.listeners("dialog")) + len(impl.context.listeners("dialog"))
    except AttributeError:
        return None


def actual_locator(assertions: Any) -> Any:
    """The locator a `LocatorAssertions` checks, or None when Playwright no longer tells."""
    return getattr(impl_of(assertions), "_actual_locator", None)
