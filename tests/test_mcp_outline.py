"""The pure half of browser_snapshot (target/depth, pages) and browser_find's pattern."""

from __future__ import annotations

import re

import pytest

from capture.mcp._outline import ToolError, js_pattern, page_of, pages, parse_pattern, subtree

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
    body = subtree(LINES, "e4", None)
    assert body[0] == '- heading "Details" [level=2] [ref=e4]'
    assert '- heading "More" [level=3] [ref=e5]' in body  # a subsection stays in
    assert '- iframe "Pay" [ref=e6]' in body
    assert '  - textbox "Card" [ref=f1e1]: [redacted]' in body  # nested, re-indented
    assert not any("Footer" in line or "Intro" in line for line in body)


def test_an_element_brings_what_is_nested_under_it() -> None:
    assert subtree(LINES, "e6", None) == [
        '- iframe "Pay" [ref=e6]',
        '  - textbox "Card" [ref=f1e1]: [redacted]',
    ]


def test_a_line_with_several_refs_is_found_by_any() -> None:
    lines = ['- text: see [ref=e8] the link "Home" [ref=e9] and more', "  - text: inside"]
    assert subtree(lines, "e9", None) == lines


def test_depth_limits_the_levels_below() -> None:
    assert subtree(LINES, None, 0) == ["- banner", "- main", LINES[11], "- main"]


def test_a_ref_that_is_gone_is_no_part() -> None:
    assert subtree(LINES, "e99", None) == []


def test_pages_hold_every_character_once_in_order() -> None:
    lines = [f"- text: line {i} " + "x" * (i * 37 % 500) for i in range(200)]
    chunks = pages(lines, 1000)
    assert all(len("\n".join(chunk)) <= 1000 for chunk in chunks)
    assert "".join("".join(chunk) for chunk in chunks) == "".join(lines)


def test_each_page_but_the_last_names_the_call_for_the_next() -> None:
    lines = [f"- text: line {i}" for i in range(500)]
    call = 'browser_snapshot target="e4" page={page}'
    first = page_of("# Part{page}: T {braces}", lines, 1000, 1, call)
    assert len(first) <= 1000
    assert first.startswith("# Part (page 1 of ")
    assert 'continue with browser_snapshot target="e4" page=2 …]' in first
    last = int(re.search(r"of (\d+)\)", first).group(1))  # type: ignore[union-attr]
    assert "continue with" not in page_of("# Part{page}: T", lines, 1000, last, call)
    with pytest.raises(ToolError, match=f"page {last + 1}: there are {last}"):
        page_of("# Part{page}: T", lines, 1000, last + 1, call)


def test_find_text_is_literal_with_blanks_for_blanks() -> None:
    pattern = parse_pattern("counter.lock()  x", None)
    assert pattern.search("COUNTER.LOCK()\nx")
    assert not pattern.search("counterXlock() x")
    assert js_pattern(pattern)[1] == "i"
    assert js_pattern(parse_pattern(None, "/a.b/s")) == ("a.b", "s")


@pytest.mark.parametrize(
    ("text", "regex", "message"),
    [(None, None, "either text or regex"), ("a", "b", "either text or regex"),
     (None, "(", "not a valid regular expression")],
)  # fmt: skip
def test_bad_patterns_are_tool_errors(text: str | None, regex: str | None, message: str) -> None:
    with pytest.raises(ToolError, match=message):
        parse_pattern(text, regex)
