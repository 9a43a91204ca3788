"""The viewer: a page at `/` that plays each thread step by step, as an agent received it.

The page is static HTML, CSS and JavaScript shipped in `capture/store/static/` (no build
step). It polls a small JSON API under `/viewer/api/` that reads the store directly
(`_viewer_data`). Images travel separately, one immutable version at a time.

Everything stored is untrusted input: the page builds its DOM with `textContent` only, and a
strict Content-Security-Policy (no inline script, no foreign origins) backs that up. API
responses carry `sandbox` so that even a stored SVG opened directly cannot run script here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Route

from capture.store._base import Store, utc_now
from capture.store._query import int_param
from capture.store._viewer_data import ViewerData

__all__ = ["VIEWER_PUBLIC_PATHS", "viewer_routes"]

STATIC_DIR = Path(__file__).parent / "static"
STATIC_FILES = ("viewer.js", "player.js", "viewer.css")
VIEWER_PUBLIC_PATHS = frozenset({"/", *(f"/static/{name}" for name in STATIC_FILES)})
"""The page shell: no data in it, so it loads without the token (the JSON API needs it)."""
_TONES = frozenset({"ok", "failed", "running", "none", "unknown"})

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
        if name not in STATIC_FILES:
            return _json({"error": "not found"}, 404)
        return FileResponse(STATIC_DIR / name, headers=_SECURITY_HEADERS)

    async def threads(request: Request) -> Response:
        limit = int_param(request, "limit", 50, 1, 500)
        offset = int_param(request, "offset", 0, 0, 10**9)
        query = request.query_params.get("q", "")
        tone = request.query_params.get("status", "")
        if tone and tone not in _TONES:
            return _json({"error": f"status must be one of {', '.join(sorted(_TONES))}"}, 400)
        return _json(await data.threads(limit, offset, query=query, tone=tone))

    async def thread(request: Request) -> Response:
        thread_id = request.query_params.get("id", "")
        snapshot = await data.thread(thread_id) if thread_id else None
        if snapshot is None:
            return _json({"error": f"no live values in thread {thread_id!r}"}, 404)
        now = utc_now().isoformat()
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
