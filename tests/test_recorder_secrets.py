"""Known secrets are masked in the stored screenshot wherever the page shows them.

tests/site/secret.html draws every place that shows the saved key (or an echoed password)
large in pure red, and nothing else red; so a red pixel inside one of those places, in the
JPEG the store holds, is a secret a model could read. Each test also checks that the same
places are red in an unmasked screenshot of the same page, so the check can fail.
"""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from playwright.async_api import Browser, Page

from capture.config import CaptureConfig
from capture.recorder import Recorder
from capture.recorder.observe import mark_secret_text, read_page_state, read_sensitive
from capture.session import AsyncSessionClient, ImageBytes, ImagePart
from capture.tasks import run_task
from tests._helpers import ROOMY_BOX
from tests.conftest import RunningStore, Site
from tests.test_runner import task_at, values

pytestmark = pytest.mark.browser
on_module_loop = pytest.mark.asyncio(loop_scope="module")

API_KEY = "sk-live-7Q2m9XvR4tPz"
PASSWORD = "Pw-Echoed-4471"


@dataclass(frozen=True)
class Place:
    """Where the page shows a secret, in CSS pixels of the top viewport."""

    name: str
    x: float
    y: float
    width: float
    height: float


# The box of a range over an element's text (or of its `secret` substring), so the check
# covers the secret's glyphs and not the "Saved key: " before it.
_TEXT_BOX = """([id, secret]) => {
  const el = document.getElementById(id);
  const range = document.createRange();
  const node = el.firstChild;
  if (secret && node && node.nodeType === Node.TEXT_NODE) {
    const at = node.data.indexOf(secret);
    range.setStart(node, at);
    range.setEnd(node, at + secret.length);
  } else {
    range.selectNodeContents(el);
  }
  const r = range.getBoundingClientRect();
  return [r.left, r.top, r.width, r.height];
}"""


async def _text_place(page: Page, name: str, id_: str, secret: str = "") -> Place:
    x, y, w, h = await page.evaluate(_TEXT_BOX, [id_, secret])
    return Place(name, x, y, w, h)


async def _box_place(page: Page, name: str, selector: str, frame: str | None = None) -> Place:
    root = page.frame_locator(frame) if frame else page
    box = await root.locator(selector).bounding_box()
    assert box is not None, name
    return Place(name, box["x"], box["y"], box["width"], box["height"])


async def key_places(page: Page) -> list[Place]:
    """Every place secret.html shows the saved key, once the form was submitted."""
    return [
        await _box_place(page, "typed field", "#key"),
        await _text_place(page, "echo text node", "echo", API_KEY),
        await _text_place(page, "split text nodes", "split"),
        await _box_place(page, "::before attr()", "#attr"),
        await _box_place(page, "field value set by script", "#copy"),
        await _box_place(page, "same-origin frame", "#got", "#same"),
        await _box_place(page, "cross-origin frame", "#got", "#cross"),
    ]


def red_pixels(image: Image.Image) -> int:
    """How many pure-red-ish pixels `image` has (JPEG keeps red text well above these)."""
    raw = image.convert("RGB").tobytes()
    return sum(
        1 for i in range(0, len(raw), 3) if raw[i] > 150 and raw[i + 1] < 100 and raw[i + 2] < 100
    )


def _red(image: Image.Image, place: Place, scale: float) -> int:
    """How many red pixels `image` has inside `place`."""
    box = (
        int(place.x * scale),
        int(place.y * scale),
        int((place.x + place.width) * scale),
        int((place.y + place.height) * scale),
    )
    return red_pixels(image.crop(box))


async def leaks(page: Page, data: bytes, places: list[Place]) -> dict[str, int]:
    """Red pixels per place in the image `data`; first checks each place is red unmasked."""
    viewport = page.viewport_size
    assert viewport is not None
    clear = Image.open(io.BytesIO(await page.screenshot(type="png")))
    for place in places:
        assert _red(clear, place, clear.width / viewport["width"]) > 20, place
    image = Image.open(io.BytesIO(data))
    scale = image.width / viewport["width"]
    return {p.name: n for p in places if (n := _red(image, p, scale))}


