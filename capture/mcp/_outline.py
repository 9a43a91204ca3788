"""Reaching what a capture's budget left out: a part of the whole-page outline, a search.

Pure functions over the outline lines of a whole-page read (`read_page_state(...,
whole_page=True)`): each line is `"  " * depth + "- role ..."`, with `[ref=e12]` on the
elements one can act on, and marker lines between the viewport, below and above parts.
Both answers fit a character budget and, when they do not fit, say how to get the rest.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from capture.errors import CaptureError

__all__ = ["ToolError", "find_lines", "parse_pattern", "subtree"]

_REF = re.compile(r"\[ref=((?:f\d+)?e\d+)\]")
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


def _fit(head: list[str], lines: Sequence[str], budget: int, more: str) -> str:
    """`head` and as many `lines` as fit in `budget` characters; `more` (with {n} and
    {ref}: the first ref left out, if any) says what was left out."""
    text = "\n".join([*head, *lines])
    if len(text) <= budget:
        return text
    out = list(head)
    room = budget - len("\n".join(head)) - 200
    for index, line in enumerate(lines):
        room -= len(line) + 1
        if room < 0:
            rest = lines[index:]
            refs = [m.group(1) for line in rest if (m := _REF.search(line))]
            out.append(more.format(n=len(rest), ref=refs[0] if refs else "?"))
            break
        out.append(line)
    return "\n".join(out)[:budget]


def subtree(
    lines: Sequence[str], target: str | None, depth: int | None, budget: int, title: str
) -> str:
    """The part of the outline under `target` (its line and the lines nested under it; for
    a heading, its section up to the next heading of the same or a higher level), or the
    whole outline; `depth` levels below it at most."""
    if target is None:
        base = 0
        part = list(lines)
        head = [f"# Outline of the whole page: {title}"]
    else:
        found = [i for i, line in enumerate(lines) if f"[ref={target}]" in line]
        if not found:
            raise ToolError(
                f"ref {target} is not on the page any more: take a new browser_snapshot "
                "for current refs"
            )
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
        head = [f"# Part of the page from {target}: {title}"]
    if depth is not None:
        limit = base + max(0, depth)
        part = [line for line in part if _is_marker(line) or _indent(line) <= limit]
    more = "[… {n} more lines; continue with browser_snapshot target={ref} …]"
    return _fit(head, [line[2 * base :] for line in part], budget, more)


def parse_pattern(text: str | None, regex: str | None) -> re.Pattern[str]:
    """The pattern `browser_find` looks for: `text` (case-insensitive) or `regex`, which
    may be written `/re/flags` (flags from i, m, s)."""
    if (text is None) == (regex is None):
        raise ToolError("give either text or regex (not both)")
    if text is not None:
        return re.compile(re.escape(text), re.IGNORECASE)
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


def find_lines(lines: Sequence[str], pattern: re.Pattern[str], budget: int, title: str) -> str:
    """The outline lines matching `pattern`, each under the lines that contain it."""
    shown: list[str] = []
    matches = 0
    listed: set[int] = set()
    for index, line in enumerate(lines):
        if _is_marker(line) or not pattern.search(line.lstrip(" ")):
            continue
        matches += 1
        chain = []
        depth = _indent(line)
        for back in range(index - 1, -1, -1):
            if depth == 0:
                break
            if not _is_marker(lines[back]) and _indent(lines[back]) < depth:
                depth = _indent(lines[back])
                chain.append(back)
        for shown_index in [*reversed(chain), index]:
            if shown_index not in listed:
                listed.add(shown_index)
                shown.append(lines[shown_index])
    if not matches:
        return f"# No match for /{pattern.pattern}/ on the whole page: {title}"
    head = [f"# {matches} match{'es' if matches != 1 else ''} for /{pattern.pattern}/: {title}"]
    more = "[… {n} more lines; narrow the search, or browser_snapshot target={ref} …]"
    return _fit(head, shown, budget, more)
