"""The viewer: a page at `/` that shows each thread exactly as an agent would receive it.

The page is static HTML, CSS and JavaScript shipped in `capture/store/static/` (no build
step). It polls a small JSON API under `/viewer/api/` that reads the store directly, because
the Session Store API has no way to ask for expiries or history metadata without moving every
past screenshot on every poll. Images travel separately, one immutable version at a time.

Everything stored is untrusted input: the page builds its DOM with `textContent` only, and a
strict Content-Security-Policy (no inline script, no foreign origins) backs that up. API
responses carry `sandbox` so that even a stored SVG opened directly cannot run script here.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Route

from capture.session import ImageBytes, ImagePart, ImageUrl, TextPart, read_part
from capture.store._base import HISTORY_PREFIX, Entry, HistoryEntry, Store, utc_now
from capture.store._query import int_param

__all__ = ["RUN_KEY", "STEP_KEY", "VIEWER_PUBLIC_PATHS", "ViewerData", "viewer_routes"]

STATIC_DIR = Path(__file__).parent / "static"
VIEWER_PUBLIC_PATHS = frozenset({"/", "/static/viewer.js", "/static/viewer.css"})
"""The page shell: no data in it, so it loads without the token (the JSON API needs it)."""
RUN_KEY = "capture.run"
"""The recorder's run record (`capture.recorder._records`)."""
STEP_KEY = re.compile(r"^capture\.step\.(\d+)$")
"""The recorder's step records: `capture.step.000007`."""
SCREENSHOT_KEY = HISTORY_PREFIX + "screenshot"
OBSERVATION_KEY = HISTORY_PREFIX + "observation"
TIMELINE_KEYS = (SCREENSHOT_KEY, OBSERVATION_KEY)

# Raster types an <img> shows; anything else (SVG above all) is served as opaque bytes.
_IMAGE_TYPES = frozenset({"image/jpeg", "image/png", "image/gif", "image/webp"})
_STEP_IN_NAME = re.compile(r"step[-_ .]?0*(\d+)", re.IGNORECASE)
_STEP_IN_TEXT = re.compile(r"\bstep\s*#?\s*0*(\d+)", re.IGNORECASE)

PAGE_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
API_CSP = "default-src 'none'; sandbox; frame-ancestors 'none'"
_SECURITY_HEADERS = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "cache-control": "no-store",
}


def _iso(moment: datetime | None) -> str | None:
    """Full precision: a history version's `set_at` is also its id in image requests."""
    return None if moment is None else moment.astimezone(UTC).isoformat()


def _parse(value_json: str) -> Any:
    try:
        return json.loads(value_json)
    except ValueError:
        return value_json


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


def _image_bytes(value_json: str) -> tuple[bytes, str] | None:
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


