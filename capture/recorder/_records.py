"""Step and run records: tiny JSON values, because a Distri server loads every value of a
thread on each prompt build. Long texts are cut so a step record stays under 1 KB."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from capture.session import encode_json, rfc3339

__all__ = [
    "GLANCE_KEY",
    "RECORD_LIMIT",
    "RUN_KEY",
    "run_record",
    "step_key",
    "step_record",
]

RUN_KEY = "capture.run"
GLANCE_KEY = "capture.glance"
"""The small image `capture mcp` sent its client with an answer. The embedded store keeps
its versions (`capture.store`'s history), so the viewer shows each step's."""
RECORD_LIMIT = 1024
_CUTS = {"url": 300, "title": 120, "action": 160, "error": 240}
_MASKS = 12  # boxes listed at most (about 20 characters each)
_RUN_INFO_KEYS = 20
_RUN_INFO_CHARS = 200


def step_key(step: int) -> str:
    """`capture.step.000007`: zero-padded so keys sort in step order."""
    return f"capture.step.{step:06d}"


def _cut(text: str | None, limit: int) -> str | None:
    if text is None or len(text) <= limit:
        return text
    return text[: limit - 1] + "…"


def _time(moment: datetime | None) -> str | None:
    return rfc3339(moment) if moment else None


def step_record(
    *,
    step: int,
    action: str,
    url: str,
    title: str,
    time: datetime,
    status: str,
    error: str | None,
    changed: bool,
    image_hash: str | None,
    outline_hash: str | None,
    image_bytes: int,
    observation_chars: int,
    timings: Mapping[str, float],
    notes: list[str],
    scrub: Callable[[str], str],
    masks: Sequence[tuple[int, int, int, int]] = (),
    exact: bool = True,
    lag: float | None = None,
) -> dict[str, Any]:
    """The record of one step, scrubbed, its texts cut until it encodes under 1 KB.

    `masks` are the boxes blacked out in the image, (left, top, right, bottom) in image
    pixels; the record lists them as [x, y, width, height] (the first few), so the viewer
    can outline them. `exact`: no later action can show in its image; `lag`: seconds from
    the end of its action to its screenshot (`lag_ms`, None without an image of its own)."""
    texts = {"action": action, "url": url, "title": title, "error": error}
    boxes = [[left, top, right - left, bottom - top] for left, top, right, bottom in masks]
    for shrink in (1.0, 0.5, 0.25, 0.1):
        record: dict[str, Any] = {
            "step": step,
            "time": _time(time),
            "status": status,
            "changed": changed,
            "unchanged": not changed,
            **{
                name: _cut(scrub(value) if value else value, max(8, int(_CUTS[name] * shrink)))
                for name, value in texts.items()
            },
            "image_sha256": image_hash,
            "outline_sha256": outline_hash,
            "image_bytes": image_bytes,
            "exact": exact,
            "lag_ms": None if lag is None else round(lag * 1000),
            "observation_chars": observation_chars,
            "timings_ms": {name: round(value * 1000, 1) for name, value in timings.items()},
            "notes": [_cut(scrub(note), max(8, int(80 * shrink))) for note in notes[:4]],
        }
        if boxes:
            record["masks"] = boxes[: max(1, int(_MASKS * shrink))]
        if len(encode_json(record)) < RECORD_LIMIT:
            break
    return record


def run_record(
    *,
    name: str,
    status: str,
    steps: int,
    started: datetime | None,
    finished: datetime | None,
    dropped: int,
    failed: int,
    info: Mapping[str, Any],
    scrub: Callable[[str], str],
) -> dict[str, Any]:
    """The run record; `info` values that are not plain JSON scalars are written as text,
    and texts are cut (a run record is loaded on every prompt build, like a step record).
    `failed` counts the failed steps: a run that "finished" with some reads as such."""
    extra: dict[str, Any] = {}
    for key, value in list(info.items())[:_RUN_INFO_KEYS]:
        if isinstance(value, bool | int | float) or value is None:
            extra[str(key)[:40]] = value
        else:
            extra[str(key)[:40]] = _cut(scrub(str(value)), _RUN_INFO_CHARS)
    return {
        **extra,
        "name": _cut(scrub(name), _CUTS["title"]),
        "status": status,
        "steps": steps,
        "failed": failed,
        "started": _time(started),
        "finished": _time(finished),
        "dropped": dropped,
    }
