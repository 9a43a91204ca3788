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
// Refs are written to the DOM as data-capture-ref="<prefix>e<n>" so an element keeps its
// ref across captures (diffs stay meaningful) and a plain CSS selector finds it again.
// Values of sensitive fields never leave this function except in `secrets`, which the
// Python side uses only to scrub other texts and mask pixels, and never stores.
(first, second) => {
  const opts = second === undefined ? first : second;
  const target = second === undefined ? null : first;

  const REF_ATTR = "data-capture-ref";
  const SENSITIVE_ATTR = "data-capture-sensitive";
  const SEQ = Symbol.for("capture.refSeq");
  const prefix = opts.prefix || "";
  const refPattern = new RegExp(`^${prefix}e\\d+$`);
  const seenRefs = new Set();

  const refFor = (el) => {
    let ref = el.getAttribute(REF_ATTR);
    if (!ref || !refPattern.test(ref) || seenRefs.has(ref)) {
      const next = (window[SEQ] || 0) + 1;
      Object.defineProperty(window, SEQ, { value: next, writable: true, configurable: true });
      ref = `${prefix}e${next}`;
      el.setAttribute(REF_ATTR, ref);
    }
    seenRefs.add(ref);
    return ref;
  };

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

  const invalidSelectors = [];
  const redactSelectors = [];
  for (const sel of opts.redactSelectors || []) {
    try {
      document.createDocumentFragment().querySelector(sel);
      redactSelectors.push(sel);
    } catch (e) {
      invalidSelectors.push(sel);
    }
  }
  const REDACT_ROOT = ["[data-capture-redact]", ...redactSelectors].join(",");
  // The sensitive-field rule (SENSITIVE_FIELD in _script.py, shared with listen.js).
  const FIELD = opts.sensitiveField;

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
        const nodeAt = (i) => { // the last node starting at or before character i
          let lo = 0;
          let hi = nodes.length - 1;
          while (lo < hi) {
            const mid = (lo + hi + 1) >> 1;
            if (starts[mid] <= i) lo = mid; else hi = mid - 1;
          }
          return lo;
        };
        for (const s of inText) {
          for (let i = text.indexOf(s); i >= 0; i = text.indexOf(s, i + s.length)) {
            const first = nodeAt(i);
            const last = nodeAt(i + s.length - 1);
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

  const sensitive = readSensitive();
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
    "option", "treeitem", "checkbox", "radio", "switch", "cell", "row",
  ]);
  const INTERACTIVE_SELECTOR =
    "a[href], button, input:not([type=hidden]), select, textarea, summary, [contenteditable=''], " +
    "[contenteditable=true], [tabindex]:not([tabindex='-1']), [role], h1, h2, h3, h4, h5, h6";
  const MEDIA = new Set(["IMG", "svg", "CANVAS", "VIDEO", "AUDIO", "OBJECT", "EMBED"]);
  const SKIP = new Set([
    "SCRIPT", "STYLE", "NOSCRIPT", "TEMPLATE", "HEAD", "META", "LINK", "OPTION",
  ]);
  const INLINE = new Set([
    "A", "ABBR", "B", "BDI", "BDO", "BR", "CITE", "CODE", "DATA", "DFN", "EM", "FONT", "I",
    "KBD", "MARK", "Q", "S", "SAMP", "SMALL", "SPAN", "STRONG", "SUB", "SUP", "TIME", "U",
    "VAR", "WBR", "TD", "TH",
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

  const named = (el) => el.hasAttribute("aria-label") || el.hasAttribute("aria-labelledby");

  const roleOf = (el) => {
    const explicit = (el.getAttribute("role") || "").trim().split(/\s+/)[0];
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
        if (el.hasAttribute("tabindex") && el.tabIndex >= 0) return "generic";
        return "";
    }
  };

  // Text of an element's content for names: text nodes, alt of images, aria-label of
  // children, through open shadow roots and slots; stops early once it is long enough.
  // `labelled` is the element being named when `el` is its label.
  const contentText = (el, max, labelled = null) => {
    let out = "";
    const visit = (node) => {
      if (out.length > max) return;
      if (node.nodeType === Node.TEXT_NODE) { out += node.data; return; }
      if (node.nodeType !== Node.ELEMENT_NODE || SKIP.has(node.tagName)) return;
      if (node.getAttribute("aria-hidden") === "true" || node.hidden) return;
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
    if (el.readOnly && el.tagName !== "BUTTON") states.push("readonly");
    if (el.getAttribute("aria-invalid") === "true") states.push("invalid");
    if (el.tagName === "DIALOG" && el.matches(":modal")) states.push("modal");
    return states;
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

  const MAX_ITEMS = opts.maxItems || 1500;
  const zoneTop = -(opts.above ?? 1) * vh;
  const zoneBottom = (1 + (opts.below ?? 2)) * vh;
  const items = [];
  const pruned = new Set(); // roots of subtrees skipped as far from the viewport
  let omitted = 0;
  let full = false;

  const countInteractive = (el) =>
    (el.matches(INTERACTIVE_SELECTOR) ? 1 : 0) + el.querySelectorAll(INTERACTIVE_SELECTOR).length;

  const box = (r) =>
    [Math.round(r.left), Math.round(r.top), Math.round(r.width), Math.round(r.height)];

  // A text item collects the text of one block-level element (rows join their cells).
  const appendText = (owner, text) => {
    if (!owner || owner.done) return;
    if (owner.item === null) {
      if (!text.trim()) return;
      if (items.length >= MAX_ITEMS) { full = true; owner.done = true; return; }
      owner.item = { role: "text", parent: owner.parent, box: owner.box, buf: "" };
      items.push(owner.item);
    }
    owner.item.buf += text;
    if (owner.item.buf.length > 400) owner.done = true;
  };
  const newOwner = (el, parent, rect) => {
    let r = rect;
    if (r.height > vh / 2) {
      // A tall container: place its text where its first text node is.
      const first = Array.from(el.childNodes)
        .find((n) => n.nodeType === Node.TEXT_NODE && n.data.trim());
      if (first) {
        const range = document.createRange();
        range.selectNodeContents(first);
        r = range.getBoundingClientRect();
      }
    }
    return { item: null, parent, box: box(r), row: false, done: false };
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

  // The owner of text that is not shown as text: the name of a button, link, heading...
  // (already on its line), a label's text (the name of its control), a sensitive region.
  const MUTED = { done: true };

  // parent: index of the nearest container item (landmark, dialog, row, iframe) or -1.
  // owner: the text item collecting text for this part of the tree, MUTED, or null (none
  // yet: the next block element starts one). redacted: inside a sensitive region.
  const visit = (node, parent, owner, redacted) => {
    for (const child of childrenOf(node)) {
      if (child.nodeType === Node.TEXT_NODE) {
        if (owner) appendText(owner, child.data);
      } else if (child.nodeType === Node.ELEMENT_NODE) {
        visitElement(child, parent, owner, redacted);
      }
    }
  };

  const visitElement = (el, parent, owner, redacted) => {
    const tag = el.tagName;
    if (SKIP.has(tag) || el.hidden || el.getAttribute("aria-hidden") === "true") return;
    if (full) { omitted += countInteractive(el); return; }
    const r = el.getBoundingClientRect();
    if (r.width === 0 && r.height === 0) {
      // No box: display:none (skip it all), display:contents (its children have boxes),
      // or an empty or visually hidden element (still there for assistive technology).
      if (getComputedStyle(el).display !== "contents" && !el.checkVisibility()) return;
    } else if (r.bottom < zoneTop || r.top > zoneBottom) {
      omitted += countInteractive(el);
      pruned.add(el);
      return;
    }
    const isRedactRoot = !redacted && el.matches(REDACT_ROOT);
    const inRedact = redacted || isRedactRoot;
    const role = roleOf(el);
    const interactive = INTERACTIVE_ROLES.has(role) || role === "generic";
    if (isRedactRoot && !interactive && role !== "heading") {
      if (items.length >= MAX_ITEMS) { full = true; omitted += countInteractive(el); return; }
      items.push({ role: "text", name: "[redacted]", parent, box: box(r) });
    }
    if (interactive || role === "heading" || role === "iframe" || LANDMARK_ROLES.has(role) ||
        role === "row" || (role === "img" && owner !== MUTED)) {
      if (role !== "row" && role !== "iframe" && !LANDMARK_ROLES.has(role) &&
          !el.checkVisibility({ visibilityProperty: true })) {
        visit(el, parent, MUTED, inRedact);
        return;
      }
      if (items.length >= MAX_ITEMS) { full = true; omitted += countInteractive(el); return; }
      const sensitive = inRedact || isSensitiveField(el);
      const item = { role, parent, box: box(r) };
      if (role !== "row") item.name = nameOf(el, role, inRedact);
      if (interactive || role === "heading" || role === "iframe") item.ref = refFor(el);
      if (role === "heading") {
        item.level = Number(el.getAttribute("aria-level")) || Number(tag[1]) || 2;
      }
      if (interactive || LANDMARK_ROLES.has(role)) item.states = statesOf(el, role);
      if (VALUE_ROLES.has(role)) {
        const value = valueOf(el, role, sensitive);
        if (value !== null) item.value = value;
      }
      if (role === "textbox" && el.type === "password") item.states.push("password");
      const index = items.length;
      items.push(item);
      // Nothing to read inside: a frame is read on its own, a field by its value.
      if (role === "iframe" || ["SELECT", "TEXTAREA", "INPUT"].includes(tag)) return;
      if (role === "row") {
        item.buf = "";
        const done = inRedact || owner === MUTED;
        visit(el, index, { item, parent, box: item.box, row: true, done }, inRedact);
        return;
      }
      const container = LANDMARK_ROLES.has(role) ? index : parent;
      // Text inside buttons, links, headings... is their name: do not repeat it.
      const muted = NAME_FROM_CONTENT.has(role) || inRedact || owner === MUTED;
      visit(el, container, muted ? MUTED : newOwner(el, container, r), inRedact);
      return;
    }
    if (tag === "LABEL" && el.control) { visit(el, parent, MUTED, inRedact); return; }
    if (tag === "TD" || tag === "TH") {
      if (owner && owner.row && owner.item && owner.item.buf) appendText(owner, " | ");
      visit(el, parent, owner, inRedact);
      return;
    }
    if (MEDIA.has(tag)) return;
    const muted = inRedact || owner === MUTED;
    const ownText = muted ? MUTED : INLINE.has(tag) && owner ? owner : newOwner(el, parent, r);
    visit(el, parent, ownText, inRedact);
  };

  // A fixed element inside a pruned subtree (a chat button in the footer) is on screen
  // although its container is far away. Hit-testing a grid of points over the viewport
  // finds such elements cheaply; each is then walked like any other.
  const GRID_COLUMNS = 24;
  const GRID_ROWS = 16;
  const up = (n) => (n.parentNode instanceof ShadowRoot ? n.parentNode.host : n.parentElement);
  const rescueFixed = () => {
    const checked = new Set();
    const roots = new Set();
    for (let i = 0; i < GRID_COLUMNS; i++) {
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
        if (!n) continue; // not inside a pruned subtree: already walked
        const fixed = path.reverse().find((e) => getComputedStyle(e).position === "fixed");
        if (fixed) roots.add(fixed);
      }
    }
    for (const root of roots) {
      omitted = Math.max(0, omitted - countInteractive(root));
      visitElement(root, -1, null, Boolean(root.closest(REDACT_ROOT)));
    }
  };

  visit(document.documentElement, -1, null, false);
  if (pruned.size && !full) rescueFixed();

  // Drop text blocks that collected only whitespace; parents are never text blocks, but
  // indices shift, so renumber them.
  const kept = [];
  const renumber = new Map();
  items.forEach((item, index) => {
    if (item.buf !== undefined) {
      item.name = clean(item.buf, item.role === "row" ? 160 : 120).replace(/[\s|]+$/, "");
      delete item.buf;
    }
    if (item.role === "text" && !item.name) return;
    renumber.set(index, kept.length);
    kept.push(item);
  });
  for (const item of kept) item.parent = item.parent < 0 ? -1 : renumber.get(item.parent);
  return JSON.stringify({ ...base, items: kept, omitted });
}
