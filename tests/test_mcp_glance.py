"""The glance an action's answer carries (capture/mcp/_glance.py), and when it carries one.

The rules first, on images drawn here; then through a real `capture mcp` with the SDK's
client and a real Chromium, on pages served on 127.0.0.1: the glance is small, comes only
on a new URL or a visual change, keeps a password field black, and browser_take_screenshot
and the stored thread still get the full screenshot.
"""

from __future__ import annotations

import base64
import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from mcp.types import BlobResourceContents, ImageContent
from PIL import Image, ImageDraw, ImageStat

from capture.mcp._glance import GLANCE_BYTES, GLANCE_EDGE, Glances, encode_glance
from capture.recorder import EncodedImage
from tests.conftest import RunningStore, serve_dir, wait_until
from tests.test_mcp import THREAD, Session, images_of, over_stdio, ref

# -- the rules, on drawn images ---------------------------------------------------------------

URL = "http://127.0.0.1:1/page"


def page_image(*boxes: tuple[int, int, int, int]) -> EncodedImage:
    """A 1280x800 JPEG like a page: a header bar, lines of "text", and dark `boxes`."""
    image = Image.new("RGB", (1280, 800), (245, 245, 245))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, 1279, 52), fill=(20, 40, 80))
    for row in range(12):
        draw.text((120, 100 + 40 * row), f"Line {row}: some words of the page " * 3, fill=(0, 0, 0))
    for box in boxes:
        draw.rectangle(box, fill=(30, 30, 30))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=70)
    return EncodedImage(out.getvalue(), "image/jpeg", 1280, 800, 70, 0, True)


def check_glance(image: EncodedImage | ImageContent | None) -> Image.Image:
    """The glance decoded, after checking it is a JPEG within the size bounds."""
    assert image is not None, "expected a glance"
    if isinstance(image, ImageContent):
        assert image.mime_type == "image/jpeg"
        data = base64.b64decode(image.data)
    else:
        data = image.data
    assert len(data) <= GLANCE_BYTES
    decoded = Image.open(io.BytesIO(data))
    assert decoded.format == "JPEG"
    assert max(decoded.size) <= GLANCE_EDGE
    assert max(decoded.size) >= 128  # still a picture of the page
    return decoded


def test_glance_is_small_and_keeps_the_shape() -> None:
    glance = encode_glance(Image.open(io.BytesIO(page_image().data)).convert("RGB"))
    decoded = check_glance(glance)
    assert glance.fits
    assert abs(decoded.width / decoded.height - 1280 / 800) < 0.02


def test_changed_sends_on_first_image_new_url_and_visual_change_only() -> None:
    glances = Glances("changed")
    check_glance(glances.glance(page_image(), URL))  # the first image
    assert glances.glance(page_image(), URL) is None  # the same look
    assert glances.glance(page_image(), URL + "#part") is None  # only the fragment moved
    assert glances.glance(page_image((600, 300, 620, 320)), URL) is None  # a caret's worth
    check_glance(glances.glance(page_image(), URL + "?next"))  # a new URL, the same look
    check_glance(glances.glance(page_image((300, 200, 800, 500)), URL + "?next"))  # a panel
    assert glances.glance(None, URL) is None  # no screenshot this time


def test_a_full_screenshot_shown_is_the_new_baseline() -> None:
    glances = Glances("changed")
    check_glance(glances.glance(page_image(), URL))
    glances.shown(page_image((300, 200, 800, 500)), URL)
    assert glances.glance(page_image((300, 200, 800, 500)), URL) is None


@pytest.mark.parametrize(("mode", "sent"), [("always", 3), ("never", 0)])
def test_always_and_never(mode: str, sent: int) -> None:
    glances = Glances(mode)  # type: ignore[arg-type]
    images = [glances.glance(page_image(), URL) for _ in range(3)]
    assert sum(image is not None for image in images) == sent


# -- through capture mcp, on real pages ----------------------------------------------------

