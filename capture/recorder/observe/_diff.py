"""What changed between two outlines, as "+ line" / "- line" items with refs kept."""

from __future__ import annotations

from collections import Counter

from capture.recorder.observe._outline import ABOVE_MARKER, BELOW_MARKER

__all__ = ["diff_outline"]

_MARKERS = frozenset({ABOVE_MARKER, BELOW_MARKER})


def _entries(outline: list[str]) -> list[str]:
    # Indentation and section markers carry position, not content: scrolling an element
    # from "below" into the viewport is not a change of the page.
    return [line.strip() for line in outline if line.strip() and line.strip() not in _MARKERS]


def _entry(line: str) -> str:
    return line[2:] if line.startswith("- ") else line


def diff_outline(previous: list[str] | None, current: list[str]) -> list[str]:
    """Removed lines ("- ...", in previous order) then added ones ("+ ...", current order).

    Compared as multisets, so the same line moving within the outline is no change. Returns
    [] when nothing changed, and also when there is no previous outline (the first capture).
    """
    if previous is None:
        return []
    before, after = _entries(previous), _entries(current)
    removed = Counter(before) - Counter(after)
    added = Counter(after) - Counter(before)
    out: list[str] = []
    for lines, counts, sign in ((before, removed, "-"), (after, added, "+")):
        for line in lines:
            if counts[line] > 0:
                counts[line] -= 1
                out.append(f"{sign} {_entry(line)}")
    return out
