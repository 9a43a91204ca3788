"""capture.recorder.observe on real Chromium: outline, refs, redaction, diff, events, dialogs.

One browser per module (launching per test would dominate the run time); a fresh page per
test. What "visible" means is computed here independently of page.js, with
getBoundingClientRect, and names and roles are checked against Playwright's own
accessible-name and role computation.
"""

from __future__ import annotations

import asyncio
import json
import re
import runpy
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
import pytest_asyncio
from playwright.async_api import BrowserContext, Frame, Page, expect

from capture.errors import ConfigError, RefNotFoundError
from capture.recorder.observe import (
    BELOW_MARKER,
    PageEvents,
    PageState,
    Rect,
    Scrubber,
    diff_outline,
    read_page_state,
    read_sensitive,
    resolve_ref,
)
from capture.recorder.observe._format import PARTIAL_HEADING, PARTIAL_MARKER
from tests.conftest import SITE_DIR, Site, free_port, serve_dir
from tests.test_observe_text import observation

pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="module")]

LINE = re.compile(r'^\s*- (?P<role>[a-z]+)(?: (?P<name>"(?:[^"\\]|\\.)*"))?.*\[ref=(?P<ref>\w+)\]')
# An element inline in a text line: `[link "if" [ref=e12]]`.
INLINE = re.compile(
    r'\[(?P<role>[a-z]+)(?: (?P<name>"(?:[^"\\]|\\.)*"))?(?: \[[^\[\]]*\])* \[ref=(?P<ref>\w+)\]\]'
)

# Every interactive element and heading of a frame (and its open shadow roots) whose box
# intersects the frame's viewport; each gets a data-test-id so the test can find it again.
VISIBLE_JS = """
(frameIndex) => {
  const SEL = "a[href], button, input:not([type=hidden]), select, textarea, summary, " +
    "h1, h2, h3, h4, h5, h6, [role=button], [role=link], [role=checkbox], [role=tab], " +
    "[role=heading]";
  const roots = [document];
  for (let i = 0; i < roots.length; i++)
    for (const el of roots[i].querySelectorAll("*")) if (el.shadowRoot) roots.push(el.shadowRoot);
  const out = [];
  for (const root of roots) for (const el of root.querySelectorAll(SEL)) {
    const r = el.getBoundingClientRect();
    if (r.width <= 0 || r.height <= 0) continue;
    if (r.bottom <= 0 || r.right <= 0 || r.top >= innerHeight || r.left >= innerWidth) continue;
    if (!el.checkVisibility({ visibilityProperty: true })) continue;
    const id = `f${frameIndex}-t${out.length}`;
    el.setAttribute("data-test-id", id);
    out.push({ id, tag: el.tagName, ref: el.getAttribute("data-capture-ref") });
  }
  return out;
}
"""

PAGES = [
    "login.html",
    "table.html",
    "frames.html",
    "nested.html",
    "shadow.html",
    "console.html",
    "failing.html",
    "spa.html",
    "dialog.html",
    "names.html",
    "fixed.html",
]


@pytest_asyncio.fixture(loop_scope="module")
async def page(capture_context: BrowserContext) -> AsyncIterator[Page]:
    page = await capture_context.new_page()
    yield page
    await page.close()


def page_url(site: Site, name: str) -> str:
    url = site.url(name)
    return f"{url}?other={site.other}" if name in ("frames.html", "nested.html") else url


async def visible_elements(page: Page) -> list[tuple[Frame, dict[str, Any]]]:
    """(frame, element) for every interactive element or heading the person can see.

    Seen in its own frame's viewport (VISIBLE_JS), and inside every ancestor iframe's box
    and the top viewport (Playwright's bounding boxes are in top-level coordinates).
    """
    width, height = page.viewport_size["width"], page.viewport_size["height"]  # type: ignore[index]
    found = []
    for index, frame in enumerate(page.frames):
        clip = (0.0, 0.0, float(width), float(height))
        ancestor = frame
        while ancestor.parent_frame is not None:
            box = await (await ancestor.frame_element()).bounding_box()
            clip = intersect(clip, box) if box else None
            if clip is None:
                break
            ancestor = ancestor.parent_frame
        if clip is None:
            continue
        for element in await frame.evaluate(VISIBLE_JS, index):
            box = await frame.locator(f'[data-test-id="{element["id"]}"]').bounding_box()
            if box and intersect(clip, box):
                found.append((frame, element))
    return found


