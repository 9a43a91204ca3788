"""A `select` step's options, checked before choosing: an option the <select> does not have
is named, with the ones it has, instead of Playwright waiting out the step's time limit."""

from __future__ import annotations

from playwright.async_api import Locator

__all__ = ["missing_options"]

# [value, label] of each option, or null when the element is not a <select> (Playwright
# then explains what it found).
_OPTIONS = (
    "el => el instanceof HTMLSelectElement"
    " ? Array.from(el.options, o => [o.value, o.label.trim()]) : null"
)
_SHOWN = 20  # options listed at most


async def missing_options(found: Locator, wanted: str | list[str], timeout_ms: float) -> str | None:
    """Why `wanted` cannot be selected in `found` (None when every option exists there)."""
    options: list[list[str]] | None = await found.evaluate(_OPTIONS, timeout=timeout_ms)
    if options is None:
        return None
    known = {text for pair in options for text in pair}
    missing = [w for w in ([wanted] if isinstance(wanted, str) else wanted) if w not in known]
    if not missing:
        return None
    labels = [label or value for value, label in options]
    shown = ", ".join(repr(label) for label in labels[:_SHOWN])
    more = f" and {len(labels) - _SHOWN} more" if len(labels) > _SHOWN else ""
    which = ", ".join(repr(m) for m in missing)
    plural = "s" if len(missing) > 1 else ""
    return f"has no option{plural} {which}; its options are {shown or 'none'}{more}"
