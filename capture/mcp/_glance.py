"""The glance: the small image an action's answer carries, and when it carries one.

A full 1280x800 screenshot is about 45k base64 characters; sent after every step that
changed the page, it made a demo-shop drive ten times heavier than Playwright MCP's. An
answer's text already says what changed, so its image only has to show the page's look:
a glance, at most `GLANCE_EDGE` px on the long edge in at most `GLANCE_BYTES` of JPEG.
`browser_take_screenshot` still answers with the full image, and the thread keeps it.

The glance is made from the image the recorder captured, in which the sensitive fields
are black already: no second screenshot is taken (one without masks must never exist), and
scaling a black box down keeps it black.

With `--image changed` a glance goes out when it tells the client something: for the
first image, on a new URL (the fragment aside), or when the page looks different from the
last image sent: more than `CHANGED_CELLS` of the cells of a `THUMB_EDGE` px grayscale
thumbnail moved by more than `CELL_LEVELS` levels. A few typed letters move fewer; a new
panel, message or page more.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urldefrag

from PIL import Image, ImageChops

from capture.recorder import EncodedImage

__all__ = [
    "CELL_LEVELS",
    "CHANGED_CELLS",
    "GLANCE_BYTES",
    "GLANCE_EDGE",
    "THUMB_EDGE",
    "Glances",
    "ImageMode",
    "encode_glance",
    "looks_different",
]

ImageMode = Literal["always", "changed", "never"]

GLANCE_EDGE = 512  # px, the long edge
GLANCE_BYTES = 3072
THUMB_EDGE = 64  # px, the long edge of the thumbnail compared between looks
CELL_LEVELS = 12  # of 255: a thumbnail cell that moved more has changed
CHANGED_CELLS = 0.02  # the share of changed cells that makes the page look different
# Tried in order until the JPEG fits: quality first (text stays legible longer than at a
# smaller size), then the size. A page-like image fits long before the last; one that
# does not (noise) is sent at the smallest, marked `fits=False`.
_EDGES = (512, 448, 384, 320, 256, 192, 128)
_QUALITIES = (45, 35, 25, 18, 12)


@dataclass(frozen=True)
class _Look:
    """What a glance decision needs of one captured image."""

    url: str
    thumb: Image.Image
    base: Image.Image  # decoded at a size the glance scales down from


def _look(image: EncodedImage, url: str) -> _Look:
    """Decode `image` once, about at glance size (JPEG decodes at 1/2, 1/4... for free)."""
    with Image.open(io.BytesIO(image.data)) as opened:
        opened.draft("RGB", (GLANCE_EDGE, GLANCE_EDGE))
        base = opened.convert("RGB")
    gray = base.convert("L")
    gray.thumbnail((THUMB_EDGE, THUMB_EDGE), Image.Resampling.BOX)
    return _Look(urldefrag(url).url, gray, base)


def looks_different(before: Image.Image, after: Image.Image) -> bool:
    """More than `CHANGED_CELLS` of the thumbnails' cells moved by over `CELL_LEVELS`."""
    if before.size != after.size:
        return True
    moved = ImageChops.difference(before, after).point(lambda v: 255 if v > CELL_LEVELS else 0)
    cells = before.width * before.height
    return moved.histogram()[255] > CHANGED_CELLS * cells


def encode_glance(base: Image.Image) -> EncodedImage:
    """`base` as a JPEG within `GLANCE_EDGE` px and `GLANCE_BYTES`."""
    data, size, quality = b"", base.size, _QUALITIES[-1]
    for edge in _EDGES:
        scaled = base.copy()
        scaled.thumbnail((edge, edge), Image.Resampling.LANCZOS)
        size = scaled.size
        for quality in _QUALITIES:
            out = io.BytesIO()
            scaled.save(out, "JPEG", quality=quality, optimize=True, subsampling="4:2:0")
            data = out.getvalue()
            if len(data) <= GLANCE_BYTES:
                return EncodedImage(data, "image/jpeg", *size, quality, 0, True)
    return EncodedImage(data, "image/jpeg", *size, quality, 0, False)


class Glances:
    """Which captures an answer shows, per `--image`, and as what.

    `glance` is called from a worker thread (decoding and encoding take a few ms), one call
    at a time: the tools serve one call at a time.
    """

    def __init__(self, mode: ImageMode) -> None:
        self.mode = mode
        self._sent: _Look | None = None

    def glance(self, image: EncodedImage | None, url: str) -> EncodedImage | None:
        """The glance to send with the answer of a capture of `url`, or None."""
        if image is None or self.mode == "never":
            return None
        look = _look(image, url)
        if self.mode == "changed" and self._sent is not None:
            same_url = look.url == self._sent.url
            if same_url and not looks_different(self._sent.thumb, look.thumb):
                return None
        self._sent = look
        return encode_glance(look.base)

    def shown(self, image: EncodedImage, url: str) -> None:
        """The full `image` was sent (browser_take_screenshot): the next glance compares
        with it."""
        if self.mode != "never":
            self._sent = _look(image, url)