def intersect(
    clip: tuple[float, float, float, float], box: dict[str, float]
) -> tuple[float, float, float, float] | None:
    x1, y1 = max(clip[0], box["x"]), max(clip[1], box["y"])
    x2 = min(clip[0] + clip[2], box["x"] + box["width"])
    y2 = min(clip[1] + clip[3], box["y"] + box["height"])
    return (x1, y1, x2 - x1, y2 - y1) if x2 > x1 and y2 > y1 else None


def viewport_lines(state: PageState) -> dict[str, str]:
    """ref -> outline line (or, for an element inline in a text, its `[...]` part), for the
    viewport part of the outline."""
    lines = {}
    for line in state.outline[: state.in_viewport]:
        if line.lstrip().startswith(("- text:", "- row:")):
            for inline in INLINE.finditer(line):
                lines[inline["ref"]] = inline[0]
            continue
        match = LINE.match(line)
        if match:
            lines[match["ref"]] = line
    return lines


# -- nothing the person sees is lost --------------------------------------------------


@pytest.mark.parametrize("name", PAGES)
async def test_every_visible_element_is_in_the_outline_with_its_name_and_a_working_ref(
    page: Page, site: Site, name: str
) -> None:
    await page.goto(page_url(site, name))
    if name == "frames.html":
        await page.frame_locator("#cross").get_by_role("button").wait_for()
    if name == "nested.html":
        await page.frame_locator("#outer").frame_locator("#nested").get_by_role("button").wait_for()
    state = await read_page_state(page)
    seen = await visible_elements(page)
    lines = viewport_lines(state)
    assert len(seen) >= 2
    for frame, element in seen:
        ref = element["ref"]
        assert ref, f"{element} got no ref"
        assert ref in lines, f"{element} ({ref}) is not in the viewport part of the outline"
        locator = await resolve_ref(page, ref)
        assert await locator.get_attribute("data-test-id") == element["id"]
        assert await (await locator.element_handle()).owner_frame() == frame
        match = LINE.match(lines[ref]) or INLINE.match(lines[ref])
        assert match is not None
        role, name_json = match["role"], match["name"]
        accessible_name = json.loads(name_json) if name_json else ""
        await expect(locator).to_have_accessible_name(accessible_name)
        # <summary> has no ARIA role of its own; the outline calls it a button (it acts
        # as one), Playwright leaves it without a role.
        if role not in ("generic", "iframe") and element["tag"] != "SUMMARY":
            await expect(locator).to_have_role(role)  # type: ignore[arg-type]


async def test_refs_are_stable_across_captures_and_point_into_frames(
    page: Page, site: Site
) -> None:
    await page.goto(page_url(site, "frames.html"))
    await page.frame_locator("#cross").get_by_role("button").wait_for()
    first = await read_page_state(page)
    second = await read_page_state(page)
    assert first.outline == second.outline
    outline = "\n".join(first.outline)
    same = re.search(r'button "Press same" \[ref=(f\d+e\d+)\]', outline)
    cross = re.search(r'button "Press cross" \[ref=(f\d+e\d+)\]', outline)
    assert same
    assert cross
    assert same[1][:2] != cross[1][:2]
    for match, frame_name in ((same, "same"), (cross, "cross")):
        locator = await resolve_ref(page, match[1])
        assert await locator.inner_text() == f"Press {frame_name}"
        await locator.click()  # the ref is a usable target, also across origins


async def test_unknown_and_stale_refs_raise_a_clear_error(page: Page, site: Site) -> None:
    await page.goto(site.url("spa.html"))
    state = await read_page_state(page)
    ref = re.search(r'button "Increment" \[ref=(e\d+)\]', "\n".join(state.outline))
    assert ref
    await page.evaluate("document.getElementById('increment').remove()")
    with pytest.raises(RefNotFoundError, match="not on the page any more"):
        await resolve_ref(page, ref[1])
    with pytest.raises(RefNotFoundError, match="not an element ref"):
        await resolve_ref(page, "button[1]")
    with pytest.raises(RefNotFoundError, match="frame is gone"):
        await resolve_ref(page, "f99e1")


