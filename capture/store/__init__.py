"""The embedded session store: an ASGI app speaking the Distri Session Store API over
pluggable storage backends (`memory://`, `sqlite:///path.db`, `redis://`), and helpers to
run it. `capture serve` lives in `capture.store.cli` (imported by `capture.cli` only)."""

from capture.store import _base
from capture.store._app import PUBLIC_PATHS, TokenGuard, create_app
from capture.store._base import *  # noqa: F403 - the Store protocol and its value types
from capture.store._factory import (
    DEFAULT_STORE_URL,
    SCHEMES,
    legacy_store_note,
    sqlite_path,
    store_from_url,
)
from capture.store._links import serve_afterwards, viewer_root, viewer_url
from capture.store._memory import MemoryStore
from capture.store._openapi import openapi_document
from capture.store._redis import RedisStore
from capture.store._serve import (
    StoreServer,
    check_exposure,
    serve,
    serve_in_background,
    store_for,
)
from capture.store._sqlite import SqliteStore

__all__ = [
    "DEFAULT_STORE_URL",
    "PUBLIC_PATHS",
    "SCHEMES",
    "MemoryStore",
    "RedisStore",
    "SqliteStore",
    "StoreServer",
    "TokenGuard",
    "check_exposure",
    "create_app",
    "legacy_store_note",
    "openapi_document",
    "serve",
    "serve_afterwards",
    "serve_in_background",
    "sqlite_path",
    "store_for",
    "store_from_url",
    "viewer_root",
    "viewer_url",
]
__all__ += _base.__all__
