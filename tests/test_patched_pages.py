"""Pages that fight back: checkout pages that patch their own globals and prototypes (and
real libraries that do) are read as any other. capture's reads run in an isolated world, so
for each: the capture passes, the outline has refs, and the card number and the typed
password are in no stored byte and, read back by OCR, in no stored pixel.

The OCR check can fail: the same page's own screenshot, unmasked, reads the card number.
"""

from __future__ import annotations

import base64
import io
import json
import re
import shutil
import subprocess
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from PIL import Image, ImageOps
from playwright.async_api import Browser, Page

from capture.browser import context_options, launch_args
from capture.config import Config
from capture.recorder import Recorder
from capture.recorder.observe import (
    FOCUSED_SENSITIVE_JS,
    is_sensitive,
    read_page_state,
    resolve_ref,
)
from capture.session import AsyncSessionClient
from tests._helpers import OBS, SHOT, expand_includes
from tests.conftest import (
    CAPTURE,
    CONFIG,
    ROOT,
    SITE_DIR,
    RunningStore,
    Site,
    clean_env,
    run_command,
    serve_dir,
    thread_values_raw,
)

pytestmark = pytest.mark.browser
on_module_loop = pytest.mark.asyncio(loop_scope="module")

CARD = "4242 4242 4242 4242"
PASSWORD = "Hunter2-Secret-Pw"
PATCHES = ["json", "toJSON", "map", "array", "type", "getAttribute", "rect", "style", "matches"]
LIBS = ROOT / ".patching-libs"
# What each real library needs to start patching (Sugar patches only when asked to extend).
LIBRARIES = {
    "mootools": ("mootools-core-1.5.2-server.js", ""),
    "sugar": ("sugar.js", "Sugar.extend();"),
}


def ocr(image: Image.Image) -> str:
    """The text tesseract reads in `image` (enlarged twice, in grey: small type reads
    better)."""
    grey = ImageOps.grayscale(image)
    grey = grey.resize((grey.width * 2, grey.height * 2))
    png = io.BytesIO()
    grey.save(png, format="PNG")
    done = subprocess.run(
        ["tesseract", "stdin", "stdout", "--psm", "11"],
        input=png.getvalue(),
        capture_output=True,
        check=True,
        timeout=60,
    )
    return done.stdout.decode("utf-8", "replace")


def shows_card(text: str) -> bool:
    """Whether OCR text holds the card number (or a good part of it: 8 of its digits)."""
    return "42424242" in re.sub(r"\D", "", text)


def assert_secret_free(raw: bytes, values: dict[str, Any]) -> None:
    """No stored byte holds the card or the password, and no stored pixel the card."""
    for secret in (CARD, CARD.replace(" ", ""), PASSWORD):
        assert secret.encode() not in raw
    image = Image.open(io.BytesIO(base64.b64decode(values[SHOT]["data"]["bytes"])))
    read = ocr(image.convert("RGB"))
    assert "Card number" in read or "Pay now" in read, read  # OCR reads this page at all
    assert not shows_card(read), read


