"""Which elements a page's scripts listen to for clicks: an init script on the context.

The outline gives a ref to elements a script makes clickable. A handler attribute
(`onclick="..."`) page.js reads itself; a listener added with `addEventListener` leaves no
trace in the DOM, and a handler property (`el.onclick = ...`) is invisible from another
world. So this script, added to every context capture opens or captures in, wraps
`EventTarget.prototype.addEventListener` and the handler properties' setters before the
page's own scripts run, and notes each element given a click, mouse-button, pointer or
touch listener or handler.

page.js runs in an isolated world (`browser._world`), which shares the DOM with this one
but none of its objects. So it asks with an event on the window ("capture:clicks?"), and this
script answers, in the same call, with one event per noted element still in its document
("capture:click", the reason in `detail`): no attribute is written into the page. In a
document this script reached after its scripts ran, it also answers for the handler
properties already set.

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

# Once per document (a non-writable marker on the window says it ran). The originals it
# calls are taken before any page script runs, so a page that replaces WeakMap, WeakRef or
# dispatchEvent later changes nothing here.
CLICK_LISTENERS_JS = """(() => {
  const KEY = Symbol.for("capture.clickListeners");
  if (Object.prototype.hasOwnProperty.call(window, KEY)) return;
  const seen = new WeakMap();
  const get = WeakMap.prototype.get;
  const set = WeakMap.prototype.set;
  const apply = Reflect.apply;
  const Ref = WeakRef;
  const deref = WeakRef.prototype.deref;
  const Custom = CustomEvent;
  const dispatch = EventTarget.prototype.dispatchEvent;
  const connected = Object.getOwnPropertyDescriptor(Node.prototype, "isConnected").get;
  let noted = [];
  const note = (el, why) => {
    try {
      if (el && el.nodeType === 1 && apply(get, seen, [el]) === undefined) {
        apply(set, seen, [el, why]);
        noted[noted.length] = new Ref(el);
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
  // Handler properties the page's scripts set before this script was there: read once, at
  // the first question (the setters wrapped above note every later one).
  let unread = document.readyState !== "loading";
  const noteSetAlready = () => {
    const walker = document.createTreeWalker(document, NodeFilter.SHOW_ELEMENT);
    for (let el = walker.nextNode(); el; el = walker.nextNode()) {
      for (const name of HANDLERS) if (el[name]) { note(el, name); break; }
    }
  };
  const answer = () => {
    if (unread) { unread = false; noteSetAlready(); }
    const kept = [];
    for (const ref of noted) {
      const el = apply(deref, ref, []);
      if (!el) continue;
      kept[kept.length] = ref;
      if (!apply(connected, el, [])) continue;
      const why = apply(get, seen, [el]);
      apply(dispatch, el, [new Custom("capture:click", { detail: why, composed: true })]);
    }
    noted = kept;
  };
  apply(original, window, ["capture:clicks?", answer, true]);
  Object.defineProperty(window, KEY, { value: true });
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
