"""The viewer at `/`: real server over HTTP, real Chromium, data written through the client.

Every browser test saves a screenshot of the viewer under artifacts/ (gitignored); the
docs' image (docs/viewer.png) comes from scripts/viewer_shot.py, on a real demo run.
"""

from __future__ import annotations

import asyncio
import io
import json
import re
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image, ImageDraw
from playwright.sync_api import Dialog, Locator, Page, expect

from capture.mcp._glance import GLANCE_EDGE
from capture.recorder._records import GLANCE_KEY as RECORDER_GLANCE_KEY
from capture.session import SessionClient
from capture.store import MemoryStore, SqliteStore
from capture.store._base import GLANCE_KEY, Entry, HistoryPolicy
from capture.store._viewer_data import ViewerData, run_status
from tests.conftest import RunningStore, StartStore, run_command
from tests.test_mcp import THREAD as MCP_THREAD
from tests.test_mcp import over_stdio

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "artifacts"
FAR = datetime(2099, 1, 2, 3, 4, 5, 678000, tzinfo=UTC)  # the client sends ms
HOSTILE_SCRIPT = "<script>window.__pwned = 'script'</script>"
HOSTILE_IMG = "<img src=x onerror=\"window.__pwned = 'img'; alert('pwned')\">"


def jpeg(label: str, size: tuple[int, int] = (640, 400)) -> bytes:
    """A small real JPEG with visible content, so a screenshot of the viewer means something."""
    image = Image.new("RGB", size, (245, 247, 250))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, size[0], 48), fill=(36, 87, 197))
    draw.text((16, 16), "Demo shop", fill=(255, 255, 255))
    draw.rectangle((24, 80, 300, 240), outline=(29, 35, 48), width=2)
    draw.text((40, 100), label, fill=(29, 35, 48))
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=80)
    return buffer.getvalue()


def write_step(
    client: SessionClient,
    thread: str,
    step: int,
    *,
    action: str,
    changed: bool = True,
    size: tuple[int, int] = (640, 400),
    **fields: Any,
) -> None:
    """What the recorder stores for one step: image, observation, step record (`fields`
    added to the record or replacing its own)."""
    expiry = fields.pop("parts_expiry", timedelta(minutes=10))
    if changed:
        client.set_user_part_image(
            thread,
            "screenshot",
            jpeg(f"after step {step}: {action}", size),
            mime_type="image/jpeg",
            filename=f"step-{step}.jpg",
            expiry=expiry,
        )
    changes = "no visible change" if not changed else f'+ button "Add to cart" [ref=e{step}]'
    client.set_user_part_text(
        thread,
        "observation",
        f"# Step {step}: {action}\nURL: http://127.0.0.1/shop\n\n## Page\n"
        f'- button "Add to cart" [ref=e{step}]\n\n## Changes since previous capture\n{changes}',
        expiry=expiry,
    )
    record = {
        "step": step,
        "action": action,
        "url": "http://127.0.0.1/shop",
        "status": "ok",
        "changed": changed,
        "unchanged": not changed,
        "timings_ms": {"screenshot": 41.0, "observation": 18.2},
        "notes": [] if changed else [f"screenshot unchanged since step {step - 1}"],
        **fields,
    }
    client.set_session_value(thread, f"capture.step.{step:06d}", record, timedelta(hours=6))


@pytest.fixture
def client(store_server: RunningStore) -> Iterator[SessionClient]:
    with SessionClient(store_server.base_url) as session_client:
        yield session_client


@pytest.fixture
def dialogs(page: Page) -> list[str]:
    """Every dialog the page opens (there must be none); each is dismissed."""
    seen: list[str] = []

    def on_dialog(dialog: Dialog) -> None:
        seen.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    return seen


def shot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / name), full_page=True)


def thread_url(root: str, thread: str, step: int | None = None) -> str:
    return f"{root}/#/thread/{thread}" + ("" if step is None else f"/step/{step}")


def images_loaded(page: Page, selector: str = "img") -> None:
    """Wait until every image `selector` matches has decoded."""
    page.wait_for_function(
        "s => [...document.querySelectorAll(s)].every(i => i.complete && i.naturalWidth > 0)",
        arg=selector,
        timeout=5000,
    )


def frames(page: Page) -> Locator:
    return page.locator("#filmstrip li.frame")


# -- browser tests ------------------------------------------------------------------------


