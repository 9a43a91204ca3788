"""What a person can act on and read, on real Chromium: elements a script makes clickable,
links and code inside their sentences, long texts, and what a form control needs.

Pages: tests/site/clickables.html and controls.html. Refs are checked by resolving them and
acting on them, as an agent would; what the page then says is read from the page itself.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from playwright.async_api import Browser, BrowserContext, Page

from capture.recorder import Recorder
from capture.recorder.observe import PageState, Scrubber, read_page_state, resolve_ref
from capture.session import AsyncSessionClient
from tests.conftest import RunningStore, Site
from tests.test_mcp import over_stdio
from tests.test_observe_text import observation

pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="module")]


@pytest_asyncio.fixture(loop_scope="module")
async def page(capture_context: BrowserContext) -> AsyncIterator[Page]:
    page = await capture_context.new_page()  # a page opened after the context: noted all the same
    yield page
    await page.close()


def text(state: PageState) -> str:
    return "\n".join(state.outline)


def ref_of(outline: str, pattern: str) -> str:
    """The ref on the outline line (or inline part) that `pattern` (a regex) starts."""
    match = re.search(pattern + r"[^\n]*?\[ref=(e\d+)\]", outline)
    assert match, f"{pattern} not in:\n{outline}"
    return match.group(1)


# -- a ref for everything a person can act on ---------------------------------------------


async def test_elements_a_script_makes_clickable_have_a_line_a_marker_and_a_ref(
    page: Page, site: Site
) -> None:
    await page.goto(site.url("clickables.html"))
    outline = text(await read_page_state(page))
    lines = outline.splitlines()
    for name, marker in [
        ("By attribute", "onclick"),
        ("By property", "onclick"),
        ("By listener", "listener"),
        ("By cursor with a bold child", "cursor=pointer"),
        ("By tabindex", "tabindex"),
        ("First item", "cursor=pointer"),
        ("Second item", "cursor=pointer"),
    ]:
        wanted = rf'- clickable "{name}" \[{re.escape(marker)}\] \[ref=e\d+\]'
        assert [line for line in lines if re.fullmatch(wanted, line)], f"{wanted}:\n{outline}"
    # Merged: a handler around a button, a handler inside a link, the list that delegates
    # its items' clicks; the bold child shares its parent's pointer cursor.
    assert 'button "Inner button" [ref=' in outline
    assert 'link "Link with a handler inside" [ref=' in outline
    assert outline.count("clickable") == 7, outline
    assert "with a bold child" not in outline.replace('"By cursor with a bold child"', "")
    # Not there for the person: hidden, invisible, under another element.
    for gone in ("Hidden handler", "Invisible handler"):
        assert gone not in outline
    assert "- text: Covered handler" in outline  # its words are shown, it is no target


async def test_clicking_a_clickable_by_its_ref_reaches_the_page_script(
    page: Page, site: Site
) -> None:
    await page.goto(site.url("clickables.html"))
    outline = text(await read_page_state(page))
    for name, said in [
        ("By attribute", "attribute"),
        ("By property", "property"),
        ("By listener", "listener"),
        ("Second item", "Second item"),
    ]:
        locator = await resolve_ref(page, ref_of(outline, f'clickable "{name}"'))
        await locator.click()
        assert await page.locator("#status").inner_text() == f"Clicked {said}"


async def test_a_recorder_notes_listeners_on_a_page_it_was_handed(
    chromium: Browser, site: Site, store_server: RunningStore
) -> None:
    """A page from a context capture did not open (a test's own): the first capture starts
    noting listeners; the document already loaded shows those added later, every later
    document all of them."""
    context = await chromium.new_context()
    page = await context.new_page()
    await page.goto(site.url("clickables.html"))
    try:
        async with (
            AsyncSessionClient(store_server.base_url) as client,
            Recorder(page, client, "t-handed") as rec,
        ):
            first = await rec.capture("look")
            assert 'clickable "By listener"' not in first.observation
            noting = "window[Symbol.for('capture.clickListeners')] === true"
            await page.wait_for_function(noting)
            await page.evaluate("document.getElementById('status').onclick = () => {}")
            later = await rec.capture("a handler set since")
            assert 'clickable "Nothing clicked" [onclick]' in later.observation
            await page.reload()
            again = await rec.capture("reload")
            assert 'clickable "By listener" [listener]' in again.observation
            assert 'clickable "By property" [onclick]' in again.observation
    finally:
        await context.close()


@pytest.mark.slow
async def test_a_span_with_a_handler_is_clicked_through_capture_mcp(
    store_server: RunningStore, site: Site, tmp_path: Path
) -> None:
    async with over_stdio(store_server, tmp_path) as s:
        look = await s.ok("browser_navigate", url=site.url("clickables.html"))
        target = ref_of(look, 'clickable "By attribute"')
        after = await s.ok("browser_click", target=target)
        assert "- text: Clicked attribute" in after


# -- text whole, in order, with its meaning ------------------------------------------------


async def test_links_and_code_stay_in_their_sentence_with_working_refs(
    page: Page, site: Site
) -> None:
    await page.goto(site.url("clickables.html"))
    outline = text(await read_page_state(page))
    line = next(line for line in outline.splitlines() if "Use it in an" in line)
    match = re.fullmatch(
        r'- text: Use it in an \[link "if" \[ref=(e\d+)\]\] or \[link "while" \[ref=(e\d+)\]\] '
        r"condition, or call `lock\(\)` first, really\.",
        line,
    )
    assert match, line
    for ref, href in zip(match.groups(), ("#if", "#while"), strict=True):
        assert await (await resolve_ref(page, ref)).get_attribute("href") == href
    # A control hidden from assistive technology only is still the person's to click; one
    # without a name is called by its class.
    spin = re.search(r"- button \[aria-hidden\] \[\.spin-up\] \[ref=(e\d+)\]", outline)
    assert spin, outline
    await (await resolve_ref(page, spin.group(1))).click()
    assert await page.locator("#status").inner_text() == "Clicked up"
    # Flex items sit apart: their words are not glued together.
    assert '\n- text: Signed in as demo [link "Sign out" [ref=' in outline
    # A label for no control is text in its line, as a span is (MiniWoB's score lines).
    assert "\n- text: Last reward: -\n" in outline
    # A list of links with nothing but punctuation between them is no sentence.
    assert '\n  - link "One" [ref=' in outline
    assert '\n  - link "Two" [ref=' in outline


async def test_a_long_text_is_cut_with_a_hint_whose_ref_reads_the_rest(
    page: Page, site: Site
) -> None:
    await page.goto(site.url("clickables.html"))
    outline = text(await read_page_state(page))
    line = next(line for line in outline.splitlines() if line.startswith("- text: START"))
    hint = r"… \[\+(\d+) chars: browser_snapshot target=(e\d+)\]"
    cut = re.fullmatch(r"- text: (START .*)" + hint, line)
    assert cut, line
    block = await (await resolve_ref(page, cut.group(3))).inner_text()
    assert block.startswith(cut.group(1))
    assert len(block) - len(cut.group(1)) == int(cut.group(2))
    assert block.endswith("word119 END")
    whole = text(await read_page_state(page, whole_text=True))
    assert f"- text [ref={cut.group(3)}]: {block}" in whole.splitlines()


# -- what a control needs ------------------------------------------------------------------


async def test_controls_say_their_options_type_constraints_and_states(
    page: Page, site: Site
) -> None:
    await page.goto(site.url("controls.html"))
    lines = text(await read_page_state(page)).splitlines()
    expected = [
        '- combobox "Fruit" [ref=e2]: Banana [options: "Apple", "Banana", "Cherry"]',
        '- combobox "Country" [ref=e3]: Country 1 [options: "Country 1", "Country 2", '
        '"Country 3", "Country 4", "Country 5", "Country 6", "Country 7", "Country 8", '
        '"Country 9", "Country 10", +30 more]',
        '- textbox "Birthday" [required] [type=date] [min=1900-01-01] [max=2026-12-31] [ref=e4]',
        '- textbox "Alarm" [type=time] [step=60] [ref=e5]',
        '- textbox "E-mail" [type=email] [placeholder="you@example.com"] [ref=e6]',
        '- spinbutton "Quantity" [min=1] [max=10] [step=1] [ref=e7]: 2',
        '- textbox "Postcode" [maxlength=5] [pattern="[0-9]{5}"] [ref=e8]',
        '- textbox "Member id" [readonly] [ref=e9]: M-1',
        '- textbox "Coupon" [disabled] [ref=e10]',
        '- checkbox "Terms" [checked] [ref=e11]',
        '- button "More" [expanded] [ref=e12]',
        '- textbox "Message" [multiline] [ref=e13]',
    ]
    assert lines[1:13] == expected
    # A sensitive select keeps its value and its options to itself; in a redacted area
    # neither options nor constraints are read.
    assert '- combobox "Card expiry" [ref=e14]: [redacted]' in lines
    assert '- combobox "Hidden choice" [ref=e15]: [redacted]' in lines
    assert '- textbox "Hidden date" [ref=e16]' in lines
    everything = "\n".join(lines)
    for secret in ("Secret plan", "2020-01-01"):
        assert secret not in everything


async def test_a_field_is_invalid_once_the_person_left_it_so(page: Page, site: Site) -> None:
    await page.goto(site.url("controls.html"))
    assert '"E-mail" [type=email]' in text(await read_page_state(page))
    await page.get_by_label("E-mail").click()
    await page.keyboard.type("not an address")
    await page.keyboard.press("Tab")
    after = text(await read_page_state(page))
    assert '- textbox "E-mail" [invalid] [type=email]' in after
    # The required date nobody touched is not called invalid.
    assert '"Birthday" [required] [type=date]' in after


async def test_longer_texts_inline_code_and_new_details_keep_secrets_out(
    page: Page, site: Site
) -> None:
    """A typed password echoed near the end of a long paragraph (cut away before texts
    were kept whole), and a redacted area with a link, inline code, a clickable, a select
    and a date's constraints: none of it reaches the observation."""
    await page.goto(site.url("controls.html"))
    await page.get_by_label("Password").click()
    await page.keyboard.type("typed-Secret-42")
    state = await read_page_state(page)
    text = observation(state=state, scrub=Scrubber(state.secret_values))
    assert "typed-Secret-42" not in text
    assert "as a careless page might, right here: [redacted], and then a few more words." in text
    assert '- textbox "Password" [password] [placeholder="Your password"] [ref=' in text
    for hidden in ("ACCT-991", "K3Y-Z", "Private action", "Secret plan", "2020-01-01"):
        assert hidden not in text
    assert '- clickable "[redacted]" [onclick] [ref=' in text
