"""`store_from_url`: pick a backend by URL scheme from one explicit table."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from urllib.parse import SplitResult, parse_qsl, urlsplit

from capture.errors import StorageError
from capture.store._base import Clock, HistoryPolicy, Store, Timing, utc_now
from capture.store._memory import MemoryStore
from capture.store._redis import RedisStore
from capture.store._sqlite import SqliteStore

__all__ = ["DEFAULT_STORE_URL", "SCHEMES", "store_from_url"]

DEFAULT_STORE_URL = "sqlite:///.capture/store.db"

Factory = Callable[[SplitResult, Timing], Store]


def _memory(url: SplitResult, timing: Timing) -> Store:
    return MemoryStore(**timing)


def _sqlite(url: SplitResult, timing: Timing) -> Store:
    # sqlite:///relative/file.db and sqlite:////abs/file.db, as SQLAlchemy spells them;
    # `?synchronous=full` trades write throughput for surviving a power cut.
    path = url.path[1:] if url.path.startswith("/") else url.path
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
