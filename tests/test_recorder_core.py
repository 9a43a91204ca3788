"""RecorderCore's decisions without a browser: change detection, re-uploads, budgets, pruning."""

from __future__ import annotations

import io
from typing import Any

from PIL import Image

from capture.config import CaptureConfig
from capture.recorder._core import RecorderCore, StepInput
from capture.recorder._image import EncodedImage
from capture.recorder._screenshot import Shot, Viewport
from capture.recorder.observe import EventsSnapshot, Rect
from capture.session import BaseSessionClient, encode_json
from tests._helpers import OBS, SHOT, page_state
from tests.conftest import Clock


def _image(data: bytes) -> EncodedImage:
    return EncodedImage(data, "image/jpeg", 10, 10, 70, 0, True)


def _core(clock: Clock, **fields: Any) -> RecorderCore:
    body = BaseSessionClient(clock=clock).set_body
    return RecorderCore("t", CaptureConfig(**fields), ["Configured-Secret-1"], body, clock)


def _step(
    core: RecorderCore, image: bytes | None, outline: list[str] | None, **extra: Any
) -> StepInput:
    got = core.begin(
        extra.pop("action", "act"), "ok", None, "http://127.0.0.1/app", EventsSnapshot()
    )
    got.image = _image(image) if image is not None else None
    got.state = page_state(outline, **extra) if outline is not None else None
    got.located = True
    return got


def test_change_detection_uses_exact_hashes_of_image_and_outline() -> None:
    clock = Clock()
    core = _core(clock)
    first, _ = core.conclude(_step(core, b"A", ['- button "Go" [ref=e1]']))
    same, writes = core.conclude(_step(core, b"A", ['- button "Go" [ref=e1]']))
    label, _ = core.conclude(_step(core, b"A", ['- button "Stop" [ref=e1]']))
    pixels, _ = core.conclude(_step(core, b"B", ['- button "Stop" [ref=e1]']))
    assert [first.changed, same.changed, label.changed, pixels.changed] == [True, False, True, True]
    assert [w.key for w in writes] == [OBS, "capture.step.000002"]
    assert "no visible change" in same.observation
    assert "screenshot unchanged since step 1" in same.notes
    assert core.stats.unchanged == 1


def test_a_dropped_image_is_sent_again_and_a_near_expiry_renews_it() -> None:
    clock = Clock()
    core = _core(clock, screenshot_expiry="10m")
    _, writes = core.conclude(_step(core, b"A", ["x"]))
    image_write = writes[0]
    assert image_write.key == SHOT
    assert image_write.on_done is not None
    image_write.on_done(False)  # the store was down: it does not hold this image
    _, writes = core.conclude(_step(core, b"A", ["x"]))
    assert writes[0].key == SHOT
    clock.advance(minutes=4)  # more than half of 10 min left: keep
    _, writes = core.conclude(_step(core, b"A", ["x"]))
    assert writes[0].key == OBS
    clock.advance(minutes=2)  # 4 min left: renew before it expires
    _, writes = core.conclude(_step(core, b"A", ["x"]))
    assert writes[0].key == SHOT


def test_missing_parts_are_noted_and_nothing_is_claimed_unchanged() -> None:
    clock = Clock()
    core = _core(clock)
    core.conclude(_step(core, b"A", ["x"]))
    late = _step(core, None, None)
    late.located = False
    result, writes = core.conclude(late)
    assert result.changed  # nothing to compare: not claimed unchanged
    assert [w.key for w in writes] == [OBS, "capture.step.000002"]
    assert any("skipped (sensitive fields not located in time)" in n for n in result.notes)
    assert any("the stored image is from step 1" in n for n in result.notes)
    assert any("outline not ready" in n for n in result.notes)
    assert "\nURL: http://127.0.0.1/app\n" in result.observation  # the header still says where
    assert "no visible change" not in result.observation
    assert "(unknown: no outline this time" in result.observation


def test_old_step_records_are_deleted_and_texts_scrubbed() -> None:
    clock = Clock()
    core = _core(clock, keep_steps=2)
    core.add_secrets("Added-Secret-22")
    for n in range(3):
        _, writes = core.conclude(
            _step(
                core,
                bytes([n]),
                [f"- text: Field-Secret-33 Added-Secret-22 {n}"],
                secret_values=["Field-Secret-33"],
                action="type Configured-Secret-1",
            )
        )
    assert writes[-1].key == "capture.step.000001"
    assert writes[-1].value is None
    dumped = encode_json([w.value for w in writes])
    for secret in (b"Field-Secret-33", b"Added-Secret-22", b"Configured-Secret-1"):
        assert secret not in dumped


