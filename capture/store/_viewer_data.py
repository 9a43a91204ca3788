"""What the viewer shows, read from a store: the threads list and one thread's snapshot.

The Session Store API has no way to ask for expiries or history metadata without moving
every past screenshot on every poll, so the viewer's JSON is built here, from the store
directly. A thread's snapshot joins the step records with the history versions of the
screenshot, the observation and the glance they produced, oldest step first (the player's
filmstrip order), and says what the agent receives now: the live parts, or when the last
ones expired and which they were.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from capture.session import ImageBytes, ImagePart, ImageUrl, TextPart, read_part
from capture.store._base import (
    GLANCE_KEY,
    HISTORY_PREFIX,
    Entry,
    HistoryEntry,
    SessionRow,
    Store,
    utc_now,
)

__all__ = ["RUN_KEY", "STEP_KEY", "ViewerData", "run_status"]

RUN_KEY = "capture.run"
"""The recorder's run record (`capture.recorder._records`)."""
STEP_KEY = re.compile(r"^capture\.step\.(\d+)$")
"""The recorder's step records: `capture.step.000007`."""
SCREENSHOT_KEY = HISTORY_PREFIX + "screenshot"
OBSERVATION_KEY = HISTORY_PREFIX + "observation"
PART_KEYS = (SCREENSHOT_KEY, OBSERVATION_KEY)
"""The parts a step produces, in the order the page shows them."""
TIMELINE_KEYS = {SCREENSHOT_KEY: "screenshot", OBSERVATION_KEY: "observation", GLANCE_KEY: "glance"}
"""Keys whose history versions are joined to steps -> the field of the step they fill."""

# Raster types an <img> shows; anything else (SVG above all) is served as opaque bytes.
_IMAGE_TYPES = frozenset({"image/jpeg", "image/png", "image/gif", "image/webp"})
_STEP_IN_NAME = re.compile(r"step[-_ .]?0*(\d+)", re.IGNORECASE)
_STEP_IN_TEXT = re.compile(r"\bstep\s*#?\s*0*(\d+)", re.IGNORECASE)

_FAILED = frozenset({"failed", "failure", "error", "errored", "crashed", "timeout", "broken"})
_OK = frozenset({"passed", "finished", "ok", "done", "success", "succeeded", "completed"})
_SCAN_LIMIT = 2000
"""Threads a filtered list reads at most (newest first) before it stops looking."""


def _iso(moment: datetime | None) -> str | None:
    """Full precision: a history version's `set_at` is also its id in image requests."""
    return None if moment is None else moment.astimezone(UTC).isoformat()


def _parse(value_json: str) -> Any:
    try:
        return json.loads(value_json)
    except ValueError:
        return value_json


def _count(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def run_status(run: Any, failed_steps: int = 0) -> dict[str, Any]:
    """The run's status as the page shows it: a label and a tone (ok, failed, running, none,
    unknown). A run that ended "finished" (an MCP session, a live recording) with a failed
    step reads "finished with errors" in the failed tone, never as a plain success."""
    if not isinstance(run, dict):
        return {"label": "no run record", "tone": "none", "failed": failed_steps}
    status = str(run.get("status") or "unknown")
    failed = max(_count(run.get("failed")), failed_steps)
    word = status.lower()
    if word in _FAILED:
        tone, label = "failed", status
    elif failed:
        tone, label = "failed", f"{status} with errors"
    elif word in _OK:
        tone, label = "ok", status
    elif word == "running":
        tone, label = "running", status
    else:
        tone, label = "unknown", status
    return {"label": label, "tone": tone, "failed": failed}


def _step_of(part: TextPart | ImagePart) -> int | None:
    """The step a captured part belongs to: from the image name or the observation header."""
    if isinstance(part, ImagePart):
        name = part.data.name if isinstance(part.data, ImageBytes) else None
        match = _STEP_IN_NAME.search(name or "")
    else:
        match = _STEP_IN_TEXT.search(part.data[:400])
    return int(match.group(1)) if match else None


def _describe_part(part: TextPart | ImagePart) -> dict[str, Any]:
    """A part as the page needs it: text inline, image as metadata (bytes come separately)."""
    if isinstance(part, TextPart):
        return {"kind": "text", "text": part.data}
    if isinstance(part.data, ImageUrl):
        return {"kind": "image_url", "url": part.data.url, "mime_type": part.data.mime_type}
    size = len(part.data.bytes) * 3 // 4
    return {
        "kind": "image",
        "mime_type": part.data.mime_type,
        "name": part.data.name,
        "bytes": size,
    }


def image_bytes(value_json: str) -> tuple[bytes, str] | None:
    """The decoded bytes and MIME type of an image part (SVG and the like as opaque bytes)."""
    part, _ = read_part(_parse(value_json))
    if not isinstance(part, ImagePart) or not isinstance(part.data, ImageBytes):
        return None
    try:
        raw = base64.b64decode(part.data.bytes, validate=True)
    except ValueError:  # binascii.Error included
        return None
    mime = (
        part.data.mime_type if part.data.mime_type in _IMAGE_TYPES else "application/octet-stream"
    )
    return raw, mime


def _stamp(stamps: dict[str, tuple[datetime, datetime | None]]) -> tuple[object, ...]:
    """A comparable stamp of a thread: its keys with their write times and expiries."""
    return tuple(sorted(stamps.items()))


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:20]


