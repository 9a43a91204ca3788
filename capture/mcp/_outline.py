"""Reaching what a capture's budget left out: a part of the whole-page outline, pages of
a long answer, the pattern of a search.

Pure functions. The outline lines are those of a whole-page read (`read_page_state(...,
whole_page=True)`): each line is `"  " * depth + "- role ..."`, with `[ref=e12]` tokens
(a line may hold several) and marker lines between the viewport, below and above parts.
An answer longer than the budget is paged, and each page but the last names the call that
reads the next, so following the hints reads everything once.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from capture.errors import CaptureError

__all__ = ["ToolError", "js_pattern", "page_of", "pages", "parse_pattern", "subtree"]

_HEADING_LEVEL = re.compile(r"^- heading .*\[level=(\d+)\]")


class ToolError(CaptureError):
    """A tool call that cannot be done as asked; its message is the one line the client sees."""


def _indent(line: str) -> int:
    return (len(line) - len(line.lstrip(" "))) // 2


def _is_marker(line: str) -> bool:
    return line.startswith("---")


def _heading_level(line: str) -> int | None:
    match = _HEADING_LEVEL.match(line.lstrip(" "))
    return int(match.group(1)) if match else None


def pages(lines: Sequence[str], room: int) -> list[list[str]]:
    """`lines` in pages of at most `room` characters each; a line longer than a page is
    split over as many as it needs (its text is never cut off)."""
    room = max(room, 100)
    out: list[list[str]] = [[]]
    used = 0
    for line in lines:
        while line:
            if used and used + len(line) + 1 > room:
                out.append([])
                used = 0
            piece, line = line[:room], line[room:]
            out[-1].append(piece)
            used += len(piece) + 1
    return out


def page_of(head: str, lines: Sequence[str], budget: int, page: int, again: str) -> str:
    """Page `page` (from 1) of `lines` under `head`, within `budget` characters; a page that
        is not the last ends by saying how to read the next: `again` with {page} (`head` has
    {page} where the page number goes)."""
    chunks = pages(lines, budget - len(head) - 200)
    if page > len(chunks):
        raise ToolError(f"page {page}: there {'is' if len(chunks) == 1 else 'are'} {len(chunks)}")
    of = f" (page {page} of {len(chunks)})" if len(chunks) > 1 else ""
    out = [head.replace("{page}", of, 1), *chunks[page - 1]]
    if page < len(chunks):
        call = again.replace("{page}", str(page + 1))
        out.append(f"[… page {page} of {len(chunks)}; continue with {call} …]")
    return "\n".join(out)


def subtree(lines: Sequence[str], target: str | None, depth: int | None) -> list[str]:
    """The part of the outline under `target` (its line and the lines nested under it; for
    a heading, its section up to the next heading of the same or a higher level), or the
    whole outline; `depth` levels below it at most. [] when `target` is not in it."""
    if target is None:
        base = 0
        part = list(lines)
    else:
        found = [i for i, line in enumerate(lines) if f"[ref={target}]" in line]
        if not found:
            return []
        start = found[0]
        base = _indent(lines[start])
        level = _heading_level(lines[start])
        part = [lines[start]]
        for line in lines[start + 1 :]:
            if _is_marker(line):
                break
            nested = _indent(line) > base
            if not nested and level is None:
                break
            if not nested:
                if _indent(line) < base:
                    break
                other = _heading_level(line)
                if other is not None and level is not None and other <= level:
                    break
            part.append(line)
    if depth is not None:
        limit = base + max(0, depth)
        part = [line for line in part if _is_marker(line) or _indent(line) <= limit]
    return [line[2 * base :] for line in part]


def parse_pattern(text: str | None, regex: str | None) -> re.Pattern[str]:
    """The pattern `browser_find` looks for: `text` (case-insensitive) or `regex`, which
    may be written `/re/flags` (flags from i, m, s)."""
    if (text is None) == (regex is None):
        raise ToolError("give either text or regex (not both)")
    if text is not None:
        # Any run of blanks in the text matches any run on the page (a line break too).
        words = [re.escape(word) for word in text.split()] or [re.escape(text)]
        return re.compile(r"\s+".join(words), re.IGNORECASE)
    assert regex is not None
    source, flags = regex, 0
    slashed = re.fullmatch(r"/(.*)/([ims]*)", regex, re.DOTALL)
    if slashed:
        source = slashed.group(1)
        for flag in slashed.group(2):
            flags |= {"i": re.IGNORECASE, "m": re.MULTILINE, "s": re.DOTALL}[flag]
    try:
        return re.compile(source, flags)
    except re.error as exc:
        raise ToolError(f"{regex!r} is not a valid regular expression: {exc}") from None


def js_pattern(pattern: re.Pattern[str]) -> tuple[str, str]:
    """`pattern` as a JavaScript regular expression's source and flags (for find.js)."""
    flags = "".join(
        letter
        for flag, letter in ((re.IGNORECASE, "i"), (re.MULTILINE, "m"), (re.DOTALL, "s"))
        if pattern.flags & flag
    )
    return pattern.pattern, flags
