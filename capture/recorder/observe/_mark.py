"""Marking where a known secret shows on the page, so a capture masks it in pixels too.

page.js masks sensitive fields and `[data-capture-redact]` areas in the screenshot and
keeps them out of the outline; the `Scrubber` removes known secret values from texts. A
known secret shown elsewhere on the page (a search term echoed in a heading, a typed value
in a plain field) is text the scrubber catches but pixels it cannot: marking its element
`data-capture-redact` before the capture makes page.js mask it like any redacted area.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any

from playwright.async_api import Error as PlaywrightError

from capture.recorder.observe._script import REDACT_ATTR
from capture.recorder.observe._scrub import MIN_SECRET_LENGTH

__all__ = ["mark_secret_text"]

# Every element whose own text, or a field whose value, contains a secret (open shadow
# roots included) gets the redact attribute; returns how many were marked.
_MARK_JS = """([secrets, attr]) => {
  const hit = (text) => typeof text === "string" && secrets.some((s) => text.includes(s));
  let marked = 0;
  const mark = (el) => {
    if (el && !el.hasAttribute(attr)) { el.setAttribute(attr, ""); marked++; }
  };
  const walk = (root) => {
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
    if not values:
        return 0

    async def one(frame: Any) -> int:
        try:
            return int(await frame.evaluate(_MARK_JS, [values, REDACT_ATTR]))
        except PlaywrightError:
            return 0

    frames = [f for f in page.frames if not f.is_detached()]
    try:
        async with asyncio.timeout(_MARK_SECONDS):
            return sum(await asyncio.gather(*(one(f) for f in frames)))
    except TimeoutError:
        return 0