def stored_image(stored: dict[str, Any]) -> bytes:
    data = ImagePart.model_validate(stored["__user_part_screenshot"]).data
    assert isinstance(data, ImageBytes)
    return base64.b64decode(data.bytes)


@on_module_loop
async def test_a_secret_var_typed_into_a_plain_field_is_masked_wherever_shown(
    tmp_path: Path, site: Site, chromium: Browser, store_server: RunningStore
) -> None:
    """The issue's scenario: a task types API_KEY (secret) with the keyboard into a
    type=text field, the page echoes it in text, split text, ::before, another field and
    two frames; the stored screenshot shows it nowhere."""
    task = task_at(
        tmp_path,
        f"name: save key\nbase_url: {site.origin}\ncapture: {{time_box: {ROOMY_BOX}}}\n"
        f"vars:\n  API_KEY: {{secret: true, value: {API_KEY}}}\n"
        "steps:\n"
        f"  - goto: /secret.html?other={site.other}\n"
        "  - type: {label: API key, value: '${API_KEY}'}\n"
        "  - press: Enter\n"
        "  - expect: {css: '#got:not(:empty)', frame: {name: cross}}\n"
        "  - expect: {css: '#got:not(:empty)', frame: {name: same}}\n",
    )
    context = await chromium.new_context(viewport={"width": 1000, "height": 600})
    page = await context.new_page()
    try:
        async with AsyncSessionClient(store_server.base_url) as client:
            result = await run_task(task, client=client, page=page, thread="key")
        assert result.status == "passed", result.steps
        stored = await values(store_server.base_url, "key")
        assert await leaks(page, stored_image(stored), await key_places(page)) == {}
        assert API_KEY not in str(stored)
    finally:
        await context.close()


async def capture_now(recorder: Recorder, how: str, action: str) -> None:
    """One capture, exact (`Recorder.capture`) or from a frame that may lag (pytest's
    intermediate steps: `capture_soon`, concluded when the recorder closes)."""
    if how == "exact":
        await recorder.capture(action)
    else:
        await recorder.capture_soon(action)


CAPTURES = pytest.mark.parametrize("how", ["exact", "frame"])


@on_module_loop
@CAPTURES
async def test_configured_secrets_and_values_typed_into_sensitive_fields_are_masked(
    site: Site, chromium: Browser, store_server: RunningStore, how: str
) -> None:
    """A configured secret typed into a plain field, and a password typed into a password
    field, both echoed on the page and in two frames: masked in the very capture that
    first sees the password (the frames are read again with it), exact or from a frame."""
    context = await chromium.new_context(viewport={"width": 1000, "height": 600})
    page = await context.new_page()
    config = CaptureConfig.model_validate({"secrets": [API_KEY], "time_box": ROOMY_BOX})
    try:
        await page.goto(site.url(f"secret.html?other={site.other}"))
        await page.get_by_label("API key").click()
        await page.keyboard.type(API_KEY)
        await page.get_by_label("Password").click()
        await page.keyboard.type(PASSWORD)
        await page.keyboard.press("Enter")
        for frame in ("#same", "#cross"):
            await page.frame_locator(frame).locator("#got:not(:empty)").wait_for()
        async with (
            AsyncSessionClient(store_server.base_url) as client,
            Recorder(page, client, "typed", config=config) as recorder,
        ):
            await capture_now(recorder, how, "saved")
        stored = await values(store_server.base_url, "typed")
        places = [
            *await key_places(page),
            await _box_place(page, "password field", "#pw"),
            await _text_place(page, "password echo", "pwecho"),
        ]
        assert await leaks(page, stored_image(stored), places) == {}
        assert API_KEY not in str(stored)
        assert PASSWORD not in str(stored)
    finally:
        await context.close()


QUOTED = 'it\'s "quoted-secret"'  # both quote kinds: the attribute search must still work

QUOTED_PAGE = """
<style>#pseudo::before { content: attr(data-x); } p { font: 16px monospace; }</style>
<p id="text">He said: <i>it's "quoted</i>-secret" twice</p>
<p id="pseudo"></p>
<p id="quiet">no stylesheet draws data-y</p>
<p>abc is short, absent-secret is not here</p>
"""


