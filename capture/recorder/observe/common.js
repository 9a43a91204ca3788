// What page.js and find.js share, spliced into each at `/* common.js */` (_script.py): the
// refs, the areas to redact, and which text node holds a character of a joined text. Expects `opts` ({prefix, redactSelectors, sensitiveField}).
//
// Refs are written to the DOM as data-capture-ref="<prefix>e<n>", numbered by
// window[Symbol.for("capture.refSeq")], so an element keeps its ref across reads (diffs
// stay meaningful), a ref from either script works wherever one from the other does, and
// a plain CSS selector finds it again.
  const REF_ATTR = "data-capture-ref";
  const SEQ = Symbol.for("capture.refSeq");
  const prefix = opts.prefix || "";
  const refPattern = new RegExp(`^${prefix}e\\d+$`);
  const seenRefs = new Map(); // ref -> the element that has it in this read

  // An element keeps its ref; a copy of one (cloneNode copies the attribute) gets its own.
  const refFor = (el) => {
    let ref = el.getAttribute(REF_ATTR);
    if (ref && seenRefs.get(ref) === el) return ref;
    if (!ref || !refPattern.test(ref) || seenRefs.has(ref)) {
      const next = (window[SEQ] || 0) + 1;
      Object.defineProperty(window, SEQ, { value: next, writable: true, configurable: true });
      ref = `${prefix}e${next}`;
      el.setAttribute(REF_ATTR, ref);
    }
    seenRefs.set(ref, el);
    return ref;
  };

  // Redacted areas: data-capture-redact, and the configured selectors that are valid CSS
  // (page.js reports the others; they match nothing).
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

  // The index of the last of `starts` (ascending) at or before `at`: which text node of a
  // text built from nodes holds its character `at`.
  const nodeAt = (starts, at) => {
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid] <= at) lo = mid; else hi = mid - 1;
    }
    return lo;
  };
