"""The sync face of capture.recorder.observe on pytest-playwright's sync `page` fixture."""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import Page

from capture.errors import RefNotFoundError
from capture.live._listener import listener_script
from capture.recorder.observe import (
    SENSITIVE_FIELD,
    SENSITIVE_FIELD_JS,
    PageEvents,
    read_page_state_sync,
    read_sensitive_sync,
    resolve_ref_sync,
)
from tests.conftest import Site

pytestmark = pytest.mark.browser


def test_sync_face_reads_frames_redacts_and_resolves_refs(page: Page, site: Site) -> None:
    page.goto(site.url(f"frames.html?other={site.other}"))
    cross = page.frame_locator("#cross")
    cross.locator("#frame-password").fill("sync-cross-Secret-8")
    state = read_page_state_sync(page)
    outline = "\n".join(state.outline)
    assert "sync-cross-Secret-8" not in outline
    assert "sync-cross-Secret-8" in state.secret_values
    ref = re.search(r'button "Press cross" \[ref=(f\d+e\d+)\]', outline)
    assert ref
    assert resolve_ref_sync(page, ref[1]).inner_text() == "Press cross"
    rects, values = read_sensitive_sync(page)
    box = cross.locator("#frame-password").bounding_box()
    assert box is not None
    assert any(abs(r.x - box["x"]) < 1 and abs(r.y - box["y"]) < 1 for r in rects)
    assert values == ["sync-cross-Secret-8"]
    with pytest.raises(RefNotFoundError):
        resolve_ref_sync(page, "e999999")


def test_sync_page_events_dismiss_dialogs(page: Page, site: Site) -> None:
    events = PageEvents(page)
    page.goto(site.url("dialog.html"))
    page.click("#alert")
    assert events.drain().dialogs == ["alert 'Saved: planted alert text' (dismissed)"]
    assert "Terms of use" in "\n".join(read_page_state_sync(page).outline)


FIELDS = """<!doctype html><title>Fields</title>
<input id="a" type="password"><input id="b" type="PASSWORD">
<input id="c" data-capture-sensitive><input id="d" autocomplete="cc-number">
<input id="e" autocomplete="one-time-code"><input id="f" autocomplete="current-password">
<input id="g" autocomplete="section-x new-password">
<input id="h" autocomplete="username"><input id="i" type="text"><input id="j" type="email">
"""


def test_one_sensitive_field_rule_for_masks_action_texts_and_live_recording(page: Page) -> None:
    page.set_content(FIELDS)
    rects, _ = read_sensitive_sync(page)
    named = {
        field.get_attribute("id")
        for field in page.query_selector_all("input")
        if field.evaluate(SENSITIVE_FIELD_JS)
    }
    assert named == set("abcdefg")  # action texts (task runner, pytest plugin)
    assert len(rects) == len(named)  # masks: page.js gets the same rule
    # The live listener is handed the same rule.
    assert json.dumps(SENSITIVE_FIELD) in listener_script("binding", "token", [])