@on_module_loop
async def test_the_read_masks_known_secrets_and_nothing_else(chromium: Browser) -> None:
    context = await chromium.new_context()
    page = await context.new_page()
    try:
        await page.set_content(QUOTED_PAGE)
        await page.locator("#pseudo").evaluate("(el, s) => { el.dataset.x = s; }", QUOTED)
        await page.locator("#quiet").evaluate("(el, s) => { el.dataset.y = s; }", QUOTED)
        rects, values = await read_sensitive(page, secrets=[QUOTED])
        assert values == []
        text = await _text_place(page, "text", "text", "")
        pseudo = await _box_place(page, "pseudo", "#pseudo")
        inside = [
            name
            for rect in rects
            for name, box in (("text", text), ("pseudo", pseudo))
            if box.x <= rect.x + 0.5
            and rect.x + rect.width <= box.x + box.width + 0.5
            and box.y <= rect.y + 0.5
            and rect.y + rect.height <= box.y + box.height + 0.5
        ]
        assert set(inside) == {"pseudo", "text"}, rects  # both masked,
        assert len(inside) == len(rects), rects  # and nothing else
        # Secrets not on the page, or too short to search for, mask nothing.
        assert (await read_sensitive(page, secrets=["absent-secret!", "abc"]))[0] == []
    finally:
        await context.close()


@on_module_loop
async def test_a_mark_for_a_known_secret_comes_off_when_the_secret_is_gone(
    chromium: Browser,
) -> None:
    """A page that reuses an element (MiniWoB's instruction line) shows a secret in one
    episode and other words in the next: the next capture must read them, not `[redacted]`.
    A redaction the page itself asked for stays."""
    context = await chromium.new_context()
    page = await context.new_page()
    secret = "WO3-secret"
    try:
        await page.set_content(
            f'<p id="query">Log in with the password {secret}</p>'
            '<p id="own" data-capture-redact>The page redacts this itself</p>'
        )
        assert await mark_secret_text(page, [secret]) == 1
        marked = "#query[data-capture-redact]"
        assert await page.locator(marked).count() == 1
        await page.locator("#query").evaluate("el => { el.textContent = 'Log in as tula'; }")
        assert await mark_secret_text(page, [secret]) == 0
        assert await page.locator(marked).count() == 0
        assert await page.locator("#own[data-capture-redact]").count() == 1
        state = await read_page_state(page)
        assert "- text: Log in as tula" in state.outline
    finally:
        await context.close()


# A password field the page moves away the moment capture hides its caret, i.e. after the
# sensitive fields were located and before the screenshot's frame is drawn; it stays there.
MOVING_FIELD = """
<input id="pw" type="password" value="Moving-Secret-0042" autofocus
  style="position:absolute; left:40px; top:40px; width:360px; height:80px;
         background:#f00; border:0; font:40px monospace">
<script>
  const pw = document.getElementById("pw");
  let moved = false;
  new MutationObserver(() => {
    if (!moved) { moved = true; pw.style.top = "360px"; }
  }).observe(pw, {attributes: true, attributeFilter: ["style"]});
  pw.focus();
</script>
"""


@on_module_loop
async def test_a_frame_is_masked_where_the_fields_were_before_and_after_it(
    chromium: Browser, store_server: RunningStore
) -> None:
    """A frame taken while the page may change (pytest's intermediate steps): the field
    moved between the first look and the frame, so the masks of the first look alone would
    leave it bare; the second look, after the frame, masks where it went."""
    context = await chromium.new_context(viewport={"width": 1000, "height": 600})
    page = await context.new_page()
    config = CaptureConfig.model_validate({"time_box": ROOMY_BOX})
    try:
        await page.set_content(MOVING_FIELD)
        async with (
            AsyncSessionClient(store_server.base_url) as client,
            Recorder(page, client, "moving", config=config) as recorder,
        ):
            await recorder.capture_soon("typed")
        assert await page.evaluate("document.getElementById('pw').style.top") == "360px"
        stored = await values(store_server.base_url, "moving")
        record = stored["capture.step.000001"]
        assert record["exact"] is True  # no action came after it
        assert isinstance(record["lag_ms"], int)
        assert any("before and after" in note for note in record["notes"]), record
        place = await _box_place(page, "moved password field", "#pw")
        assert await leaks(page, stored_image(stored), [place]) == {}
    finally:
        await context.close()
