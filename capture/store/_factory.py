"""`store_from_url`: pick a backend by URL scheme from one explicit table."""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from urllib.parse import SplitResult, parse_qsl, urlsplit

from capture.config import StoreConfig
from capture.errors import StorageError
from capture.store._base import Clock, HistoryPolicy, Store, Timing, utc_now
from capture.store._memory import MemoryStore
from capture.store._redis import RedisStore
from capture.store._sqlite import SqliteStore

__all__ = ["DEFAULT_STORE_URL", "SCHEMES", "legacy_store_note", "sqlite_path", "store_from_url"]

DEFAULT_STORE_URL: str = StoreConfig.model_fields["url"].default
"""SQLite in the user's data folder, so every command finds it from any directory."""

DATA_HOME = "$XDG_DATA_HOME"
OLD_DEFAULT = Path(".capture") / "store.db"  # the old default: under the working folder


def sqlite_path(path: str) -> Path:
    """A SQLite URL's path with `$XDG_DATA_HOME` (the XDG data folder, `~/.local/share`
    when unset or not absolute) and `~` expanded; relative to the working folder otherwise."""
    if DATA_HOME in path:
        home = os.environ.get("XDG_DATA_HOME", "")
        folder = Path(home) if os.path.isabs(home) else Path.home() / ".local" / "share"
        path = path.replace(DATA_HOME, str(folder))
    return Path(os.path.expanduser(path))


def legacy_store_note(url: str) -> str | None:
    """A one-line note when the default store is in use and the working folder still holds
    a store at the old default place, whose threads would otherwise silently not show."""
    if url != DEFAULT_STORE_URL or not OLD_DEFAULT.is_file():
        return None
    return (
        f"note: {OLD_DEFAULT} here is a capture store at the old default place; the default "
        f"is now {sqlite_path(url[len('sqlite:///') :])}. To use the old one: "
        f"capture serve --store sqlite:///{OLD_DEFAULT} (or store.url in the config)"
    )


Factory = Callable[[SplitResult, Timing], Store]


def _memory(url: SplitResult, timing: Timing) -> Store:
    return MemoryStore(**timing)


def _sqlite(url: SplitResult, timing: Timing) -> Store:
    # sqlite:///relative/file.db and sqlite:////abs/file.db, as SQLAlchemy spells them;
    # `?synchronous=full` trades write throughput for surviving a power cut.
    path = url.path[1:] if url.path.startswith("/") else url.path
    path = str(sqlite_path(path)) if path else path
    options = dict(parse_qsl(url.query, keep_blank_values=True))
    if url.netloc or not path or set(options) - {"synchronous"}:
        raise StorageError(
            f"bad sqlite URL {url.geturl()!r}: use sqlite:///relative/path.db or "
            "sqlite:////absolute/path.db, optionally with ?synchronous=full"
        )
    synchronous = options.get("synchronous", "normal").lower()
    return SqliteStore(path, synchronous=synchronous, **timing)


def _redis(url: SplitResult, timing: Timing) -> Store:
    return RedisStore(url.geturl(), **timing)  # imports redis on open()


SCHEMES: dict[str, Factory] = {
    "memory": _memory,
    "sqlite": _sqlite,
    "redis": _redis,
    "rediss": _redis,  # Redis over TLS
    "redis+cluster": _redis,  # Redis Cluster (a redis:// URL reaching one is detected too)
    "rediss+cluster": _redis,
}


def store_from_url(
    url: str = DEFAULT_STORE_URL,
    *,
    clock: Clock = utc_now,
    history_versions: int = 200,
    history_age: timedelta = timedelta(hours=24),
) -> Store:
    """Build (not open) the store a URL names: `memory://`, `sqlite:///path.db`, `redis://...`."""
    parts = urlsplit(url)
    factory = SCHEMES.get(parts.scheme)
    if factory is None:
        known = ", ".join(f"{scheme}://" for scheme in SCHEMES)
        raise StorageError(f"unknown store URL {url!r}: expected one of {known}")
    return factory(parts, Timing(clock=clock, history=HistoryPolicy(history_versions, history_age)))