# -- redaction ------------------------------------------------------------------------

TYPED = {
    "#password": "typed-Secret-91",
    "#card": "4111111111111111",
    "#otp": "731946",
}


async def test_login_secrets_stay_out_of_every_text_and_are_masked(page: Page, site: Site) -> None:
    events = PageEvents(page)
    await page.goto(site.url("login.html"))
    for selector, value in TYPED.items():
        await page.fill(selector, value)
    state = await read_page_state(page)
    text = observation(action="fill", state=state, events=events.drain())
    secrets = [*TYPED.values(), "prefilled-Secret-42", "ACCT-7781-2290-44", "REF-PRIVATE-0042"]
    for secret in secrets:
        assert secret not in text
        assert any(secret in value for value in state.secret_values)
    # Labels and ordinary values stay; filled sensitive fields say they are filled.
    assert 'textbox "Password" [password]' in text
    assert "Leave at the door" in text
    assert 'textbox "Card number" [ref=' in text
    assert ": [redacted]" in text
    # Every sensitive field is covered by a rect, from both the full and the fast path.
    rects, values = await read_sensitive(page)
    assert sorted(values) == sorted(state.secret_values)
    for selector in ("#password", "#saved-password", "#card", "#otp", "#account", "#account-box"):
        box = await page.locator(selector).bounding_box()
        assert box is not None
        assert covered(box, rects), selector
        assert covered(box, state.sensitive_rects), selector


def covered(box: dict[str, float], rects: list[Rect]) -> bool:
    return any(
        r.x <= box["x"] + 0.5
        and r.y <= box["y"] + 0.5
        and r.x + r.width >= box["x"] + box["width"] - 0.5
        and r.y + r.height >= box["y"] + box["height"] - 0.5
        for r in rects
    )


async def test_secrets_in_iframes_and_shadow_dom_stay_out_and_are_masked(
    page: Page, site: Site
) -> None:
    await page.goto(page_url(site, "frames.html"))
    same, cross = page.frame_locator("#same"), page.frame_locator("#cross")
    await same.locator("#frame-password").fill("same-origin-Secret-1")
    await cross.locator("#frame-password").fill("cross-origin-Secret-2")
    state = await read_page_state(page)
    outline = "\n".join(state.outline)
    for secret in ("same-origin-Secret-1", "cross-origin-Secret-2"):
        assert secret not in outline
        assert secret in state.secret_values
    for frame in (same, cross):
        box = await frame.locator("#frame-password").bounding_box()
        assert box is not None
        assert covered(box, state.sensitive_rects)

    await page.goto(site.url("shadow.html"))
    await page.locator("#shadow-password").fill("shadow-Secret-3")
    await page.locator("#shadow-user").fill("shadow-visible-user")
    state = await read_page_state(page)
    outline = "\n".join(state.outline)
    assert "shadow-Secret-3" not in outline
    assert "shadow-visible-user" in outline
    box = await page.locator("#shadow-password").bounding_box()
    assert box is not None
    assert covered(box, state.sensitive_rects)
    rects, values = await read_sensitive(page)
    assert covered(box, rects)
    assert values == ["shadow-Secret-3"]


async def test_secrets_in_a_nested_cross_origin_frame_are_masked(page: Page, site: Site) -> None:
    await page.goto(page_url(site, "nested.html"))
    inner = page.frame_locator("#outer").frame_locator("#nested")
    await inner.locator("#frame-password").fill("nested-Secret-6")
    state = await read_page_state(page)
    assert "nested-Secret-6" not in "\n".join(state.outline)
    assert "nested-Secret-6" in state.secret_values
    box = await inner.locator("#frame-password").bounding_box()
    assert box is not None
    # Border and padding of both iframes are part of the offset.
    assert covered(box, state.sensitive_rects)
    rects, _ = await read_sensitive(page)
    assert covered(box, rects)


async def test_a_password_shown_in_clear_stays_redacted(page: Page, site: Site) -> None:
    await page.goto(site.url("login.html"))
    await page.fill("#password", "toggle-Secret-5")
    await read_page_state(page)
    # A "show password" button turns the field into type=text.
    await page.evaluate("document.getElementById('password').type = 'text'")
    state = await read_page_state(page)
    assert "toggle-Secret-5" not in "\n".join(state.outline)
    assert "toggle-Secret-5" in state.secret_values


