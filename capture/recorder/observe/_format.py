"""The observation text: header, viewport-first outline, changes, events, within a budget.

Order of the text: header, outline (viewport, then below/beside, then above), changes
since the previous capture, page events, notes. Order of *priority* when the budget is
short: header, events and notes (each bounded), the viewport part of the outline, the
changes, and only then what lies outside the viewport. Whatever is cut is replaced by an
explicit "[… N more … omitted …]" marker, so the agent knows the view is partial.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from capture.recorder.observe._model import EventsSnapshot, PageState

__all__ = ["format_observation"]

# Share of the budget the changes may take before the outline outside the viewport.
_DIFF_SHARE = 0.25
# Share of the budget events and notes may take at most.
_EVENTS_SHARE = 0.25
# Room kept for one omission marker line.
_MARKER_ROOM = 120


def _take(lines: Sequence[str], budget: int) -> tuple[list[str], int]:
    """The leading lines that fit in `budget` characters (with newlines); how many did not."""
    taken: list[str] = []
    used = 0
    for line in lines:
        if used + len(line) + 1 > budget:
            break
        taken.append(line)
        used += len(line) + 1
    return taken, len(lines) - len(taken)


def _size(lines: Sequence[str]) -> int:
    return sum(len(line) + 1 for line in lines)


def _header(step: int, action: str, state: PageState | None, now: datetime) -> list[str]:
    lines = [f"# Step {step}: {action or '(no action)'}"]
    if state is not None:
        vw, vh = state.viewport
        sx, sy = state.scroll
        pw, ph = state.page_size
        lines += [
            f"URL: {state.url}",
            f"Title: {state.title}",
            f"Viewport: {vw}x{vh}, scrolled to x={sx} y={sy} of a {pw}x{ph} page",
        ]
    lines.append(f"Time: {now.isoformat(timespec='seconds')}")
    return lines


def _events(events: EventsSnapshot, notes: Sequence[str]) -> list[str]:
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
    return lines


def _viewport_part(state: PageState | None, budget: int) -> list[str]:
    """The outline's heading and its viewport lines (cut with a marker past `budget`)."""
    if state is None:
        return ["", "## Page", "(outline not available: reading the page took too long)"]
    head = ["", "## Page (what is in the viewport comes first)"]
    inside = state.outline[: state.in_viewport] or ["(nothing in the viewport)"]
    shown, cut = _take(inside, budget - _size(head) - _MARKER_ROOM)
    if cut:
        shown.append(f"[… {cut} more lines in the viewport omitted (budget) …]")
    return head + shown


def _outside_part(state: PageState | None, budget: int) -> list[str]:
    """The lines below/beside and above the viewport that fit, then omission markers."""
    if state is None:
        return []
    outside = state.outline[state.in_viewport :]
    shown, cut = _take(outside, budget - 2 * _MARKER_ROOM)
    if cut:
        shown.append(f"[… {cut} more lines outside the viewport omitted (budget) …]")
    if state.omitted:
        shown.append(
            f"[… about {state.omitted} more elements further from the viewport not listed; "
            "scroll to see them …]"
        )
    return shown


def _changes(diff: list[str] | None, budget: int) -> list[str]:
    if diff is None:
        return ["", "## Changes since previous capture", "(first capture)"]
    if not diff:
        return ["", "## Changes since previous capture", "no visible change"]
    head = ["", f"## Changes since previous capture ({len(diff)})"]
    shown, cut = _take(diff, budget - _size(head) - _MARKER_ROOM)
    if cut:
        shown.append(f"[… {cut} more changes omitted (budget) …]")
    return head + shown


def format_observation(
    *,
    step: int,
    action: str,
    state: PageState | None,
    diff: list[str] | None,
    events: EventsSnapshot,
    char_budget: int,
    now: datetime,
    notes: Sequence[str] = (),
    scrub: Callable[[str], str] | None = None,
) -> str:
    """The observation text, at most `char_budget` characters.

    `state` None means the outline could not be built in time (said so in the text);
    `diff` None means there is no previous capture. `scrub` (a `Scrubber`) is applied to
    the finished text, before the budget is enforced.
    """
    all_notes = [*(state.notes if state else []), *notes]
    header = _header(step, action, state, now)
    events_lines, cut = _take(_events(events, all_notes), int(char_budget * _EVENTS_SHARE))
    if cut:
        events_lines.append(f"[… {cut} more event lines omitted (budget) …]")
    room = char_budget - _size(header) - _size(events_lines)
    # Priority: the viewport, then the changes (their reserve was kept back from the
    # viewport), then whatever room is left for the outline outside the viewport.
    reserve = min(_size(_changes(diff, room)), int(char_budget * _DIFF_SHARE))
    view = _viewport_part(state, room - reserve)
    changes = _changes(diff, room - _size(view))
    outside = _outside_part(state, room - _size(view) - _size(changes))
    text = "\n".join([*header, *view, *outside, *changes, *events_lines])
    if scrub is not None:
        text = scrub(text)
    if len(text) > char_budget:
        marker = "\n[… cut at the character budget …]"
        text = text[: char_budget - len(marker)] + marker
    return text
