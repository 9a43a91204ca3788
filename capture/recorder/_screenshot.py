"""Taking the viewport screenshot: raw CDP `Page.captureScreenshot`, scaled by the compositor.

Raw CDP is about 1.5-3x faster than `page.screenshot()` (no stable-frame wait, no caret and
animation restyling) and it can scale in the compositor via `clip.scale`, so a 2560x1600
viewport arrives at 1568 px without a resize in Python. Non-Chromium browsers fall back to
`page.screenshot()`. The parameter building is pure and shared by both recorder faces.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from PIL import Image

from capture.recorder._image import Preset, RectLike, fit_scale

__all__ = [
    "CARET_JS",
    "Shot",
    "ShotPlan",
    "Viewport",
    "decode_shot",
    "fallback_options",
    "fallback_shot",
    "plan_shot",
    "viewport_from_metrics",
]


# The text caret blinks, so two screenshots of an unchanged page with a focused field
# would differ and defeat change detection (page.screenshot() hides it the same way).
# `CARET_JS(true)` makes the caret of the focused editable element transparent (followed
# through open shadow roots and same-origin frames), `CARET_JS(false)` restores its inline
# style. Only that one element is touched, and only for the duration of the screenshot.
CARET_JS = """(hide) => {
  const KEY = Symbol.for("capture.caret");
  const saved = window[KEY] || (window[KEY] = new Map());
  if (!hide) {
    for (const [el, [value, priority]] of saved) {
      el.style.setProperty("caret-color", value, priority);
    }
    saved.clear();
    return false;
  }
  let el = document.activeElement;
  for (;;) {
    if (el && el.shadowRoot && el.shadowRoot.activeElement) {
      el = el.shadowRoot.activeElement;
      continue;
    }
    let inner = null;
    try { inner = el && el.contentDocument && el.contentDocument.activeElement; } catch (e) {}
    if (inner && inner !== el) { el = inner; continue; }
    break;
  }
  if (!el || !(el.isContentEditable || el.matches("input, textarea"))) return false;
  // A capture cut short may not have restored yet: the first saved style is the original.
  if (!saved.has(el)) {
    const css = el.style;
    saved.set(el, [css.getPropertyValue("caret-color"), css.getPropertyPriority("caret-color")]);
  }
  el.style.setProperty("caret-color", "transparent", "important");
  return true;
}"""


@dataclass(frozen=True)
class Viewport:
    """The visible area in document CSS pixels (CDP clips are document-relative)."""

    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True)
class Shot:
    """A raw screenshot and how it was taken."""

    data: bytes
    viewport: Viewport
    target_width: int
    final: bool  # encoded in the configured format and quality already


def viewport_from_metrics(metrics: dict[str, Any]) -> Viewport:
    """Read `Page.getLayoutMetrics`: the CSS visual viewport (pinch zoom included)."""
    vv = metrics["cssVisualViewport"]
    return Viewport(
        float(vv["pageX"]), float(vv["pageY"]), float(vv["clientWidth"]), float(vv["clientHeight"])
    )


@dataclass(frozen=True)
class ShotPlan:
    """How to take one screenshot: CDP parameters, the expected width, and whether the
    browser's bytes can be stored as they are (nothing visible to mask)."""

    params: dict[str, Any]
    width: int
    final: bool


def _visible(rect: RectLike, viewport: Viewport) -> bool:
    """Whether a viewport-relative rect overlaps the viewport."""
    return (
        rect.x < viewport.width
        and rect.y < viewport.height
        and rect.x + rect.width > 0
        and rect.y + rect.height > 0
    )


def plan_shot(
    viewport: Viewport,
    rects: Sequence[RectLike],
    *,
    preset: Preset,
    fmt: Literal["jpeg", "png"],
    quality: int,
) -> ShotPlan:
    """Plan the `Page.captureScreenshot` call.

    Images are at most CSS resolution (a model reads text at CSS resolution, device pixels
    quadruple the bytes). With a sensitive field in view, the browser encodes at a high
    quality because the image is decoded, masked and encoded once more.
    """
    masking = any(_visible(rect, viewport) for rect in rects)
    scale = fit_scale(viewport.width, viewport.height, preset)
    # optimizeForSpeed: Chromium's faster encoder settings; about 5 of a capture's 35 ms on a
    # 1280x800 page, and the same bytes for JPEG (older Chromiums ignore the field).
    params: dict[str, Any] = {
        "format": fmt,
        "captureBeyondViewport": False,
        "optimizeForSpeed": True,
    }
    if fmt == "jpeg":
        params["quality"] = 92 if masking else quality
    if scale < 1.0:
        params["clip"] = {
            "x": viewport.x,
            "y": viewport.y,
            "width": viewport.width,
            "height": viewport.height,
            "scale": scale,
        }
    return ShotPlan(params, max(1, round(viewport.width * scale)), final=not masking)


def decode_shot(answer: dict[str, Any]) -> bytes:
    """The image bytes of a `Page.captureScreenshot` answer."""
    return base64.b64decode(answer["data"])


def fallback_options(fmt: Literal["jpeg", "png"], quality: int) -> dict[str, Any]:
    """`page.screenshot()` keyword arguments for browsers without CDP: every one of them,
    as the object behind a sync-API page takes no defaults (see `capture.browser._internals`)."""
    return {
        "timeout": None,
        "type": fmt,
        "path": None,
        "quality": quality if fmt == "jpeg" else None,
        "omit_background": None,
        "full_page": None,
        "clip": None,
        "animations": None,
        "caret": None,
        "scale": "css",
        "mask": None,
        "mask_color": None,
        "style": None,
    }


def fallback_shot(data: bytes, preset: Preset) -> Shot:
    """A `page.screenshot(scale="css")` image (browsers without CDP): image px = CSS px."""
    with Image.open(io.BytesIO(data)) as image:
        width, height = image.size
    target = max(1, round(width * fit_scale(width, height, preset)))
    return Shot(data, Viewport(0, 0, width, height), target, final=False)
