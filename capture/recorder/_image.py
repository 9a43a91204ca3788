"""The screenshot's pixels: scale to a model preset, black out sensitive fields, fit the budget.

Pure functions on bytes, shared by the async and sync recorders and run in a worker thread
so encoding never blocks the event loop. Masks are drawn in the pixels (not by restyling the
page) so the person's page is never touched. They stay solid through JPEG encoding:

- each mask is padded and aligned outward to the 8 px luma block grid, so every luma block
  is either all black (encodes to exactly black) or holds no masked pixel;
- with 4:2:0 subsampling a chroma block spans 16 px, so around each mask the pixels up to
  the 16 px grid are turned gray: the chroma block is then uniform too and cannot ring
  colour into the mask. (Aligning the mask itself to 16 px would black out the labels next
  to a field; graying a few pixels keeps them readable.)
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

from PIL import Image, ImageDraw

__all__ = [
    "BLOCK",
    "EncodedImage",
    "RectLike",
    "extension",
    "finish_image",
    "fit_scale",
    "mask_boxes",
]

Preset = Literal["claude", "openai", "none"]
Box = tuple[int, int, int, int]

BLOCK = 8  # JPEG luma block
CHROMA_BLOCK = 16  # JPEG chroma block with 4:2:0 subsampling (Pillow's default)
MASK_PAD = 2  # pixels around each field: its focus ring is masked too
_SCALE_STEPS = (1.0, 0.8, 0.64, 0.5, 0.4, 0.3, 0.2)
_QUALITY_FLOOR = (60, 50, 40)
_MIME = {"jpeg": "image/jpeg", "png": "image/png"}


class RectLike(Protocol):
    """A rectangle in viewport CSS pixels (`capture.recorder.observe.Rect` fits)."""

    @property
    def x(self) -> float: ...
    @property
    def y(self) -> float: ...
    @property
    def width(self) -> float: ...
    @property
    def height(self) -> float: ...


@dataclass(frozen=True)
class EncodedImage:
    """The final image bytes and how they were made (sizes in image pixels)."""

    data: bytes
    mime_type: str
    width: int
    height: int
    quality: int | None
    masked: int
    fits: bool
    boxes: tuple[Box, ...] = ()
    """The masked boxes (left, top, right, bottom) in this image's pixels."""

    @property
    def extension(self) -> str:
        return extension(self.mime_type)


def extension(mime_type: str) -> str:
    """The file extension of an image MIME type the recorder writes."""
    return "jpg" if mime_type == "image/jpeg" else "png"


def fit_scale(width: float, height: float, preset: Preset, max_scale: float = 1.0) -> float:
    """Factor from CSS pixels to image pixels for a viewport of `width` x `height` CSS px.

    `claude` fits the long edge in 1568 px (larger images are downscaled by the API anyway,
    costing upload bytes for nothing); `openai` fits 2048 px long and 768 px short (its
    high-detail tiling); `none` keeps device resolution. Never above `max_scale` (the device
    scale factor): upscaling adds bytes, not detail.
    """
    long_edge, short_edge = max(width, height), min(width, height)
    if long_edge <= 0:
        return max_scale
    if preset == "claude":
        return min(max_scale, 1568 / long_edge)
    if preset == "openai":
        return min(max_scale, 2048 / long_edge, 768 / short_edge)
    return max_scale


