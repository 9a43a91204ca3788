"""Which elements a page's scripts listen to for clicks: an init script on the context.

The outline gives a ref to elements a script makes clickable. A handler set as a property
or an attribute (`el.onclick = ...`, `onclick="..."`) page.js reads itself; one added with
`addEventListener` leaves no trace in the DOM. So this script, added to every context
capture opens or captures in, wraps `EventTarget.prototype.addEventListener` before the
page's own scripts run and notes each element given a click, mouse-button, pointer or
touch listener in a WeakSet; page.js asks `window[Symbol.for("capture.clickListeners")]`.

What it cannot see (docs/mcp.md says so too): listeners added before it was there (a
document already loaded when capture attached over CDP, or when a recorder first captured a
page in a context capture did not open: its later documents are seen), and listeners
removed since (the element still counts).
"""

from __future__ import annotations

import asyncio
from typing import Any
from weakref import WeakSet

from capture.browser._internals import impl_of

__all__ = ["CLICK_LISTENERS_JS", "watch_clicks"]

# Defines a non-writable function on the window, once per document: `(el) => bool`. The
# originals it calls are taken before any page script runs, so a page that replaces
# WeakSet methods later changes nothing here.
CLICK_LISTENERS_JS = """(() => {
  const KEY = Symbol.for("capture.clickListeners");
  if (Object.prototype.hasOwnProperty.call(window, KEY)) return;
  const seen = new WeakSet();
  const add = WeakSet.prototype.add;
  const has = WeakSet.prototype.has;
  const apply = Reflect.apply;
  const TYPES = new Set(["click", "dblclick", "auxclick", "mousedown", "mouseup",
    "pointerdown", "pointerup", "touchstart", "touchend"]);
  const original = EventTarget.prototype.addEventListener;
  const wrapped = {
    addEventListener(type, listener) { // two parameters, as the native one has
      try {
        if (TYPES.has(String(type)) && this && this.nodeType === 1) apply(add, seen, [this]);
      } catch (e) { /* not an element (a cross-origin window): nothing to note */ }
      return apply(original, this, arguments);
    },
  }.addEventListener;
  EventTarget.prototype.addEventListener = wrapped;
  Object.defineProperty(window, KEY, { value: (el) => apply(has, seen, [el]) });
})()"""

_watched: WeakSet[Any] = WeakSet()


async def watch_clicks(context: Any, page: Any = None) -> None:
    """Note click listeners in every document of `context` (a BrowserContext of either
    Playwright API) opened from now on; once per context.

    With `page`, its frames' current documents are covered too, from now on: for a page
    the caller opened before capture saw its context (listeners it added already are
    missed).
    """
    impl = impl_of(context)
    if impl in _watched:
        return
    _watched.add(impl)
    # Called this way, the public async API and the object behind a sync one take it alike.
    await context.add_init_script(CLICK_LISTENERS_JS, path=None)
    if page is not None:
        frames = [f for f in page.frames if not f.is_detached()]
        # A frame that navigates meanwhile gets the init script anyway.
        await asyncio.gather(
            *(f.evaluate(CLICK_LISTENERS_JS) for f in frames), return_exceptions=True
        )