@dataclass
class Snapshot:
    version: str
    body: dict[str, Any]


class ViewerData:
    """Builds the viewer's JSON from a store, caching each thread's snapshot until it changes.

    A snapshot reads every history version of the timeline keys (images included), so it is
    rebuilt only when a value of the thread moves, not on every poll. Whether one moved is
    read from the backend on every poll, never from this process's memory, so with
    `--workers N` a viewer polling one worker sees a step written through another. The stamp
    is every live key's last write time and expiry: any set, delete, clear or expiry changes
    it, even when two writers' commits land out of the order of their clocks (the newest
    write time of the thread alone would then stay put and hide the later commit).
    """

    def __init__(self, store: Store, *, history_limit: int = 200, cache_size: int = 16) -> None:
        self.store = store
        self.history_limit = history_limit
        self._cache: OrderedDict[str, tuple[tuple[Any, ...], Snapshot]] = OrderedDict()
        self._cache_size = cache_size

    async def threads(
        self, limit: int, offset: int, *, query: str = "", tone: str = ""
    ) -> dict[str, Any]:
        """The newest threads, each with its run status. `query` keeps the ids that contain
        it (any case), `tone` the runs of that tone; filtered, the newest `_SCAN_LIMIT`
        threads are looked through, and `complete` says whether that was all of them."""
        if not query and not tone:
            rows = await self.store.list_sessions(None, limit, offset)
            threads = [await self._row(row) for row in rows]
            return {"now": _iso(utc_now()), "threads": threads, "complete": True}
        needle = query.casefold()
        found: list[dict[str, Any]] = []
        scanned, page, skip = 0, 200, offset
        while len(found) < limit and scanned < _SCAN_LIMIT:
            rows = await self.store.list_sessions(None, page, scanned)
            scanned += len(rows)
            for row in rows:
                if needle not in row.thread_id.casefold():
                    continue
                item = await self._row(row)
                if tone and item["status"]["tone"] != tone:
                    continue
                if skip:
                    skip -= 1
                elif len(found) < limit:
                    found.append(item)
            if len(rows) < page:
                return {"now": _iso(utc_now()), "threads": found, "complete": True}
        return {"now": _iso(utc_now()), "threads": found, "complete": False}

    async def _row(self, row: SessionRow) -> dict[str, Any]:
        run = await self.store.get(row.thread_id, RUN_KEY) if RUN_KEY in row.keys else None
        value = None if run is None else _parse(run)
        return {
            "thread_id": row.thread_id,
            "key_count": len(row.keys),
            "updated_at": _iso(row.updated_at),
            "run": value,
            "status": run_status(value),
        }

    async def thread(self, thread_id: str) -> Snapshot | None:
        # The write times and expiries tell whether anything moved; the values (a screenshot
        # among them) are read only to build a new snapshot.
        stamps = await self.store.stamps(thread_id)
        if not stamps:
            self._cache.pop(thread_id, None)
            return None
        cached = self._cache.get(thread_id)
        if cached is not None and cached[0] == _stamp(stamps):
            self._cache.move_to_end(thread_id)
            return cached[1]
        entries = await self.store.entries(thread_id)
        if not entries:  # emptied meanwhile
            self._cache.pop(thread_id, None)
            return None
        # The snapshot's own stamp: it is what was built, whatever moved since `stamps`.
        stamp = _stamp({key: (e.updated_at, e.expiry) for key, e in entries.items()})
        snapshot = await self._build(thread_id, entries)
        self._cache[thread_id] = (stamp, snapshot)
        while len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)
        return snapshot

    async def _build(self, thread_id: str, entries: dict[str, Entry]) -> Snapshot:
        histories = {
            key: await self.store.history(thread_id, key, self.history_limit)
            for key in TIMELINE_KEYS
        }
        parts: list[dict[str, Any]] = []
        steps: list[dict[str, Any]] = []
        others: list[dict[str, Any]] = []
        run: dict[str, Any] | None = None
        for key, entry in sorted(entries.items()):
            value = _parse(entry.value_json)
            expiry = _iso(entry.expiry)
            if key.startswith(HISTORY_PREFIX):
                parts.append(_part_item(key, entry.value_json, entry.updated_at, entry.expiry))
            elif key == RUN_KEY:
                run = {"key": key, "value": value, "expiry": expiry}
            elif match := STEP_KEY.match(key):
                steps.append(
                    {"key": key, "step": int(match.group(1)), "record": value, "expiry": expiry}
                )
            elif key != GLANCE_KEY:
                others.append({"key": key, "value": value, "expiry": expiry})
        rank = {key: i for i, key in enumerate(PART_KEYS)}
        parts.sort(key=lambda p: (rank.get(p["key"], len(rank)), p["key"]))
        # A step's part that is no longer live: when it expired, and what it was.
        expired = [
            _part_item(key, versions[0].value_json, versions[0].set_at, versions[0].expiry)
            for key in PART_KEYS
            if key not in entries and (versions := histories[key])
        ]
        failed = sum(
            isinstance(s["record"], dict) and s["record"].get("status") == "failed" for s in steps
        )
        body = {
            "thread_id": thread_id,
            "parts": parts,
            "expired_parts": expired,
            "run": run,
            "status": run_status(None if run is None else run["value"], failed),
            "steps": _timeline(steps, histories),
            "values": others,
        }
        version = _digest(json.dumps(body, sort_keys=True, default=str))
        return Snapshot(version, {**body, "version": version})

    async def image(self, thread_id: str, key: str, at: str | None) -> tuple[bytes, str] | None:
        """The image bytes of the current value of `key`, or of its version set at `at`."""
        if at is None:
            value_json = await self.store.get(thread_id, key)
        else:
            versions = await self.store.history(thread_id, key, self.history_limit)
            value_json = next((v.value_json for v in versions if _iso(v.set_at) == at), None)
        return None if value_json is None else image_bytes(value_json)


