"""Turn a thread's user parts into the content blocks a model API takes as a user message.

The same parts a Distri agent gets attached are rendered for Anthropic Messages, OpenAI Chat
Completions, OpenAI Responses, or kept as Distri parts, so a plain Python agent loop sees
exactly what a Distri agent would. Rendering is pure (no I/O): the `read_content` helpers only
add the one `get_user_parts` call in front of it.
"""

from __future__ import annotations

import base64
import binascii
import io
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Literal, get_args

from PIL import Image, UnidentifiedImageError

from capture.agent._distri import DEFAULT_KEYS
from capture.errors import AgentContextError
from capture.session import (
    USER_PART_PREFIX,
    AsyncSessionClient,
    ImageBytes,
    ImagePart,
    ImageUrl,
    SessionClient,
    TextPart,
)

__all__ = [
    "FORMATS",
    "Format",
    "fit_image",
    "order_parts",
    "read_content",
    "read_content_sync",
    "render_part",
    "render_parts",
    "user_message",
]

Format = Literal["anthropic", "openai", "openai-responses", "distri"]
FORMATS: tuple[str, ...] = get_args(Format)

# The image types both Anthropic and OpenAI accept; anything else is re-encoded as PNG.
_MODEL_MIME_TYPES = frozenset({"image/jpeg", "image/png", "image/gif", "image/webp"})
_PIL_FORMATS = {"image/jpeg": "JPEG", "image/png": "PNG", "image/gif": "GIF", "image/webp": "WEBP"}

AnyPart = TextPart | ImagePart


def order_parts(parts: Mapping[str, AnyPart], order: Sequence[str] = DEFAULT_KEYS) -> list[AnyPart]:
    """The parts named in `order` first (in that order), then the rest by name.

    Names may be given with or without the `__user_part_` prefix. The default puts the
    screenshot before the observation: the Distri snippet's order, and how a person reads a
    page (look, then read the outline).
    """
    wanted = [name.removeprefix(USER_PART_PREFIX) for name in order]
    first = [parts[name] for name in wanted if name in parts]
    rest = [part for name, part in sorted(parts.items()) if name not in wanted]
    return first + rest


def fit_image(data: str, mime_type: str, max_edge: int | None = None) -> tuple[str, str]:
    """Base64 image data scaled so its long edge is at most `max_edge`, in a model-ready type.

    Returns `(base64, mime_type)`. An image already small enough and of a type every model API
    accepts comes back untouched (no re-encoding loss); otherwise it is re-encoded with Pillow
    (same type when models accept it, else PNG).
    """
    if max_edge is not None and max_edge < 1:
        raise AgentContextError(f"max_edge must be a positive number of pixels, not {max_edge}")
    supported = mime_type in _MODEL_MIME_TYPES
    if supported and max_edge is None:
        return data, mime_type
    try:
        raw = base64.b64decode(data, validate=True)
        image: Image.Image = Image.open(io.BytesIO(raw))
        image.load()
    except (binascii.Error, ValueError, UnidentifiedImageError, OSError) as exc:
        raise AgentContextError(f"image part ({mime_type}) is not a readable image: {exc}") from exc
    if supported and (max_edge is None or max(image.size) <= max_edge):
        return data, mime_type
    if max_edge is not None:
        image.thumbnail((max_edge, max_edge), Image.Resampling.LANCZOS)
    out_mime = mime_type if supported else "image/png"
    out_format = _PIL_FORMATS[out_mime]
    if out_format == "JPEG" and image.mode not in ("RGB", "L"):
        image = image.convert("RGB")
    buffer = io.BytesIO()
    image.save(buffer, format=out_format, **({"quality": 85} if out_format == "JPEG" else {}))
    return base64.b64encode(buffer.getvalue()).decode("ascii"), out_mime


def _image(data: ImageBytes, fmt: Format, max_edge: int | None) -> dict[str, Any]:
    b64, mime = fit_image(data.bytes, data.mime_type, max_edge)
    if fmt == "distri":
        fitted = ImageBytes(bytes=b64, mime_type=mime, name=data.name)
        return ImagePart(data=fitted).model_dump(mode="json")
    if fmt == "anthropic":
        return {"type": "image", "source": {"type": "base64", "media_type": mime, "data": b64}}
    return _url_image(f"data:{mime};base64,{b64}", fmt)


def _url_image(url: str, fmt: Format) -> dict[str, Any]:
    if fmt == "anthropic":
        return {"type": "image", "source": {"type": "url", "url": url}}
    if fmt == "openai":
        return {"type": "image_url", "image_url": {"url": url}}
    # The Responses API requires `detail`; "auto" lets the model pick.
    return {"type": "input_image", "image_url": url, "detail": "auto"}


def render_part(part: AnyPart, fmt: Format, *, max_edge: int | None = None) -> dict[str, Any]:
    """One Distri part as one content block of `fmt`.

    An image given by URL is passed on by URL and cannot be resized (it is never fetched).
    """
    if fmt not in FORMATS:
        raise AgentContextError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")
    if isinstance(part, TextPart):
        if fmt == "distri":
            return part.model_dump(mode="json")
        return {"type": "input_text" if fmt == "openai-responses" else "text", "text": part.data}
    if isinstance(part.data, ImageUrl):
        return part.model_dump(mode="json") if fmt == "distri" else _url_image(part.data.url, fmt)
    return _image(part.data, fmt, max_edge)


def render_parts(
    parts: Mapping[str, AnyPart] | Iterable[AnyPart],
    fmt: Format,
    *,
    max_edge: int | None = None,
    order: Sequence[str] = DEFAULT_KEYS,
) -> list[dict[str, Any]]:
    """Content blocks for every part; a mapping (as `get_user_parts` returns) is ordered first."""
    items = order_parts(parts, order) if isinstance(parts, Mapping) else list(parts)
    return [render_part(part, fmt, max_edge=max_edge) for part in items]


def user_message(content: list[dict[str, Any]], fmt: Format) -> dict[str, Any]:
    """Wrap content blocks as a user message of `fmt` (Distri messages carry `parts`)."""
    if fmt == "distri":
        return {"role": "user", "parts": content}
    return {"role": "user", "content": content}


async def read_content(
    client: AsyncSessionClient,
    thread_id: str,
    fmt: Format,
    *,
    max_edge: int | None = None,
    order: Sequence[str] = DEFAULT_KEYS,
) -> list[dict[str, Any]]:
    """The thread's current user parts as content blocks of `fmt`."""
    parts = await client.get_user_parts(thread_id)
    return render_parts(parts, fmt, max_edge=max_edge, order=order)


def read_content_sync(
    client: SessionClient,
    thread_id: str,
    fmt: Format,
    *,
    max_edge: int | None = None,
    order: Sequence[str] = DEFAULT_KEYS,
) -> list[dict[str, Any]]:
    """`read_content` for the blocking client."""
    return render_parts(client.get_user_parts(thread_id), fmt, max_edge=max_edge, order=order)
