"""Which elements a page's scripts listen to for clicks: an init script on the context.

The outline gives a ref to elements a script makes clickable. A handler attribute
(`onclick="..."`) page.js reads itself; a listener added with `addEventListener` leaves no
trace in the DOM, and a handler property (`el.onclick = ...`) costs seven property reads
per element to find. So this script, added to every context capture opens or captures in,
wraps `EventTarget.prototype.addEventListener` and the handler properties' setters before
the page's own scripts run, and notes each element given a click, mouse-button, pointer or
touch listener or handler in a WeakMap; page.js asks
`window[Symbol.for("capture.clickListeners")]`.

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

# Defines a non-writable function on the window, once per document: `(el) => reason`,
# "listener" or the handler property set ("onclick", ...), else undefined. The originals it
# calls are taken before any page script runs, so a page that replaces WeakMap methods
# later changes nothing here. Handler properties are noted too: page.js then needs no
# property reads (seven per element) to find them, only attributes (rare) and this map.
CLICK_LISTENERS_JS = """(() => {
  const KEY = Symbol.for("capture.clickListeners");
  if (Object.prototype.hasOwnProperty.call(window, KEY)) return;
  const seen = new WeakMap();
  const get = WeakMap.prototype.get;
  const set = WeakMap.prototype.set;
  const apply = Reflect.apply;
  const note = (el, why) => {
    try {
      if (el && el.nodeType === 1 && apply(get, seen, [el]) === undefined) {
        apply(set, seen, [el, why]);
      }
    } catch (e) { /* not an element (a cross-origin window): nothing to note */ }
  };
  const TYPES = new Set(["click", "dblclick", "auxclick", "mousedown", "mouseup",
    "pointerdown", "pointerup", "touchstart", "touchend"]);
  const original = EventTarget.prototype.addEventListener;
  EventTarget.prototype.addEventListener = {
    addEventListener(type, listener) { // two parameters, as the native one has
      if (typeof type === "string" && TYPES.has(type)) note(this, "listener");
      return apply(original, this, arguments);
    },
  }.addEventListener;
  const HANDLERS = ["onclick", "onmousedown", "onmouseup", "onpointerdown", "onpointerup",
    "ondblclick", "ontouchstart"];
  for (const proto of [HTMLElement.prototype, SVGElement.prototype]) {
    for (const name of HANDLERS) {
      const d = Object.getOwnPropertyDescriptor(proto, name);
      if (!d || !d.set) continue;
      const setter = d.set;
      Object.defineProperty(proto, name, { ...d, set: {
        [name](value) {
          if (value) note(this, name);
          return apply(setter, this, [value]);
        },
      }[name] });
    }
  }
  const probe = (el) => apply(get, seen, [el]);
  // Added to a document whose scripts ran already: the handler properties they set are
  // not noted, page.js reads them itself.
  Object.defineProperty(probe, "late", { value: document.readyState !== "loading" });
  Object.defineProperty(window, KEY, { value: probe });
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
            *(f.evaluate(CLICK_LISTENERS_JS, None) for f in frames), return_exceptions=True
        )