# A page whose password field is a large bright box at a known place (CSS px), so its mask
# can be looked for in the glance's pixels; a button shows a large panel (a visual change).
PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>Glance</title><style>
body { margin: 0; font: 16px sans-serif; background: #f5f5f5; }
header { background: #143c70; color: white; padding: 16px; }
#panel { display: none; width: 900px; height: 360px; background: #c03030; }
#password { position: absolute; left: 400px; top: 600px; width: 480px; height: 80px;
  box-sizing: border-box; background: #ffff00; border: 0; font-size: 40px; }
</style></head><body>
<header>A page to glance at</header>
<main style="padding: 16px">
<label>Name <input id="name" type="text"></label>
<button onclick="document.getElementById('panel').style.display = 'block'">Show panel</button>
<div id="panel"></div>
<label>Password <input id="password" type="password"></label>
</main></body></html>
"""
PASSWORD_BOX = (400, 600, 880, 680)  # left, top, right, bottom in CSS px


@pytest.fixture(scope="module")
def pages(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The page twice, at two URLs (the same look), served on 127.0.0.1."""
    directory = tmp_path_factory.mktemp("glance")
    for name in ("one.html", "two.html"):
        (directory / name).write_text(PAGE)
    server = serve_dir(directory)
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def glance_of(s: Session) -> Image.Image | None:
    """The glance of the latest response, checked, or None when it carries no image."""
    images = images_of(s.responses[-1])
    assert len(images) <= 1
    return check_glance(images[0]) if images else None


def stored_screenshot(store: RunningStore) -> Image.Image:
    """The screenshot the thread holds (once stored), decoded."""
    values: list[str] = []

    def stored() -> bool:
        value = store.call(store.store.get(THREAD, "__user_part_screenshot"))
        values[:] = [value] if value else []
        return bool(values)

    wait_until(stored, "the screenshot stored")
    data = json.loads(values[0])["data"]["bytes"]
    return Image.open(io.BytesIO(base64.b64decode(data)))


async def test_changed_over_mcp_sends_glances_only_when_they_matter(
    store_server: RunningStore, pages: str, tmp_path: Path
) -> None:
    async with over_stdio(store_server, tmp_path) as s:
        await s.ok("browser_navigate", url=f"{pages}/one.html")
        assert glance_of(s) is not None, "the first look comes with a glance"
        page = await s.ok("browser_navigate", url=f"{pages}/two.html")
        assert glance_of(s) is not None, "a new URL comes with a glance, even looking the same"
        await s.ok("browser_type", target=ref(page, "textbox", "Name"), text="Ada")
        assert glance_of(s) is None, "a few typed letters change too little"
        page = await s.ok("browser_snapshot")
        assert glance_of(s) is None
        await s.ok("browser_navigate", url=f"{pages}/two.html#part")
        assert glance_of(s) is None, "only the fragment changed"
        await s.ok("browser_click", target=ref(page, "button", "Show panel"))
        assert glance_of(s) is not None, "the panel is a visual change"
        await s.ok("browser_take_screenshot")
        full = images_of(s.responses[-1])
        assert len(full) == 1
        shot = Image.open(io.BytesIO(base64.b64decode(full[0].data)))
        assert shot.size == (1280, 800), "browser_take_screenshot answers the full screenshot"
        read = await s.client.read_resource(f"capture://threads/{THREAD}/screenshot")
        blob = read.contents[0]
        assert isinstance(blob, BlobResourceContents)
        assert Image.open(io.BytesIO(base64.b64decode(blob.blob))).size == (1280, 800)
    assert stored_screenshot(store_server).size == (1280, 800), "the thread keeps it full"


async def test_a_typed_password_is_black_in_the_glance(
    store_server: RunningStore, pages: str, tmp_path: Path
) -> None:
    secret = "glance-secret-123"
    async with over_stdio(store_server, tmp_path, "--image", "always") as s:
        page = await s.ok("browser_navigate", url=f"{pages}/one.html")
        await s.ok("browser_type", target=ref(page, "textbox", "Password"), text=secret)
        glance = glance_of(s)
        assert glance is not None, "--image always: every action comes with a glance"
        await s.ok("browser_snapshot")
        assert glance_of(s) is not None
    factor = glance.width / 1280
    left, top, right, bottom = (round(v * factor) for v in PASSWORD_BOX)
    inside = glance.convert("L").crop((left + 3, top + 3, right - 3, bottom - 3))
    assert ImageStat.Stat(inside).extrema[0][1] < 60, "the password field is masked black"
    beside = glance.convert("L").crop((left + 3, top - 30, right - 3, top - 10))
    assert ImageStat.Stat(beside).mean[0] > 150, "the page around it is not"
    for result in s.responses:
        assert secret not in result.model_dump_json()
    assert stored_screenshot(store_server).size == (1280, 800)


async def test_never_sends_no_glance_but_the_screenshot_asked_for(
    store_server: RunningStore, pages: str, tmp_path: Path
) -> None:
    async with over_stdio(store_server, tmp_path, "--image", "never") as s:
        await s.ok("browser_navigate", url=f"{pages}/one.html")
        assert glance_of(s) is None
        await s.ok("browser_take_screenshot")
        (shot,) = images_of(s.responses[-1])
        assert Image.open(io.BytesIO(base64.b64decode(shot.data))).size == (1280, 800)
