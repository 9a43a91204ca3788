"""The pure parts of capture.recorder.observe: scrubbing, diffing, formatting, budgets."""

from __future__ import annotations

import inspect
import json
import re
from typing import Any

import pytest

from capture.errors import BrowserError, ConfigError
from capture.recorder import observe
from capture.recorder.observe import (
    BELOW_MARKER,
    MIN_SECRET_LENGTH,
    EventsSnapshot,
    PageState,
    Rect,
    Scrubber,
    diff_outline,
    format_observation,
)
from capture.recorder.observe._outline import FrameRead, assemble_sensitive, assemble_state
from tests._helpers import page_state


def observation(**fields: Any) -> str:
    """`format_observation` with the fields a test leaves alone filled in (test_observe too)."""
    defaults: dict[str, Any] = {
        "step": 1,
        "action": "",
        "state": None,
        "diff": None,
        "events": EventsSnapshot(),
        "char_budget": 16000,
    }
    return format_observation(**{**defaults, **fields})


def state(view: list[str], outside: list[str] = (), omitted: int = 0) -> PageState:  # type: ignore[assignment]
    outside = list(outside)
    return page_state(
        [*view, *([BELOW_MARKER, *outside] if outside else [])],
        url="http://127.0.0.1:1/x",
        title="X",
        scroll=(0, 120),
        page_size=(1280, 5000),
        omitted=omitted,
        in_viewport=len(view),
    )


# -- Scrubber -------------------------------------------------------------------------


def test_scrubber_replaces_secrets_and_their_encoded_forms() -> None:
    scrub = Scrubber(["hunter2-long-secret"])
    scrub.add("p@ss word/1")
    text = (
        "typed hunter2-long-secret; url ?pw=p%40ss%20word%2F1&q=p%40ss+word%2F1; "
        'json {"v": "p@ss word/1"}'
    )
    assert scrub(text) == (
        'typed [redacted]; url ?pw=[redacted]&q=[redacted]; json {"v": "[redacted]"}'
    )


def test_scrubber_never_corrupts_refs_or_words_with_short_secrets() -> None:
    scrub = Scrubber(["1234", "ab", "e1"])
    assert MIN_SECRET_LENGTH == 4
    # "ab" and "e1" are too short to be replaced at all; "1234" only where it stands alone.
    assert scrub('- button "Save" [ref=e1234] PIN 1234, about 12345') == (
        '- button "Save" [ref=e1234] PIN [redacted], about 12345'
    )


def test_scrubber_ignores_blank_secrets_and_matches_unicode_in_json() -> None:
    scrub = Scrubber(["      ", "pässwörd-1"])
    assert scrub("  - text: a") == "  - text: a"
    assert scrub('{"v": "p\\u00e4ssw\\u00f6rd-1", "w": "pässwörd-1"}') == (
        '{"v": "[redacted]", "w": "[redacted]"}'
    )


def test_scrubber_prefers_the_longest_secret() -> None:
    scrub = Scrubber(["secret-value", "secret-value-extended"])
    assert scrub("x secret-value-extended y") == "x [redacted] y"
    assert Scrubber()("nothing to hide") == "nothing to hide"


# -- diff_outline ---------------------------------------------------------------------


def test_diff_lists_removed_then_added_and_ignores_position() -> None:
    before = [
        "- main",
        '  - button "A" [ref=e1]',
        "  - text: 0 items",
        BELOW_MARKER,
        '- link "L" [ref=e3]',
    ]
    after = ["- main", "  - text: 1 item", '  - button "A" [ref=e1]', '  - link "L" [ref=e3]']
    assert diff_outline(before, after) == ["- text: 0 items", "+ text: 1 item"]
    assert diff_outline(after, after) == []
    assert diff_outline(None, after) == []


def test_diff_counts_repeated_lines() -> None:
    assert diff_outline(["- text: x"], ["- text: x", "- text: x"]) == ["+ text: x"]


# -- format_observation ---------------------------------------------------------------


