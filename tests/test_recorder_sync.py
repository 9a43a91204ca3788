"""SyncRecorder with pytest-playwright's sync `page`, checked through the raw HTTP API."""

from __future__ import annotations

import base64
import inspect
import io
import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from PIL import Image
from playwright.sync_api import Page

from capture.config import CaptureConfig
from capture.recorder import Recorder, SyncRecorder
from capture.session import SessionClient
from tests._helpers import OBS, SHOT
from tests.conftest import Site, dead_port, thread_values_raw

pytestmark = pytest.mark.browser


@pytest.fixture
def client(store_server: Any) -> Iterator[SessionClient]:
    with SessionClient(store_server.base_url) as c:
        yield c


def test_both_faces_have_the_same_public_names() -> None:
    def public(cls: type) -> set[str]:
        return {name for name in dir(cls) if not name.startswith("_")}

    assert public(SyncRecorder) == public(Recorder)
    for name in public(Recorder):
        a, b = getattr(Recorder, name), getattr(SyncRecorder, name)
        if callable(a):
            assert list(inspect.signature(a).parameters) == list(inspect.signature(b).parameters), (
                name
            )


def test_sync_capture_stores_masked_image_and_scrubbed_texts(
    page: Page, client: SessionClient, store_server: Any, site: Site
) -> None:
    secret = "Sync-Typed-Secret-321"
    with SyncRecorder(page, client, "t-sync", config=CaptureConfig(keep_steps=2)) as rec:
        page.goto(site.url("login.html"))
        page.fill("#password", secret)
        first = rec.capture(f"typed {secret}")
        second = rec.capture("again")
        page.click("button[type=submit]")
        third = rec.capture("submit")
        rec.flush()
        box = page.locator("#password").bounding_box()
    assert first.changed
    assert SHOT in first.stored
    assert not second.changed
    assert SHOT not in second.stored
    assert third.changed
    raw, values = thread_values_raw(store_server.base_url, "t-sync")
    assert secret.encode() not in raw
    assert b"prefilled-Secret-42" not in raw
    assert sorted(k for k in values if k.startswith("capture.step")) == [
        "capture.step.000002",
        "capture.step.000003",
    ]
    assert len(json.dumps(values["capture.step.000003"]).encode()) < 1024
    image = Image.open(io.BytesIO(base64.b64decode(values[SHOT]["data"]["bytes"]))).convert("RGB")
    assert box is not None
    region = image.crop(
        (
            int(box["x"]) + 1,
            int(box["y"]) + 1,
            int(box["x"] + box["width"]) - 1,
            int(box["y"] + box["height"]) - 1,
        )
    )
    assert all(high <= 4 for _, high in region.getextrema())
    assert "Sign in" in values[OBS]["data"]


def test_sync_store_down_never_fails_the_task(page: Page, site: Site) -> None:
    cfg = CaptureConfig(upload_retries=0)
    with (
        SessionClient(f"http://127.0.0.1:{dead_port()}/api/v1", retries=0) as down,
        SyncRecorder(page, down, "t-down", config=cfg) as rec,
    ):
        page.goto(site.url("index.html"))
        rec.start_run("down")
        result = rec.capture("open")
        rec.finish_run("passed")
    assert result.step == 1
    assert rec.stats.uploaded == 0
    assert rec.stats.dropped >= 3


def test_sync_busy_page_does_not_block_past_the_time_box(
    page: Page, client: SessionClient, store_server: Any, site: Site
) -> None:
    """The sync face waits like the async one: a page whose main thread is stuck for 1.5 s
    holds a capture only until its 0.3 s box ends (a blocking call would wait it out)."""
    with SyncRecorder(page, client, "t-sync-busy", config=CaptureConfig(time_box=0.3)) as rec:
        page.goto(site.url("spa.html"))
        rec.capture("open")
        page.evaluate(
            "setTimeout(() => { const t = Date.now(); while (Date.now() - t < 1500); }, 0)"
        )
        begun = time.monotonic()
        busy = rec.capture("busy")
        elapsed = time.monotonic() - begun
        rec.flush()
    assert elapsed < 1.2, elapsed
    assert any("not ready" in note or "not located" in note for note in busy.notes)


def test_sync_spent_time_box_skips_parts_and_says_so(
    page: Page, client: SessionClient, store_server: Any, site: Site
) -> None:
    with SyncRecorder(page, client, "t-sync-box", config=CaptureConfig(time_box=0)) as rec:
        page.goto(site.url("spa.html"))
        result = rec.capture("open")
        rec.flush()
    assert SHOT not in result.stored
    assert any("outline not ready" in note for note in result.notes)
    _, values = thread_values_raw(store_server.base_url, "t-sync-box")
    assert "screenshot skipped" in values[OBS]["data"]
    assert site.url("spa.html") in values[OBS]["data"]
