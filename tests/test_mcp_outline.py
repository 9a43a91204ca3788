"""The pure half of browser_snapshot (target/depth) and browser_find: outline lines in,
a budgeted text out."""

from __future__ import annotations

import re

import pytest

from capture.mcp._outline import ToolError, find_lines, parse_pattern, subtree

LINES = [
    "- banner",
    '  - link "Home" [ref=e1]',
    "- main",
    '  - heading "Intro" [level=2] [ref=e2]',
    "  - text: hello",
    '  - button "Go" [ref=e3]',
    '  - heading "Details" [level=2] [ref=e4]',
    '  - heading "More" [level=3] [ref=e5]',
    "  - text: deep",
    '  - iframe "Pay" [ref=e6]',
    '    - textbox "Card" [ref=f1e1]: [redacted]',
    "--- below or beside the viewport (scroll to see) ---",
    "- main",
    '  - heading "Footer" [level=2] [ref=e7]',
]


def test_a_heading_reaches_to_the_next_heading_of_its_level() -> None:
    text = subtree(LINES, "e4", None, 10_000, "T")
    body = text.splitlines()[1:]
    assert body[0] == '- heading "Details" [level=2] [ref=e4]'
    assert '- heading "More" [level=3] [ref=e5]' in body  # a subsection stays in
    assert '- iframe "Pay" [ref=e6]' in body
    assert '  - textbox "Card" [ref=f1e1]: [redacted]' in body  # nested, re-indented
    assert not any("Footer" in line or "Intro" in line for line in body)


def test_an_element_brings_what_is_nested_under_it() -> None:
    text = subtree(LINES, "e6", None, 10_000, "T")
    assert text.splitlines()[1:] == [
        '- iframe "Pay" [ref=e6]',
        '  - textbox "Card" [ref=f1e1]: [redacted]',
    ]


def test_depth_limits_the_levels_below() -> None:
    text = subtree(LINES, None, 0, 10_000, "T")
    assert text.splitlines()[1:] == ["- banner", "- main", LINES[11], "- main"]


def test_what_does_not_fit_says_how_to_continue() -> None:
    text = subtree(LINES * 50, None, None, 600, "T")
    assert len(text) <= 600
    assert re.search(r"\[… \d+ more lines; continue with browser_snapshot target=e\d+ …\]", text)


def test_a_ref_that_is_gone_is_a_tool_error() -> None:
    with pytest.raises(ToolError, match="ref e99 is not on the page any more"):
        subtree(LINES, "e99", None, 10_000, "T")


def test_find_shows_each_match_under_its_containers_once() -> None:
    text = find_lines(LINES, parse_pattern(None, "/heading/i"), 10_000, "T")
    lines = text.splitlines()
    assert lines[0] == "# 4 matches for /heading/: T"
    assert lines.count("- main") == 2  # once per section it is listed in
    assert '  - heading "Footer" [level=2] [ref=e7]' in lines


def test_find_text_is_case_insensitive_and_literal() -> None:
    assert "1 match" in find_lines(LINES, parse_pattern("CARD", None), 10_000, "T")
    assert "# 8 matches" in find_lines(LINES, parse_pattern("[REF=", None), 10_000, "T")


@pytest.mark.parametrize(
    ("text", "regex", "message"),
    [(None, None, "either text or regex"), ("a", "b", "either text or regex"),
     (None, "(", "not a valid regular expression")],
)  # fmt: skip
def test_bad_patterns_are_tool_errors(text: str | None, regex: str | None, message: str) -> None:
    with pytest.raises(ToolError, match=message):
        parse_pattern(text, regex)