async def test_configured_redact_selectors(page: Page, site: Site) -> None:
    await page.goto(site.url("login.html"))
    state = await read_page_state(page, redact_selectors=["#note"])
    assert "Leave at the door" not in "\n".join(state.outline)
    assert "Leave at the door" in state.secret_values
    box = await page.locator("#note").bounding_box()
    assert box is not None
    assert covered(box, state.sensitive_rects)
    with pytest.raises(ConfigError, match=r"redact_selectors.*'#note\['"):
        await read_page_state(page, redact_selectors=["#note["])
    # Inside a shadow root, too.
    await page.goto(site.url("shadow.html"))
    await page.locator("#shadow-user").fill("configured-Secret-4")
    state = await read_page_state(page, redact_selectors=["#shadow-user"])
    assert "configured-Secret-4" not in "\n".join(state.outline)
    assert 'textbox "Shadow user" [ref=' in "\n".join(state.outline)
    box = await page.locator("#shadow-user").bounding_box()
    assert box is not None
    assert covered(box, state.sensitive_rects)


async def test_scrubber_removes_secrets_that_surface_elsewhere(page: Page, site: Site) -> None:
    events = PageEvents(page)
    await page.goto(site.url("login.html"))
    await page.fill("#password", "leaky-Secret-77")
    await page.evaluate("console.error('login failed for password ' + password.value)")
    state = await read_page_state(page)
    scrub = Scrubber(state.secret_values)
    text = observation(step=2, action="submit", state=state, events=events.drain(), scrub=scrub)
    assert "leaky-Secret-77" not in text
    assert "login failed for password [redacted]" in text


# -- viewport first, budget -----------------------------------------------------------


async def test_long_table_is_viewport_first_and_fits_the_budget(page: Page, site: Site) -> None:
    await page.goto(site.url("table.html"))
    await page.evaluate("window.scrollTo(0, 4000)")
    state = await read_page_state(page)
    assert state.scroll == (0, 4000)
    # The buttons, not the rows: a row can show a sliver whose button is above the fold
    # (how many pixels depends on the fonts installed).
    visible_rows = await page.evaluate(
        "Array.from(document.querySelectorAll('tbody tr')).filter(r => {"
        " const b = r.querySelector('button').getBoundingClientRect();"
        " return b.bottom > 0 && b.top < innerHeight;"
        "}).map(r => r.cells[0].textContent)"
    )
    assert len(visible_rows) > 20
    view = "\n".join(state.outline[: state.in_viewport])
    for number in visible_rows:
        assert f'"Cancel {number}"' in view
    assert BELOW_MARKER in state.outline
    assert state.omitted > 0
    # Above the viewport comes last: the first line is a visible row, not the page heading.
    assert 'heading "Orders"' not in view

    text = observation(step=3, action="scroll", state=state, char_budget=2000)
    assert len(text) <= 2000
    assert re.search(r"\[… \d+ more lines (in|outside) the viewport omitted \(budget\) …\]", text)
    assert f'"Cancel {visible_rows[0]}"' in text


# -- change detection -----------------------------------------------------------------


async def test_diff_on_a_single_page_app(page: Page, site: Site) -> None:
    await page.goto(site.url("spa.html"))
    before = await read_page_state(page)
    assert diff_outline(before.outline, (await read_page_state(page)).outline) == []
    await page.click("#increment")
    await page.fill("#new-todo", "Buy milk")
    await page.click("#add")
    await page.click("#toggle")
    after = await read_page_state(page)
    diff = diff_outline(before.outline, after.outline)
    assert "- text: Clicked 0 times" in diff
    assert "+ text: Clicked 1 times" in diff
    assert any(line.startswith('+ checkbox "Buy milk"') for line in diff)
    assert any(line.startswith('+ heading "Details"') for line in diff)
    assert any(re.match(r'\+ button "Details" \[expanded\] \[ref=e\d+\]', x) for x in diff)
    assert any(re.match(r'- button "Details" \[collapsed\] \[ref=e\d+\]', x) for x in diff)
    text = observation(step=2, action="click", state=after, diff=diff)
    assert f"## Changes since previous capture ({len(diff)})" in text
    unchanged = observation(step=3, action="wait", state=after, diff=[])
    assert "no visible change" in unchanged