@pytest.fixture(scope="module")
def libraries(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The checkout page once per real library, served from a folder of their own."""
    if not (LIBS / ".done").is_file():
        pytest.skip("the patching libraries are missing: run scripts/setup --test")
    folder = tmp_path_factory.mktemp("libs")
    page = expand_includes((SITE_DIR / "checkout.html").read_text(), SITE_DIR)
    for name, (file, start) in LIBRARIES.items():
        shutil.copy(LIBS / file, folder / file)
        script = f'<script src="{file}"></script><script>{start}</script>'
        (folder / f"{name}.html").write_text(page.replace("</head>", f"{script}\n</head>"))
    server = serve_dir(folder)
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest_asyncio.fixture(loop_scope="module")
async def page(chromium: Browser, config: Config) -> AsyncIterator[Page]:
    context = await chromium.new_context(**context_options(config.context))
    try:
        yield await context.new_page()
    finally:
        await context.close()


async def drive_and_capture(page: Page, url: str, base_url: str, thread: str) -> str:
    """Open `url`, type the password as a person does (click, keys, Tab), capture; the
    observation. The capture must store an image and an outline with refs."""
    await page.goto(url)
    await page.get_by_label("Password").click()
    await page.keyboard.type(PASSWORD)
    await page.keyboard.press("Tab")
    async with AsyncSessionClient(base_url) as client, Recorder(page, client, thread) as rec:
        result = await rec.capture("typed the password")
        await rec.flush()
    assert SHOT in result.stored, result.notes
    assert "[ref=e" in result.observation, result.observation
    assert 'textbox "Card number"' in result.observation, result.observation
    assert 'button "Pay now"' in result.observation, result.observation
    raw, values = thread_values_raw(base_url, thread)
    assert_secret_free(raw, values)
    return result.observation


@on_module_loop
@pytest.mark.parametrize("patch", PATCHES)
async def test_a_page_that_patches_its_globals_is_read_and_masked(
    page: Page, site: Site, store_server: RunningStore, patch: str
) -> None:
    await drive_and_capture(
        page, site.url(f"checkout.html?patch={patch}"), store_server.base_url, f"t-{patch}"
    )


@on_module_loop
async def test_every_patch_at_once(page: Page, site: Site, store_server: RunningStore) -> None:
    url = site.url(f"checkout.html?patch={','.join(PATCHES)}")
    await drive_and_capture(page, url, store_server.base_url, "t-all")


@on_module_loop
@pytest.mark.parametrize("library", sorted(LIBRARIES))
async def test_a_real_library_that_patches_natives(
    page: Page, libraries: str, store_server: RunningStore, library: str
) -> None:
    url = f"{libraries}/{library}.html"
    await page.goto(url)
    # The library did patch (so the test is about something): a method no browser has.
    patched = "typeof Array.prototype.erase === 'function' || typeof [].sum === 'function'"
    assert await page.evaluate(patched)
    await drive_and_capture(page, url, store_server.base_url, f"t-{library}")


@on_module_loop
async def test_whether_a_field_is_sensitive_is_not_the_pages_to_say(page: Page, site: Site) -> None:
    """A page whose `matches`, `closest` and `querySelectorAll` deny everything still has its
    password and card fields found sensitive (a value typed there is never named in an
    action text), asked of a locator or of the focused element; its coupon field is not."""
    await page.goto(site.url("checkout.html?patch=matches"))
    for label, sensitive in [("Password", True), ("Card number", True), ("Coupon", False)]:
        field = page.get_by_label(label)
        assert await is_sensitive(field) is sensitive, label
        await field.click()
        assert await is_sensitive(page, FOCUSED_SENSITIVE_JS) is sensitive, label


@on_module_loop
async def test_ocr_reads_the_card_on_an_unmasked_screenshot(page: Page, site: Site) -> None:
    """The check above can fail: the page's own screenshot shows the card number to OCR."""
    await page.goto(site.url("checkout.html?patch=rect"))
    shot = Image.open(io.BytesIO(await page.screenshot(type="jpeg", quality=80)))
    assert shows_card(ocr(shot.convert("RGB")))


@pytest.mark.slow
@pytest.mark.parametrize("patch", ["json", "toJSON", "map", "rect"])
def test_capture_snap_of_a_page_that_fights_back(
    site: Site, store_server: RunningStore, patch: str, tmp_path: Path
) -> None:
    """The four pages of the report, through `capture snap`: exit 0, an outline with refs,
    an image, and the card in no pixel and no byte (the files written included)."""
    out = tmp_path / "out"
    url = site.url(f"checkout.html?patch={patch}")
    thread, server = f"t-snap-{patch}", store_server.base_url
    done = run_command(
        [CAPTURE, "snap", url, "--thread", thread, "--out", str(out), "--server", server],
        ROOT,
        env=clean_env(),
        timeout=90,
    )
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    assert "[ref=e" in done.stdout
    raw, values = thread_values_raw(store_server.base_url, thread)
    assert OBS in values
    assert_secret_free(raw, values)
    for file in out.iterdir():
        assert CARD.encode() not in file.read_bytes()
    assert CARD not in done.stdout + done.stderr
    listed = httpx.get(f"{store_server.base_url}/sessions/{thread}/values").json()
    assert CARD not in json.dumps(listed)


@on_module_loop
async def test_a_frame_in_another_process_is_read_in_its_own_world(
    chromium: Browser, chromium_path: str, site: Site
) -> None:
    """A cross-site frame (localhost under 127.0.0.1) runs in a process of its own where
    sites are isolated: it is read through a CDP session of its own, placed by its owner
    element in the parent."""
    flags = launch_args([*CONFIG.browser.args, "--site-per-process"])
    isolated = await chromium.browser_type.launch(executable_path=chromium_path, args=flags)
    try:
        await _read_the_other_process(await isolated.new_page(), site)
    finally:
        await isolated.close()


async def _read_the_other_process(page: Page, site: Site) -> None:
    other = site.other.replace("127.0.0.1", "localhost")
    await page.goto(site.url(f"frames.html?other={other}"))
    cross = page.frame_locator("#cross")
    await cross.locator("#frame-password").fill(PASSWORD)
    frame = next(f for f in page.frames if f.url.startswith(other))
    own = await page.context.new_cdp_session(frame)  # raises for a frame in-process
    await own.detach()
    state = await read_page_state(page)
    outline = "\n".join(state.outline)
    match = re.search(r'button "Press cross" \[ref=(f\d+e\d+)\]', outline)
    assert match, outline
    assert PASSWORD not in outline
    box = await cross.locator("#frame-password").bounding_box()
    assert box is not None
    assert any(
        abs(r.x - box["x"]) < 2 and abs(r.y - box["y"]) < 2 for r in state.sensitive_rects
    ), (state.sensitive_rects, box)
    await (await resolve_ref(page, match.group(1))).click()
