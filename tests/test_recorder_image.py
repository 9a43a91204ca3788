"""The screenshot's pixels: preset scaling, solid masks after JPEG, the byte budget."""

from __future__ import annotations

import io
import random
from dataclasses import dataclass

import pytest
from PIL import Image, ImageDraw

from capture.recorder._image import BLOCK, EncodedImage, finish_image, fit_scale, mask_boxes


@dataclass(frozen=True)
class R:
    x: float
    y: float
    width: float
    height: float


def _noisy_page(width: int, height: int, seed: int = 1) -> bytes:
    """A busy, text-like image (hard to compress), as a browser would send it."""
    rng = random.Random(seed)
    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    for _ in range(width * height // 400):
        x, y = rng.randrange(width), rng.randrange(height)
        color = (rng.randrange(256), rng.randrange(256), rng.randrange(256))
        draw.rectangle((x, y, x + rng.randrange(2, 12), y + rng.randrange(2, 8)), fill=color)
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


@pytest.mark.parametrize(
    ("size", "preset", "expected"),
    [
        ((1280, 800), "claude", 1.0),
        ((2560, 1600), "claude", 1568 / 2560),
        ((800, 2560), "claude", 1568 / 2560),
        ((1280, 800), "openai", 768 / 800),
        ((4000, 1000), "openai", 2048 / 4000),
        ((2560, 1600), "none", 1.0),
    ],
)
def test_fit_scale_presets(size: tuple[int, int], preset: str, expected: float) -> None:
    assert fit_scale(*size, preset) == pytest.approx(expected)  # type: ignore[arg-type]


def test_mask_boxes_are_padded_block_aligned_and_clipped() -> None:
    boxes = mask_boxes(
        [R(100, 50, 200, 30), R(-50, -50, 10, 10), R(1270, 790, 100, 100)], 1.0, (1280, 800)
    )
    assert boxes[0] == (96, 48, 304, 88)  # 2 px padding, then out to the 8 px grid
    assert all(v % BLOCK == 0 or v in (1280, 800) for box in boxes for v in box)
    assert boxes[-1][2:] == (1280, 800)
    assert len(boxes) == 2  # the rect outside the image is left out


def _decode(data: bytes) -> Image.Image:
    return Image.open(io.BytesIO(data)).convert("RGB")


def _uniform(region: Image.Image) -> bool:
    """Solid black: every channel takes one value, and that value is (near) zero."""
    return all(low == high <= 2 for low, high in region.getextrema())


def _jpeg(
    raw: bytes,
    css_size: tuple[int, int],
    rects: list[R],
    *,
    target_width: int,
    quality: int = 70,
    raw_is_final: bool = False,
) -> EncodedImage:
    """`finish_image` to a JPEG with no byte budget (every size fits): masking and scaling."""
    return finish_image(
        raw,
        css_size=css_size,
        rects=rects,
        fmt="jpeg",
        quality=quality,
        target_width=target_width,
        fits=lambda _: True,
        raw_is_final=raw_is_final,
    )


@pytest.mark.parametrize("quality", [95, 70, 40])
def test_masked_region_is_solid_black_after_jpeg(quality: int) -> None:
    raw = _noisy_page(1280, 800)
    field = R(313.5, 201.25, 257, 31)
    image = _jpeg(raw, (1280, 800), [field], target_width=1280, quality=quality)
    assert image.masked == 1
    assert _uniform(_decode(image.data).crop((313, 201, 313 + 258, 201 + 32)))


def test_masks_anywhere_at_any_scale_stay_solid_next_to_colour() -> None:
    rng = random.Random(7)
    raw = _noisy_page(1600, 1000, seed=3)  # busy and colourful right up to every mask
    for target in (1600, 1568, 1229, 999):
        f = target / 1600
        fields = [
            R(rng.uniform(0, 1500), rng.uniform(0, 950), rng.uniform(5, 300), rng.uniform(5, 60))
            for _ in range(12)
        ]
        image = _jpeg(raw, (1600, 1000), fields, target_width=target)
        decoded = _decode(image.data)
        for r in fields:
            box = (
                int(r.x * f),
                int(r.y * f),
                int((r.x + r.width) * f) + 1,
                int((r.y + r.height) * f) + 1,
            )
            clipped = (box[0], box[1], min(box[2], decoded.width), min(box[3], decoded.height))
            assert _uniform(decoded.crop(clipped)), (target, r)


def test_mask_follows_downscaling() -> None:
    raw = _noisy_page(2560, 1600)
    field = R(1000, 700, 400, 40)
    image = _jpeg(raw, (2560, 1600), [field], target_width=1568)
    assert (image.width, image.height) == (1568, 980)
    f = 1568 / 2560
    region = _decode(image.data).crop(
        (int(1000 * f), int(700 * f), int(1400 * f) + 1, int(740 * f) + 1)
    )
    assert _uniform(region)


def test_budget_steps_quality_then_scale() -> None:
    raw = _noisy_page(1568, 980)
    sizes: list[int] = []

    def fits(data: bytes) -> bool:
        sizes.append(len(data))
        return len(data) <= 60_000

    image = finish_image(
        raw, css_size=(1568, 980), rects=[], fmt="jpeg", quality=90, target_width=1568, fits=fits
    )
    assert image.fits
    assert len(image.data) <= 60_000
    assert len(sizes) > 1
    assert sizes[-1] < sizes[0]
    assert image.width < 1568 or (image.quality is not None and image.quality < 90)


def _browser_jpeg() -> bytes:
    """A 640x400 page as the browser sends it on the fast path: JPEG at the quality set."""
    out = io.BytesIO()
    Image.open(io.BytesIO(_noisy_page(640, 400))).convert("RGB").save(out, "JPEG", quality=70)
    return out.getvalue()


def _finish_final(raw: bytes, rects: list[R]) -> bytes:
    """`finish_image` on browser bytes that are final already (the fast path's input)."""
    return _jpeg(raw, (640, 400), rects, target_width=640, raw_is_final=True).data


def test_fast_path_keeps_browser_bytes() -> None:
    raw = _browser_jpeg()
    assert _finish_final(raw, []) == raw


def test_png_format_and_impossible_budget() -> None:
    raw = _noisy_page(400, 300)
    image = finish_image(
        raw,
        css_size=(400, 300),
        rects=[],
        fmt="png",
        quality=70,
        target_width=400,
        fits=lambda _: False,
    )
    assert image.mime_type == "image/png"
    assert not image.fits
    assert image.width == round(400 * 0.2)


def test_fast_path_ignores_fields_out_of_view_but_never_one_in_view() -> None:
    raw = _browser_jpeg()
    assert _finish_final(raw, [R(10, 900, 100, 20)]) == raw  # below the fold
    masked = _finish_final(raw, [R(10, 10, 100, 20)])
    assert masked != raw
    assert _uniform(_decode(masked).crop((10, 10, 110, 30)))