def test_observation_has_header_outline_changes_and_events() -> None:
    events = EventsSnapshot(
        console_errors=["boom (at http://x/a.js:3)"],
        failed_requests=["GET http://x/y — HTTP 404 Not Found"],
        dialogs=["alert 'hi' (dismissed)"],
    )
    text = observation(
        step=7,
        action='click "Save"',
        state=state(['- button "Save" [ref=e1]'], ['- link "Next" [ref=e2]']),
        diff=['+ button "Save" [ref=e1]'],
        events=events,
        notes=["screenshot unchanged"],
    )
    assert text.startswith('# Step 7: click "Save"\nURL: http://127.0.0.1:1/x\nTitle: X\n')
    assert "Viewport: 1280x800, scrolled to x=0 y=120 of a 1280x5000 page" in text
    assert "Time:" not in text  # the step record has the time
    order = [
        '- button "Save" [ref=e1]',
        BELOW_MARKER,
        '- link "Next" [ref=e2]',
        "## Changes since previous capture (1)",
        "## Dialogs since previous capture (1)",
        "## Console errors (1)",
        "## Failed requests (1)",
        "## Notes (1)",
    ]
    positions = [text.index(part) for part in order]
    assert positions == sorted(positions)


@pytest.mark.parametrize("budget", [1000, 2500, 6000])
def test_budget_keeps_the_viewport_and_marks_what_is_left_out(budget: int) -> None:
    view = [f'- button "In view {i}" [ref=e{i}]' for i in range(40)]
    outside = [f'- link "Below {i}" [ref=e{100 + i}]' for i in range(400)]
    diff = [f'+ link "Below {i}" [ref=e{100 + i}]' for i in range(300)]
    text = observation(
        action="scroll",
        state=state(view, outside, omitted=900),
        diff=diff,
        events=EventsSnapshot(console_errors=["x" * 500] * 30),
        char_budget=budget,
    )
    assert len(text) <= budget
    assert re.search(r"changes.* omitted \(budget\)", text)
    assert re.search(r"\[… \d+ more (event lines|events) omitted", text)
    if budget >= 2500:  # room for the whole viewport: all of it is there
        assert all(line in text for line in view)
        assert "more lines outside the viewport omitted (budget)" in text
        assert "about 900 more elements further from the viewport" in text
    else:
        assert view[0] in text
        assert "more lines in the viewport omitted (budget)" in text


def test_no_state_says_the_outline_was_late() -> None:
    text = observation(step=2, char_budget=1000)
    assert "# Step 2: (no action)" in text
    long_action = observation(step=3, action="type\n" + "x" * 500, char_budget=1000)
    assert long_action.splitlines()[0] == "# Step 3: type " + "x" * 194 + "…"
    assert "outline not available" in text
    assert "(first capture)" in text


# -- assembling frames (pure) ---------------------------------------------------------


def frame_data(items: list[dict[str, Any]], sensitive: list[list[float]] = ()) -> dict[str, Any]:  # type: ignore[assignment]
    return {
        "url": "http://127.0.0.1:1/",
        "title": "T",
        "viewport": [1000, 600],
        "scroll": [0, 0],
        "pageSize": [1000, 600],
        "items": items,
        "omitted": 2,
        "sensitive": list(sensitive),
        "secrets": ["frame-secret"] if sensitive else [],
        "invalidSelectors": [],
    }


def item(role: str, name: str, box: list[int], parent: int = -1, **extra: Any) -> dict[str, Any]:
    return {"role": role, "name": name, "box": box, "parent": parent, **extra}


def placed_frame(
    frame_id: str,
    parent_id: str,
    url: str,
    iframe: tuple[str, int, int, int, int],
    items: list[dict[str, Any]],
    sensitive: list[list[float]],
) -> FrameRead:
    """A child frame's read, placed at its `iframe`: the ref, then the content box's x, y,
    width and height in the top viewport."""
    ref, x, y, width, height = iframe
    place = {"ref": ref, "x": x, "y": y, "width": width, "height": height}
    return FrameRead(frame_id, parent_id, url, place=place, data=frame_data(items, sensitive))


