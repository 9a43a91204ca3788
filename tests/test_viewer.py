"""The viewer at `/`: real server over HTTP, real Chromium, data written through the client.

Every browser test saves a screenshot of the viewer under artifacts/ (gitignored); the
README's image (docs/viewer.png) comes from the agent-loop test, on real captures.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image, ImageDraw
from playwright.sync_api import Dialog, Page, expect

from capture.session import SessionClient
from capture.store import MemoryStore, SqliteStore
from capture.store._base import Entry
from capture.store._viewer import ViewerData
from tests.conftest import RunningStore, StartStore

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
    client: SessionClient, thread: str, step: int, *, action: str, changed: bool = True
) -> None:
    """What the recorder stores for one step: image, observation, step record."""
    if changed:
        client.set_user_part_image(
            thread,
            "screenshot",
            jpeg(f"after step {step}: {action}"),
            mime_type="image/jpeg",
            filename=f"step-{step}.jpg",
            expiry=timedelta(minutes=10),
        )
        client.set_user_part_text(
            thread,
            "observation",
            f"Step {step}: {action}\nURL: http://127.0.0.1/shop\n"
            f'- button "Add to cart" [ref=e{step}]',
            expiry=timedelta(minutes=10),
        )
    record = {
        "step": step,
        "action": action,
        "url": "http://127.0.0.1/shop",
        "status": "ok",
        "changed": changed,
        "unchanged": not changed,
        "timings_ms": {"screenshot": 41.0, "observation": 18.2},
        "notes": [] if changed else ["screenshot unchanged since step 1"],
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


def thread_url(root: str, thread: str) -> str:
    return f"{root}/#/thread/{thread}"


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
    expect(rows.nth(0).locator("td").nth(1)).to_contain_text("running")
    expect(rows.nth(0).locator("td").nth(2)).to_have_text("2")
    expect(rows.nth(0).locator("td").nth(3)).to_contain_text("ago")
    shot(page, "viewer-list.png")

    rows.nth(0).locator("a").click()
    expect(page.locator("#thread-title")).to_have_text("newer-thread")


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
    page.wait_for_function(
        "() => { const i = document.querySelector('.part img'); "
        "return i && i.complete && i.naturalWidth > 0; }",
        timeout=5000,
    )
    assert image.evaluate("i => i.naturalWidth") == 640
    expect(page.locator(".part .part-text")).to_contain_text("Step 2: click [ref=e7] 'Mugs'")
    expect(page.locator("#run")).to_contain_text("buy a mug")
    steps = page.locator("#steps li.step")
    expect(steps).to_have_count(3)
    expect(steps.nth(0)).to_contain_text("Step 3")
    expect(steps.nth(0)).to_contain_text("unchanged")
    expect(steps.nth(0)).to_contain_text("same screenshot as step 2")
    expect(steps.nth(1)).to_contain_text("screenshot 41 ms")
    page.wait_for_function(
        "() => [...document.querySelectorAll('#steps img')]"
        ".every(i => i.complete && i.naturalWidth > 0) "
        "&& document.querySelectorAll('#steps img').length === 2",
        timeout=5000,
    )
    expect(page.locator(".value[data-key=cart]")).to_contain_text('"total": 12.5')
    expect(page.locator(".part[data-key=__user_part_screenshot] .expiry")).to_contain_text(
        "expires in"
    )
    # Every value shows its own expiry: a countdown, or "no expiry" when it has none.
    countdown = re.compile(r"^expires in (29m \d+s|30m 0s)$")
    expect(page.locator(".value[data-key=coupon] .expiry")).to_have_text(countdown)
    expect(page.locator(".value[data-key=cart] .expiry")).to_have_text("no expiry")
    expect(page.locator("#run .expiry")).to_have_text(re.compile(r"^expires in [56]h \d+m$"))
    expect(steps.nth(2).locator(".expiry")).to_have_text(re.compile(r"^expires in [56]h \d+m$"))
    expect(page.locator(".expiry")).to_have_count(8)  # 2 parts, run, 3 steps, 2 values
    shot(page, "viewer-thread.png")


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
        {"step": 1, "action": HOSTILE_IMG, "url": "javascript:alert(1)", "error": HOSTILE_SCRIPT},
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
    expect(page.locator("#steps")).to_contain_text(HOSTILE_IMG)
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
    expect(page.locator("#steps li.step")).to_have_count(1)
    page.evaluate("() => { window.__sameDocument = true; }")

    write_step(client, thread, 2, action="click [ref=e4] 'Add to cart'")
    # A functional deadline (the page polls about once a second), not a benchmark.
    expect(page.locator("#steps li.step[data-step='2']")).to_be_visible(timeout=2000)
    expect(page.locator(".part[data-key=__user_part_observation]")).to_contain_text(
        "Add to cart", timeout=2000
    )
    assert page.evaluate("() => window.__sameDocument") is True  # no reload happened
    shot(page, "viewer-live.png")


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
    assert httpx.get(store_server.root + "/static/viewer.js").status_code == 200
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

    assert [s["step"] for s in body["steps"]] == [2, 1]
    newest, oldest = body["steps"]
    assert newest["screenshot_from"] == 1
    assert newest["observation_from"] == 1
    assert "screenshot" not in newest
    assert oldest["screenshot"]["set_at"]
    assert oldest["observation"]["text"].startswith("Step 1: goto /")
    assert oldest["record"]["action"] == "goto /"
    parts = {p["key"]: p for p in body["parts"]}
    assert list(parts)[:2] == ["__user_part_screenshot", "__user_part_observation"]
    assert parts["__user_part_screenshot"]["part"]["kind"] == "image"
    assert "bytes" not in json.dumps(parts["__user_part_screenshot"]["part"]["mime_type"])
    assert parts["__user_part_screenshot"]["expiry"]
    assert all(step["expiry"] for step in body["steps"])  # the step records' own expiries
    assert body["run"]["expiry"] == FAR.isoformat()
    assert body["values"] == [{"key": "note", "value": "kept for good", "expiry": None}]
    assert parts["__user_part_odd"]["proper_part"] is False
    assert parts["__user_part_odd"]["part"]["text"] == '{"not": "a part"}'

    same = httpx.get(api, params={"id": "t", "since": body["version"]}).json()
    assert same["unchanged"] is True
    write_step(client, "t", 3, action="scroll")
    moved = httpx.get(api, params={"id": "t", "since": body["version"]}).json()
    assert "unchanged" not in moved
    assert moved["steps"][0]["step"] == 3
    assert httpx.get(api, params={"id": "nobody"}).status_code == 404


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