@pytest.mark.browser
def test_thread_list_is_newest_first_with_counts_and_run_status(
    page: Page, store_server: RunningStore, client: SessionClient
) -> None:
    client.set_session_value("older-thread", "note", {"n": 1})
    client.set_session_value("newer-thread", "capture.run", {"name": "shop", "status": "running"})
    client.set_session_value("newer-thread", "note", "x")

    page.goto(store_server.root + "/")
    rows = page.locator("#threads tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_have_attribute("data-thread", "newer-thread")
    expect(rows.nth(1)).to_have_attribute("data-thread", "older-thread")
    expect(rows.nth(0).locator("td").nth(1)).to_have_text("running")
    expect(rows.nth(0).locator("td").nth(2)).to_have_text("shop")
    expect(rows.nth(0).locator("td").nth(4)).to_have_text("2")
    expect(rows.nth(0).locator("td").nth(5)).to_contain_text("ago")
    expect(rows.nth(1).locator("td").nth(1)).to_have_text("no run record")
    shot(page, "viewer-list.png")

    rows.nth(0).locator("a").click()
    expect(page.locator("#thread-title")).to_have_text("newer-thread")


@pytest.mark.browser
def test_thread_list_searches_ids_and_filters_by_status(
    page: Page, store_server: RunningStore, client: SessionClient
) -> None:
    runs = {
        "tests/test_shop.py::test_cart": {"status": "passed", "steps": 4},
        "tests/test_shop.py::test_login": {"status": "failed", "steps": 2},
        "mcp-morning": {"status": "finished", "source": "capture mcp", "failed": 1},
        "mcp-evening": {"status": "finished", "source": "capture mcp", "failed": 0},
    }
    for thread, run in runs.items():
        client.set_session_value(thread, "capture.run", run)
    page.goto(store_server.root + "/")
    rows = page.locator("#threads tbody tr")
    expect(rows).to_have_count(4)

    page.get_by_label("Search by id").fill("SHOP.py")  # any case
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_have_attribute("data-thread", "tests/test_shop.py::test_login")

    page.get_by_label("Search by id").fill("")
    page.get_by_label("Status").select_option("failed")
    expect(rows).to_have_count(2)
    ids = [rows.nth(n).get_attribute("data-thread") for n in range(2)]
    assert ids == ["mcp-morning", "tests/test_shop.py::test_login"]  # newest first
    # An MCP session that ended with a failed call is not a green "finished".
    morning = page.locator("#threads tr[data-thread=mcp-morning] .badge")
    expect(morning).to_have_text("finished with errors")
    expect(morning).to_have_class(re.compile(r"\btone-failed\b"))

    page.get_by_label("Status").select_option("ok")
    expect(rows).to_have_count(2)
    expect(page.locator("#threads tr[data-thread=mcp-evening] .badge")).to_have_class(
        re.compile(r"\btone-ok\b")
    )
    page.get_by_label("Search by id").fill("nothing like it")
    expect(rows).to_have_count(0)
    expect(page.locator("#no-threads")).to_have_text("No thread matches.")


@pytest.mark.browser
def test_thread_page_shows_what_the_agent_receives(
    page: Page, store_server: RunningStore, client: SessionClient
) -> None:
    thread = "shop-run"
    client.set_session_value(
        thread,
        "capture.run",
        {"name": "buy a mug", "status": "running", "steps": 3},
        timedelta(hours=6),
    )
    write_step(client, thread, 1, action="goto http://127.0.0.1/shop")
    write_step(client, thread, 2, action="click [ref=e7] 'Mugs'")
    write_step(client, thread, 3, action="hover [ref=e9]", changed=False)
    client.set_session_value(thread, "cart", {"items": ["mug"], "total": 12.5})
    client.set_session_value(thread, "coupon", "MUG10", timedelta(minutes=30))

    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(thread_url(store_server.root, thread))
    image = page.locator(".part img")
    expect(image).to_have_count(1)
    images_loaded(page, ".part img")
    assert image.evaluate("i => i.naturalWidth") == 640
    expect(image).to_have_attribute("alt", re.compile("receives now"))
    expect(page.locator(".part .part-text")).to_contain_text("# Step 3: hover [ref=e9]")
    expect(page.locator("#run")).to_contain_text("buy a mug")
    expect(page.locator("#run-status")).to_have_text("running")
    expect(frames(page)).to_have_count(3)
    expect(page.locator("#step-title")).to_have_text("Step 3")
    expect(page.locator("#step-facts")).to_contain_text("unchanged")
    expect(page.locator("#shot figcaption")).to_have_text("unchanged since step 2")
    expect(page.locator("#step-facts")).to_contain_text("screenshot 41 ms")
    images_loaded(page, "#filmstrip img")
    assert page.locator("#filmstrip img").count() == 3  # step 3 shows step 2's image
    expect(page.locator(".value[data-key=cart]")).to_contain_text('"total": 12.5')
    expect(page.locator(".part[data-key=__user_part_screenshot] .expiry")).to_contain_text(
        "expires in"
    )
    # Every value shows its own expiry: a countdown, or "no expiry" when it has none.
    countdown = re.compile(r"^expires in (29m \d+s|30m 0s)$")
    expect(page.locator(".value[data-key=coupon] .expiry")).to_have_text(countdown)
    expect(page.locator(".value[data-key=cart] .expiry")).to_have_text("no expiry")
    expect(page.locator("#run .expiry")).to_have_text(re.compile(r"^expires in [56]h \d+m$"))
    expect(page.locator("#step-record .expiry")).to_have_text(
        re.compile(r"^expires in [56]h \d+m$")
    )
    expect(page.locator("#now-summary")).to_have_text(
        re.compile(r"^agent receives 2 parts, expires in \d+m \d+s$")
    )
    shot(page, "viewer-thread.png")


@pytest.mark.browser
def test_a_thread_plays_step_by_step_with_an_address_per_step(
    page: Page, store_server: RunningStore, client: SessionClient
) -> None:
    thread = "player"
    client.set_session_value(thread, "capture.run", {"name": "buy a mug", "status": "passed"})
    for step in range(1, 7):
        write_step(client, thread, step, action=f"click link 'Item {step}'", size=(1280, 800))
    page.set_viewport_size({"width": 1400, "height": 900})
    page.goto(thread_url(store_server.root, thread, 3))

    # The filmstrip runs oldest first; the address's step is the one shown large.
    expect(frames(page)).to_have_count(6)
    assert [frames(page).nth(n).get_attribute("data-step") for n in range(6)] == list("123456")
    expect(page.locator("#step-title")).to_have_text("Step 3")
    expect(page.locator("#step-action")).to_have_text("click link 'Item 3'")
    expect(page.locator("#filmstrip [aria-current=step]")).to_have_attribute(
        "href", "#/thread/player/step/3"
    )
    images_loaded(page, "#shot img")
    box = page.locator("#shot img").bounding_box()
    assert box is not None
    assert box["width"] >= 640
    assert "step 3" in (page.locator("#shot img").get_attribute("alt") or "")

    page.keyboard.press("ArrowRight")
    expect(page.locator("#step-title")).to_have_text("Step 4")
    assert page.url.endswith("/step/4")
    page.keyboard.press("j")
    expect(page.locator("#step-title")).to_have_text("Step 5")
    page.keyboard.press("k")
    page.keyboard.press("ArrowLeft")
    expect(page.locator("#step-title")).to_have_text("Step 3")
    assert page.url.endswith("/step/3")
    page.keyboard.press("Home")
    page.keyboard.press("ArrowLeft")  # the first step stays
    expect(page.locator("#step-title")).to_have_text("Step 1")
    expect(page.locator("#prev")).to_be_disabled()
    page.keyboard.press("End")
    expect(page.locator("#step-title")).to_have_text("Step 6")
    assert page.url.endswith("/step/6")

    # A click on a thumbnail opens that step large and gives it its address.
    frames(page).nth(1).locator("a").click()
    expect(page.locator("#step-title")).to_have_text("Step 2")
    assert page.url.endswith("#/thread/player/step/2")
    images_loaded(page, "#shot img")
    thumb_src = frames(page).nth(1).locator("img").get_attribute("src")
    assert page.locator("#shot img").get_attribute("src") == thumb_src
    page.go_back()  # a link click is a history entry
    expect(page.locator("#step-title")).to_have_text("Step 6")

    # The large image can be seen at its own size, by click or by the button.
    fitted = page.locator("#shot img").evaluate("i => i.clientWidth")  # inside its border
    page.locator("#shot img").click()
    expect(page.locator("#zoom")).to_have_attribute("aria-pressed", "true")
    assert page.locator("#shot img").evaluate("i => i.clientWidth") == 1280 > fitted
    page.locator("#zoom").click()
    expect(page.locator("#zoom")).to_have_attribute("aria-pressed", "false")

    # Opening an address shows that step, in a fresh page too; every image has alt text.
    fresh = page.context.new_page()
    fresh.set_viewport_size({"width": 1400, "height": 900})
    fresh.goto(thread_url(store_server.root, thread, 5))
    expect(fresh.locator("#step-title")).to_have_text("Step 5")
    images_loaded(fresh)
    assert fresh.locator("img:not([alt]), img[alt='']").count() == 0
    shot(fresh, "viewer-player.png")
    fresh.close()


@pytest.mark.browser
def test_a_step_shows_its_changes_masks_lag_and_record(
    page: Page, store_server: RunningStore, client: SessionClient
) -> None:
    thread = "details"
    write_step(client, thread, 1, action="goto /login", size=(1280, 800))
    write_step(
        client,
        thread,
        2,
        action="fill textbox 'Password' [ref=e4]",
        size=(1280, 800),
        masks=[[400, 300, 320, 40]],
        lag_ms=120.4,
        exact=False,
    )
    write_step(client, thread, 3, action="hover [ref=e9]", changed=False, exact=True, lag_ms=0)
    page.set_viewport_size({"width": 1400, "height": 900})
    page.goto(thread_url(store_server.root, thread, 2))

    expect(page.locator("#step-changes .added")).to_have_text('+ button "Add to cart" [ref=e2]\n')
    expect(page.locator("#step-observation")).to_contain_text("# Step 2: fill textbox 'Password'")
    expect(page.locator("#step-facts")).to_contain_text("a frame drawn 120 ms after the action")
    expect(frames(page).nth(1).locator(".frame-lag")).to_have_text("+120 ms")
    expect(page.locator("#step-record")).to_contain_text("http://127.0.0.1/shop")
    expect(page.locator("#step-record dt").first).to_have_text("step")
    # The masked region is outlined where it is in the image (here a quarter of the way in).
    images_loaded(page, "#shot img")
    image = page.locator("#shot img").bounding_box()
    mask = page.locator("#shot .mask").bounding_box()
    assert image is not None
    assert mask is not None
    scale = image["width"] / 1280
    assert abs(mask["x"] - (image["x"] + 400 * scale)) < 2
    assert abs(mask["width"] - 320 * scale) < 2

    page.keyboard.press("ArrowRight")
    expect(page.locator("#step-changes")).to_have_text("no visible change\n")
    expect(page.locator("#step-facts")).to_contain_text("unchanged since step 2")
    expect(page.locator("#step-facts")).to_contain_text("exact: the page as it was after")
    expect(frames(page).nth(2).locator(".frame-lag")).to_have_count(0)
    # An unchanged step shows the screenshot it kept, masks outlined there too.
    expect(page.locator("#shot .mask")).to_have_count(1)
    shot(page, "viewer-step.png")


@pytest.mark.browser
def test_a_failed_step_stands_out_and_the_run_is_not_a_green_finished(
    page: Page, store_server: RunningStore, client: SessionClient
) -> None:
    thread = "mcp-old"  # a run record written before runs counted their failed steps
    client.set_session_value(
        thread, "capture.run", {"name": "mcp", "source": "capture mcp", "status": "finished"}
    )
    write_step(client, thread, 1, action="navigate to http://127.0.0.1/")
    write_step(
        client,
        thread,
        2,
        action="click ref e999",
        changed=False,
        status="failed",
        error="ref e999 is not on the page",
    )
    page.goto(thread_url(store_server.root, thread))

    expect(page.locator("#run-status")).to_have_text("finished with errors")
    expect(page.locator("#run-status")).to_have_class(re.compile(r"\btone-failed\b"))
    failed = frames(page).nth(1)
    expect(failed).to_have_class(re.compile(r"\bfailed\b"))
    expect(failed).to_contain_text("failed")
    expect(frames(page).nth(0)).not_to_have_class(re.compile(r"\bfailed\b"))
    # Without a step in the address, the newest is shown: here the failure, reason by the image.
    expect(page.locator("#step-title")).to_contain_text("Step 2")
    expect(page.locator("#failure")).to_have_text("Failed: ref e999 is not on the page")
    expect(page.locator("#failure + #shot")).to_be_visible()
    expect(page.locator("#glance")).to_contain_text("No image went with this answer")
    shot(page, "viewer-failed.png")


@pytest.mark.browser
def test_expired_parts_say_when_and_stay_viewable(
    page: Page, store_server: RunningStore, client: SessionClient
) -> None:
    thread = "expired"
    gone = datetime.now(UTC) - timedelta(minutes=5, seconds=20)
    write_step(client, thread, 1, action="goto /")
    write_step(client, thread, 2, action="click [ref=e2]", parts_expiry=gone)
    page.goto(thread_url(store_server.root, thread))

    expect(page.locator("#now-summary")).to_have_text(
        re.compile(r"^agent receives nothing: its parts expired 5 min ago$")
    )
    card = page.locator(".part.expired[data-key=__user_part_screenshot]")
    expect(card.locator(".expiry")).to_have_text("expired 5 min ago")
    expect(card).to_contain_text("The agent receives nothing from this key now")
    images_loaded(page, ".part.expired img")  # the last image, from the store's history
    expect(page.locator(".part.expired[data-key=__user_part_observation] pre")).to_contain_text(
        "# Step 2: click [ref=e2]"
    )
    expect(page.locator("#step-title")).to_have_text("Step 2")  # the steps still play
    shot(page, "viewer-expired.png")


CONTRAST = """() => {
  // WCAG 2 contrast of each visible text element against the background behind it.
  const channel = (c) => {
    c /= 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  };
  const rgb = (text) => text.match(/[\\d.]+/g).map(Number);
  const luminance = ([r, g, b]) =>
    0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b);
  const background = (node) => {
    for (; node; node = node.parentElement) {
      const color = rgb(getComputedStyle(node).backgroundColor);
      if (color.length < 4 || color[3] > 0) return color;
    }
    return [255, 255, 255];
  };
  const out = [];
  for (const node of document.querySelectorAll("main *")) {
    const text = [...node.childNodes].some((c) => c.nodeType === 3 && c.data.trim());
    if (!node.offsetParent || !text) continue;
    const [fg, bg] = [luminance(rgb(getComputedStyle(node).color)), luminance(background(node))];
    const ratio = (Math.max(fg, bg) + 0.05) / (Math.min(fg, bg) + 0.05);
    out.push([node.tagName + "." + node.className, Math.round(ratio * 100) / 100]);
  }
  return out;
}"""


@pytest.mark.browser
def test_every_text_has_enough_contrast_and_the_keyboard_reaches_the_steps(
    page: Page, store_server: RunningStore, client: SessionClient
) -> None:
    thread = "contrast"
    client.set_session_value(thread, "capture.run", {"name": "mcp", "status": "finished"})
    write_step(client, thread, 1, action="goto /", lag_ms=80, exact=False)
    write_step(client, thread, 2, action="click ref e9", status="failed", error="no ref e9")
    write_step(client, thread, 3, action="goto /cart", parts_expiry=datetime.now(UTC))
    page.set_viewport_size({"width": 1400, "height": 900})
    page.goto(thread_url(store_server.root, thread, 2))
    expect(page.locator("#failure")).to_be_visible()
    images_loaded(page)
    ratios = page.evaluate(CONTRAST)
    assert len(ratios) > 40
    low = [(what, ratio) for what, ratio in ratios if ratio < 4.5]
    assert not low, low  # WCAG AA for text

    # Tab reaches the thumbnails, and Enter opens one.
    for _ in range(10):
        page.keyboard.press("Tab")
        if page.evaluate("() => Boolean(document.activeElement.closest('#filmstrip'))"):
            break
    focused = page.evaluate("() => document.activeElement.closest('#filmstrip li').dataset.step")
    assert focused == "1"
    page.keyboard.press("Enter")
    expect(page.locator("#step-title")).to_have_text("Step 1")
    assert page.url.endswith("/step/1")


@pytest.mark.browser
def test_hostile_values_render_inert(
    page: Page, store_server: RunningStore, client: SessionClient, dialogs: list[str]
) -> None:
    thread = "t" + HOSTILE_IMG
    client.set_session_value(thread, "capture.run", {"name": HOSTILE_SCRIPT, "status": HOSTILE_IMG})
    client.set_user_part_text(thread, "observation", "Step 1: " + HOSTILE_IMG + HOSTILE_SCRIPT)
    client.set_session_value(thread, "k" + HOSTILE_SCRIPT, {"html": HOSTILE_IMG})
    client.set_session_value(
        thread,
        "capture.step.000001",
        {
            "step": 1,
            "action": HOSTILE_IMG,
            "url": "javascript:alert(1)",
            "error": HOSTILE_SCRIPT,
            "masks": [["<b>", 1, 2, 3]],
        },
    )
    client.set_user_part_image(  # an SVG "image" carrying script must never run it
        thread,
        "svg",
        b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>',
        mime_type="image/svg+xml",
    )

    page.goto(store_server.root + "/")
    expect(page.locator("#threads tbody tr")).to_have_count(1)
    expect(page.locator("#threads tbody")).to_contain_text(HOSTILE_IMG)
    page.locator("#threads tbody a").click()
    expect(page.locator(".part[data-key=__user_part_observation]")).to_contain_text(HOSTILE_IMG)
    expect(page.locator("#run")).to_contain_text(HOSTILE_SCRIPT)
    expect(page.locator("#step-action")).to_have_text(HOSTILE_IMG)
    expect(page.locator("#failure")).to_contain_text(HOSTILE_SCRIPT)
    expect(page.locator("#values")).to_contain_text("k" + HOSTILE_SCRIPT)
    page.wait_for_timeout(500)  # give any injected handler the chance to fire
    assert page.evaluate("() => window.__pwned") is None
    assert dialogs == []
    # Nothing from the data became an element: no <script> or <img src=x> was created.
    assert page.locator("img[src=x]").count() == 0
    assert page.locator("main script").count() == 0
    assert page.locator("a[href^='javascript']").count() == 0
    shot(page, "viewer-hostile.png")


@pytest.mark.browser
def test_a_step_written_while_the_page_is_open_appears_without_reload(
    page: Page, store_server: RunningStore, client: SessionClient
) -> None:
    thread = "live"
    write_step(client, thread, 1, action="goto /")
    page.goto(thread_url(store_server.root, thread))
    expect(frames(page)).to_have_count(1)
    page.evaluate("() => { window.__sameDocument = true; }")

    write_step(client, thread, 2, action="click [ref=e4] 'Add to cart'")
    # A functional deadline (the page polls about once a second), not a benchmark.
    expect(page.locator("#filmstrip li.frame[data-step='2']")).to_be_visible(timeout=2000)
    expect(page.locator(".part[data-key=__user_part_observation]")).to_contain_text(
        "Add to cart", timeout=2000
    )
    # The page follows the newest step while the address names none...
    expect(page.locator("#step-title")).to_have_text("Step 2")
    # ...and stays on the step the address names.
    page.keyboard.press("ArrowLeft")
    write_step(client, thread, 3, action="scroll")
    expect(frames(page)).to_have_count(3, timeout=2000)
    expect(page.locator("#step-title")).to_have_text("Step 1")
    assert page.evaluate("() => window.__sameDocument") is True  # no reload happened
    shot(page, "viewer-live.png")


@pytest.mark.browser
def test_a_failed_mcp_call_reads_as_failed_with_the_glance_the_client_got(
    page: Page, store_server: RunningStore, site: Any, tmp_path: Path
) -> None:
    """A real `capture mcp` session: one call that works, one that fails, then it ends."""

    async def drive() -> None:
        async with over_stdio(store_server, tmp_path) as session:
            await session.ok("browser_navigate", url=f"{site.origin}/login.html")
            await session.error("browser_click", target="e999")

    worker = threading.Thread(target=asyncio.run, args=(drive(),))
    worker.start()
    worker.join()
    run = store_server.call(store_server.store.get(MCP_THREAD, "capture.run"))
    assert run is not None
    assert json.loads(run)["status"] == "finished"

    page.set_viewport_size({"width": 1400, "height": 900})
    page.goto(store_server.root + "/")
    badge = page.locator(f"#threads tr[data-thread={MCP_THREAD}] .badge")
    expect(badge).to_have_text("finished with errors")
    expect(badge).to_have_class(re.compile(r"\btone-failed\b"))
    page.locator(f"#threads tr[data-thread={MCP_THREAD}] a").click()
    expect(page.locator("#run-status")).to_have_text("finished with errors")
    expect(frames(page)).to_have_count(2)
    expect(frames(page).nth(1)).to_have_class(re.compile(r"\bfailed\b"))
    expect(page.locator("#failure")).to_contain_text("ref e999 is not on the page")
    page.keyboard.press("ArrowLeft")
    expect(page.locator("#step-title")).to_have_text("Step 1")
    glance = page.locator("#glance img")
    images_loaded(page, "#glance img")
    assert 0 < glance.evaluate("i => i.naturalWidth") <= GLANCE_EDGE
    expect(glance).to_have_attribute("alt", re.compile("MCP client"))
    shot(page, "viewer-mcp.png")


@pytest.mark.browser
def test_with_a_token_no_data_is_readable_without_it(
    page: Page, start_store_server: StartStore
) -> None:
    running = start_store_server(token="s3cret-token")
    with SessionClient(running.base_url, token="s3cret-token") as authed:
        write_step(authed, "private-thread", 1, action="goto /")

    for path in (
        "/viewer/api/threads",
        "/viewer/api/thread?id=private-thread",
        "/viewer/api/image?thread=private-thread&key=__user_part_screenshot",
    ):
        refused = httpx.get(running.root + path)
        assert refused.status_code == 401, path
        assert "private-thread" not in refused.text
        wrong = httpx.get(running.root + path, headers={"authorization": "Bearer nope"})
        assert wrong.status_code == 401, path

    page.goto(running.root + "/")
    expect(page.locator("#login")).to_be_visible()
    expect(page.locator("#list-view")).to_be_hidden()
    assert "private-thread" not in page.content()
    shot(page, "viewer-token.png")

    page.fill("#token", "wrong")
    page.click("#login button")
    expect(page.locator("#login-error")).to_be_visible()
    assert "private-thread" not in page.content()

    page.fill("#token", "s3cret-token")
    page.click("#login button")
    expect(page.locator("#threads tbody tr")).to_have_count(1)
    page.locator("#threads tbody a").click()
    page.wait_for_function(
        "() => { const i = document.querySelector('.part img'); "
        "return i && i.complete && i.naturalWidth > 0; }",
        timeout=5000,
    )

    # A ?token= link works too, and the token leaves the address bar at once.
    fresh = page.context.new_page()
    fresh.goto(running.root + "/?token=s3cret-token#/thread/private-thread")
    expect(fresh.locator("#thread-title")).to_have_text("private-thread")
    assert "token" not in fresh.url
    fresh.close()


# -- the JSON API and its building blocks (no browser) -------------------------------------


def test_page_and_api_send_a_strict_content_security_policy(store_server: RunningStore) -> None:
    page = httpx.get(store_server.root + "/")
    assert page.status_code == 200
    csp = page.headers["content-security-policy"]
    assert "script-src 'self'" in csp
    assert "unsafe-inline" not in csp
    assert page.headers["x-content-type-options"] == "nosniff"
    api = httpx.get(store_server.root + "/viewer/api/threads")
    assert "sandbox" in api.headers["content-security-policy"]
    for name in ("viewer.js", "player.js", "viewer.css"):
        assert httpx.get(store_server.root + "/static/" + name).status_code == 200
    assert httpx.get(store_server.root + "/static/../_app.py").status_code == 404
    bad = httpx.get(store_server.root + "/viewer/api/threads?limit=lots")
    assert bad.status_code == 400
    assert "error" in bad.json()


@pytest.fixture(params=["store_server", "sqlite_store_server"])
def any_server(request: pytest.FixtureRequest) -> Iterator[tuple[RunningStore, SessionClient]]:
    """The API tests run on the memory and the SQLite backend (history differs per backend)."""
    server = request.getfixturevalue(request.param)
    with SessionClient(server.base_url) as session_client:
        yield server, session_client


def test_image_endpoint_serves_versions_and_refuses_to_label_svg_as_an_image(
    any_server: tuple[RunningStore, SessionClient],
) -> None:
    store_server, client = any_server
    client.set_user_part_image("t", "screenshot", jpeg("one"), mime_type="image/jpeg")
    first = httpx.get(store_server.root + "/viewer/api/thread?id=t").json()
    first_at = first["parts"][0]["set_at"]
    client.set_user_part_image("t", "screenshot", jpeg("two", (320, 200)), mime_type="image/jpeg")
    client.set_user_part_image("t", "vector", b"<svg/>", mime_type="image/svg+xml")

    url = store_server.root + "/viewer/api/image"
    old = httpx.get(url, params={"thread": "t", "key": "__user_part_screenshot", "at": first_at})
    assert old.headers["content-type"] == "image/jpeg"
    assert Image.open(io.BytesIO(old.content)).size == (640, 400)
    assert "immutable" in old.headers["cache-control"]
    now = httpx.get(url, params={"thread": "t", "key": "__user_part_screenshot"})
    assert Image.open(io.BytesIO(now.content)).size == (320, 200)
    svg = httpx.get(url, params={"thread": "t", "key": "__user_part_vector"})
    assert svg.headers["content-type"] == "application/octet-stream"
    missing = httpx.get(url, params={"thread": "t", "key": "__user_part_screenshot", "at": "x"})
    assert missing.status_code == 404


def test_thread_snapshot_joins_steps_with_history_and_is_cached(
    any_server: tuple[RunningStore, SessionClient],
) -> None:
    store_server, client = any_server
    write_step(client, "t", 1, action="goto /")
    write_step(client, "t", 2, action="click", changed=False)
    client.set_session_value("t", "__user_part_odd", {"not": "a part"})
    client.set_session_value("t", "capture.run", {"status": "running"}, FAR)
    client.set_session_value("t", "note", "kept for good")
    api = store_server.root + "/viewer/api/thread"
    body = httpx.get(api, params={"id": "t"}).json()

    assert [s["step"] for s in body["steps"]] == [1, 2]  # oldest first, as the filmstrip
    oldest, newest = body["steps"]
    assert newest["screenshot_from"] == 1
    assert "screenshot" not in newest
    assert newest["observation"]["text"].startswith("# Step 2: click")
    assert oldest["screenshot"]["set_at"]
    assert oldest["screenshot"]["bytes"] > 1000
    assert oldest["observation"]["text"].startswith("# Step 1: goto /")
    assert oldest["record"]["action"] == "goto /"
    parts = {p["key"]: p for p in body["parts"]}
    assert list(parts)[:2] == ["__user_part_screenshot", "__user_part_observation"]
    assert parts["__user_part_screenshot"]["part"]["kind"] == "image"
    assert "bytes" not in json.dumps(parts["__user_part_screenshot"]["part"]["mime_type"])
    assert parts["__user_part_screenshot"]["expiry"]
    assert all(step["expiry"] for step in body["steps"])  # the step records' own expiries
    assert body["run"]["expiry"] == FAR.isoformat()
    assert body["status"] == {"label": "running", "tone": "running", "failed": 0}
    assert body["expired_parts"] == []
    assert body["values"] == [{"key": "note", "value": "kept for good", "expiry": None}]
    assert parts["__user_part_odd"]["proper_part"] is False
    assert parts["__user_part_odd"]["part"]["text"] == '{"not": "a part"}'

    same = httpx.get(api, params={"id": "t", "since": body["version"]}).json()
    assert same["unchanged"] is True
    write_step(client, "t", 3, action="scroll", status="failed", error="no such element")
    moved = httpx.get(api, params={"id": "t", "since": body["version"]}).json()
    assert "unchanged" not in moved
    assert moved["steps"][-1]["step"] == 3
    assert moved["status"] == {"label": "running with errors", "tone": "failed", "failed": 1}
    assert httpx.get(api, params={"id": "nobody"}).status_code == 404


def test_a_thread_whose_parts_expired_names_the_last_ones(
    any_server: tuple[RunningStore, SessionClient],
) -> None:
    store_server, client = any_server
    gone = datetime.now(UTC) - timedelta(minutes=3)
    write_step(client, "t", 1, action="goto /", parts_expiry=gone)
    body = httpx.get(store_server.root + "/viewer/api/thread", params={"id": "t"}).json()
    assert body["parts"] == []
    expired = {p["key"]: p for p in body["expired_parts"]}
    assert list(expired) == ["__user_part_screenshot", "__user_part_observation"]
    assert datetime.fromisoformat(expired["__user_part_screenshot"]["expiry"]) < datetime.now(UTC)
    assert expired["__user_part_observation"]["part"]["text"].startswith("# Step 1: goto /")
    # The last image is served from the history by its version.
    at = expired["__user_part_screenshot"]["set_at"]
    image = httpx.get(
        store_server.root + "/viewer/api/image",
        params={"thread": "t", "key": "__user_part_screenshot", "at": at},
    )
    assert image.headers["content-type"] == "image/jpeg"


@pytest.mark.parametrize(
    ("run", "failed_steps", "label", "tone"),
    [
        (None, 0, "no run record", "none"),
        ({"status": "passed"}, 0, "passed", "ok"),
        ({"status": "finished"}, 0, "finished", "ok"),
        ({"status": "finished", "failed": 2}, 0, "finished with errors", "failed"),
        ({"status": "finished"}, 1, "finished with errors", "failed"),
        ({"status": "failed", "failed": 1}, 1, "failed", "failed"),
        ({"status": "running"}, 0, "running", "running"),
        ({"status": "skipped"}, 0, "skipped", "unknown"),
        ({"status": "finished", "failed": True}, 0, "finished", "ok"),  # not a count
    ],
)
def test_run_status_never_calls_a_run_with_failed_steps_a_success(
    run: Any, failed_steps: int, label: str, tone: str
) -> None:
    status = run_status(run, failed_steps)
    assert (status["label"], status["tone"]) == (label, tone)


def test_threads_api_filters_by_id_and_status(store_server: RunningStore) -> None:
    with SessionClient(store_server.base_url) as client:
        for n in range(5):
            run = {"status": "failed" if n % 2 else "passed"}
            client.set_session_value(f"suite-{n}", "capture.run", run)
        client.set_session_value("other", "note", 1)
    api = store_server.root + "/viewer/api/threads"
    ids = [t["thread_id"] for t in httpx.get(api).json()["threads"]]
    assert ids == ["other", "suite-4", "suite-3", "suite-2", "suite-1", "suite-0"]
    failed = httpx.get(api, params={"q": "SUITE", "status": "failed"}).json()
    assert [t["thread_id"] for t in failed["threads"]] == ["suite-3", "suite-1"]
    assert failed["complete"] is True
    bare = httpx.get(api, params={"status": "none"}).json()["threads"]
    assert [t["thread_id"] for t in bare] == ["other"]
    paged = httpx.get(api, params={"q": "suite", "limit": 2, "offset": 1}).json()
    assert [t["thread_id"] for t in paged["threads"]] == ["suite-3", "suite-2"]
    bad = httpx.get(api, params={"status": "green"})
    assert bad.status_code == 400
    assert "status must be one of" in bad.json()["error"]


def test_the_glance_key_is_the_one_the_recorder_writes_and_keeps_a_history() -> None:
    assert GLANCE_KEY == RECORDER_GLANCE_KEY
    assert HistoryPolicy().keeps(GLANCE_KEY)
    assert not HistoryPolicy().keeps("capture.step.000001")


def test_snapshot_is_rebuilt_only_when_the_thread_changes(store_server: RunningStore) -> None:
    # Driven on the server's own loop: a sync Playwright session in this process keeps a
    # loop running on the main thread, where an async test could not start.
    store, call = store_server.store, store_server.call
    data = ViewerData(store)
    call(store.set("t", "a", "1", None))
    first = call(data.thread("t"))
    assert first is not None
    assert call(data.thread("t")) is first
    call(store.set("t", "b", "2", None))
    second = call(data.thread("t"))
    assert second is not None
    assert second is not first
    assert [v["key"] for v in second.body["values"]] == ["a", "b"]


async def test_snapshot_follows_a_commit_that_lands_out_of_clock_order() -> None:
    # Two workers (or two connections) may commit writes in another order than their clocks
    # read: here `a` is re-set with a time older than `b`'s, so the thread's newest write
    # time does not move, yet the viewer must show the new value.
    now = [datetime(2026, 1, 1, tzinfo=UTC)]
    store = MemoryStore(clock=lambda: now[0])
    data = ViewerData(store)
    await store.set("t", "a", '"a1"', None)
    now[0] += timedelta(seconds=2)
    await store.set("t", "b", '"b1"', None)
    first = await data.thread("t")
    assert first is not None
    now[0] -= timedelta(seconds=1)
    await store.set("t", "a", '"a2"', None)
    second = await data.thread("t")
    assert second is not None
    assert [v["value"] for v in second.body["values"]] == ["a2", "b1"]


async def test_a_poll_of_an_unchanged_thread_reads_no_values(tmp_path: Path) -> None:
    """The screenshot and every step record stay in the store until something moved."""
    reads: list[str] = []

    class Counted(SqliteStore):
        async def entries(self, thread_id: str) -> dict[str, Entry]:
            reads.append(thread_id)
            return await super().entries(thread_id)

    store = Counted(tmp_path / "store.db")
    await store.open()
    try:
        data = ViewerData(store)
        await store.set("t", "a", '"a1"', None)
        assert await data.thread("t") is not None
        assert await data.thread("t") is not None
        assert await data.thread("t") is not None
        assert reads == ["t"]  # built once; the two polls after read write times only
        await store.set("t", "a", '"a2"', None)
        assert await data.thread("t") is not None
        assert reads == ["t", "t"]
    finally:
        await store.close()


def test_the_page_says_loading_until_its_first_fetch_answers(
    page: Page, store_server: RunningStore, client: SessionClient
) -> None:
    write_step(client, "slow-thread", 1, action="goto /")
    held: list[Any] = []
    page.route("**/viewer/api/**", lambda route: held.append(route))
    page.goto(store_server.base_url.removesuffix("/api/v1") + "/")
    expect(page.locator("#loading")).to_have_text("loading…")
    expect(page.locator("#loading")).to_be_visible()
    page.wait_for_timeout(300)  # the poll is held: still loading, nothing else shown
    expect(page.locator("#loading")).to_be_visible()
    expect(page.locator("#list-view")).to_be_hidden()
    assert len(held) == 1  # the first poll, still unanswered
    held[0].continue_()
    page.unroute("**/viewer/api/**")
    expect(page.locator("#threads")).to_contain_text("slow-thread")
    expect(page.locator("#loading")).to_be_hidden()


# -- scripts/viewer_shot.py: the docs' screenshot ------------------------------------------


@pytest.mark.browser
@pytest.mark.slow
def test_the_docs_screenshot_is_made_from_a_real_demo_run(tmp_path: Path) -> None:
    out = tmp_path / "viewer.png"
    script = str(ROOT / "scripts" / "viewer_shot.py")
    done = run_command([sys.executable, script, "--out", str(out)], tmp_path, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    said = r"step 26 of thread 'demo-shop' \(\d+ bytes\); its screenshot shown (\d+) px wide"
    shown = re.search(said, done.stdout)
    assert shown, done.stdout
    assert int(shown.group(1)) >= 640
    assert out.stat().st_size < 200_000
    with Image.open(out) as image:
        assert image.size == (1400, 900)


def test_the_docs_screenshot_script_refuses_a_step_the_demo_has_not(tmp_path: Path) -> None:
    script = str(ROOT / "scripts" / "viewer_shot.py")
    done = run_command([sys.executable, script, "--step", "31"], tmp_path)
    assert done.returncode == 2
    assert done.stderr.strip() == "viewer_shot: --step must be 1 to 30"
