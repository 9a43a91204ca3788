"""Reading every word through `capture mcp` (real server over stdio, real Chromium):
browser_find searches the page's text itself, browser_snapshot reads a part to its end in
pages, every hint works when followed literally, and a navigation does not flood the
answer with the old page.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from capture.demo_site import DemoSite
from capture.mcp.cli import DEFAULT_MAX_CHARS
from tests.conftest import RunningStore
from tests.test_mcp import Session, over_stdio, ref

pytestmark = [pytest.mark.browser, pytest.mark.slow]

HINT = re.compile(r"continue with (browser_\w+)((?: \w+=(?:\"(?:[^\"\\]|\\.)*\"|[^ \"]+))*) …\]")
ARG = re.compile(r"(\w+)=(\"(?:[^\"\\]|\\.)*\"|[^ \"]+)")


async def follow(s: Session, name: str, **arguments: Any) -> list[str]:
    """Every answer from this call on, following each answer's continuation hint as
    written, until one has none."""
    answers = []
    while True:
        answers.append(await s.ok(name, **arguments))
        assert len(answers[-1]) <= DEFAULT_MAX_CHARS
        hint = HINT.search(answers[-1])
        if hint is None:
            return answers
        name = hint.group(1)
        arguments = {key: json.loads(value) for key, value in ARG.findall(hint.group(2))}
        assert len(answers) < 500, "the hints never end"


def matches(answer: str) -> list[tuple[str, str]]:
    """The (ref, excerpt) of each match line of a browser_find answer."""
    return re.findall(r"^- \w+ \[ref=((?:f\d+)?e\d+)\]: (.*)$", answer, re.MULTILINE)


async def test_find_reads_every_character_of_the_text(
    store_server: RunningStore, site: Any, tmp_path: Path
) -> None:
    """Past the outline's cut, inside code split over spans, in a shadow root, in a frame,
    far below the fold: found, each with a ref that browser_snapshot and browser_click
    take. Field values, redacted areas and hidden text are not the page's text."""
    async with over_stdio(store_server, tmp_path) as s:
        await s.ok("browser_navigate", url=f"{site.origin}/reading.html")
        for phrase in [
            "quiet lighthouse keeper",
            "counter.lock().unwrap()",
            "a copper kettle",
            "Press glasshouse",
            "anchor of the deep",
        ]:
            found = await s.ok("browser_find", text=phrase)
            assert found.startswith(f"# 1 match for {json.dumps(phrase)}"), found
            [(target, excerpt)] = matches(found)
            assert phrase.lower() in excerpt.lower()
            part = await s.ok("browser_snapshot", target=target)
            assert phrase.lower() in " ".join(part.split()).lower(), part
        far = matches(await s.ok("browser_find", text="anchor of the deep"))[0][0]
        clicked = await s.ok("browser_click", target=far)
        assert f"({far})" in clicked.splitlines()[0] or far in clicked.splitlines()[0]
        assert "#top" in clicked
        # A select's options are found, held by the select one chooses them with.
        [(select, _)] = matches(await s.ok("browser_find", text="Pistachio"))
        chosen = await s.ok("browser_select_option", target=select, values=["Pistachio"])
        assert re.search(r'combobox "Flavour" \[ref=\w+\]: Pistachio', chosen), chosen
        for hidden in ["hunter2-swordfish", "typed field value", "marmalade", "whisper"]:
            assert (await s.ok("browser_find", text=hidden)).startswith("# No match")


async def test_many_matches_are_paged_to_the_last(
    store_server: RunningStore, site: Any, tmp_path: Path
) -> None:
    """60 matches in a small budget: each page names the next; together they hold every
    match once."""
    async with over_stdio(store_server, tmp_path, "--max-chars", "3000") as s:
        await s.ok("browser_navigate", url=f"{site.origin}/reading.html")
        answers = await follow(s, "browser_find", regex=r"/pebble number \d+/i")
        assert len(answers) > 1
        numbers = [
            int(m.group(1))
            for answer in answers
            for _, excerpt in matches(answer)
            if (m := re.search(r"Pebble number (\d+)", excerpt))
        ]
        assert sorted(numbers) == list(range(1, 61))
        assert len(numbers) == 60


async def test_secrets_stay_out_of_find(
    store_server: RunningStore, site: Any, tmp_path: Path
) -> None:
    """Where the page shows a known secret is a redacted area, for the search too; the
    secret is in no answer."""
    (tmp_path / "secrets.env").write_text("KEEPER='lighthouse keeper'\n")
    async with over_stdio(store_server, tmp_path, "--secrets", "secrets.env") as s:
        await s.ok("browser_navigate", url=f"{site.origin}/reading.html")
        for text in ["lighthouse keeper", "the quiet"]:
            assert (await s.ok("browser_find", text=text)).startswith("# No match")
        assert (await s.ok("browser_find", text="copper kettle")).startswith("# 1 match")
    for result in s.responses:
        assert "lighthouse keeper" not in result.model_dump_json()


