"""The observation text: header, viewport-first outline, changes, events, within a budget.

Order of the text: header, outline (viewport, then below/beside, then above), changes
since the previous capture, page events, notes. Order of *priority* when the budget is
short: the header, events and notes (at most a quarter), the viewport part of the outline,
the changes, and only then what lies outside the viewport. Whatever is cut is replaced by
an explicit "[… N more … omitted …]" marker, so the agent knows the view is partial.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from capture.recorder.observe._diff import SUMMED_UP, outline_entry
from capture.recorder.observe._model import EventsSnapshot, PageState

__all__ = ["format_observation"]

# Share of the budget the changes may keep back from the viewport part of the outline.
_DIFF_SHARE = 0.25
# Share of the answer the changes after a navigation to a new document (or a change that
# renews most of one) may take at most.
_NEW_PAGE_SHARE = 0.10
# Share of the budget events and notes may take at most.
_EVENTS_SHARE = 0.25
# An added line the outline above shows whole is cut to this many characters.
_ADDED_CHARS = 50
# Room kept for one omission marker line (markers are well under this).
_MARKER_ROOM = 100
# The action in the header line is cut to this many characters.
_ACTION_CHARS = 200
PARTIAL_HEADING = "## Page (partial: the time box ended the read; the viewport comes first)"
PARTIAL_MARKER = (
    "[… outline partial: the read stopped at the time box; elements it had not reached are "
    "not listed (scroll, or capture again, to see them) …]"
)


def _size(lines: Sequence[str]) -> int:
    """Characters of the lines once joined, with one newline each."""
    return sum(len(line) + 1 for line in lines)


def _fit(head: list[str], lines: Sequence[str], budget: int, marker: str) -> list[str]:
    """`head` and the leading `lines` within `budget`; `marker` (with {n}) says how many not.

    Returns [] when not even the head and a marker fit.
    """
    if _size(head) + _size(lines) <= budget:
        return [*head, *lines]
    room = budget - _size(head) - _MARKER_ROOM
    if room < 0:
        return []
    out = list(head)
    for index, line in enumerate(lines):
        room -= len(line) + 1
        if room < 0:
            out.append(marker.format(n=len(lines) - index))
            break
        out.append(line)
    return out


def _header(
    step: int, action: str, error: str | None, state: PageState | None, url: str
) -> list[str]:
    action = " ".join(action.split())  # one line, whatever the caller passed
    if len(action) > _ACTION_CHARS:
        action = action[: _ACTION_CHARS - 1] + "…"
    lines = [f"# Step {step}: {action or '(no action)'}"]
    if error is not None:
        # In full, right under the action: why the step failed is what the agent needs most.
        lines.append(f"FAILED: {' '.join(error.split())}")
    if state is not None:
        vw, vh = state.viewport
        sx, sy = state.scroll
        pw, ph = state.page_size
        where = f"scrolled to x={sx} y={sy} of a {pw}x{ph} page"
        if (sx, sy) == (0, 0) and (pw, ph) == (vw, vh):
            where = "the whole page"
        lines += [f"URL: {state.url}", f"Title: {state.title}", f"Viewport: {vw}x{vh}, {where}"]
    elif url:  # no outline this time, but the agent still learns where the page is
        lines.append(f"URL: {url}")
    # No clock time: the step record carries it, and a part the agent receives is fresh
    # (it expires); characters go to the page instead.
    return lines


def _events(events: EventsSnapshot, notes: Sequence[str], budget: int) -> list[str]:
    lines: list[str] = []
    for title, items in (
        ("Open dialogs", events.open_dialogs),
        ("Dialogs since previous capture", events.dialogs),
        ("Console errors", events.console_errors),
        ("Uncaught page errors", events.page_errors),
        ("Failed requests", events.failed_requests),
        ("Notes", list(notes)),
    ):
        if items:
            lines += ["", f"## {title} ({len(items)})", *(f"- {item}" for item in items)]
    if events.dropped:
        lines.append(f"[… {events.dropped} more events omitted …]")
    return _fit([], lines, budget, "[… {n} more event lines omitted (budget) …]")


def _viewport_part(state: PageState | None, budget: int) -> list[str]:
    """The outline's heading and its viewport lines."""
    if state is None:
        return ["", "## Page", "(outline not available: reading the page took too long)"]
    beyond = state.omitted or len(state.outline) > state.in_viewport
    heading = "## Page (what is in the viewport comes first)" if beyond else "## Page"
    heading = PARTIAL_HEADING if state.partial else heading
    head = ["", heading]
    inside = state.outline[: state.in_viewport] or ["(nothing in the viewport)"]
    return _fit(head, inside, budget, "[… {n} more lines in the viewport omitted (budget) …]")


