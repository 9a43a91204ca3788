"""Query parameters, parsed alike by the contract routes and the viewer's JSON API."""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request

__all__ = ["int_param"]


def int_param(request: Request, name: str, default: int, low: int, high: int) -> int:
    """The query parameter `name` as an integer in [low, high], `default` when absent or
    empty; anything else (signs, fractions, non-ASCII digits) is a 400 for the app's
    error handler to answer as JSON."""
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    if not raw.isascii() or not raw.isdigit() or not low <= int(raw) <= high:
        raise HTTPException(
            400, f"query parameter {name!r} must be an integer from {low} to {high}"
        )
    return int(raw)