def mask_boxes(
    rects: Iterable[RectLike], factor: float, size: tuple[int, int], *, pad: float = MASK_PAD
) -> list[Box]:
    """Image-pixel boxes for CSS-pixel `rects`: padded, block-aligned outward, clipped.

    Rects entirely outside the image are left out.
    """
    width, height = size
    boxes: list[Box] = []
    for rect in rects:
        if rect.width <= 0 or rect.height <= 0:
            continue
        left = int((rect.x - pad) * factor) // BLOCK * BLOCK
        top = int((rect.y - pad) * factor) // BLOCK * BLOCK
        right = -(-int((rect.x + rect.width + pad) * factor + 1) // BLOCK) * BLOCK
        bottom = -(-int((rect.y + rect.height + pad) * factor + 1) // BLOCK) * BLOCK
        left, top = max(0, left), max(0, top)
        right, bottom = min(width, right), min(height, bottom)
        if right > left and bottom > top:
            boxes.append((left, top, right, bottom))
    return boxes


def _draw_masks(image: Image.Image, boxes: list[Box]) -> None:
    """Black out `boxes` in place, graying their surroundings up to the chroma grid."""
    width, height = image.size
    for left, top, right, bottom in boxes:
        outer = (
            left // CHROMA_BLOCK * CHROMA_BLOCK,
            top // CHROMA_BLOCK * CHROMA_BLOCK,
            min(width, -(-right // CHROMA_BLOCK) * CHROMA_BLOCK),
            min(height, -(-bottom // CHROMA_BLOCK) * CHROMA_BLOCK),
        )
        image.paste(image.crop(outer).convert("L").convert("RGB"), outer[:2])
    draw = ImageDraw.Draw(image)
    for left, top, right, bottom in boxes:
        draw.rectangle((left, top, right - 1, bottom - 1), fill=(0, 0, 0))


def _encode(image: Image.Image, fmt: str, quality: int) -> bytes:
    out = io.BytesIO()
    if fmt == "jpeg":
        image.save(out, "JPEG", quality=quality, subsampling="4:2:0")
    else:
        image.save(out, "PNG", compress_level=1)
    return out.getvalue()


def _qualities(fmt: str, quality: int) -> list[int]:
    if fmt != "jpeg":
        return [quality]
    return [quality, *(q for q in _QUALITY_FLOOR if q < quality)]


def finish_image(
    raw: bytes,
    *,
    css_size: tuple[float, float],
    rects: Sequence[RectLike],
    fmt: Literal["jpeg", "png"],
    quality: int,
    target_width: int,
    fits: Callable[[bytes], bool],
    raw_is_final: bool = False,
) -> EncodedImage:
    """Turn a raw viewport screenshot into the stored image.

    `raw` may already be at the target size; `raw_is_final` says it was also encoded in
    `fmt` at `quality`, so with nothing in view to mask and a fitting size it is kept byte
    for byte (the fast path: no decode, no re-encode). Otherwise: decode, scale to `target_width`,
    black out `rects`, encode; while `fits(data)` is false, step the quality down, then the
    scale. `fits` is the caller's byte-budget check of the whole request body.
    """
    mime = _MIME[fmt]
    if raw_is_final and fits(raw):
        with Image.open(io.BytesIO(raw)) as probe:
            width, height = probe.size
        in_view = mask_boxes(rects, width / (css_size[0] or width), (width, height))
        if width == target_width and not in_view:
            return EncodedImage(raw, mime, width, height, quality, 0, True)
    # Decoded once and masked in place (a copy of a 1280x800 image costs ~5 ms of a
    # capture the test waits for): a smaller step below resizes the masked pixels and masks
    # again at its own scale.
    opened = Image.open(io.BytesIO(raw))
    opened.load()
    base = opened if opened.mode == "RGB" else opened.convert("RGB")
    css_width = css_size[0] or base.width
    best: EncodedImage | None = None
    for step in _SCALE_STEPS:
        width = max(1, round(target_width * step))
        height = max(1, round(base.height * width / base.width))
        image = (
            base
            if (width, height) == base.size
            else base.resize((width, height), Image.Resampling.BILINEAR)
        )
        boxes = mask_boxes(rects, width / css_width, (width, height))
        if boxes:
            _draw_masks(image, boxes)
        for q in _qualities(fmt, quality):
            data = _encode(image, fmt, q)
            best = EncodedImage(
                data,
                mime,
                width,
                height,
                q if fmt == "jpeg" else None,
                len(boxes),
                fits(data),
                tuple(boxes),
            )
            if best.fits:
                return best
    assert best is not None
    return best
