"""Near matches for a target that matched nothing: the names on the page closest to the one
asked for, so a typo (`Add to crat`) or a renamed button reads as one at once instead of a
bare timeout. They come from the page's accessibility tree (Playwright's ARIA snapshot, the
same names `role`/`label`/`text` targets match against), only the elements' names: never a
field's value."""

from __future__ import annotations

import difflib
import re

from playwright.async_api import Error as PlaywrightError
from playwright.async_api import Page

from capture.actions._target import Target

__all__ = ["near_matches"]

_NAMED = re.compile(r'^\s*- ([a-z]+) "((?:[^"\\]|\\.)*)"')
_FIELDS = {"textbox", "searchbox", "combobox", "spinbutton", "checkbox", "radio", "slider"}
_LOOK = 2000  # ms: a failed step's message should not wait long for its hint


async def near_matches(page: Page, target: Target) -> str:
    """`; near matches: button "Add to cart", …` for a role, label, placeholder or text
    target on the top page, or "" when none is close (or the target names no text)."""
    wanted = target.name or target.text or target.label or target.placeholder
    if wanted is None or target.ref or target.css or target.frame is not None:
        return ""
    try:
        tree = await page.main_frame.locator("body").aria_snapshot(timeout=_LOOK)
    except PlaywrightError:
        return ""
    named = [(m.group(1), m.group(2)) for line in tree.splitlines() if (m := _NAMED.match(line))]
    if target.role is not None:
        named = [(role, name) for role, name in named if role == target.role]
    elif target.label is not None or target.placeholder is not None:
        named = [(role, name) for role, name in named if role in _FIELDS]
    roles = {name: role for role, name in reversed(named)}  # the first element of a name
    lowered = {name.lower(): name for name in roles}
    close = difflib.get_close_matches(wanted.lower(), list(lowered), n=3, cutoff=0.6)
    if not close:
        return ""
    return "; near matches: " + ", ".join(
        f'{roles[lowered[name]]} "{lowered[name]}"' for name in close
    )
