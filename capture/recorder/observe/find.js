// capture's in-page search and reader: every character of one frame's text, not only what
// the outline shows (page.js cuts long text and walks only near the viewport).
//
// Called as `fn(options)` through frame.evaluate(). Modes:
//   "find" the matches of opts.source (a JavaScript regular expression, opts.flags), from
//          the opts.skip-th on, at most opts.limit: each with the ref of the smallest
//          element that holds it and an excerpt around it; and how many there are in all
//   "text" the whole text of the element with ref opts.ref (or the first one matching the
//          CSS selector opts.css), links and controls marked inline with their refs
//   "ref"  the ref of the first element matching opts.css (null: none)
//
// Text is read through open shadow roots and slots, in document order, whitespace
// collapsed, with a line break between blocks; a select's options count as its text.
// Never read: the values of fields, the text of sensitive fields and redacted areas (the
// same rules as page.js, from common.js), script and style. Refs are page.js's (common.js).
(opts) => {
  /* common.js */

  const SKIP = new Set(["SCRIPT", "STYLE", "NOSCRIPT", "TEMPLATE", "HEAD", "TITLE"]);
  const FIELDS = new Set(["INPUT", "TEXTAREA", "SELECT"]);
  const INLINE = new Set([
    "A", "ABBR", "B", "BDI", "BDO", "CITE", "CODE", "DATA", "DFN", "EM", "FONT", "I", "KBD",
    "MARK", "Q", "S", "SAMP", "SMALL", "SPAN", "STRONG", "SUB", "SUP", "TIME", "U", "VAR",
    "WBR", "LABEL", "SLOT",
  ]);
  const ACTIVE = "a[href], button, input, select, textarea, summary, [role=button], [role=link]";
  const up = (n) => (n.parentNode instanceof ShadowRoot ? n.parentNode.host : n.parentNode);

  const childrenOf = (node) => {
    if (node.tagName === "SLOT") {
      const assigned = node.assignedNodes({ flatten: true });
      return assigned.length ? assigned : node.childNodes;
    }
    return (node.shadowRoot || node).childNodes;
  };

  // The text under `root` as one string, and where each text node starts in it. Built
  // from parts, looking only at the last character: anything that scans the text so far
  // on each addition is quadratic on a book-sized page.
  const read = (root, marks) => {
    const parts = [];
    const starts = [];
    const nodes = [];
    let length = 0;
    let last = "\n"; // the text starts as after a line break: no blank leads
    const push = (s) => {
      parts.push(s);
      length += s.length;
      last = s[s.length - 1];
    };
    const add = (s) => {
      if ((last === " " || last === "\n") && s.startsWith(" ")) s = s.slice(1);
      if (s) push(s);
    };
    const brk = () => {
      if (last === "\n") return;
      if (last === " ") {
        const end = parts.length - 1;
        parts[end] = parts[end].slice(0, -1);
        length -= 1;
      }
      push("\n");
    };
    const visit = (node) => {
      if (node.nodeType === Node.TEXT_NODE) {
        const s = node.data.replace(/\s+/g, " ");
        if (s === " " && (last === " " || last === "\n")) return;
        starts.push(length);
        nodes.push(node);
        add(s);
        return;
      }
      if (node.nodeType !== Node.ELEMENT_NODE) return;
      const el = node;
      if (SKIP.has(el.tagName) || el.hidden) return;
      if (el.matches(REDACT_ROOT) || el.matches(FIELD)) {
        if (marks) { brk(); add("[redacted]"); brk(); }
        return;
      }
      if (!el.checkVisibility()) return;
      if (el.tagName === "BR") { brk(); return; }
      const block = !INLINE.has(el.tagName);
      if (block) brk();
      const marked = marks && el !== root && el.matches(ACTIVE);
      if (el.tagName === "SELECT") {
        // A select's choices are text a person can read (once it is open): one per line,
        // each held by the select, the element one chooses them with.
        for (const option of el.options) {
          brk();
          starts.push(length);
          nodes.push(el);
          add(option.text.replace(/\s+/g, " "));
        }
      } else if (!FIELDS.has(el.tagName)) {
        for (const child of childrenOf(el)) visit(child);
      }
      if (marked) add(` [ref=${refFor(el)}]`);
      if (block) brk();
    };
    visit(root);
    return { text: parts.join("").trimEnd(), starts, nodes };
  };

  const smallestHolding = (a, b) => {
    const chain = new Set();
    for (let n = a; n; n = up(n)) chain.add(n);
    for (let n = b; n; n = up(n)) {
      if (chain.has(n) && n.nodeType === Node.ELEMENT_NODE) return n;
    }
    return document.documentElement;
  };

  const KIND = { A: "link", BUTTON: "button", CODE: "code", PRE: "code", TD: "cell", TH: "cell" };
  const kindOf = (el) => (/^H[1-6]$/.test(el.tagName) ? "heading" : KIND[el.tagName] || "text");

  const excerpt = (text, from, to) => {
    const room = opts.context || 80;
    let start = Math.max(text.lastIndexOf("\n", from - 1) + 1, from - room);
    let end = text.indexOf("\n", to);
    end = Math.min(end < 0 ? text.length : end, to + room);
    const maxMatch = opts.maxMatch || 200;
    let middle = text.slice(from, to);
    if (middle.length > maxMatch) middle = `${middle.slice(0, maxMatch - 1)}…`;
    const before = (start > 0 && text[start - 1] !== "\n" ? "…" : "") + text.slice(start, from);
    const after = text.slice(to, end) + (end < text.length && text[end] !== "\n" ? "…" : "");
    return (before + middle + after).replace(/\n/g, " ");
  };

  const byCss = (css) => {
    const search = (root) => {
      const hit = root.querySelector(css);
      if (hit) return hit;
      const walker = document.createTreeWalker(root, NodeFilter.SHOW_ELEMENT);
      for (let el = walker.nextNode(); el; el = walker.nextNode()) {
        if (el.shadowRoot) {
          const inner = search(el.shadowRoot);
          if (inner) return inner;
        }
      }
      return null;
    };
    return search(document);
  };

  if (opts.mode === "ref") {
    const el = byCss(opts.css);
    return JSON.stringify({ ref: el ? refFor(el) : null });
  }

  if (opts.mode === "text") {
    let el = null;
    if (opts.css) el = byCss(opts.css);
    else {
      const matches = (e) => e.getAttribute(REF_ATTR) === opts.ref;
      const search = (root) => {
        const w = document.createTreeWalker(root, NodeFilter.SHOW_ELEMENT);
        for (let e = w.nextNode(); e; e = w.nextNode()) {
          if (matches(e)) return e;
          if (e.shadowRoot) {
            const inner = search(e.shadowRoot);
            if (inner) return inner;
          }
        }
        return null;
      };
      el = matches(document.documentElement) ? document.documentElement : search(document);
    }
    if (!el) return JSON.stringify({ found: false });
    let redacted = false;
    for (let n = el; n; n = up(n)) {
      if (n.nodeType === Node.ELEMENT_NODE && (n.matches(REDACT_ROOT) || n.matches(FIELD))) {
        redacted = true;
      }
    }
    const ref = refFor(el);
    return JSON.stringify({ found: true, ref, text: redacted ? "[redacted]" : read(el, true).text });
  }

  // mode "find"
  const { text, starts, nodes } = read(document.documentElement, false);
  const pattern = new RegExp(opts.source, `${opts.flags || ""}g`);
  const skip = opts.skip || 0;
  const limit = opts.limit || 0;
  const found = [];
  let total = 0;
  for (let m = pattern.exec(text); m; m = pattern.exec(text)) {
    if (m[0] === "") { pattern.lastIndex++; continue; }
    if (total >= skip && found.length < limit) {
      const from = m.index;
      const to = from + m[0].length;
      const first = nodes[nodeAt(starts, from)];
      const last = nodes[nodeAt(starts, to - 1)];
      const el = smallestHolding(first, last);
      found.push({ ref: refFor(el), kind: kindOf(el), excerpt: excerpt(text, from, to) });
    }
    total++;
  }
  return JSON.stringify({ total, found });
}
