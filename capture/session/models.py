"""Wire models of the Distri Session Store API, in the exact snake_case shapes Distri reads.

A mis-shaped image part (camelCase, a missing `type`) is not an error on a Distri server: it
silently reaches the model as a JSON text dump. These models make such a part unbuildable.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

__all__ = [
    "USER_PART_PREFIX",
    "ImageBytes",
    "ImagePart",
    "ImageUrl",
    "Part",
    "SessionInfo",
    "TextPart",
    "part_adapter",
    "user_part_key",
]

USER_PART_PREFIX = "__user_part_"


class _Wire(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ImageBytes(_Wire):
    """Inline image data: base64 in `bytes`."""

    type: Literal["bytes"] = "bytes"
    bytes: str
    mime_type: str
    name: str | None = None


class ImageUrl(_Wire):
    """An image the model fetches by URL."""

    type: Literal["url"] = "url"
    url: str
    mime_type: str
    name: str | None = None


class TextPart(_Wire):
    """`{"part_type": "text", "data": "..."}`"""

    part_type: Literal["text"] = "text"
    data: str


class ImagePart(_Wire):
    """`{"part_type": "image", "data": {"type": "bytes" | "url", ...}}`"""

    part_type: Literal["image"] = "image"
    data: Annotated[ImageBytes | ImageUrl, Field(discriminator="type")]


Part = Annotated[TextPart | ImagePart, Field(discriminator="part_type")]
part_adapter: TypeAdapter[TextPart | ImagePart] = TypeAdapter(Part)


class SessionInfo(_Wire):
    """One row of `GET /sessions`: `session_id` is the thread id."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    session_id: str
    thread_id: str
    key_count: int
    keys: list[str]
    updated_at: str | None = None
    task_ids: list[Any] = Field(default_factory=list)


def user_part_key(name: str) -> str:
    """`screenshot` -> `__user_part_screenshot`; an already-prefixed name is kept as is."""
    return name if name.startswith(USER_PART_PREFIX) else USER_PART_PREFIX + name


class HistoryEntry(_Wire):
    """One version of a key from the embedded store's history (a capture extension, not
    Distri's): expired versions included, which is how a reader learns *when* a part
    expired."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    value: Any
    set_at: datetime
    expiry: datetime | None = None