def _outside_part(state: PageState | None, budget: int) -> list[str]:
    """The lines below/beside and above the viewport that fit, then omission markers."""
    if state is None:
        return []
    further = [PARTIAL_MARKER] if state.partial else []
    if state.omitted:
        further.append(
            f"[… about {state.omitted} more element{'s' if state.omitted != 1 else ''} "
            "further from the viewport not listed; scroll to see them …]"
        )
    outside = state.outline[state.in_viewport :]
    marker = "[… {n} more lines outside the viewport omitted (budget) …]"
    if _size(further) > budget:
        further = []
    return _fit([], outside, budget - _size(further), marker) + further


def _short_added(diff: list[str], shown: set[str]) -> list[str]:
    """`diff` with each added line that the outline above shows whole cut to its start:
    repeating it says nothing more (a line gone, or one the budget left out, stays whole)."""
    return [
        line[: _ADDED_CHARS - 1] + "…"
        if line.startswith("+ ") and len(line) > _ADDED_CHARS and line[2:] in shown
        else line
        for line in diff
    ]


def _changes(diff: list[str] | None, budget: int, shown: set[str] | None = None) -> list[str]:
    title = "## Changes since previous capture"
    if diff and shown:
        diff = _short_added(diff, shown)
    if diff is None:
        return ["", title, "(first capture)"]
    if not diff:
        return ["", title, "no visible change"]
    if diff[0].startswith(SUMMED_UP):
        # The count, and of the few telling lines those that fit: the outline above is
        # the new page itself.
        out = ["", f"{title}: {diff[0]}"]
        for line in diff[1:]:
            if _size(out) + len(line) + 1 > budget:
                break
            out.append(line)
        return out
    head = ["", f"{title} ({len(diff)})"]
    fitted = _fit(head, diff, budget, "[… {n} more changes omitted (budget) …]")
    short = [f"[… {len(diff)} changes since previous capture omitted (budget) …]"]
    return fitted or (short if _size(short) <= budget else [])


def format_observation(
    *,
    step: int,
    action: str,
    state: PageState | None,
    diff: list[str] | None,
    events: EventsSnapshot,
    char_budget: int,
    notes: Sequence[str] = (),
    scrub: Callable[[str], str] | None = None,
    error: str | None = None,
    url: str = "",
) -> str:
    """The observation text, at most `char_budget` characters.

    `error` (a failed step's reason) is printed whole under the action; `url` stands in
    for the state's URL when there is no state.
    `state` None means the outline could not be built in time (said so in the text);
    `diff` None means there is no previous capture. `scrub` (a `Scrubber`) is applied to
    the finished text, before the budget is enforced.
    """
    header = _header(step, action, error, state, url)
    all_notes = [*(state.notes if state else []), *notes]
    events_lines = _events(events, all_notes, int(char_budget * _EVENTS_SHARE))
    room = char_budget - _size(header) - _size(events_lines)
    # The viewport first, minus what the changes may keep back; then the changes; then
    # what room is left for the outline outside the viewport.
    reserve = min(_size(_changes(diff, room)), int(char_budget * _DIFF_SHARE))
    view = _viewport_part(state, room - reserve)
    # Keep room for the markers saying what outside the viewport was left out.
    beyond = state is not None and (len(state.outline) > state.in_viewport or state.partial)
    markers = 2 * _MARKER_ROOM if beyond else 0
    changes = _changes(diff, room - _size(view) - markers)
    outside = _outside_part(state, room - _size(view) - _size(changes))
    # Again, now that it is known which lines the outline shows whole: those the changes
    # repeat are cut to their start (never longer than the first pass).
    shown = {outline_entry(line) for line in [*view, *outside]}
    changes = _changes(diff, room - _size(view) - _size(outside), shown)
    if diff and diff[0].startswith(SUMMED_UP):
        rest = _size(header) + _size(view) + _size(outside) + _size(events_lines)
        changes = _changes(diff, int(rest * _NEW_PAGE_SHARE))
    text = "\n".join([*header, *view, *outside, *changes, *events_lines])
    if scrub is not None:
        text = scrub(text)
    if len(text) > char_budget:
        # Only a scrubber making the text longer, or a header longer than the whole
        # budget, gets here.
        marker = "\n[… cut at the character budget …]"
        text = text[: char_budget - len(marker)] + marker
    return text