def test_nested_frames_are_placed_clipped_and_spliced_after_their_iframe() -> None:
    main = FrameRead(
        "",
        None,
        "http://127.0.0.1:1/",
        data=frame_data(
            [
                item("main", "", [0, 0, 1000, 600]),
                item("iframe", "Outer", [100, 100, 400, 300], parent=0, ref="e1"),
                item("button", "After", [0, 500, 50, 20], parent=0, ref="e2"),
            ]
        ),
    )
    # The outer frame's content box starts at (102, 102) in the top viewport.
    outer = placed_frame(
        "f1",
        "",
        "http://127.0.0.1:2/",
        ("e1", 102, 102, 396, 296),
        [
            item("button", "Seen", [10, 10, 50, 20], ref="f1e1"),
            item("button", "Scrolled out of the frame", [10, 400, 50, 20], ref="f1e2"),
            item("iframe", "Inner", [200, 200, 100, 50], ref="f1e3"),
        ],
        sensitive=[[10, 40, 100, 20]],
    )
    inner = placed_frame(
        "f2",
        "f1",
        "http://127.0.0.1:3/",
        ("f1e3", 200, 200, 100, 50),
        [item("heading", "Deep", [0, 0, 80, 20], ref="f2e1", level=2)],
        sensitive=[[0, 30, 10, 10]],
    )
    gone = FrameRead("f3", "", "http://127.0.0.1:4/", error="Frame was detached")
    state = assemble_state([main, outer, inner, gone])
    assert state.outline[: state.in_viewport] == [
        "- main",
        '  - iframe "Outer" [ref=e1]',
        '    - button "Seen" [ref=f1e1]',
        '    - iframe "Inner" [ref=f1e3]',
        '      - heading "Deep" [level=2] [ref=f2e1]',
        '  - button "After" [ref=e2]',
    ]
    assert state.outline[state.in_viewport :] == [
        BELOW_MARKER,
        "- main",
        '  - iframe "Outer" [ref=e1]',
        '    - button "Scrolled out of the frame" [ref=f1e2]',
    ]
    assert state.sensitive_rects == [Rect(112, 142, 100, 20), Rect(302, 332, 10, 10)]
    assert state.secret_values == ["frame-secret"]
    assert state.omitted == 6
    assert state.notes == ["frame http://127.0.0.1:4/ not readable: Frame was detached"]
    rects, secrets = assemble_sensitive([main, outer, inner])
    assert (rects, secrets) == (state.sensitive_rects, state.secret_values)


def test_unreadable_main_frame_and_bad_selectors_are_clear_errors() -> None:
    with pytest.raises(BrowserError, match="could not read the page: Execution context"):
        assemble_state([FrameRead("", None, "u", error="Execution context was destroyed")])
    bad = frame_data([])
    bad["invalidSelectors"] = ["#x["]
    with pytest.raises(ConfigError, match=r"capture.redact_selectors: .*'#x\['"):
        assemble_state([FrameRead("", None, "u", data=bad)])


def test_sensitive_fields_that_cannot_be_placed_fail_the_fast_path() -> None:
    main = FrameRead("", None, "http://127.0.0.1:1/", data=frame_data([]))
    unread = FrameRead("f1", "", "http://127.0.0.1:2/", error="Target crashed")
    with pytest.raises(BrowserError, match=re.escape("could not check frame http://127.0.0.1:2/")):
        assemble_sensitive([main, unread])
    unplaced = FrameRead("f2", "", "http://127.0.0.1:3/", data=frame_data([], [[0, 0, 5, 5]]))
    with pytest.raises(BrowserError, match=re.escape("could not locate frame http://127.0.0.1:3/")):
        assemble_sensitive([main, unplaced])
    # The outline is still built, with a note; its rects are best effort.
    state = assemble_state([main, unread, unplaced])
    assert state.notes == ["frame http://127.0.0.1:2/ not readable: Target crashed"]
    assert state.sensitive_rects == []
    assert state.secret_values == ["frame-secret"]


@pytest.mark.parametrize("name", ["read_page_state", "read_sensitive", "resolve_ref"])
def test_sync_and_async_faces_take_the_same_arguments(name: str) -> None:
    async_face = getattr(observe, name)
    sync_face = getattr(observe, f"{name}_sync")
    assert inspect.iscoroutinefunction(async_face)
    assert not inspect.iscoroutinefunction(sync_face)
    async_params = list(inspect.signature(async_face).parameters.values())
    sync_params = list(inspect.signature(sync_face).parameters.values())
    assert [(p.name, p.kind, p.default) for p in async_params] == [
        (p.name, p.kind, p.default) for p in sync_params
    ]