async def test_following_every_hint_reads_a_long_document_once(
    store_server: RunningStore, big_document: str, tmp_path: Path
) -> None:
    """The whole outline of a 1 MB document, and the part under one heading, read by
    following the hints: pages in order, no line twice, the document's end reached."""
    async with over_stdio(store_server, tmp_path) as s:
        await s.ok("browser_navigate", url=big_document)
        answers = await follow(s, "browser_snapshot", page=1)
        assert len(answers) > 3
        heads = [answer.splitlines()[0] for answer in answers]
        total = len(answers)
        assert heads == [
            re.sub(r"\(page \d+ of", f"(page {n} of", heads[0]) for n in range(1, total + 1)
        ]
        assert f"(page {total} of {total})" in heads[-1]
        refs = [r for answer in answers for r in re.findall(r"\[ref=(e\d+)\]", answer)]
        assert len(refs) == len(set(refs)), "a line came twice"
        # The last words listed are the document's last words: the search finds them.
        said = re.findall(r'^ *- \w+ "([^"]+)"|^ *- text: (.+)$', answers[-1], re.MULTILINE)
        last = [text for pair in said for text in pair if text][-1].split("…")[0]
        found = await s.ok("browser_find", text=last[:40])
        assert not found.startswith("# No match"), last
        # One heading's section, from the middle of the document.
        heading = re.findall(r'heading "[^"]*" \[level=2\] \[ref=(e\d+)\]', answers[total // 2])
        part = await follow(s, "browser_snapshot", target=heading[0])
        assert part[0].splitlines()[1].startswith("- heading")
        inner = [r for answer in part for r in re.findall(r"\[ref=(e\d+)\]", answer)]
        assert len(inner) == len(set(inner))


async def test_the_pages_of_a_part_come_from_one_read_until_the_next_action(
    store_server: RunningStore, site: Any, tmp_path: Path
) -> None:
    """Paging reads the page once (a long document is not walked again per page); any
    action, or a plain look, reads it afresh."""
    async with over_stdio(store_server, tmp_path) as s:
        look = await s.ok("browser_navigate", url=f"{site.origin}/spa.html")
        before = await s.ok("browser_snapshot", page=1)
        assert "Clicked 0 times" in before
        await s.ok("browser_click", target=ref(look, "button", "Increment"))
        after = await s.ok("browser_snapshot", page=1)
        assert "Clicked 1 times" in after


async def test_snapshot_takes_a_css_target_and_errors_say_what_was_tried(
    store_server: RunningStore, site: Any, tmp_path: Path
) -> None:
    async with over_stdio(store_server, tmp_path) as s:
        await s.ok("browser_navigate", url=f"{site.origin}/reading.html")
        part = await s.ok("browser_snapshot", target="#long")
        assert "quiet lighthouse keeper" in " ".join(part.split())
        missing = await s.error("browser_snapshot", target="#nowhere")
        assert "'#nowhere'" in missing
        assert "browser_snapshot" in missing
        bad = await s.error("browser_snapshot", target="p[")
        assert "'p['" in bad
        stale = await s.error("browser_click", target="e99999")
        assert "e99999" in stale.splitlines()[0]
        assert "browser_snapshot" in stale.splitlines()[0]
        assert "new capture" not in stale
        nowhere = await s.error("browser_click", target="#nowhere")
        assert "#nowhere" in nowhere.splitlines()[0]


async def test_a_navigation_is_a_new_page_not_every_line_removed(
    store_server: RunningStore, shop: DemoSite, site: Any, tmp_path: Path
) -> None:
    """To another document: a count and a few headings, at most a tenth of the answer;
    within one document (a fragment, a script's change) the diff stays line by line."""
    async with over_stdio(store_server, tmp_path) as s:
        page = await s.ok("browser_navigate", url=f"{shop.url}/")
        page = await s.ok("browser_click", target=ref(page, "link", "Blue Mug"))
        changes = page.split("## Changes since previous capture", 1)[1]
        changes = "## Changes since previous capture" + changes.split("\n\n## ", 1)[0]
        assert changes.startswith("## Changes since previous capture: new page (was /)")
        assert len(changes) <= len(page) / 10
        assert not re.search(r"^- ", changes, re.MULTILINE)
        page = await s.ok("browser_navigate", url=f"{site.origin}/spa.html")
        page = await s.ok("browser_click", target=ref(page, "button", "Increment"))
        assert re.search(r"^- text: Clicked 0 times$", page, re.MULTILINE), page
