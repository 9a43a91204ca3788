"""Marking where a known secret shows on the page, so a capture masks it in pixels too.

page.js masks sensitive fields and `[data-capture-redact]` areas in the screenshot and
keeps them out of the outline; the `Scrubber` removes known secret values from texts. A
known secret shown elsewhere on the page (a search term echoed in a heading, a typed value
in a plain field) is text the scrubber catches but pixels it cannot: marking its element
`data-capture-redact` before the capture makes page.js mask it like any redacted area.

The mark carries its own value (`known-secret`) and comes off once its element shows no
secret any more: a page that reuses an element (an instruction line, a search heading) is
not left redacted after the secret is gone. Marks the page itself set are never touched.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any

from playwright.async_api import Error as PlaywrightError

from capture.browser import evaluate_isolated
from capture.recorder.observe._script import REDACT_ATTR
from capture.recorder.observe._scrub import MIN_SECRET_LENGTH

__all__ = ["mark_secret_text"]

MARK = "known-secret"

# Every element whose own text, or a field whose value, contains a secret (open shadow
# roots included) gets the redact attribute; one this script marked earlier that shows
# none now loses it. Returns how many were marked.
_MARK_JS = """([secrets, attr, ours]) => {
  const hit = (text) => typeof text === "string" && secrets.some((s) => text.includes(s));
  const shows = (el) =>
    hit(el.value) || Array.from(el.childNodes).some((n) => n.nodeType === 3 && hit(n.data));
  let marked = 0;
  const mark = (el) => {
    if (el && !el.hasAttribute(attr)) { el.setAttribute(attr, ours); marked++; }
  };
  const walk = (root) => {
    for (const el of root.querySelectorAll(`[${attr}="${ours}"]`)) {
      if (!shows(el)) el.removeAttribute(attr);
    }
    const texts = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    for (let node = texts.nextNode(); node; node = texts.nextNode()) {
      if (hit(node.data)) mark(node.parentElement);
    }
    for (const el of root.querySelectorAll("input, textarea, select")) {
      if (hit(el.value)) mark(el);
    }
    for (const el of root.querySelectorAll("*")) if (el.shadowRoot) walk(el.shadowRoot);
  };
  walk(document);
  return marked;
}"""


_MARK_SECONDS = 2.0  # a page too busy to answer gets captured without (texts are scrubbed)


async def mark_secret_text(page: Any, secrets: Iterable[str]) -> int:
    """Mark the elements of every frame of `page` that show one of `secrets`; the number
    marked. A frame that cannot be read (navigating, detached) is skipped: the scrubber
    still keeps the value out of every text."""
    values = sorted({s for s in secrets if len(s.strip()) >= MIN_SECRET_LENGTH})
    if not values:  # then no mark of ours was ever set: secrets are only ever added
        return 0

    async def one(frame: Any) -> int:
        try:
            return int(await evaluate_isolated(frame, _MARK_JS, [values, REDACT_ATTR, MARK]))
        except PlaywrightError:
            return 0

    frames = [f for f in page.frames if not f.is_detached()]
    try:
        async with asyncio.timeout(_MARK_SECONDS):
            return sum(await asyncio.gather(*(one(f) for f in frames)))
    except TimeoutError:
        return 0
