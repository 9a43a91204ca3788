"""The pure parts of `scripts/bench agent`: reading both servers' answers into one outline,
and the page's own ground truth of what a person can act on, in a real Chromium."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from playwright.async_api import Browser

from tests.conftest import Site

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))
from _wob import (
    GROUND_TRUTH,
    RECORD_LISTENERS,
    capture_page,
    holds,
    parse_outline,
    playwright_page,
)
from _wob_agent import Failure, find, one

pytestmark = pytest.mark.browser

CAPTURE_ANSWER = """# Step 3: snapshot
URL: http://127.0.0.1:1/miniwob/login-user.html
Title: Login User Task

## Page (what is in the viewport comes first)
- text: Enter the username "kasie" and the password "x: y" into the text fields.
- main
  - textbox "Username" [ref=e1]
  - combobox "Size" [ref=e2]: Medium
  - button "Login" [ref=e3]
  - textbox [[redacted]] [ref=e4]
- text: Click on the [link "mauris." [ref=e5]] or [clickable "orci" [listener] [ref=e6]] here.
- clickable [cursor=pointer] [ref=e7]:
  - text: Alanna
  - text: Felis.
- clickable "Wandie Pharetra. Et sem gravida .." [listener] [ref=e8]
- clickable "Wandie Pharetra. Et sem gravida .. and more" [listener] [ref=e9]

## Changes since previous capture (2)
- text: START
+ button "Login" [ref=e3]
"""

PLAYWRIGHT_ANSWER = """### Page
- Page URL: http://127.0.0.1:1/miniwob/email-inbox.html
### Snapshot
```yaml
- generic [active] [ref=e1]:
  - generic [ref=e3]:
    - text: Enter the
    - generic: username
    - text: "\\"kasie\\" and"
  - generic [ref=e18] [cursor=pointer]:
    - generic [ref=e19]: Loreen
    - generic [ref=e20]: Felis.
  - 'button "a: b" [ref=e30]'
  - checkbox "it's" [checked] [ref=e31]
  - link "Home" [ref=e32]:
    - /url: "#"
```
"""


def test_both_answer_formats_read_as_one_outline() -> None:
    page = capture_page(CAPTURE_ANSWER)
    assert page is not None
    assert "START" not in page
    nodes = parse_outline(page)
    assert [(n.role, n.ref) for n in find(nodes)] == [
        ("textbox", "e1"), ("combobox", "e2"), ("button", "e3"), ("textbox", "e4"),
        ("link", "e5"), ("clickable", "e6"), ("clickable", "e7"), ("clickable", "e8"),
        ("clickable", "e9"),
    ]  # fmt: skip
    assert find(nodes, ("textbox",))[1].attrs == ["[redacted]"]  # a scrubbed marker
    # elements inside a line of text are found by their names; the line reads them in place
    assert (one(nodes, (), "mauris.", "").role, one(nodes, (), "orci", "").ref) == ("link", "e6")
    assert holds(page, "Click on the mauris. or orci here.")
    assert one(nodes, (), "Alanna", "").ref == "e7"  # the nearest holder with a ref
    assert one(nodes, (), "Wandie", "").ref == "e8"  # the shortest text that begins so
    with pytest.raises(Failure):
        one(nodes, (), "Pharetra.", "")  # a word inside a text is no target
    assert find(nodes, ("combobox",))[0].value == "Medium"
    assert nodes[1].children[0].name == "Username"
    assert holds(page, 'the username "kasie" and')

    shown = playwright_page(PLAYWRIGHT_ANSWER)
    assert shown is not None
    assert playwright_page("### Snapshot\n- [Snapshot](x.yml)") is None
    nodes = parse_outline(shown)
    row = one(nodes, (), "Loreen", "the row")
    assert (row.ref, row.role) == ("e19", "generic")  # the deepest holder of the text
    assert find(nodes, (), "Loreen Felis.")[0].attrs == ["cursor=pointer"]
    assert find(nodes, ("button",), "a: b")[0].ref == "e30"
    assert find(nodes, ("checkbox",), "it's")[0].attrs == ["checked"]
    assert find(nodes, ("link",))[0].label == "Home"  # its /url is not its text
    assert holds(shown, 'Enter the username "kasie" and')
    assert not holds(shown, 'Enter the password "kasie"')
    with pytest.raises(Failure, match="no ref for button 'Send'"):
        one(nodes, ("button",), "Send", "button 'Send'")


@pytest.mark.asyncio(loop_scope="module")
async def test_the_ground_truth_reads_handlers_and_pointer_cursors_from_the_page(
    chromium: Browser, site: Site
) -> None:
    context = await chromium.new_context()
    await context.add_init_script(RECORD_LISTENERS)
    page = await context.new_page()
    await page.goto(site.url("wob-clickables.html"))
    truth = await page.evaluate(GROUND_TRUTH, "data-ref")
    await context.close()

    assert truth["instruction"] == "Click the blue one."
    assert [(c["what"], c["refs"]) for c in truth["controls"]] == [
        ('button "A button"', ["e1"]),
        ('a "A link"', []),
        ("input", ["e2"]),
        ('button "inner"', []),
        ('button#handled-control "handled control"', []),
    ]
    clickables = {c["what"].split(" ")[0]: c["refs"] for c in truth["clickables"]}
    assert clickables == {
        "div#by-property": [],
        "div#by-attribute": ["e3"],
        "span#by-listener": ["e4"],  # its same-text child's ref stands for it
        "div#by-cursor.hand": [],  # #inherits has its parent's cursor: not its own
    }