# -- events and dialogs ---------------------------------------------------------------


async def test_console_and_page_errors_are_reported(page: Page, site: Site) -> None:
    events = PageEvents(page)
    async with page.expect_event("pageerror"):
        await page.goto(site.url("console.html"))
    first = events.drain()
    assert any("planted console error: config missing" in e for e in first.console_errors)
    assert not any("ordinary log line" in e or "warning line" in e for e in first.console_errors)
    assert first.page_errors == ["Error: planted uncaught error"]
    assert not events.drain()  # drained: nothing new
    async with page.expect_event("console"):
        await page.click("#log")
    text = observation(step=2, action="click", events=events.drain(), char_budget=4000)
    assert "## Console errors (1)" in text
    assert "clicked error: widget failed" in text
    assert "outline not available" in text
    # Attaching twice does not double the reports; after detach nothing is recorded.
    events.attach(page)
    async with page.expect_event("pageerror"):
        await page.click("#throw")
    assert events.drain().page_errors == ["Error: clicked uncaught failure"]
    events.detach(page)
    async with page.expect_event("console"):
        await page.click("#log")
    assert not events.drain()


async def test_failed_requests_are_reported(page: Page, site: Site) -> None:
    events = PageEvents(page)
    port = free_port()
    await page.goto(site.url(f"failing.html?refused={port}"))
    await expect(page.locator("#result")).to_contain_text("refused")
    failed = events.drain().failed_requests
    assert any("missing-data.json — HTTP 404" in f for f in failed), failed
    assert any(f"127.0.0.1:{port}/refused" in f and "ERR_CONNECTION_REFUSED" in f for f in failed)
    assert not any(f.startswith("Failed to load resource") for f in failed)


async def test_dialogs_are_reported_and_never_block_the_page(page: Page, site: Site) -> None:
    events = PageEvents(page)
    await page.goto(site.url("dialog.html"))
    await page.click("#alert")  # PageEvents is the only listener: dismissed as by default
    snapshot = events.drain()
    assert snapshot.dialogs == ["alert 'Saved: planted alert text' (dismissed)"]
    state = await read_page_state(page)  # the page is not blocked
    assert 'dialog "Terms of use"' in "\n".join(state.outline)

    # With a handler of its own, the test decides; PageEvents only records.
    async def accept(dialog: Any) -> None:
        await dialog.accept()

    page.on("dialog", accept)
    await page.click("#confirm")
    await expect(page.locator("#answer")).to_have_text("yes")
    assert events.drain().dialogs == ["confirm 'Delete everything?'"]


async def test_an_open_dialog_is_listed_while_it_is_open(page: Page, site: Site) -> None:
    events = PageEvents(page)
    await page.goto(site.url("dialog.html"))
    opened: asyncio.Future[Any] = asyncio.get_running_loop().create_future()

    def on_dialog(dialog: Any) -> None:
        opened.set_result(dialog)

    page.on("dialog", on_dialog)
    click = asyncio.ensure_future(page.click("#confirm"))
    dialog = await opened
    snapshot = events.drain()
    assert snapshot.open_dialogs == ["confirm 'Delete everything?'"]
    text = observation(action="click", events=snapshot, char_budget=4000)
    assert "## Open dialogs (1)" in text
    async with page.expect_event("dialogclosed"):
        await dialog.dismiss()
    await click
    assert events.drain().open_dialogs == []


# -- large documentation pages -------------------------------------------------------

DOC_PAGES = ["generated", "rustdoc Vec.html", "mdBook print.html", "python stdtypes.html"]


