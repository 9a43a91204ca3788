// capture's in-page observer: one call per frame reads everything the outline needs.
//
// Called as `fn(options)` through frame.evaluate(), or as `fn(iframeElement, options)`
// through an ElementHandle (mode "frame": where the iframe's content box sits in its
// parent's viewport). Modes:
//   "walk"      items for the outline + sensitive rects and values (read_page_state)
//   "sensitive" only sensitive rects and values (read_sensitive, the fast path), plus the
//               rects of every place that shows a known secret (opts.secrets)
//   "frame"     {ref, x, y, width, height} of the iframe's content box
//
// The answer is a JSON string: Playwright's own value serialization costs 5-10 times more
// than the walk itself on a long page.
//
// Refs and the redacted areas are common.js's, spliced in where it says so. Values of sensitive fields never leave this function except in `secrets`, which the
// Python side uses only to scrub other texts and mask pixels, and never stores.
(first, second) => {
  const opts = second === undefined ? first : second;
  const target = second === undefined ? null : first;

  const SENSITIVE_ATTR = "data-capture-sensitive";
  /* common.js */

  if (opts.mode === "frame") {
    const r = target.getBoundingClientRect();
    const cs = getComputedStyle(target);
    const x = r.left + target.clientLeft + parseFloat(cs.paddingLeft);
    const y = r.top + target.clientTop + parseFloat(cs.paddingTop);
    const width = target.clientWidth - parseFloat(cs.paddingLeft) - parseFloat(cs.paddingRight);
    const height = target.clientHeight - parseFloat(cs.paddingTop) - parseFloat(cs.paddingBottom);
    return JSON.stringify({ ref: refFor(target), x, y, width, height });
  }

  // -- sensitive fields -----------------------------------------------------------------

  const isSensitiveField = (el) => el.matches(FIELD);
  const vw = window.innerWidth;
  const vh = window.innerHeight;
  const inViewport = (r) => r.bottom > 0 && r.right > 0 && r.top < vh && r.left < vw;

  const fieldValue = (el) => {
    if (el.tagName === "SELECT") {
      return Array.from(el.selectedOptions, (o) => o.text).join(", ");
    }
    return typeof el.value === "string" ? el.value : "";
  };

  // Every open shadow root of the document (querySelectorAll does not cross them). A
  // TreeWalker visits the same elements as querySelectorAll("*") about 5x faster on a
  // 1 MB document: this runs on every capture, twice (fast path and walk).
  const shadowRoots = (root, out) => {
    const walker = document.createTreeWalker(root, NodeFilter.SHOW_ELEMENT);
    for (let el = walker.nextNode(); el; el = walker.nextNode()) {
      if (el.shadowRoot) {
        out.push(el.shadowRoot);
        shadowRoots(el.shadowRoot, out);
      }
    }
    return out;
  };

  const readSensitive = () => {
    const rects = [];
    const secrets = [];
    const addBox = (r) => {
      if (r.width > 0 && r.height > 0 && inViewport(r)) {
        rects.push([r.left, r.top, r.width, r.height]);
      }
    };
    const addRect = (el) => addBox(el.getBoundingClientRect());
    const addSecret = (value) => {
      const v = value.trim();
      if (v && !secrets.includes(v)) secrets.push(v);
    };
    const roots = [document, ...shadowRoots(document, [])];
    for (const root of roots) {
      for (const el of root.querySelectorAll(FIELD)) {
        // Remember fields that were passwords once: a "show password" toggle turns them
        // into type=text, and their value must stay hidden.
        if (el.type === "password") el.setAttribute(SENSITIVE_ATTR, "");
        addRect(el);
        addSecret(fieldValue(el));
      }
      for (const el of root.querySelectorAll(REDACT_ROOT)) {
        addRect(el);
        for (const field of [el, ...el.querySelectorAll("input, textarea, select")]) {
          if (field.matches("input, textarea, select")) addSecret(fieldValue(field));
        }
        const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
        for (let n = walker.nextNode(); n; n = walker.nextNode()) {
          if (!n.parentElement.closest("label, script, style")) addSecret(n.data);
        }
      }
    }
    if (opts.mode === "sensitive") {
      // This frame's own field values too: one typed into a password field and echoed
      // elsewhere on the page is masked in the very capture that first sees it.
      maskKnown(roots, [...(opts.secrets || []), ...secrets], addRect, addBox);
    }
    return { rects, secrets };
  };

  // -- known secrets ----------------------------------------------------------------------

  // Masks every place this frame shows a known secret (the task's secret vars, configured
  // secrets, values of sensitive fields; only those the scrubber also knows: >= minSecret
  // characters): text, however split into text nodes; a field's current value; an
  // attribute the page draws (a placeholder, an image's alt, one that a same-origin
  // stylesheet shows through `content: attr()`). The secrets arrive only in this call and
  // are never written anywhere in the page. Cheap checks come first, as a secret is
  // usually not on the page: one textContent for all text, live collections for fields.

  // The attribute names stylesheets show through attr(), per sheet, kept on the window
  // while the sheet keeps its rule count (names only, never a value).
  const SHOWN = Symbol.for("capture.attrShown");
  const attrNamesOf = (rules, out) => {
    for (const rule of rules) {
      if (rule.cssRules) attrNamesOf(rule.cssRules, out);
      const content = rule.style ? rule.style.content : "";
      if (content && content.includes("attr(")) {
        for (const m of content.matchAll(/attr\(\s*([^\s,)]+)/g)) out.add(m[1]);
      }
    }
    return out;
  };
  // Attribute names some readable stylesheet shows through attr() (usually none).
  const shownAttributes = (roots) => {
    if (!window[SHOWN]) {
      Object.defineProperty(window, SHOWN, { value: new WeakMap(), configurable: true });
    }
    const names = new Set();
    for (const root of roots) {
      for (const sheet of [...root.styleSheets, ...(root.adoptedStyleSheets || [])]) {
        let rules;
        try {
          rules = sheet.cssRules;
        } catch (e) {
          continue; // another origin's sheet cannot be read (docs: not covered)
        }
        let known = window[SHOWN].get(sheet);
        if (!known || known.count !== rules.length) {
          known = { count: rules.length, names: [...attrNamesOf(rules, new Set())] };
          window[SHOWN].set(sheet, known);
        }
        for (const name of known.names) names.add(name);
      }
    }
    return [...names];
  };
  // The elements that draw their own value or attributes: fields (value, placeholder) and
  // images (alt). A document's live collections cost far less than a selector pass.
  const DRAWN = { INPUT: ["placeholder", "alt"], TEXTAREA: ["placeholder"], SELECT: [], IMG: ["alt"] };
  const drawing = function* (root) {
    if (root.getElementsByTagName) {
      for (const tag of Object.keys(DRAWN)) yield* root.getElementsByTagName(tag);
    } else {
      yield* root.querySelectorAll("input, textarea, select, img");
    }
  };

  const maskKnown = (roots, candidates, addElement, addBox) => {
    const wanted = [];
    for (const s of candidates) {
      const v = s.trim();
      if (v.length >= (opts.minSecret || 4) && !wanted.includes(v)) wanted.push(v);
    }
    if (!wanted.length) return;
    const has = (v) => Boolean(v) && wanted.some((s) => v.includes(s));
    const shown = shownAttributes(roots);
    for (const root of roots) {
      // Text: the root's text in document order (textContent is exactly that), so a secret
      // split over several text nodes (<b>sk-</b>123, splitText) is found; a Range gives
      // its boxes, wrapped lines included, and none for text that is not rendered.
      const host = root === document ? document.documentElement : root;
      const all = (host && host.textContent) || "";
      const inText = wanted.filter((s) => all.includes(s));
      if (inText.length) {
        const nodes = [];
        const starts = [];
        let length = 0;
        const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
        for (let n = walker.nextNode(); n; n = walker.nextNode()) {
          nodes.push(n);
          starts.push(length);
          length += n.data.length;
        }
        const text = nodes.map((n) => n.data).join("");
        for (const s of inText) {
          for (let i = text.indexOf(s); i >= 0; i = text.indexOf(s, i + s.length)) {
            const first = nodeAt(starts, i);
            const last = nodeAt(starts, i + s.length - 1);
            const range = document.createRange();
            range.setStart(nodes[first], i - starts[first]);
            range.setEnd(nodes[last], i + s.length - starts[last]);
            for (const r of range.getClientRects()) addBox(r);
          }
        }
      }
      // Fields by their current value (typed, or set by a script), and drawn attributes.
      for (const el of drawing(root)) {
        const value = el.tagName === "IMG" ? "" : fieldValue(el);
        if (has(value) || DRAWN[el.tagName].some((name) => has(el.getAttribute(name)))) {
          addElement(el);
        }
      }
      if (shown.length) {
        const selector = shown.map((name) => `[${CSS.escape(name)}]`).join(",");
        for (const el of root.querySelectorAll(selector)) {
          if (shown.some((name) => has(el.getAttribute(name)))) addElement(el);
        }
      }
    }
  };

  // A capture reads them first ("sensitive" mode) and then asks the walk not to again.
  const sensitive = opts.skipSensitive ? { rects: [], secrets: [] } : readSensitive();
  const base = {
    prefix,
    url: location.href,
    title: document.title,
    viewport: [vw, vh],
    scroll: [window.scrollX, window.scrollY],
    pageSize: [document.documentElement.scrollWidth, document.documentElement.scrollHeight],
    sensitive: sensitive.rects,
    secrets: sensitive.secrets,
    invalidSelectors,
  };
  if (opts.mode === "sensitive") return JSON.stringify(base);

  // -- roles and names ------------------------------------------------------------------

  const INTERACTIVE_ROLES = new Set([
    "button", "link", "textbox", "searchbox", "checkbox", "radio", "combobox", "listbox",
    "option", "slider", "spinbutton", "switch", "tab", "menuitem", "menuitemcheckbox",
    "menuitemradio", "treeitem",
  ]);
  const LANDMARK_ROLES = new Set([
    "banner", "navigation", "main", "contentinfo", "complementary", "region", "form",
    "search", "dialog", "alertdialog",
  ]);
  const NAME_FROM_CONTENT = new Set([
    "button", "link", "heading", "tab", "menuitem", "menuitemcheckbox", "menuitemradio",
    "option", "treeitem", "checkbox", "radio", "switch", "cell", "row", "clickable",
  ]);
  const MEDIA = new Set(["IMG", "svg", "CANVAS", "VIDEO", "AUDIO", "OBJECT", "EMBED"]);
  const SKIP = new Set([
    "SCRIPT", "STYLE", "NOSCRIPT", "TEMPLATE", "HEAD", "META", "LINK", "OPTION",
  ]);
  const INLINE = new Set([
    "A", "ABBR", "B", "BDI", "BDO", "BR", "CITE", "CODE", "DATA", "DFN", "EM", "FONT", "I",
    "KBD", "LABEL", "MARK", "Q", "S", "SAMP", "SMALL", "SPAN", "STRONG", "SUB", "SUP", "TIME",
    "U", "VAR", "WBR", "TD", "TH",
  ]);
  const INPUT_ROLES = {
    button: "button", submit: "button", reset: "button", image: "button", file: "button",
    checkbox: "checkbox", radio: "radio", range: "slider", number: "spinbutton",
    search: "searchbox", email: "textbox", tel: "textbox", text: "textbox", url: "textbox",
    password: "textbox",
  };
  const SECTIONING = "article, aside, main, nav, section";
  // Roles whose current value is shown (and read into a label that embeds them).
  const VALUE_ROLES = new Set([
    "textbox", "searchbox", "combobox", "listbox", "slider", "spinbutton",
  ]);

  const clean = (s, max) => {
    const t = s.replace(/\s+/g, " ").trim();
    return t.length > max ? `${t.slice(0, max - 1)}…` : t;
  };

  // Elements a script makes clickable (role "clickable"), and why, as the marker the
  // outline prints: a handler property or attribute, a listener the init script noted
  // (capture/browser/_clicks.py), a pointer cursor its parent lacks, a tabindex >= 0.
  const CLICK_HANDLERS = [
    "onclick", "onmousedown", "onmouseup", "onpointerdown", "onpointerup", "ondblclick",
    "ontouchstart",
  ];
  // A tabindex inside another clickable is that clickable's (merged); a handler, a
  // listener or a pointer cursor its parent lacks is a target of its own.
  const OWN_CLICK = new Set([...CLICK_HANDLERS, "listener", "cursor=pointer"]);
  // The init script's notes (capture/browser/_clicks.py): "listener", or the handler
  // property set. This runs in an isolated world, which cannot call into the page's: it
  // asks with an event, and the init script answers with one event per noted element, in
  // the same call. Only known words are kept (the page could answer too, and must not write
  // into the outline).
  const noted = new Map();
  const hear = (e) => {
    if (OWN_CLICK.has(e.detail)) noted.set(e.composedPath()[0], e.detail);
  };
  window.addEventListener("capture:click", hear, true);
  try {
    window.dispatchEvent(new CustomEvent("capture:clicks?"));
  } finally {
    window.removeEventListener("capture:click", hear, true);
  }
  const clickReason = (el, pointer, parentPointer) => {
    const why = noted.get(el);
    if (why) return why;
    if (el.hasAttributes()) { // handlers written in the HTML
      for (const name of CLICK_HANDLERS) if (el.hasAttribute(name)) return name;
    }
    if (pointer && !parentPointer) return "cursor=pointer";
    if (el.hasAttribute("tabindex") && el.tabIndex >= 0) return "tabindex";
    return null;
  };
  // A clickable around a semantic control is that control's (its ref is the target).
  const CONTROLS = "a[href], button, input:not([type=hidden]), select, textarea, summary, " +
    "[contenteditable=''], [contenteditable=true], [role=button], [role=link], " +
    "[role=checkbox], [role=radio], [role=tab], [role=menuitem], [role=option], " +
    "[role=switch], [role=textbox], [role=combobox], [role=slider], [role=treeitem]";
  // What a clickable without a name is called in its page's style sheets (an icon's
  // "star", "trash"): its first class names, when they look like words.
  const classHint = (el) => {
    const words = String(el.getAttribute("class") || "").split(/\s+/)
      .filter((c) => /^[A-Za-z][A-Za-z-]{1,23}$/.test(c)).slice(0, 2);
    return words.join(".");
  };
  // A clickable with more text than this is a container: its content is listed under it.
  const CLICK_NAME_MAX = 150;
  // Whether the person can click `el`: shown, and (when its centre is in the viewport and
  // the time budget lasts) not under something else.
  // Hit-tested at the centre of its first box (the centre of a link wrapped over two lines
  // may be outside it) as far as its scrolling ancestors show it: one scrolled out of its
  // list is not covered, only out of sight.
  const reachable = (el) => {
    const first = el.getClientRects()[0];
    if (!first || performance.now() > stopAt) return true;
    const root = el.getRootNode();
    const hits = (r) => {
      const x = r.left + r.width / 2;
      const y = r.top + r.height / 2;
      if (x < 0 || y < 0 || x >= vw || y >= vh) return true;
      const hit = (root.elementFromPoint ? root : document).elementFromPoint(x, y);
      return Boolean(hit) && (hit === el || el.contains(hit));
    };
    if (hits(first)) return true;
    let [left, top, right, bottom] = [first.left, first.top, first.right, first.bottom];
    let clipped = false;
    for (let a = up(el); a && a !== document.body && a !== document.documentElement; a = up(a)) {
      if (getComputedStyle(a).overflow === "visible") continue;
      const c = a.getBoundingClientRect();
      [left, top] = [Math.max(left, c.left), Math.max(top, c.top)];
      [right, bottom] = [Math.min(right, c.right), Math.min(bottom, c.bottom)];
      clipped = true;
      if (right <= left || bottom <= top) return true; // scrolled out of its box
    }
    return clipped && hits({ left, top, width: right - left, height: bottom - top });
  };

  const named = (el) => el.hasAttribute("aria-label") || el.hasAttribute("aria-labelledby");

  // DPUB-ARIA's link roles (footnote references in Sphinx and other documentation).
  const LINK_ROLES = new Set(["doc-noteref", "doc-backlink", "doc-biblioref", "doc-glossref"]);

  const roleOf = (el) => {
    const explicit = (el.getAttribute("role") || "").trim().split(/\s+/)[0];
    if (LINK_ROLES.has(explicit)) return "link";
    if (explicit && explicit !== "presentation" && explicit !== "none") return explicit;
    switch (el.tagName) {
      case "A": case "AREA": return el.hasAttribute("href") ? "link" : "";
      case "BUTTON": case "SUMMARY": return "button";
      case "INPUT": return INPUT_ROLES[el.type] || (el.type === "hidden" ? "" : "textbox");
      case "TEXTAREA": return "textbox";
      case "SELECT": return el.multiple || el.size > 1 ? "listbox" : "combobox";
      case "H1": case "H2": case "H3": case "H4": case "H5": case "H6": return "heading";
      case "IFRAME": return "iframe";
      case "IMG": return el.getAttribute("alt") ? "img" : "";
      case "NAV": return "navigation";
      case "MAIN": return "main";
      case "ASIDE": return "complementary";
      case "DIALOG": return "dialog";
      case "SEARCH": return "search";
      case "HEADER": return el.closest(SECTIONING) ? "" : "banner";
      case "FOOTER": return el.closest(SECTIONING) ? "" : "contentinfo";
      case "FORM": return named(el) ? "form" : "";
      case "SECTION": return named(el) ? "region" : "";
      case "TR": return "row";
      default:
        if (el.isContentEditable && !(el.parentElement && el.parentElement.isContentEditable)) {
          return "textbox";
        }
        return "";
    }
  };

  // Text of an element's content for names: text nodes, alt of images, aria-label of
  // children, through open shadow roots and slots; stops early once it is long enough.
  // `labelled` is the element being named when `el` is its label.
  const contentText = (el, max, labelled = null) => {
    let out = "";
    let enough = max; // raw characters that hold `max` once whitespace is collapsed
    const full = () => {
      if (out.length <= enough) return false;
      const collapsed = out.replace(/\s+/g, " ").trim().length;
      enough = out.length + max - collapsed;
      return collapsed > max;
    };
    const visit = (node) => {
      if (full()) return;
      if (node.nodeType === Node.TEXT_NODE) { out += node.data; return; }
      if (node.nodeType !== Node.ELEMENT_NODE || SKIP.has(node.tagName)) return;
      if (node.getAttribute("aria-hidden") === "true" || node.hidden) return;
      // Not rendered (a tooltip shown on hover): not part of the name.
      if (node !== el && !node.checkVisibility({ visibilityProperty: true }) &&
          getComputedStyle(node).display !== "contents") {
        return;
      }
      const label = node.getAttribute("aria-label");
      if (label && node !== el) { out += ` ${label} `; return; }
      if (node.tagName === "IMG") { out += ` ${node.getAttribute("alt") || ""} `; return; }
      if (node.tagName === "INPUT" || node.tagName === "SELECT" || node.tagName === "TEXTAREA") {
        // An embedded control adds its value to a label, unless it is the labelled
        // element itself, a checkbox-like control, or sensitive.
        if (node !== labelled && !isSensitiveField(node) && VALUE_ROLES.has(roleOf(node))) {
          out += ` ${fieldValue(node)} `;
        }
        return;
      }
      if (node.tagName === "SLOT") {
        const assigned = node.assignedNodes({ flatten: true });
        for (const child of assigned.length ? assigned : node.childNodes) visit(child);
        return;
      }
      const blockish = !INLINE.has(node.tagName);
      if (blockish) out += " ";
      for (const child of (node.shadowRoot || node).childNodes) visit(child);
      if (blockish) out += " ";
    };
    visit(el);
    return clean(out, max);
  };

  const byIds = (el, ids) => {
    const root = el.getRootNode();
    return ids.trim().split(/\s+/)
      .map((id) => root.getElementById ? root.getElementById(id) : document.getElementById(id))
      .filter(Boolean);
  };

  const nameOf = (el, role, redacted) => {
    const labelledby = el.getAttribute("aria-labelledby");
    if (labelledby) {
      const text = byIds(el, labelledby).map((n) => contentText(n, 120)).join(" ");
      if (text.trim()) return clean(text, 120);
    }
    const label = el.getAttribute("aria-label");
    if (label && label.trim()) return clean(label, 120);
    if (el.labels && el.labels.length) {
      const text = Array.from(el.labels, (l) => contentText(l, 120, el)).join(" ");
      if (text.trim()) return clean(text, 120);
    }
    if (["IMG", "AREA"].includes(el.tagName) || (el.tagName === "INPUT" && el.type === "image")) {
      const alt = el.getAttribute("alt");
      if (alt) return clean(alt, 120);
    }
    if (el.tagName === "INPUT" && ["submit", "reset", "button"].includes(el.type)) {
      const fallback = { submit: "Submit", reset: "Reset", button: "" }[el.type];
      return clean(el.value || fallback, 120);
    }
    if (NAME_FROM_CONTENT.has(role)) {
      if (redacted) return "[redacted]";
      const text = contentText(el, 120);
      if (text) return text;
    }
    const title = el.getAttribute("title");
    if (title && title.trim()) return clean(title, 120);
    const placeholder = el.getAttribute("placeholder");
    if (placeholder && placeholder.trim()) return clean(placeholder, 120);
    return "";
  };

  const statesOf = (el, role) => {
    const states = [];
    if (["checkbox", "radio", "switch", "menuitemcheckbox", "menuitemradio"].includes(role)) {
      const aria = el.getAttribute("aria-checked");
      if (el.checked || aria === "true") states.push("checked");
      else if (el.indeterminate || aria === "mixed") states.push("mixed");
    }
    if (el.matches(":disabled") || el.getAttribute("aria-disabled") === "true") {
      states.push("disabled");
    }
    const expanded = el.getAttribute("aria-expanded");
    if (expanded === "true") states.push("expanded");
    else if (expanded === "false") states.push("collapsed");
    if (el.tagName === "SUMMARY" && el.parentElement && el.parentElement.tagName === "DETAILS") {
      states.push(el.parentElement.open ? "expanded" : "collapsed");
    }
    if (el.getAttribute("aria-selected") === "true") states.push("selected");
    const pressed = el.getAttribute("aria-pressed");
    if (pressed === "true") states.push("pressed");
    if (el.required || el.getAttribute("aria-required") === "true") states.push("required");
    if ((el.readOnly && el.tagName !== "BUTTON") || el.getAttribute("aria-readonly") === "true") {
      states.push("readonly");
    }
    // :user-invalid: only once the person has changed or left the field, so an empty
    // required field is not called invalid before anyone typed.
    if (el.getAttribute("aria-invalid") === "true" || (USER_INVALID && el.matches(":user-invalid"))) {
      states.push("invalid");
    }
    if (el.tagName === "DIALOG" && el.matches(":modal")) states.push("modal");
    // A text area takes lines (Enter is a new line, not a submit), as aria-multiline says.
    if (role === "textbox" &&
        (el.tagName === "TEXTAREA" || el.getAttribute("aria-multiline") === "true")) {
      states.push("multiline");
    }
    return states;
  };

  const USER_INVALID = CSS.supports("selector(:user-invalid)");
  // Input types the role does not already say (a date, an email address...).
  const PLAIN_TYPES = new Set([
    "text", "search", "checkbox", "radio", "number", "range", "button", "submit", "reset",
    "password", "image",
  ]);
  // What filling a field needs besides its name: its type, constraints and format hint.
  // Never a value (a placeholder is drawn text, scrubbed like any other).
  const CONSTRAINTS = ["min", "max", "step", "minlength", "maxlength", "pattern"];
  const needsOf = (el, name) => {
    const out = [];
    if (el.tagName === "INPUT" && !PLAIN_TYPES.has(el.type)) out.push(`type=${el.type}`);
    for (const attr of CONSTRAINTS) {
      const value = el.getAttribute(attr);
      if (value === null || !value.trim()) continue;
      const shown = clean(value, 80);
      out.push(`${attr}=${/^[\w.:+-]+$/.test(shown) ? shown : JSON.stringify(shown)}`);
    }
    const placeholder = clean(el.getAttribute("placeholder") || "", 80);
    if (placeholder && placeholder !== name) out.push(`placeholder=${JSON.stringify(placeholder)}`);
    return out;
  };
  // A select's first options: at most opts.maxOptions, and not many more characters than
  // opts.optionChars.
  const optionsOf = (el) => {
    const labels = [];
    let chars = 0;
    const all = el.options;
    for (let i = 0; i < all.length && labels.length < opts.maxOptions; i++) {
      if (chars >= opts.optionChars) break;
      const label = clean(all[i].label || all[i].text, 80);
      labels.push(label);
      chars += label.length + 4;
    }
    return { options: labels, moreOptions: all.length - labels.length };
  };

  const valueOf = (el, role, sensitive) => {
    const raw = el.tagName === "SELECT" || "value" in el ? fieldValue(el)
      : el.isContentEditable ? el.textContent : "";
    if (!raw) return null;
    if (sensitive) return "[redacted]";
    if (el.type === "file") return null;
    return clean(raw, 80);
  };

  // -- the walk -------------------------------------------------------------------------
  //
  // Its cost follows what is on screen, not the size of the document: a subtree whose box
  // lies outside the look-ahead zone is skipped whole, and among the many children of a
  // block container only those near the zone are measured (in normal flow they stack in
  // document order, so a binary search finds them). The viewport is read first (phase 1),
  // the look-ahead above and below it next (phase 2); when the time budget ends the walk,
  // what was read comes back marked `partial`, the viewport part first.

  const MAX_ITEMS = opts.maxItems || 1500;
  // opts.deadline is wall-clock (ms since the epoch), so frames walked one after another
  // in one renderer share it.
  const stopAt = opts.deadline ? performance.now() + (opts.deadline - Date.now()) : Infinity;
  const aheadTop = -(opts.above ?? 1) * vh;
  const aheadBottom = (1 + (opts.below ?? 2)) * vh;
  let zoneTop = 0;
  let zoneBottom = vh;
  const items = [];
  const pruned = new Set(); // roots of subtrees skipped as far from the viewport (or deferred)
  const deferred = []; // [at, el, parent, owner, redacted]: look-ahead subtrees for phase 2
  const rescued = new Set(); // out-of-flow roots walked on their own
  let interactiveSeen = 0; // interactive elements walked or found hidden (not "further away")
  let phase = 1; // 1: the viewport, 2: the look-ahead
  let full = false;
  let partial = false;

  // Checked before every element (a few nanoseconds): one element can be slow to measure.
  const late = () => {
    if (!partial && performance.now() > stopAt) partial = true;
    return partial;
  };

  // What `omitted` counts: links, controls and headings, by tag (a selector list, or an
  // attribute like [role], costs ten times more to match over a long document).
  const COUNTED_TAGS = [
    "BUTTON", "INPUT", "SELECT", "TEXTAREA", "SUMMARY", "H1", "H2", "H3", "H4", "H5", "H6",
  ];
  const COUNTED = new Set(COUNTED_TAGS);
  const counted = (el) =>
    COUNTED.has(el.tagName) || (el.tagName === "A" && el.hasAttribute("href"));
  const countInteractive = (root) =>
    (root.tagName && counted(root) ? 1 : 0) + root.querySelectorAll("a[href]").length +
    COUNTED_TAGS.reduce((sum, tag) => sum + root.getElementsByTagName(tag).length, 0);

  const box = (r) =>
    [Math.round(r.left), Math.round(r.top), Math.round(r.width), Math.round(r.height)];

  // A text item collects the text of one block-level element (rows join their cells), in
  // `parts`: strings, and the items of links and other targets inline in that text, which
  // stay in their sentence (see finishText).
  const newText = (owner) => {
    if (items.length >= MAX_ITEMS) { full = true; owner.done = true; return null; }
    owner.item = {
      role: "text", parent: owner.parent, box: owner.box, parts: [], size: 0, skipped: 0,
      el: owner.el,
    };
    items.push(owner.item);
    return owner.item;
  };
  const appendText = (owner, text) => {
    if (!owner || owner.done) return;
    if (owner.item === null && (!text.trim() || !newText(owner))) return;
    owner.item.parts.push(text);
    owner.item.size += text.length;
  };
  // A text is whole up to opts.textChars characters and this many more (a cut's hint
  // would take about as much room).
  const SLACK = 60;
  // Whether `owner` collects text: "past" once it has more than its cut keeps (what comes
  // after is only counted), true before.
  const collecting = (owner) => {
    if (!owner || owner.done) return false;
    const max = opts.textChars;
    return max !== null && owner.item && owner.item.size > 2 * (max + SLACK) ? "past" : true;
  };
  // Whether `item` (a link, a clickable span...) is put inline in the text `owner` collects.
  const INLINE_ROLES = new Set(["link", "button", "clickable"]);
  const inlined = (owner, item, tag) => {
    if (!owner || owner.done || owner.row || !INLINE.has(tag) || !INLINE_ROLES.has(item.role)) {
      return false;
    }
    if (owner.item === null && !newText(owner)) return false;
    owner.item.parts.push(item);
    owner.item.size += item.name.length;
    return true;
  };
  const newOwner = (el, parent, rect) => {
    let r = rect;
    if (r.height > vh / 2) {
      // A tall container: place its text where its first text node is.
      let first = el.firstChild;
      while (first && !(first.nodeType === Node.TEXT_NODE && first.data.trim())) {
        first = first.nextSibling;
      }
      if (first) {
        const range = document.createRange();
        range.selectNodeContents(first);
        r = range.getBoundingClientRect();
      }
    }
    return { item: null, parent, box: box(r), row: false, done: false, el };
  };

  const childrenOf = (node) => {
    if (node.tagName === "DETAILS" && !node.open) {
      // Closed: only the summary shows (the rest keeps boxes under content-visibility).
      return Array.from(node.children).filter((child) => child.tagName === "SUMMARY");
    }
    if (node.tagName === "SLOT") {
      const assigned = node.assignedNodes({ flatten: true });
      return assigned.length ? assigned : node.childNodes;
    }
    return (node.shadowRoot || node).childNodes;
  };

  // The children of a long block container worth measuring: those from the last one known
  // to end above the look-ahead zone to the first one known to start below it. In-flow
  // children of a block container stack in document order, so a binary search over their
  // boxes finds both ends; a child without a box (display:none, empty) says nothing and
  // counts as inside, which can only widen the range. A fixed child is found by `rescue`.
  // Null: measure them all.
  const LONG = 64;
  const FLOW = new Set(["block", "flow-root", "list-item"]);
  const nearZone = (node) => {
    if (node.childElementCount < LONG || node.shadowRoot || node.tagName === "DETAILS" ||
        node.tagName === "SLOT") {
      return null;
    }
    const style = getComputedStyle(node);
    if (!FLOW.has(style.display) || style.columnCount !== "auto" ||
        style.columnWidth !== "auto" || style.writingMode !== "horizontal-tb") {
      return null; // columns or vertical text: children do not stack top to bottom
    }
    const kids = node.children;
    const rectOf = (i) => {
      const r = kids[i].getBoundingClientRect();
      return r.width === 0 && r.height === 0 ? null : r;
    };
    let lo = 0;
    let hi = kids.length; // first index known to be below the zone
    let a = 0;
    let b = kids.length;
    while (a < b) { // first index not known to end above the zone
      const m = (a + b) >> 1;
      const r = rectOf(m);
      if (r && r.bottom < aheadTop) a = m + 1; else b = m;
    }
    lo = a;
    a = lo;
    b = kids.length;
    while (a < b) { // first index known to start below the zone
      const m = (a + b) >> 1;
      const r = rectOf(m);
      if (r && r.top > aheadBottom) b = m; else a = m + 1;
    }
    hi = a;
    if (lo === 0 && hi === kids.length) return null;
    for (let i = 0; i < lo; i++) pruned.add(kids[i]);
    for (let i = hi; i < kids.length; i++) pruned.add(kids[i]);
    return { first: lo < hi ? kids[lo] : null, after: hi < kids.length ? kids[hi] : null };
  };

  // The owner of text that is not shown as text: the name of a button, link, heading...
  // (already on its line), a label's text (the name of its control), a sensitive region.
  const MUTED = { done: true };

  // What a subtree is inside of, as bits of `flags`: a sensitive region (REDACTED), a
  // semantic control (IN_CONTROL: no clickable of its own), a clickable (IN_CLICKABLE: a
  // cursor or tabindex there is that clickable's), a parent with a pointer cursor (POINTER).
  const REDACTED = 1;
  const IN_CONTROL = 2;
  const IN_CLICKABLE = 4;
  const POINTER = 8;
  // Hidden from assistive technology (aria-hidden), not from the person: a spinner's arrows.
  const ARIA_HIDDEN = 16;

  // parent: index of the nearest container item (landmark, dialog, row, iframe, clickable
  // with content) or -1. owner: the text item collecting text for this part of the tree,
  // MUTED, or null (none yet: the next block element starts one).
  const visit = (node, parent, owner, flags) => {
    const near = node.nodeType === Node.ELEMENT_NODE ? nearZone(node) : null;
    let child = near ? near.first : null;
    const children = near ? null : childrenOf(node);
    for (let i = 0; near ? child && child !== near.after : i < children.length; i++) {
      if (!near) child = children[i];
      if (child.nodeType === Node.TEXT_NODE) {
        if (owner) appendText(owner, child.data);
      } else if (child.nodeType === Node.ELEMENT_NODE) {
        visitElement(child, parent, owner, flags);
      }
      if (near) child = child.nextSibling;
    }
  };

  // Why `el` is clickable by script, or null: not for a semantic control or what is inside
  // one, nor for the page's root elements; a cursor or tabindex inside another clickable
  // is that one's.
  const clickableBy = (el, pointer, flags) => {
    if ((flags & IN_CONTROL) || el === document.body || el === document.documentElement ||
        (el.tagName === "LABEL" && el.control)) {
      return null;
    }
    const reason = clickReason(el, pointer, flags & POINTER);
    return reason && (!(flags & IN_CLICKABLE) || OWN_CLICK.has(reason)) ? reason : null;
  };

  const apart = new Map(); // parent element -> whether it lays its children out as blocks
  const laidOutApart = (el) => {
    const up = el.parentElement;
    if (!up) return false;
    let known = apart.get(up);
    if (known === undefined) {
      known = /flex|grid/.test(getComputedStyle(up).display);
      apart.set(up, known);
    }
    return known;
  };

  const visitElement = (el, parent, owner, flags) => {
    const tag = el.tagName;
    if (SKIP.has(tag) || el.hidden) return;
    if (el.getAttribute("aria-hidden") === "true") {
      // Its controls and clickables keep a ref, marked [aria-hidden]; its text is left out
      // (most often a visual duplicate, or an icon's).
      flags |= ARIA_HIDDEN;
      owner = MUTED;
    }
    if (full || late() || rescued.has(el)) { pruned.add(el); return; }
    const r = el.getBoundingClientRect();
    if (r.width === 0 && r.height === 0) {
      // No box: display:none (skip it all), display:contents (its children have boxes),
      // or an empty or visually hidden element (still there for assistive technology).
      if (getComputedStyle(el).display !== "contents" && !el.checkVisibility()) {
        interactiveSeen += countInteractive(el);
        return;
      }
    } else if (r.bottom < zoneTop || r.top > zoneBottom) {
      const ahead = r.bottom >= aheadTop && r.top <= aheadBottom;
      const words = INLINE.has(tag) && collecting(owner);
      if (words === "past") {
        // Far away, and past where its block's text is cut: only counted.
        owner.item.skipped += el.textContent.length;
        pruned.add(el);
        return;
      }
      if (!words && !(ahead && phase === 1)) {
        pruned.add(el);
        return;
      }
      if (!words && !INLINE.has(tag)) {
        // In the look-ahead: walked in phase 2, its items put back in document order.
        deferred.push([items.length, el, parent, owner, flags]);
        pruned.add(el);
        return;
      }
      // An inline element is walked now: its words belong to its block's text, which
      // is kept whole up to its cut, wherever they are.
    }
    if (counted(el)) interactiveSeen++;
    // Items of a flex or grid container sit side by side as blocks, whatever their tag:
    // the words of two of them are not one word ("Signed in as demo" + "Sign out").
    if (owner && owner !== MUTED && INLINE.has(tag) && laidOutApart(el)) appendText(owner, " ");
    const isRedactRoot = !(flags & REDACTED) && el.matches(REDACT_ROOT);
    const inRedact = Boolean(flags & REDACTED) || isRedactRoot;
    const role = roleOf(el);
    const interactive = INTERACTIVE_ROLES.has(role);
    // Inside a control nothing is clickable on its own: its cursor is not needed.
    const pointer = !(flags & IN_CONTROL) && getComputedStyle(el).cursor === "pointer";
    const inner = (inRedact ? REDACTED : 0) | (flags & (IN_CONTROL | IN_CLICKABLE | ARIA_HIDDEN)) |
      (interactive ? IN_CONTROL : 0) | (pointer ? POINTER : 0);
    const clickable = interactive ? null : clickableBy(el, pointer, flags);
    if (isRedactRoot && !interactive && role !== "heading") {
      if (items.length >= MAX_ITEMS) { full = true; pruned.add(el); return; }
      items.push({ role: "text", name: "[redacted]", parent, box: box(r) });
    }
    const hiddenHere = Boolean(flags & ARIA_HIDDEN);
    if (hiddenHere && !interactive && role !== "iframe" && !clickable) {
      visit(el, parent, MUTED, inner); // a heading, landmark or row hidden from AT: not one
      return;
    }
    if (interactive || role === "heading" || role === "iframe" || LANDMARK_ROLES.has(role) ||
        role === "row" || (role === "img" && owner !== MUTED)) {
      if (role !== "row" && role !== "iframe" && !LANDMARK_ROLES.has(role) &&
          !el.checkVisibility({ visibilityProperty: true })) {
        visit(el, parent, MUTED, inner);
        return;
      }
      if (items.length >= MAX_ITEMS) { full = true; pruned.add(el); return; }
      const sensitive = inRedact || isSensitiveField(el);
      const item = { role, parent, box: box(r) };
      if (role !== "row") item.name = nameOf(el, role, inRedact);
      if (interactive || role === "heading" || role === "iframe") item.ref = refFor(el);
      if (role === "heading") {
        item.level = Number(el.getAttribute("aria-level")) || Number(tag[1]) || 2;
      }
      if (interactive || LANDMARK_ROLES.has(role)) item.states = statesOf(el, role);
      if (hiddenHere && item.states) item.states.push("aria-hidden");
      // A control without a name (an icon button) is called what its style sheets call it.
      const unnamed = interactive && !item.name && !inRedact ? classHint(el) : "";
      if (unnamed) item.states.push(`.${unnamed}`);
      if (clickable && (role === "row" || role === "img")) {
        item.ref = refFor(el); // a clickable row or picture: a target of its own
        item.states = [clickable];
      }
      if (VALUE_ROLES.has(role)) {
        const value = valueOf(el, role, sensitive);
        if (value !== null) item.value = value;
      }
      if (role === "textbox" && el.type === "password") item.states.push("password");
      if (["INPUT", "TEXTAREA", "SELECT"].includes(tag) && !inRedact) {
        item.states.push(...needsOf(el, item.name));
        if (tag === "SELECT" && !sensitive) Object.assign(item, optionsOf(el));
      }
      inlined(owner, item, tag); // first: the text it is inline in comes before it
      const index = items.length;
      items.push(item);
      // Nothing to read inside: a frame is read on its own, a field by its value.
      if (role === "iframe" || ["SELECT", "TEXTAREA", "INPUT"].includes(tag)) return;
      if (role === "row") {
        Object.assign(item, { parts: [], size: 0, skipped: 0, el });
        const done = inRedact || owner === MUTED;
        visit(el, index, { item, parent, box: item.box, row: true, done, el }, inner);
        return;
      }
      const container = LANDMARK_ROLES.has(role) ? index : parent;
      // Text inside buttons, links, headings... is their name: do not repeat it.
      const muted = NAME_FROM_CONTENT.has(role) || inRedact || owner === MUTED;
      visit(el, container, muted ? MUTED : newOwner(el, container, r), inner);
      return;
    }
    if (clickable && !el.checkVisibility({ visibilityProperty: true, opacityProperty: true })) {
      visit(el, parent, MUTED, inner); // not shown: neither a target nor text
      return;
    }
    if (clickable && reachable(el) && !el.querySelector(CONTROLS)) {
      if (items.length >= MAX_ITEMS) { full = true; pruned.add(el); return; }
      // Named by its text when that is short; else (named by a label, or with a long text)
      // a container: its content is listed under it.
      const label = nameOf(el, "", inRedact);
      const whole = Boolean(label) || contentText(el, CLICK_NAME_MAX + 1).length > CLICK_NAME_MAX;
      const item = {
        role: "clickable",
        name: label || (whole ? "" : nameOf(el, "clickable", inRedact)),
        parent,
        box: box(r),
        ref: refFor(el),
        states: [clickable, ...statesOf(el, "clickable"), ...(hiddenHere ? ["aria-hidden"] : [])],
      };
      const hint = item.name || inRedact ? "" : classHint(el);
      if (hint) item.states.push(`.${hint}`); // CSS notation: [.star], [.trash.icon]
      if (!whole) inlined(owner, item, tag);
      const index = items.length;
      items.push(item);
      if (whole) {
        const text = inRedact || owner === MUTED ? MUTED : newOwner(el, index, r);
        visit(el, index, text, inner | IN_CLICKABLE);
      } else {
        visit(el, parent, MUTED, inner | IN_CLICKABLE);
        // A listener on a list whose items have a pointer cursor: the items are the
        // targets, the list only hands their clicks on (delegation).
        const inside = items.slice(index + 1);
        if (inside.some((i) => i.role === "clickable" && i.states[0] === "cursor=pointer")) {
          item.dropped = true;
        }
      }
      return;
    }
    if (tag === "LABEL" && el.control) { visit(el, parent, MUTED, inner); return; }
    if (tag === "TD" || tag === "TH") {
      if (owner && owner.row && owner.item && owner.item.parts.length) appendText(owner, " | ");
      visit(el, parent, owner, inner);
      return;
    }
    if (tag === "svg" && !(flags & IN_CONTROL)) {
      visit(el, parent, MUTED, inner); // shapes a script listens to (a chart's slices)
      return;
    }
    if (MEDIA.has(tag)) return;
    const muted = inRedact || owner === MUTED;
    const ownText = muted ? MUTED : INLINE.has(tag) && owner ? owner : newOwner(el, parent, r);
    if (tag === "CODE" && ownText !== MUTED && !el.closest("pre")) {
      // Inline code keeps its marks: `code` reads as code in the sentence.
      appendText(ownText, "`");
      visit(el, parent, ownText, inner);
      appendText(ownText, "`");
      return;
    }
    visit(el, parent, ownText, inner);
  };

  // A fixed element inside a skipped subtree is on screen although its container is far
  // away (a chat button in the footer). The style sheets say which selectors make
  // elements fixed: one query finds the candidates, and only those inside a skipped
  // subtree are measured. Hit-testing points instead costs milliseconds each on a long
  // document; it is left for style sheets that cannot be read (cross-origin), as long as
  // the time budget lasts.
  const up = (n) => (n.parentNode instanceof ShadowRoot ? n.parentNode.host : n.parentElement);
  const fixedCandidates = () => {
    const selectors = ["[style*='fixed' i]"];
    let unreadable = false;
    const scan = (rules) => {
      for (const rule of rules) {
        if (rule.selectorText && rule.style && rule.style.position === "fixed") {
          selectors.push(rule.selectorText);
        }
        if (rule.cssRules) scan(rule.cssRules);
      }
    };
    for (const sheet of [...document.styleSheets, ...(document.adoptedStyleSheets || [])]) {
      try { scan(sheet.cssRules); } catch (e) { unreadable = true; }
    }
    let found;
    try {
      found = Array.from(document.querySelectorAll(selectors.join(",")));
    } catch (e) { // one selector the engine does not take (nested CSS): each on its own
      found = [];
      for (const sel of selectors) {
        try { found.push(...document.querySelectorAll(sel)); } catch (e2) { /* ignored */ }
      }
    }
    return { found, unreadable };
  };
  // The nearest skipped ancestor of `el` (or `el` itself), or null when it was walked.
  const skippedRoot = (el) => {
    for (let n = el; n; n = up(n)) if (pruned.has(n)) return n;
    return null;
  };
  const inView = (el) => {
    const r = el.getBoundingClientRect();
    return (r.width > 0 || r.height > 0) && inViewport(r);
  };
  const GRID_COLUMNS = 24;
  const GRID_ROWS = 16;
  const hitGrid = (roots) => {
    const checked = new Set();
    for (let i = 0; i < GRID_COLUMNS && performance.now() < stopAt; i++) {
      for (let j = 0; j < GRID_ROWS; j++) {
        const x = ((i + 0.5) * vw) / GRID_COLUMNS;
        const y = ((j + 0.5) * vh) / GRID_ROWS;
        let hit = document.elementFromPoint(x, y);
        while (hit && hit.shadowRoot) {
          const inner = hit.shadowRoot.elementFromPoint(x, y);
          if (!inner || inner === hit) break;
          hit = inner;
        }
        if (!hit || checked.has(hit)) continue;
        checked.add(hit);
        const path = [];
        let n = hit;
        while (n && !pruned.has(n)) { path.push(n); n = up(n); }
        if (!n) continue; // not inside a skipped subtree: walked already
        const fixed = path.reverse().find((e) => getComputedStyle(e).position === "fixed");
        if (fixed) roots.add(fixed);
      }
    }
  };
  const rescue = () => {
    const roots = new Set();
    const { found, unreadable } = fixedCandidates();
    for (const el of found) {
      if (skippedRoot(el) && inView(el) && getComputedStyle(el).position === "fixed") {
        roots.add(el);
      }
    }
    if (unreadable) hitGrid(roots);
    for (const root of roots) {
      let inner = false; // inside another rescued root: walked with it
      for (let n = up(root); n && !inner; n = up(n)) inner = roots.has(n);
      if (inner) continue;
      visitElement(root, -1, null, Boolean(root.closest(REDACT_ROOT)));
      rescued.add(root); // not again in phase 2
    }
  };

  // Phase 1: the viewport; then what is on screen from skipped subtrees.
  visit(document.documentElement, -1, null, false);
  const firstPhase = items.length;
  if (pruned.size && !full && !partial) rescue();
  const beforeRescue = items.length;
  // Phase 2: the look-ahead, each deferred subtree in its own context.
  phase = 2;
  zoneTop = aheadTop;
  zoneBottom = aheadBottom;
  const groups = []; // [at, first, end]: phase 2's items [first, end) go back before item `at`
  for (const [at, el, parent, owner, redacted] of deferred) {
    if (full || partial) break;
    const first = items.length;
    pruned.delete(el);
    visitElement(el, parent, owner, redacted);
    if (items.length > first) groups.push([at, first, items.length]);
  }

  // Document order: phase 2's groups go back where their subtrees are; the rescued
  // out-of-flow elements stay last.
  const order = [];
  let g = 0;
  const emitGroups = (upTo) => {
    for (; g < groups.length && groups[g][0] <= upTo; g++) {
      for (let i = groups[g][1]; i < groups[g][2]; i++) order.push(i);
    }
  };
  for (let i = 0; i < firstPhase; i++) {
    emitGroups(i);
    order.push(i);
  }
  emitGroups(firstPhase);
  for (let i = firstPhase; i < beforeRescue; i++) order.push(i);

  // What is not listed, roughly: the document's links, controls and headings but those the
  // walk met (listed, or hidden). Counted once: per skipped subtree costs more.
  const omitted = partial ? 0 : Math.max(0, countInteractive(document) - interactiveSeen);

  // The text of a text item or a row, from its parts: whitespace collapsed, inline items
  // in their place (as `parts`, when there are any; else as `name`). Up to opts.textChars
  // characters (and SLACK) it is whole; longer,
  // it is cut at a word and says how many characters are left (`more`), and its block gets
  // a ref so the rest can be read. An inline item after the cut, or among nothing but
  // punctuation (a list of links), has a line of its own: there is no sentence to keep.
  const PLACE = "\u0000";
  const finishText = (item) => {
    const parts = item.parts.filter((part) => !part.dropped);
    const inline = parts.filter((part) => typeof part !== "string");
    const raw = parts
      .map((part) => (typeof part === "string" ? part.replaceAll(PLACE, "") : PLACE))
      .join("");
    let text = raw.replace(/\s+/g, " ").trim();
    if (item.role === "row") text = text.replace(/[\s|]+$/, "");
    const pieces = text.split(PLACE);
    const sentence = inline.length > 0 && /[\p{L}\p{N}]/u.test(pieces.join(""));
    const segments = [];
    if (sentence) {
      pieces.forEach((piece, i) => {
        if (piece) segments.push(piece);
        if (i < inline.length) segments.push(inline[i]);
      });
    } else {
      const plain = clean(pieces.join(""), Infinity);
      if (plain) segments.push(plain);
    }
    const size = (part) => (typeof part === "string" ? part.length : part.name.length + 2);
    const total = segments.reduce((sum, part) => sum + size(part), 0) + item.skipped;
    const max = opts.textChars;
    let shown = segments;
    if (max !== null && total > max + SLACK) {
      shown = [];
      let length = 0;
      for (const part of segments) {
        if (length + size(part) <= max) {
          shown.push(part);
          length += size(part);
          continue;
        }
        if (typeof part === "string") {
          const room = part.slice(0, max - length);
          const space = room.lastIndexOf(" ");
          const cut = space > room.length - 30 ? room.slice(0, space) : room;
          if (cut.trim()) shown.push(cut.trimEnd());
          length += cut.trimEnd().length;
        }
        break;
      }
      item.more = total - length;
      item.ref = refFor(item.el);
    } else if (max === null && refPattern.test(item.el.getAttribute(REF_ATTR) || "")) {
      item.ref = refFor(item.el); // read whole by the ref an earlier cut gave its block
    }
    for (const part of shown) if (typeof part !== "string") part.merged = true;
    if (shown.some((part) => typeof part !== "string")) {
      item.parts = shown.map((part) => (typeof part === "string" ? part
        : { role: part.role, name: part.name, ref: part.ref, states: part.states }));
    } else {
      item.name = shown.join("");
      delete item.parts;
    }
    delete item.el;
    delete item.size;
    delete item.skipped;
  };

  // Drop text blocks that collected only whitespace, and the items now inline in a text;
  // parents are never either, but indices shift, so renumber them.
  for (const index of order) if (items[index].parts) finishText(items[index]);
  const kept = [];
  const renumber = new Map();
  for (const index of order) {
    const item = items[index];
    delete item.el;
    if (item.merged || item.dropped || (item.role === "text" && !item.name && !item.parts)) {
      continue;
    }
    renumber.set(index, kept.length);
    kept.push(item);
  }
  for (const item of kept) item.parent = item.parent < 0 ? -1 : renumber.get(item.parent);
  return JSON.stringify({ ...base, items: kept, omitted, partial });
}
