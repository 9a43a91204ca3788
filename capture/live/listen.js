// capture live recording: the listener installed in every page and frame.
//
// It reports what the person does (clicks, double clicks, typing, keys, select/check, submit,
// scroll, drag and drop, file choices, the hover that opened a menu) to Python through ONE
// binding, as a JSON string carrying a per-recording token, so a page script that calls the
// binding itself is told apart from this listener. Listeners sit on `window` in the capture
// phase: a page handler that stops propagation cannot hide an action.
// The value of a sensitive field (password, card, one-time code, data-capture-redact,
// configured selectors) never leaves the page: only "sensitive: true" does.
//
// One report per intent, decided from the events themselves: a click the browser synthesizes
// for a key (Enter's implicit submission, Enter/Space on a button) has no pointer (detail 0,
// pointerType ""); a label's forwarded click repeats the label click's coordinates on the
// label's control; `el.click()` from a script is untrusted; the clicks of a double click carry
// detail 1 and 2 before the dblclick event; a click whose pointer went down elsewhere ends a drag.
(({ binding, token, redact, field }) => {
  // The flag is named after the binding: the token must stay inside this closure.
  const flag = `${binding}_installed`;
  if (window[flag]) return;
  Object.defineProperty(window, flag, { value: true, enumerable: false });

  // Captured now, before any page script can replace them.
  const stringify = JSON.stringify;
  const elementMatches = Element.prototype.matches;
  const bound = window[binding];
  const call = (text) => (bound || window[binding])(text);
  const TYPING_EVERY_MS = 250;
  const TYPING_QUIET_MS = 300;
  const SCROLL_QUIET_MS = 400;
  const INTENT_MS = 1500;
  const DRAG_PX = 8; // a press and release farther apart than this is a drag, not a click
  const SCROLL_INTENT_MS = 700; // a wheel's (smooth) scrolling ends well within this
  const MAX_TEXT = 80;

  // -- holding the next input until the previous action is captured -------------------------
  // Every report is answered by the recorder once the action it belongs to is captured (and a
  // new document's `hello` once the recorder is caught up). While an answer is outstanding, the
  // person's next gesture that is not text entry -- a press of the primary (or the back or
  // forward) button, or Enter, Tab or Escape -- is held: swallowed before any page handler or default action sees it, and
  // reported as a `hold`. The recorder completes what was pending (typing ends here), captures
  // it, and replays the gesture with real input (CDP), letting it through with `release`.
  // So the capture of a step never shows the next step's effect. Text entry is held only
  // behind a held gesture (typed right after a held click, it belongs in the field clicked).
  let unanswered = 0;
  let holding = 0; // held gestures the recorder has not replayed yet
  // The held gesture the recorder replays now: {kind: "pointer", x, y, ux, uy} (where it goes
  // down and up) or {kind: "key", key}; only that one passes, the person's other input
  // meanwhile stays held (a press the person is in the middle of included).
  let passing = null;
  let gesture = 0; // the number of the last held gesture
  let heldPointer = null; // a press being held: until the next press, every mouse event of it
  let heldKeys = new Set(); // keys whose keydown was held: their keyup is swallowed too
  let lastPress = null; // the last press let through: a second click of a double click is not held
  const HOLD_KEYS = new Set(["Enter", "Tab", "Escape"]);
  const DOUBLE_MS = 500;
  const answered = () => {
    unanswered = Math.max(0, unanswered - 1);
  };
  const ask = (text) => {
    unanswered += 1;
    try {
      Promise.resolve(call(text)).then(answered, answered);
    } catch (e) {
      answered(); // the binding is gone (page closing); nothing to report to
    }
  };
  const swallow = (ev) => {
    ev.preventDefault();
    ev.stopImmediatePropagation();
  };
  const busy = () => unanswered > 0 || holding > 0;
  const holdReport = (extra) => {
    try {
      call(stringify({ token, type: "hold", trusted: true, url: location.href, title: document.title, doc, ...extra }));
    } catch (e) {
      // the binding is gone: the gesture is lost with the page
    }
  };
  // Where a held press went down and came up, as the element under the pointer and the point's
  // place on it: the page may move before the replay (the held typing before it scrolls its
  // field into view, a script shifts the layout), and the person pressed on that element, not
  // on a spot of the screen.
  const anchors = new Map(); // gesture -> {down, up}
  const anchor = (ev, moved = false) => {
    const el = moved ? elementAt(ev.clientX, ev.clientY) : origin(ev);
    const box = el && el.getBoundingClientRect();
    return { el, x: ev.clientX, y: ev.clientY, left: box ? box.left : 0, top: box ? box.top : 0 };
  };
  // The point now: moved as its element moved; brought into view if it went out of it (and the
  // view put back after the replay).
  const relocate = (at) => {
    if (!at.el || !at.el.isConnected) return [at.x, at.y];
    let box = at.el.getBoundingClientRect();
    const point = () => [at.x + box.left - at.left, at.y + box.top - at.top];
    let [x, y] = point();
    if (x < 0 || y < 0 || x >= innerWidth || y >= innerHeight) {
      kept = kept || keepScroll(at.el);
      at.el.scrollIntoView({ block: "nearest", inline: "nearest" });
      box = at.el.getBoundingClientRect();
      [x, y] = point();
    }
    return [Math.round(x), Math.round(y)];
  };
  const near = (ev, x, y) => Math.abs(ev.clientX - x) < 2 && Math.abs(ev.clientY - y) < 2;
  // An event of the press being replayed: at its points, while it is let through.
  const replaying = (ev) =>
    !!passing && passing.kind === "pointer" && (near(ev, passing.x, passing.y) || near(ev, passing.ux, passing.uy));
  // A replay must not move the page: the person may have scrolled on since (scrolling is not
  // held), and a replayed key's caret reveal, or a replayed press on an element scrolled out of
  // view, would bring it back under the pointer. Only when the element is not wholly in view
  // (else no reveal comes, and a scroll the person has under way is left alone), the scroll
  // positions of the document and of the element's scrolling ancestors are kept (for a key, as
  // its keydown reaches the page, just before the reveal), and put back at its keyup, at the
  // end of the replay, and before a press that came meanwhile is looked at.
  let kept = null; // [[element, left, top], ...]
  const focused = () => {
    let el = document.activeElement;
    while (el && el.shadowRoot && el.shadowRoot.activeElement) el = el.shadowRoot.activeElement;
    return el && el !== document.body ? el : null;
  };
  const keepScroll = (el) => {
    if (!el) return null;
    const box = el.getBoundingClientRect();
    if (box.top >= 0 && box.left >= 0 && box.bottom <= innerHeight && box.right <= innerWidth) return null;
    const scrollers = [];
    for (let node = parentOf(el); node; node = parentOf(node))
      if (node.scrollHeight > node.clientHeight || node.scrollWidth > node.clientWidth) scrollers.push(node);
    const root = document.scrollingElement;
    if (root && !scrollers.includes(root)) scrollers.push(root);
    return scrollers.map((node) => [node, node.scrollLeft, node.scrollTop]);
  };
  const putBack = () => {
    let moved = false;
    for (const [node, left, top] of kept || []) {
      if (node.scrollLeft === left && node.scrollTop === top) continue;
      node.scrollTo({ left, top, behavior: "instant" });
      moved = true;
    }
    kept = null;
    return moved;
  };
  // A press is replayed where its element is once the page stands still: during a scroll (a
  // wheel's smooth scrolling) the element moves on between the reading and the press.
  const STILL_MS = 100;
  let scrolledAt = -Infinity;
  window.addEventListener("scroll", () => {
    scrolledAt = performance.now();
  }, { capture: true, passive: true });
  // `release(gesture)` lets a held gesture through (for a press: answers where to press now, or
  // "scrolling"); `release(null)` ends its replay, answering "missed" when the replayed press
  // came down or up on something else than its elements (the page moved between the answer and
  // the press, or during it; the rest of the press was swallowed and it is replayed again).
  // With `check: false` a press goes wherever it lands.
  Object.defineProperty(window, `${binding}_release`, {
    value: (gesture) => {
      if (gesture === "typed") return flushTyping(); // report the typing now: it ends here
      if (gesture && gesture.kind === "pointer" && performance.now() - scrolledAt < STILL_MS) return "scrolling";
      putBack();
      const done = passing;
      passing = gesture || null;
      if (!passing) {
        if (done && done.missed) return "missed";
        holding = Math.max(0, holding - 1); // one gesture replayed
        if (done && done.kind === "pointer") anchors.delete(done.gesture);
        return null;
      }
      if (passing.kind !== "pointer") return null;
      // The person's press is over (its up came): its events are not held any more. A press
      // the person has begun since stays held.
      if (heldPointer && heldPointer.gesture === passing.gesture) heldPointer = null;
      const held = anchors.get(passing.gesture);
      const down = held ? relocate(held.down) : [passing.x, passing.y];
      const up = held && held.up ? relocate(held.up) : down;
      const check = held && passing.check !== false;
      passing = {
        kind: "pointer", gesture: passing.gesture, x: down[0], y: down[1], ux: up[0], uy: up[1],
        el: check ? held.down.el : null, upEl: check && held.up ? held.up.el : null, missed: false,
      };
      return [...down, ...up];
    },
    enumerable: false,
  });
  // The buttons a held press may be: the primary, and the back and forward buttons (which
  // go back or forward in history when released).
  const HOLD_BUTTONS = new Set([0, 3, 4]);
  window.addEventListener("pointerdown", (ev) => {
    if (!ev.isTrusted || !ev.isPrimary || !HOLD_BUTTONS.has(ev.button)) return;
    if (replaying(ev)) {
      const hit = origin(ev);
      if (passing.el && passing.el.isConnected && hit && !contains(passing.el, hit)) {
        passing.missed = true; // the page moved since the answer: not on this press
        swallow(ev);
      } else lastPress = { t: ev.timeStamp, x: ev.clientX, y: ev.clientY };
      return;
    }
    // The held press before is over (up to its last event: the dblclick after its click).
    if (heldPointer && heldPointer.up) heldPointer = null;
    const again = lastPress && ev.timeStamp - lastPress.t < DOUBLE_MS &&
      Math.hypot(ev.clientX - lastPress.x, ev.clientY - lastPress.y) < 8;
    const inField = typing && typing.el === origin(ev);
    if (heldPointer || !busy() || again || inField) {
      if (heldPointer) swallow(ev);
      if (!heldPointer) lastPress = { t: ev.timeStamp, x: ev.clientX, y: ev.clientY };
      return;
    }
    swallow(ev);
    // The press would have taken the keyboard into this document (from the page around this
    // frame, or from a frame in this document); swallowed, it did not: keys typed right
    // behind it must reach this listener, which holds them for the field the press is
    // replayed on.
    const inner = document.activeElement;
    if (inner && (inner.localName === "iframe" || inner.localName === "frame")) inner.blur();
    else if (!document.hasFocus()) window.focus();
    flushTyping();
    gesture += 1;
    holding += 1;
    heldPointer = { gesture, up: false };
    // Under the pointer once a replayed key's reveal is undone: what the person pressed on.
    anchors.set(gesture, { down: anchor(ev, putBack()), up: null });
    holdReport({ gesture, phase: "down", ends: true, button: ev.button, time: ev.timeStamp, x: Math.round(ev.clientX), y: Math.round(ev.clientY) });
  }, true);
  // The rest of a replayed press passes, or goes with its press when that missed.
  const replayRest = (ev) => {
    if (!replaying(ev)) return false;
    const el = passing.upEl;
    if (ev.type === "pointerup" && el && el.isConnected && !contains(el, origin(ev) || el))
      passing.missed = true; // the page moved under the press: its click would go elsewhere
    if (passing.missed) swallow(ev);
    return true;
  };
  window.addEventListener("pointerup", (ev) => {
    if (!ev.isTrusted || !ev.isPrimary || replayRest(ev) || !heldPointer) return;
    swallow(ev);
    if (heldPointer.up) return;
    heldPointer.up = true;
    const held = anchors.get(heldPointer.gesture);
    if (held) held.up = anchor(ev);
    holdReport({ gesture: heldPointer.gesture, phase: "up", x: Math.round(ev.clientX), y: Math.round(ev.clientY) });
  }, true);
  for (const type of ["mousedown", "mouseup", "click", "dblclick", "auxclick", "contextmenu", "dragstart"]) {
    window.addEventListener(type, (ev) => {
      if (!ev.isTrusted || replayRest(ev) || !heldPointer) return;
      swallow(ev);
    }, true);
  }
  window.addEventListener("keydown", (ev) => {
    if (!ev.isTrusted || ev.isComposing) return;
    if (passing && passing.kind === "key" && passing.key === ev.key) {
      kept = keepScroll(focused());
      passing = null; // the replayed key
      return;
    }
    if (!(holding > 0 || (busy() && HOLD_KEYS.has(ev.key)))) return;
    swallow(ev);
    if (HOLD_KEYS.has(ev.key)) flushTyping();
    gesture += 1;
    holding += 1;
    heldKeys.add(ev.code);
    const mods = ["Control", "Alt", "Meta", "Shift"].filter((m) => ev.getModifierState(m));
    const text = ev.key.length === 1 && !ev.ctrlKey && !ev.metaKey && !ev.altKey ? ev.key : "";
    holdReport({
      gesture, phase: "key", key: [...mods, ev.key].join("+"), code: ev.code, key_code: ev.keyCode, text,
      ends: HOLD_KEYS.has(ev.key),
    });
  }, true);
  window.addEventListener("keyup", (ev) => {
    putBack();
    if (ev.isTrusted && heldKeys.delete(ev.code)) swallow(ev);
  }, true);

  const clean = (text) => (text || "").replace(/\s+/g, " ").trim();
  const cut = (text) => (text.length > MAX_TEXT ? `${text.slice(0, MAX_TEXT - 1)}…` : text);

  // -- the element, across open shadow roots -----------------------------------------------

  const origin = (ev) => {
    const path = ev.composedPath ? ev.composedPath() : [];
    const first = path.find((node) => node && node.nodeType === 1);
    return first || (ev.target && ev.target.nodeType === 1 ? ev.target : null);
  };
  // The element at a point, inside open shadow roots (what `origin` is for an event there).
  const elementAt = (x, y) => {
    let el = document.elementFromPoint(x, y);
    for (let inner = el; inner && inner.shadowRoot; ) {
      inner = inner.shadowRoot.elementFromPoint(x, y);
      if (!inner || inner === el) break;
      el = inner;
    }
    return el;
  };
  const parentOf = (el) => el.parentElement || (el.getRootNode && el.getRootNode().host) || null;
  const closest = (el, selector) => {
    for (let node = el; node; node = parentOf(node)) {
      if (node.matches && node.matches(selector)) return node;
    }
    return null;
  };
  const allElements = function* (root = document) {
    for (const el of root.querySelectorAll("*")) {
      yield el;
      if (el.shadowRoot) yield* allElements(el.shadowRoot);
    }
  };

  const TEXT_TYPES = new Set(["", "text", "search", "email", "tel", "url", "password", "number"]);
  const isTextField = (el) =>
    !!el &&
    ((el.localName === "input" && TEXT_TYPES.has((el.getAttribute("type") || "").toLowerCase())) ||
      el.localName === "textarea" ||
      el.isContentEditable);

  const isSensitive = (el) => {
    if (!el || el.nodeType !== 1) return false;
    // The recorder's sensitive-field rule (SENSITIVE_FIELD in recorder/observe/_script.py),
    // then redaction.
    if (elementMatches.call(el, field)) return true;
    if (closest(el, "[data-capture-redact]")) return true;
    for (const selector of redact) {
      try {
        if (closest(el, selector)) return true;
      } catch (e) {
        // a configured selector this browser cannot parse matches nothing
      }
    }
    return false;
  };

  // -- role and accessible name (the parts Playwright's getByRole uses) ---------------------

  const implicitRole = (el) => {
    const tag = el.localName;
    const type = (el.getAttribute("type") || "text").toLowerCase();
    switch (tag) {
      case "a":
      case "area":
        return el.hasAttribute("href") ? "link" : null;
      case "button":
        return "button";
      case "input":
        if (["button", "submit", "reset", "image"].includes(type)) return "button";
        if (type === "checkbox" || type === "radio") return type;
        if (type === "range") return "slider";
        if (type === "number") return "spinbutton";
        if (type === "search") return el.hasAttribute("list") ? "combobox" : "searchbox";
        if (["text", "email", "tel", "url"].includes(type))
          return el.hasAttribute("list") ? "combobox" : "textbox";
        return null;
      case "textarea":
        return "textbox";
      case "select":
        return el.multiple || el.size > 1 ? "listbox" : "combobox";
      case "option":
        return "option";
      case "h1": case "h2": case "h3": case "h4": case "h5": case "h6":
        return "heading";
      case "img":
        return el.getAttribute("alt") === "" ? null : "img";
      case "li":
        return "listitem";
      case "summary":
        return "button";
      default:
        return el.isContentEditable ? "textbox" : null;
    }
  };
  const roleOf = (el) => clean(el.getAttribute("role")).split(" ")[0] || implicitRole(el);

  // Text of an element without the values of controls inside it (a label around a select
  // would otherwise be named after every option).
  const ownText = (el) => {
    let out = "";
    const walk = (node) => {
      for (const child of node.childNodes) {
        if (child.nodeType === 3) out += child.textContent;
        else if (child.nodeType === 1 && !["select", "textarea", "input", "script", "style"].includes(child.localName)) {
          if (child.localName === "img") out += ` ${child.getAttribute("alt") || ""} `;
          else walk(child);
          if (getComputedStyle(child).display !== "inline") out += " ";
        }
      }
    };
    walk(el);
    return clean(out);
  };
  const byIds = (el, ids) => {
    const root = el.getRootNode();
    return clean(
      ids.split(/\s+/).map((id) => root.getElementById && root.getElementById(id)).filter(Boolean).map(ownText).join(" ")
    );
  };
  const NAME_FROM_CONTENT = new Set([
    "button", "link", "heading", "option", "tab", "menuitem", "menuitemcheckbox",
    "menuitemradio", "cell", "columnheader", "rowheader", "checkbox", "radio", "switch",
    "treeitem", "listitem", "tooltip",
  ]);
  const labelOf = (el) => {
    if (el.labels && el.labels.length) return clean([...el.labels].map(ownText).join(" "));
    return "";
  };
  const nameOf = (el, role) => {
    const labelledby = el.getAttribute("aria-labelledby");
    if (labelledby) {
      const text = byIds(el, labelledby);
      if (text) return text;
    }
    const aria = clean(el.getAttribute("aria-label"));
    if (aria) return aria;
    const label = labelOf(el);
    if (label) return label;
    if (el.localName === "input") {
      const type = (el.getAttribute("type") || "").toLowerCase();
      if (["button", "submit", "reset"].includes(type))
        return clean(el.value) || (type === "submit" ? "Submit" : type === "reset" ? "Reset" : "");
      if (type === "image") return clean(el.getAttribute("alt"));
    }
    if (el.localName === "img") return clean(el.getAttribute("alt"));
    if (role && NAME_FROM_CONTENT.has(role)) {
      const text = ownText(el);
      if (text) return text;
    }
    return clean(el.getAttribute("title")) || clean(el.getAttribute("placeholder"));
  };

  // -- targets: every strategy that names exactly this element, best first -------------------

  const count = (predicate) => {
    let n = 0;
    for (const el of allElements()) if (predicate(el) && ++n > 1) break;
    return n;
  };
  const cssEscape = (value) => (window.CSS && CSS.escape ? CSS.escape(value) : value);
  const cssPath = (el) => {
    const parts = [];
    for (let node = el; node && node.nodeType === 1; node = node.parentElement) {
      const root = node.getRootNode();
      if (node.id && root.querySelectorAll(`#${cssEscape(node.id)}`).length === 1) {
        parts.unshift(`#${cssEscape(node.id)}`);
        break;
      }
      let part = node.localName;
      const parent = node.parentElement;
      if (parent) {
        const same = [...parent.children].filter((c) => c.localName === node.localName);
        if (same.length > 1) part += `:nth-of-type(${same.indexOf(node) + 1})`;
      }
      parts.unshift(part);
    }
    return parts.join(" > ");
  };
  // A name with a number in it ("Cart (1)", "Total $12.50") may change while the page is used:
  // as a pattern, each number stands for any number. Null when the name has no number, or is
  // nothing but numbers.
  const NUMBER = /\d+(?:[.,]\d+)*/g;
  const escapeRe = (text) => text.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
  const patternOf = (text) => {
    const parts = text.split(NUMBER);
    if (parts.length < 2 || !parts.join("").trim()) return null;
    return `^${parts.map(escapeRe).join("\\d+(?:[.,]\\d+)*")}$`;
  };
  // The first semantic target that names exactly this element, then CSS as the fallback:
  // each check walks the document, so stop at the first that is unique. A name or text with
  // a number is tried as a pattern first (`/^Cart \(\d+...\)$/`), when that too names only
  // this element: a count or a price the page changes then still finds it.
  const targetsOf = (el, role, name) => {
    const label = labelOf(el) || clean(el.getAttribute("aria-label"));
    const placeholder = clean(el.getAttribute("placeholder"));
    const testId = el.getAttribute("data-testid");
    const text = !isTextField(el) && el.localName !== "select" && el.children.length === 0 ? ownText(el) : "";
    const namePattern = role && name && patternOf(name);
    const textPattern = text && text.length <= MAX_TEXT && patternOf(text);
    const nameRe = namePattern && new RegExp(namePattern);
    const textRe = textPattern && new RegExp(textPattern);
    const candidates = [
      () => namePattern && count((e) => roleOf(e) === role && nameRe.test(nameOf(e, role))) === 1 &&
        { role, name: `/${namePattern}/` },
      () => role && name && count((e) => roleOf(e) === role && nameOf(e, role) === name) === 1 && { role, name },
      () => label && count((e) => labelOf(e) === label || clean(e.getAttribute("aria-label")) === label) === 1 && { label },
      () => placeholder && count((e) => clean(e.getAttribute("placeholder")) === placeholder) === 1 && { placeholder },
      () => testId && count((e) => e.getAttribute("data-testid") === testId) === 1 && { test_id: testId },
      () => textPattern && count((e) => e.children.length === 0 && textRe.test(ownText(e))) === 1 &&
        { text: `/${textPattern}/` },
      () => text && text.length <= MAX_TEXT && count((e) => e.children.length === 0 && ownText(e) === text) === 1 && { text },
    ];
    for (const candidate of candidates) {
      const found = candidate();
      if (found) return [found, { css: cssPath(el) }];
    }
    return [{ css: cssPath(el) }];
  };

  const describe = (el) => {
    const role = roleOf(el);
    const name = cut(nameOf(el, role));
    return {
      role: role || null,
      name,
      tag: el.localName,
      type: el.getAttribute("type"),
      sensitive: isSensitive(el),
      targets: targetsOf(el, role, nameOf(el, role)),
    };
  };

  // -- sending ----------------------------------------------------------------------------

  const ids = new WeakMap();
  let nextId = 1;
  // Field ids count per document: this one's id keeps them apart from another's.
  const doc = Math.random().toString(36).slice(2);
  const fieldId = (el) => {
    if (!ids.has(el)) ids.set(el, nextId++);
    return ids.get(el);
  };
  const send = (type, ev, el, extra) => {
    const payload = {
      token, type, trusted: ev ? ev.isTrusted : true, url: location.href, title: document.title, doc, ...extra,
    };
    if (el) {
      payload.element = describe(el);
      payload.field = fieldId(el);
    }
    ask(stringify(payload));
  };

  // Typing is throttled per field: the first keystroke is reported at once (so Python can fold
  // the click into the field into the typing), then at most every TYPING_EVERY_MS while the
  // person types, each with `done: false`; the report once they pause (or act elsewhere, or
  // leave the page) says `done: true`. Python folds these into one action and, told that more
  // is coming, does not close it early.
  let typing = null;
  const sendTyping = (done) => {
    typing.done = done;
    typing.sent = Date.now();
    const el = typing.el;
    const value = isSensitive(el) ? null : el.isContentEditable ? el.innerText : el.value;
    send("input", typing.ev, el, { value, done });
  };
  const flushTyping = () => {
    if (!typing) return;
    clearTimeout(typing.timer);
    if (!typing.done) sendTyping(true);
    typing = null;
  };
  let lastIntent = 0;
  const intent = (ev) => {
    if (ev.isTrusted) lastIntent = Date.now();
  };

  const CLICKABLE =
    "a[href],button,input,select,textarea,summary,label,option,[role=button],[role=link]," +
    "[role=checkbox],[role=radio],[role=switch],[role=tab],[role=menuitem],[role=option]," +
    "[role=treeitem],[onclick],[contenteditable='true'],[contenteditable='']";
  // A click on an element wired up by script (no role, no onclick attribute): the outermost
  // ancestor still showing the pointer cursor is what the person meant to click.
  const pointerTarget = (hit) => {
    let el = hit;
    for (let node = parentOf(hit); node && node !== document.body; node = parentOf(node)) {
      if (getComputedStyle(node).cursor !== "pointer") break;
      el = node;
    }
    return el;
  };
  const clickable = (hit) => {
    const el = closest(hit, CLICKABLE) || pointerTarget(hit);
    return el.localName === "label" && el.control ? el.control : el;
  };
  const inputType = (el) => (el.localName === "input" ? (el.getAttribute("type") || "").toLowerCase() : "");
  // Reported by their change event (with the new state, or the chosen files): their clicks,
  // and the clicks their labels forward to them, would only double the action.
  const byChange = (el) =>
    el.localName === "select" || el.localName === "option" || ["checkbox", "radio", "file"].includes(inputType(el));
  const contains = (outer, inner) => {
    for (let node = inner; node; node = parentOf(node)) if (node === outer) return true;
    return false;
  };

  // -- the hover a click needed ---------------------------------------------------------------
  // `path` is where the pointer went (each element it entered). A menu a script opens on
  // mouseover/mouseenter is seen by a MutationObserver: what changed while the entering events
  // of an element were dispatched (before the next task) was changed by entering it -- an
  // element shown (style, hidden, added), or a class added to a container that a CSS rule turns
  // into showing the menu inside it. A menu opened by a CSS `:hover` rule is found from the
  // rules that show an element under :hover. Either way the target must be inside what was
  // shown, and the element entered outside it: else no hover was needed to reach the target.
  const path = [];
  let entering = null;
  const changedBy = new WeakMap(); // element -> { by: the element entered, added: classes }
  window.addEventListener("pointerover", (ev) => {
    const el = origin(ev);
    if (!ev.isTrusted || !el || path[path.length - 1] === el) return;
    path.push(el);
    if (path.length > 30) path.shift();
    entering = el;
    setTimeout(() => {
      if (entering === el) entering = null;
    }, 0);
  }, true);
  const classes = (text) => new Set((text || "").split(/\s+/).filter(Boolean));
  new MutationObserver((records) => {
    if (!entering) return;
    for (const record of records) {
      if (record.type === "childList") {
        for (const node of record.addedNodes)
          if (node.nodeType === 1) changedBy.set(node, { by: entering, added: null });
      } else if (record.attributeName === "class") {
        const before = classes(record.oldValue);
        const added = [...record.target.classList].filter((c) => !before.has(c));
        if (added.length) changedBy.set(record.target, { by: entering, added });
      } else {
        changedBy.set(record.target, { by: entering, added: null });
      }
    }
  }).observe(document, {
    subtree: true, childList: true, attributes: true, attributeOldValue: true,
    attributeFilter: ["class", "style", "hidden", "open"],
  });
  // Selectors of the style rules that show or hide (display, visibility, opacity).
  const showing = () => {
    const out = [];
    const walk = (rules) => {
      for (const rule of rules) {
        if (rule.cssRules && !rule.selectorText) walk(rule.cssRules);
        else if (rule.selectorText && rule.style && (rule.style.display || rule.style.visibility || rule.style.opacity))
          out.push(...rule.selectorText.split(","));
      }
    };
    for (const sheet of document.styleSheets) {
      try {
        walk(sheet.cssRules);
      } catch (e) {
        // a cross-origin style sheet cannot be read
      }
    }
    return out;
  };
  const matches = (el, selector) => {
    try {
      return el.matches(selector);
    } catch (e) {
      return false;
    }
  };
  // The element the pointer rested on that opened what `target` is in, or null.
  const hoverFor = (target) => {
    const selectors = showing();
    const chain = [];
    for (let el = target; el && el !== document.body; el = parentOf(el)) chain.push(el);
    const shownBy = (container, test) =>
      chain.some((el) => el !== container && contains(container, el) && selectors.some((sel) => test(sel) && matches(el, sel)));
    for (const el of chain) {
      const change = changedBy.get(el);
      if (change && change.by.isConnected && !contains(target, change.by)) {
        if (!contains(el, change.by)) return clickable(change.by);
        const added = change.added || [];
        if (shownBy(el, (sel) => added.some((c) => sel.includes(`.${c}`)))) return clickable(change.by);
      }
    }
    for (const selector of selectors) {
      if (!selector.includes(":hover")) continue;
      const shown = chain.find((el) => matches(el, selector));
      if (!shown) continue;
      const end = selector.lastIndexOf(":hover") + ":hover".length;
      const hovered = [...document.querySelectorAll(selector.slice(0, end))].pop();
      if (!hovered || contains(shown, hovered)) continue;
      // the last element entered inside the hovered one but outside what it showed
      const rested = path.filter((el) => el.isConnected && contains(hovered, el) && !contains(shown, el));
      const from = rested.filter((el) => el !== hovered).pop() || rested.pop();
      if (from && !contains(target, from)) return clickable(from);
    }
    return null;
  };

  // -- clicks, double clicks, drags -------------------------------------------------------------
  let down = null; // the person's last press: where, on what
  let forwarded = null; // the click a label is about to forward to its control
  let enter = null; // the element a held Enter key went down on
  let dnd = null; // an HTML5 drag in progress
  let clicking = null; // the element of the person's click being dispatched (this task)
  window.addEventListener("pointerdown", (ev) => {
    if (!ev.isTrusted || !ev.isPrimary || ev.button !== 0) return;
    const hit = origin(ev);
    down = hit && { el: hit, x: ev.clientX, y: ev.clientY };
    forwarded = null;
    if (!hit) return;
    const needs = hoverFor(hit);
    if (needs) send("hover", ev, needs, {});
  }, true);
  const far = (ev) => !!down && Math.hypot(ev.clientX - down.x, ev.clientY - down.y) > DRAG_PX;
  window.addEventListener("click", (ev) => {
    flushTyping();
    intent(ev);
    const hit = origin(ev);
    if (!hit) return;
    const el = clickable(hit);
    if (ev.isTrusted) {
      const pointerless = ev.detail === 0 && !ev.pointerType;
      // Enter on a button or link, or in a field of a form (implicit submission), fires a
      // click without a pointer while the key is down: the press is the action.
      if (pointerless && enter && (enter === hit || enter === el || (enter.form && enter.form === el.form))) return;
      if (forwarded && forwarded.el === hit && forwarded.x === ev.clientX && forwarded.y === ev.clientY) {
        forwarded = null;
        return;
      }
      if (!pointerless && (ev.detail > 1 || far(ev))) return; // part of a double click or a drag
      const label = closest(hit, "label");
      if (label && label.control && !contains(label.control, hit))
        forwarded = { el: label.control, x: ev.clientX, y: ev.clientY };
      clicking = el;
      setTimeout(() => {
        if (clicking === el) clicking = null;
      }, 0);
    } else if (clicking && inputType(el) === "file") {
      // The person's click made the page open a file chooser (`input.click()` in a handler):
      // the files chosen are the action, that click only led to them.
      send("chooser", { isTrusted: true }, clicking, {});
    }
    if (byChange(el)) return;
    send("click", ev, el, { text_field: isTextField(el) });
  }, true);
  window.addEventListener("dblclick", (ev) => {
    const hit = origin(ev);
    if (!hit || !ev.isTrusted) return;
    const el = clickable(hit);
    if (!byChange(el)) send("dblclick", ev, el, { text_field: isTextField(el) });
  }, true);

  // A drag the page handles with pointer events: pressed on one element, released over another.
  const dropTarget = (ev, from) =>
    document.elementsFromPoint(ev.clientX, ev.clientY).find((el) => !contains(from, el)) || null;
  window.addEventListener("pointerup", (ev) => {
    if (!ev.isTrusted || !ev.isPrimary || !down || dnd || !far(ev)) return;
    const from = clickable(down.el);
    if (isTextField(from) || byChange(from)) return; // selecting text, moving a slider
    const to = dropTarget(ev, from);
    if (to) send("drag", ev, from, { to: describe(clickable(to)) });
  }, true);
  // An HTML5 drag and drop: reported when it ends, with where it was dropped.
  window.addEventListener("dragstart", (ev) => {
    const el = origin(ev);
    if (ev.isTrusted && el) dnd = { from: clickable(el), to: null };
  }, true);
  for (const type of ["dragenter", "dragover", "drop"]) {
    window.addEventListener(type, (ev) => {
      if (dnd && ev.isTrusted) dnd.to = origin(ev);
    }, true);
  }
  window.addEventListener("dragend", (ev) => {
    const drag = dnd;
    dnd = null;
    down = null;
    if (drag && drag.to && ev.isTrusted) send("drag", ev, drag.from, { to: describe(clickable(drag.to)) });
  }, true);

  window.addEventListener("input", (ev) => {
    const el = origin(ev);
    if (!isTextField(el)) return;
    if (!ev.isTrusted) return send("input", ev, el, { value: null }); // counted, not typing
    if (typing && typing.el !== el) flushTyping();
    if (!typing) typing = { el, sent: 0 };
    typing.ev = ev;
    typing.done = false;
    clearTimeout(typing.timer);
    if (Date.now() - typing.sent >= TYPING_EVERY_MS) sendTyping(false);
    typing.timer = setTimeout(() => typing && !typing.done && sendTyping(true), TYPING_QUIET_MS);
  }, true);

  // Typing ends when the keyboard leaves this document (for an iframe's, or the top's back
  // from one): its last report must come before what the person does there.
  window.addEventListener("blur", (ev) => {
    if (ev.target === window) flushTyping();
  });

  window.addEventListener("change", (ev) => {
    const el = origin(ev);
    if (!el) return;
    const type = inputType(el);
    if (el.localName === "select") {
      flushTyping();
      const chosen = [...el.selectedOptions].map((o) => ({ value: o.value, label: clean(o.label || o.textContent) }));
      send("select", ev, el, { options: chosen });
    } else if (type === "checkbox" || type === "radio") {
      flushTyping();
      send("check", ev, el, { checked: el.checked });
    } else if (type === "file") {
      flushTyping();
      // Only the names: the browser never reveals the chosen files' paths.
      send("upload", ev, el, { files: [...el.files].map((f) => f.name) });
    }
  }, true);

  const KEYS = new Set(["Enter", "Escape", "Tab"]);
  window.addEventListener("keydown", (ev) => {
    intent(ev);
    if (!KEYS.has(ev.key) || ev.isComposing) return;
    flushTyping();
    const el = origin(ev);
    if (ev.key === "Enter" && ev.isTrusted) enter = el;
    const focused = el && el !== document.body && el !== document.documentElement ? el : null;
    const mods = ["Control", "Alt", "Meta", "Shift"].filter((m) => ev.getModifierState(m));
    send("key", ev, focused, { key: [...mods, ev.key].join("+") });
  }, true);
  window.addEventListener("keyup", (ev) => {
    if (ev.key === "Enter") enter = null;
  }, true);

  window.addEventListener("submit", (ev) => {
    flushTyping();
    const form = origin(ev);
    // A submit right after the person's click or Enter is that action's consequence.
    send("submit", ev, form, { caused: Date.now() - lastIntent < INTENT_MS });
  }, true);

  // Scroll events are trusted even when a script (or Playwright's scrollIntoView) scrolls, so a
  // scroll counts as the person's only shortly after input that scrolls: the wheel, a touch
  // move, a scrolling key outside a text field, or a press on a scrollbar (the page's is on the
  // root element; an element's lies outside its client area).
  let lastScrollIntent = 0;
  const SCROLL_KEYS = new Set(["PageUp", "PageDown", "Home", "End", "ArrowUp", "ArrowDown", " "]);
  const onScrollbar = (ev) => {
    const el = origin(ev);
    if (el === document.documentElement) return true;
    const scrolls = el && el.clientWidth > 0 && (el.scrollHeight > el.clientHeight || el.scrollWidth > el.clientWidth);
    return !!scrolls && (ev.offsetX >= el.clientWidth || ev.offsetY >= el.clientHeight);
  };
  const scrollIntent = (ev) => {
    if (!ev.isTrusted) return;
    if (ev.type === "keydown" && (!SCROLL_KEYS.has(ev.key) || isTextField(origin(ev)))) return;
    if (ev.type === "pointerdown" && !onScrollbar(ev)) return;
    lastScrollIntent = Date.now();
  };
  for (const type of ["wheel", "touchmove", "keydown", "pointerdown"])
    window.addEventListener(type, scrollIntent, { capture: true, passive: true });
  let scrolling = null;
  window.addEventListener("scroll", (ev) => {
    const hit = ev.target && ev.target.nodeType === 1 ? ev.target : null;
    const person = Date.now() - lastScrollIntent < SCROLL_INTENT_MS;
    clearTimeout(scrolling && scrolling.timer);
    scrolling = {
      person: person || (scrolling ? scrolling.person : false),
      timer: setTimeout(() => {
        const s = scrolling;
        scrolling = null;
        const box = hit && hit !== document.scrollingElement ? hit : null;
        const x = Math.round(box ? box.scrollLeft : window.scrollX);
        const y = Math.round(box ? box.scrollTop : window.scrollY);
        send("scroll", { isTrusted: s.person }, box, { x, y });
      }, SCROLL_QUIET_MS),
    };
  }, true);

  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible" && window === window.top) send("visible", null, null, {});
  });
  window.addEventListener("pagehide", flushTyping, true);

  // -- the badge: the person sees that recording is on ------------------------------------
  // A small box in the corner of the top document, in a closed shadow root, that no pointer
  // event reaches. The recorder removes it (`hidden`) for every capture and shows it again
  // after, with the count of steps: it is in no screenshot and no observation.
  if (window === window.top) {
    const host = document.createElement("capture-recording");
    const show = (on) => {
      host.hidden = !on;
      host.style.setProperty("display", on ? "block" : "none", "important");
    };
    show(false);
    host.setAttribute("aria-hidden", "true");
    const root = host.attachShadow({ mode: "closed" });
    const box = document.createElement("div");
    box.setAttribute("style", [
      "position:fixed", "right:8px", "bottom:8px", "z-index:2147483647", "pointer-events:none",
      "font:12px/1.4 system-ui,sans-serif", "color:#fff", "background:rgba(176,0,32,.88)",
      "padding:4px 8px", "border-radius:6px", "box-shadow:0 1px 4px rgba(0,0,0,.3)",
    ].join(";"));
    root.appendChild(box);
    const place = () => {
      if (!host.isConnected && document.documentElement) document.documentElement.appendChild(host);
    };
    Object.defineProperty(window, `${binding}_badge`, {
      value: (steps) => {
        if (steps === null) return show(false);
        place();
        box.textContent = `\u25CF recording: ${steps} step${steps === 1 ? "" : "s"} \u00B7 close the tab to stop`;
        show(true);
      },
      enumerable: false,
    });
  }
  send("hello", null, null, {}); // answered once the recorder is caught up
})
