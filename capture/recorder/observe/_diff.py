"""What changed between two outlines, as "+ line" / "- line" items with refs kept.

Within one document that is the line diff. After a navigation to a new document every old
line would show as removed, which says nothing the new outline does not and crowds it out
of the budget: a new document is summed up as a new page instead (`NEW_PAGE`). So is a
change within one document that renews most of it (a cover clicked away, a single-page
app's view swapped: `RENEWED`), in a count: the outline above it is the new page.
"""

from __future__ import annotations

from collections import Counter
from urllib.parse import urldefrag, urlsplit

from capture.recorder.observe._outline import ABOVE_MARKER, BELOW_MARKER

__all__ = ["NEW_PAGE", "RENEWED", "SUMMED_UP", "diff_outline", "outline_entry"]

_MARKERS = frozenset({ABOVE_MARKER, BELOW_MARKER})
# The first line of the changes after a navigation to a new document.
NEW_PAGE = "new page"
# The first line of the changes when most of one document is new.
RENEWED = "most of the page is new"
# First lines of a changes part that sums up instead of listing every line.
SUMMED_UP = (NEW_PAGE, RENEWED)
# A diff within one document is summed up when it has at least this many lines and the new
# ones are at least this share of the outline.
_RENEWED_LINES = 8
_RENEWED_SHARE = 0.5
# How many of the new page's headings stand for it in the changes.
_TELLING = 3
_TELLING_CHARS = 100


def _entries(outline: list[str]) -> list[str]:
    # Indentation and section markers carry position, not content: scrolling an element
    # from "below" into the viewport is not a change of the page.
    return [line.strip() for line in outline if line.strip() and line.strip() not in _MARKERS]


def _entry(line: str) -> str:
    return line[2:] if line.startswith("- ") else line


def outline_entry(line: str) -> str:
    """An outline line as the diff names it: without its indentation and list dash."""
    return _entry(line.strip())


def _short(url: str, base: str) -> str:
    """`url` as briefly as it reads next to `base`: its path when on the same origin."""
    old, new = urlsplit(url), urlsplit(base)
    if (old.scheme, old.netloc) != (new.scheme, new.netloc) or not old.path:
        return url
    return old.path + (f"?{old.query}" if old.query else "")


def _new_page(before: list[str], after: list[str], previous_url: str, url: str) -> list[str]:
    """A count and the new page's first headings: what the agent needs of a navigation."""
    head = (
        f"{NEW_PAGE} (was {_short(previous_url, url)}): {len(before)} lines of the previous "
        f"page gone, {len(after)} of this one new"
    )
    headings = [_entry(line) for line in after if _entry(line).startswith("heading ")]
    telling = [_cut("+ " + h) for h in headings[:_TELLING]]
    return [head, *telling]


def _cut(line: str) -> str:
    return line if len(line) <= _TELLING_CHARS else line[: _TELLING_CHARS - 1] + "…"


def _renewed(diff: list[str], total: int) -> list[str]:
    """A count: the outline above is what is new, and what went away (a cover, the view
    before) is rarely what the agent acts on next."""
    gone = sum(line.startswith("- ") for line in diff)
    return [f"{RENEWED}: {gone} lines gone, {len(diff) - gone} of {total} new"]


def diff_outline(
    previous: list[str] | None, current: list[str], previous_url: str = "", url: str = ""
) -> list[str]:
    """Removed lines ("- ...", in previous order) then added ones ("+ ...", current order).

    Compared as multisets, so the same line moving within the outline is no change. Returns
    [] when nothing changed, and also when there is no previous outline (the first capture).
    When `url` is another document than `previous_url` (not only another fragment), the
    answer is the new-page summary: a line starting with `NEW_PAGE`, then a few headings.
    """
    if previous is None:
        return []
    before, after = _entries(previous), _entries(current)
    if previous_url and url and urldefrag(previous_url).url != urldefrag(url).url:
        return _new_page(before, after, previous_url, url)
    removed = Counter(before) - Counter(after)
    added = Counter(after) - Counter(before)
    out: list[str] = []
    for lines, counts, sign in ((before, removed, "-"), (after, added, "+")):
        for line in lines:
            if counts[line] > 0:
                counts[line] -= 1
                out.append(f"{sign} {_entry(line)}")
    new = sum(line.startswith("+ ") for line in out)
    if len(out) >= _RENEWED_LINES and new >= _RENEWED_SHARE * len(after):
        return _renewed(out, len(after))
    return out