def test_a_garbled_answer_is_a_frame_error_not_a_crash() -> None:
    read = FrameRead("f1", "", "http://127.0.0.1:2/").record(['"[1, 2]"', "not json"])
    assert read.data is None
    assert read.error is not None
    assert "without what a read needs" in read.error


def test_a_new_document_is_a_new_page_and_a_fragment_is_not() -> None:
    """After a navigation to another document: a count and the first headings, within a
    tenth of the answer; another fragment of the same document is diffed line by line."""
    before = [f"- text: old line {i}" for i in range(300)]
    after = ['- heading "New" [level=1] [ref=e1]', *(f"- text: new line {i}" for i in range(50))]
    diff = diff_outline(before, after, "http://h/a/print.html", "http://h/a/ch16.html")
    assert diff == [
        "new page (was /a/print.html): 300 lines of the previous page gone, 51 of this one new",
        '+ heading "New" [level=1] [ref=e1]',
    ]
    text = observation(state=state(after), diff=diff)
    changes = text[text.index("## Changes") :]
    assert changes.startswith("## Changes since previous capture: new page (was /a/print.html)")
    assert len(changes) <= len(text) / 10
    edited = [*before[:-1], "- text: new line 0"]
    same = diff_outline(before, edited, "http://h/a/print.html", "http://h/a/print.html#ch16")
    assert same == ["- text: old line 299", "+ text: new line 0"]


def test_a_change_that_renews_most_of_a_document_is_summed_up_too() -> None:
    """A cover clicked away, a view swapped: most lines new within one document is told
    as a count (the outline is the new page), within a tenth of the answer; a few lines
    changed are listed whole."""
    cover = ['- clickable "START" [onclick] [ref=e1]', "- text: -"]
    task = ['- text: Click on the "previous" button.', *(f"- text: line {i}" for i in range(40))]
    diff = diff_outline(cover, task, "http://h/task.html", "http://h/task.html")
    assert diff == ["most of the page is new: 2 lines gone, 41 of 41 new"]
    text = observation(state=state(task), diff=diff)
    changes = text[text.index("## Changes") :]
    assert changes.startswith("## Changes since previous capture: most of the page is new")
    assert len(changes) <= len(text) / 10
    few = diff_outline(task, [*task[:-1], "- text: Correct!"], "http://h/t", "http://h/t")
    assert few == ["- text: line 39", "+ text: Correct!"]


def test_an_answer_without_what_a_read_needs_is_a_frame_error_not_a_traceback() -> None:
    """page.js answers in an isolated world; should an answer still lack its viewport (or a
    frame's place its box), the frame carries an error the capture turns into a note."""
    bare = FrameRead("", None, "http://127.0.0.1:1/").record(['{"items": []}'])
    assert bare.data is None
    assert bare.error is not None
    assert "without what a read needs" in bare.error
    unplaced = FrameRead("f1", "", "http://127.0.0.1:2/").record(
        [json.dumps(frame_data([], [])), '{"ref": "e1"}']
    )
    assert unplaced.data is None
    assert unplaced.error
    with pytest.raises(BrowserError, match="could not read the page"):
        assemble_state([bare])


def test_an_added_line_shown_whole_above_is_cut_in_the_changes() -> None:
    """The changes repeat no long line the outline above shows whole: its start says which
    line it is; a line gone stays whole (it is nowhere else)."""
    long = "- text: " + "words and more words " * 10 + "end"
    gone = "- text: " + "a removed line that is long " * 5 + "end"
    before = ['- heading "Task" [level=1] [ref=e1]', gone, *(f"- text: {i}" for i in range(9))]
    after = [*before[:1], long, *before[2:]]
    diff = diff_outline(before, after, "http://h/t", "http://h/t")
    text = observation(state=state(after), diff=diff)
    changes = text[text.index("## Changes") :].splitlines()
    assert changes[1] == "- " + gone[2:]
    assert changes[2].startswith("+ text: words and more words")
    assert changes[2].endswith("…")
    assert len(changes[2]) == 50
    assert long in text.splitlines()  # whole, in the outline