def test_the_observation_is_cut_until_its_request_fits() -> None:
    clock = Clock()
    core = _core(clock, max_request_bytes=16_384, observation_chars=16_000)
    outline = [f'- link "Ünïcödé ✓ {n} ✓✓✓✓✓✓✓✓✓✓✓✓✓✓✓✓" [ref=e{n}]' for n in range(800)]
    result, writes = core.conclude(_step(core, b"A", outline))
    observation = next(w for w in writes if w.key == OBS)
    assert (
        len(BaseSessionClient(clock=clock).set_body(OBS, observation.value, observation.expiry))
        <= 16_384
    )
    assert "omitted" in result.observation


def test_an_unchanged_screenshot_is_not_encoded_again() -> None:
    clock = Clock()
    core = _core(clock)
    out = io.BytesIO()
    Image.new("RGB", (640, 400), "white").save(out, "JPEG", quality=92)
    shot = Shot(out.getvalue(), Viewport(0, 0, 640, 400), 640, final=False)
    field = [Rect(10, 10, 100, 20)]
    first = core.encode(shot, field, 1)
    assert first.masked == 1
    assert core.encode(shot, field, 2) is first  # same bytes, same fields: reused
    moved = core.encode(shot, [Rect(10, 200, 100, 20)], 3)
    assert moved is not first  # a field moved: masked anew
    assert moved.data != first.data


def test_a_partial_outline_is_not_diffed_the_next_full_one_is() -> None:
    clock = Clock()
    core = _core(clock)
    core.conclude(_step(core, b"A", ['- button "Go" [ref=e1]', '- link "More" [ref=e2]']))
    got = _step(core, b"A", ['- button "Go" [ref=e1]'])
    assert got.state is not None
    got.state.partial = True  # "More" was not reached, not removed
    partial, _ = core.conclude(got)
    assert "(unknown: the outline is partial this time)" in partial.observation
    assert "## Page (partial: the time box ended the read" in partial.observation
    assert '- link "More"' not in partial.observation
    full, _ = core.conclude(
        _step(core, b"A", ['- button "Stop" [ref=e1]', '- link "More" [ref=e2]'])
    )
    assert '- button "Go" [ref=e1]' in full.observation  # removed since the last full one
    assert '+ button "Stop" [ref=e1]' in full.observation
    assert '- link "More"' not in full.observation.split("## Changes")[1]


def test_masked_boxes_reach_the_step_record() -> None:
    clock = Clock()
    core = _core(clock)
    out = io.BytesIO()
    Image.new("RGB", (640, 400), "white").save(out, "JPEG", quality=92)
    shot = Shot(out.getvalue(), Viewport(0, 0, 640, 400), 640, final=False)
    got = _step(core, None, ["x"])
    got.image = core.encode(shot, [Rect(10, 10, 100, 20)], got.step)
    _, writes = core.conclude(got)
    record = next(w.value for w in writes if w.key == "capture.step.000001")
    [[x, y, width, height]] = record["masks"]
    assert max(x, y) <= 10  # the box covers the field (10, 10, 100 x 20)
    assert min(x + width - 110, y + height - 30) >= 0


def test_a_failed_step_is_counted_in_the_run_record_at_once() -> None:
    clock = Clock()
    core = _core(clock)
    core.start_run("mcp", {"source": "capture mcp"})
    _, ok = core.conclude(_step(core, b"A", ["x"]))
    assert "capture.run" not in [w.key for w in ok]
    url = "http://127.0.0.1/"
    failed = core.begin("click ref e9", "failed", "no element", url, EventsSnapshot())
    failed.state = page_state(["x"])
    _, writes = core.conclude(failed)
    run = next(w.value for w in writes if w.key == "capture.run")
    assert (run["status"], run["failed"]) == ("running", 1)
    assert core.finish_run("finished").value["failed"] == 1


def test_a_glance_is_kept_under_its_own_key_named_after_its_step() -> None:
    clock = Clock()
    core = _core(clock, screenshot_expiry="10m")
    write = core.glance_write(7, _image(b"tiny"))
    assert write is not None
    assert write.key == "capture.glance"
    assert write.value["data"]["name"] == "glance-step-7.jpg"
    assert write.expiry == clock() + CaptureConfig(screenshot_expiry="10m").screenshot_expiry
    huge = EncodedImage(bytes(400_000), "image/jpeg", 10, 10, 70, 0, True)
    assert core.glance_write(8, huge) is None  # over the byte budget: not kept
