"""The Distri Session Store API: wire models, the sync and async clients, expiry helpers."""

from capture.session._client import AsyncSessionClient, SessionClient
from capture.session._core import (
    BaseSessionClient,
    Expiry,
    encode_json,
    format_expiry,
    read_part,
    rfc3339,
)
from capture.session._ids import check_thread_id, id_problem, is_unicode
from capture.session.models import (
    USER_PART_PREFIX,
    HistoryEntry,
    ImageBytes,
    ImagePart,
    ImageUrl,
    Part,
    SessionInfo,
    TextPart,
    part_adapter,
    user_part_key,
)

__all__ = [
    "USER_PART_PREFIX",
    "AsyncSessionClient",
    "BaseSessionClient",
    "Expiry",
    "HistoryEntry",
    "ImageBytes",
    "ImagePart",
    "ImageUrl",
    "Part",
    "SessionClient",
    "SessionInfo",
    "TextPart",
    "check_thread_id",
    "encode_json",
    "format_expiry",
    "id_problem",
    "is_unicode",
    "part_adapter",
    "read_part",
    "rfc3339",
    "user_part_key",
]