@dataclass
class _Snapshot:
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
        self._cache: OrderedDict[str, tuple[tuple[Any, ...], _Snapshot]] = OrderedDict()
        self._cache_size = cache_size

    async def threads(self, limit: int, offset: int) -> dict[str, Any]:
        rows = await self.store.list_sessions(None, limit, offset)
        threads = []
        for row in rows:
            run = await self.store.get(row.thread_id, RUN_KEY) if RUN_KEY in row.keys else None
            threads.append(
                {
                    "thread_id": row.thread_id,
                    "key_count": len(row.keys),
                    "updated_at": _iso(row.updated_at),
                    "run": None if run is None else _parse(run),
                }
            )
        return {"now": _iso(utc_now()), "threads": threads}

    async def thread(self, thread_id: str) -> _Snapshot | None:
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

    async def _build(self, thread_id: str, entries: dict[str, Entry]) -> _Snapshot:
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
                part, proper = read_part(value)
                parts.append(
                    {
                        "key": key,
                        "part": _describe_part(part),
                        "proper_part": proper,
                        "set_at": _iso(entry.updated_at),
                        "expiry": expiry,
                    }
                )
            elif key == RUN_KEY:
                run = {"key": key, "value": value, "expiry": expiry}
            elif match := STEP_KEY.match(key):
                steps.append(
                    {"key": key, "step": int(match.group(1)), "record": value, "expiry": expiry}
                )
            else:
                others.append({"key": key, "value": value, "expiry": expiry})
        rank = {key: i for i, key in enumerate(TIMELINE_KEYS)}
        parts.sort(key=lambda p: (rank.get(p["key"], len(rank)), p["key"]))
        timeline = _timeline(steps, histories)
        body = {
            "thread_id": thread_id,
            "parts": parts,
            "run": run,
            "steps": timeline,
            "values": others,
        }
        version = _digest(json.dumps(body, sort_keys=True, default=str))
        return _Snapshot(version, {**body, "version": version})

    async def image(self, thread_id: str, key: str, at: str | None) -> tuple[bytes, str] | None:
        """The image bytes of the current value of `key`, or of its version set at `at`."""
        if at is None:
            value_json = await self.store.get(thread_id, key)
        else:
            versions = await self.store.history(thread_id, key, self.history_limit)
            value_json = next((v.value_json for v in versions if _iso(v.set_at) == at), None)
        return None if value_json is None else _image_bytes(value_json)


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def _timeline(
    steps: list[dict[str, Any]], histories: dict[str, list[HistoryEntry]]
) -> list[dict[str, Any]]:
    """Step records joined with the versions of the screenshot and observation they produced.

    A version names its step (image `name`, observation header). A step with no version of
    its own (an unchanged page is not re-uploaded) points at the latest earlier one instead.
    Versions with no step record (records expired or trimmed) still get an entry.
    """
    by_step: dict[int, dict[str, Any]] = {s["step"]: dict(s) for s in steps}
    loose: list[dict[str, Any]] = []
    for key, versions in histories.items():
        field = "screenshot" if key == SCREENSHOT_KEY else "observation"
        for entry in versions:
            part, _ = read_part(_parse(entry.value_json))
            ref: dict[str, Any] = {"set_at": _iso(entry.set_at), "expiry": _iso(entry.expiry)}
            if field == "observation":
                ref["text"] = part.data if isinstance(part, TextPart) else ""
            step = _step_of(part)
            if step is None:
                loose.append({"step": None, "record": None, "set_at": ref["set_at"], field: ref})
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
    return sorted(ordered, key=lambda item: -item["step"]) + loose


def _json(body: Any, status: int = 200) -> JSONResponse:
    return JSONResponse(
        body, status, headers={**_SECURITY_HEADERS, "content-security-policy": API_CSP}
    )


def viewer_routes(store: Store) -> list[BaseRoute]:
    """The viewer's routes: the page at `/`, its static files, and its JSON API.

    The app's token guard covers the JSON API like the contract routes; only the page shell
    (`VIEWER_PUBLIC_PATHS`, which holds no data) loads without the token.
    """
    data = ViewerData(store)

    async def page(request: Request) -> Response:
        headers = {**_SECURITY_HEADERS, "content-security-policy": PAGE_CSP}
        return FileResponse(STATIC_DIR / "index.html", headers=headers)

    async def static(request: Request) -> Response:
        name = request.path_params["name"]
        if name not in ("viewer.js", "viewer.css"):
            return _json({"error": "not found"}, 404)
        return FileResponse(STATIC_DIR / name, headers=_SECURITY_HEADERS)

    async def threads(request: Request) -> Response:
        limit = int_param(request, "limit", 50, 1, 500)
        offset = int_param(request, "offset", 0, 0, 10**9)
        return _json(await data.threads(limit, offset))

    async def thread(request: Request) -> Response:
        thread_id = request.query_params.get("id", "")
        snapshot = await data.thread(thread_id) if thread_id else None
        if snapshot is None:
            return _json({"error": f"no live values in thread {thread_id!r}"}, 404)
        now = _iso(utc_now())
        if request.query_params.get("since") == snapshot.version:
            return _json({"version": snapshot.version, "unchanged": True, "now": now})
        return _json({**snapshot.body, "now": now})

    async def image(request: Request) -> Response:
        params = request.query_params
        found = await data.image(params.get("thread", ""), params.get("key", ""), params.get("at"))
        if found is None:
            return _json({"error": "no such image"}, 404)
        raw, mime = found
        headers = {**_SECURITY_HEADERS, "content-security-policy": API_CSP}
        if params.get("at"):
            headers["cache-control"] = "private, max-age=86400, immutable"
        return Response(raw, media_type=mime, headers=headers)

    return [
        Route("/", page, methods=["GET"]),
        Route("/static/{name}", static, methods=["GET"]),
        Route("/viewer/api/threads", threads, methods=["GET"]),
        Route("/viewer/api/thread", thread, methods=["GET"]),
        Route("/viewer/api/image", image, methods=["GET"]),
    ]