def _part_item(
    key: str, value_json: str, set_at: datetime, expiry: datetime | None
) -> dict[str, Any]:
    part, proper = read_part(_parse(value_json))
    return {
        "key": key,
        "part": _describe_part(part),
        "proper_part": proper,
        "set_at": _iso(set_at),
        "expiry": _iso(expiry),
    }


def _timeline(
    steps: list[dict[str, Any]], histories: dict[str, list[HistoryEntry]]
) -> list[dict[str, Any]]:
    """Step records joined with the versions of the parts they produced, oldest step first.

    A version names its step (image `name`, observation header). A step with no screenshot
    or observation of its own (an unchanged page is not re-uploaded) points at the latest
    earlier one instead. Versions with no step record (records expired or trimmed) still
    get an entry, after the numbered steps.
    """
    by_step: dict[int, dict[str, Any]] = {s["step"]: dict(s) for s in steps}
    loose: list[dict[str, Any]] = []
    for key, field in TIMELINE_KEYS.items():
        for entry in histories[key]:
            part, _ = read_part(_parse(entry.value_json))
            ref: dict[str, Any] = {"set_at": _iso(entry.set_at), "expiry": _iso(entry.expiry)}
            if isinstance(part, TextPart):
                ref["text"] = part.data
            elif isinstance(part.data, ImageBytes):
                ref["bytes"] = len(part.data.bytes) * 3 // 4
            step = _step_of(part)
            if step is None:
                if field != "glance":
                    loose.append(
                        {"step": None, "record": None, "set_at": ref["set_at"], field: ref}
                    )
                continue
            item = by_step.setdefault(step, {"step": step, "key": None, "record": None})
            item.setdefault(field, ref)  # newest first: keep the latest version of the step
    ordered = sorted(by_step.values(), key=lambda item: item["step"])
    last: dict[str, int] = {}
    for item in ordered:
        for field in ("screenshot", "observation"):
            if field in item:
                last[field] = item["step"]
            elif field in last:
                item[f"{field}_from"] = last[field]
    return ordered + sorted(loose, key=lambda item: item["set_at"])