@pytest.fixture(scope="module")
def doc_pages(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """name -> URL of the large documentation pages (tests/site/docpages.py): the generated
    one, and the real ones `scripts/setup --test` installs."""
    docs = runpy.run_path(str(SITE_DIR / "docpages.py"))
    directory = tmp_path_factory.mktemp("docs")
    docs["write_doc_like"](directory)
    servers = {directory: serve_dir(directory)}
    urls = {"generated": f"http://127.0.0.1:{servers[directory].server_address[1]}/docs.html"}
    for name, root, path in docs["real_doc_pages"]():
        server = servers.setdefault(root, serve_dir(root))
        urls[name] = f"http://127.0.0.1:{server.server_address[1]}/{path}"
    yield urls
    for server in servers.values():
        server.shutdown()
        server.server_close()


@pytest.mark.slow
@pytest.mark.parametrize("where", ["top", "middle"])
@pytest.mark.parametrize("name", DOC_PAGES)
async def test_large_doc_pages_keep_every_visible_element_and_their_refs(
    page: Page, doc_pages: dict[str, str], name: str, where: str
) -> None:
    """Long sidebars, highlighted code, collapsed sections, thousands of siblings: the walk
    skips what is far away (binary search over long containers, fixed elements from the
    style sheets), and nothing the person sees may be skipped with it."""
    if name not in doc_pages:
        pytest.fail(f"{name} is not installed: scripts/setup --test installs it")
    await page.goto(doc_pages[name])
    if where == "middle":
        await page.evaluate("window.scrollTo(0, document.documentElement.scrollHeight / 2)")
    state = await read_page_state(page)
    seen = await visible_elements(page)
    lines = viewport_lines(state)
    assert not state.partial
    # The outline follows the page's aria-hidden (mdBook marks its visible sidebar so).
    hidden = await page.evaluate(
        "ids => ids.filter(id => document.querySelector(`[data-test-id='${id}']`)"
        ".closest('[aria-hidden=true]'))",
        [element["id"] for _, element in seen],
    )
    missing = [e for _, e in seen if e["ref"] not in lines and e["id"] not in hidden]
    assert not missing, f"visible but not in the viewport part of the outline: {missing}"
    assert len(seen) - len(hidden) >= 5
    assert state.omitted > 100  # far more than the viewport on every one of these pages
    again = await read_page_state(page)
    assert again.outline == state.outline  # same refs, same lines
    if name == "generated":  # fixed, at the end of the document: found all the same
        assert re.search(r'button "Back to top" \[ref=e\d+\]', "\n".join(lines.values()))


async def test_a_walk_stopped_by_its_deadline_keeps_the_viewport_and_says_partial(
    page: Page, site: Site
) -> None:
    """Past the first screen every button takes 500 ms to read (3.5 s in all): the walk stops
    at its deadline and answers with the viewport, marked partial."""
    await page.goto(site.url("slowdoc.html"))
    state = await read_page_state(page, deadline=time.time() + 1.0)
    seen = await visible_elements(page)
    assert state.partial
    lines = viewport_lines(state)
    assert {element["ref"] for _, element in seen} <= set(lines), state.outline
    assert 'heading "Visible heading"' in "\n".join(lines.values())
    assert 'button "Slow 40"' not in "\n".join(state.outline)  # not reached
    text = observation(state=state)
    assert PARTIAL_HEADING in text
    assert PARTIAL_MARKER in text
    assert "outline not available" not in text
    # The refs of the partial read are those a full read gives.
    again = await read_page_state(page, deadline=time.time() + 1.0)
    assert viewport_lines(again) == lines


# -- speed (printed, not asserted) ----------------------------------------------------


@pytest.mark.slow
async def test_big_document_is_bounded_and_timed(page: Page, big_document: str) -> None:
    await page.goto(big_document)
    size = len(await page.content())
    await read_page_state(page)  # the first call pays for the page's first evaluate
    timings = []
    for _ in range(3):
        start = time.perf_counter()
        state = await read_page_state(page)
        timings.append(time.perf_counter() - start)
    start = time.perf_counter()
    snapshot = await page.locator("body").aria_snapshot(mode="ai")
    aria = time.perf_counter() - start
    outline = "\n".join(state.outline)
    assert size >= 1_000_000
    assert state.in_viewport > 10
    assert state.omitted > 1000
    assert len(outline) < 100_000
    print(
        f"\nbig document {size} bytes: read_page_state best {min(timings) * 1000:.0f} ms "
        f"(runs {', '.join(f'{t * 1000:.0f}' for t in timings)} ms), outline {len(outline)} "
        f"chars; aria_snapshot(mode='ai') {aria * 1000:.0f} ms, {len(snapshot)} chars"
    )
