"""The storage protocol every backend implements, and the small types it speaks.

Values travel as raw JSON text (`value_json`), not parsed objects: the server parses a request
once, stores the compact text, and splices it back into responses, so a user part comes back
byte-for-byte and a backend never needs to know what a value means.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol, TypedDict, Unpack

from capture.session.models import USER_PART_PREFIX

__all__ = [
    "GLANCE_KEY",
    "HISTORY_PREFIX",
    "Backend",
    "Clock",
    "Entry",
    "HistoryEntry",
    "HistoryPolicy",
    "SessionRow",
    "Store",
    "Timing",
    "utc_now",
]  # (from_us and to_us are the SQL and Redis backends' own helpers)

HISTORY_PREFIX = USER_PART_PREFIX
"""Keys with this prefix (Distri user parts) keep a history of past values."""
GLANCE_KEY = "capture.glance"
"""The small image `capture mcp` sent its client with an answer (`capture.mcp._glance`):
not a part any agent is given, but kept with a history too, so the viewer shows each step's."""

Clock = Callable[[], datetime]
"""Returns the current time as an aware datetime; injectable so expiry tests never sleep."""


def utc_now() -> datetime:
    """The default clock."""
    return datetime.now(UTC)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def to_us(moment: datetime) -> int:
    """Exact integer microseconds since the epoch, as the SQLite and Redis backends store
    times (floats would round)."""
    return (moment - _EPOCH) // _MICROSECOND


def from_us(us: int) -> datetime:
    """The inverse of `to_us`: an aware UTC datetime."""
    return _EPOCH + us * _MICROSECOND


@dataclass(frozen=True)
class HistoryPolicy:
    """How much history to keep per key: at most `versions` entries, none older than `age`.

    Both bounds apply ("whichever is less"); `versions=0` turns history off.
    """

    versions: int = 200
    age: timedelta = timedelta(hours=24)

    def keeps(self, key: str) -> bool:
        return self.versions > 0 and (key.startswith(HISTORY_PREFIX) or key == GLANCE_KEY)


@dataclass(frozen=True)
class SessionRow:
    """One thread in the session list: its live keys (sorted) and its last write time."""

    thread_id: str
    keys: list[str]
    updated_at: datetime


@dataclass(frozen=True)
class Entry:
    """One live value with its expiry (None = never) and the time it was last set."""

    value_json: str
    expiry: datetime | None
    updated_at: datetime

    def live_at(self, now: datetime) -> bool:
        """Whether the value is visible at `now`: it expires *at* its expiry instant."""
        return self.expiry is None or self.expiry > now


@dataclass(frozen=True)
class HistoryEntry:
    """One past (or the current) value of a user-part key."""

    value_json: str
    set_at: datetime
    expiry: datetime | None


class Store(Protocol):
    """Thread-scoped key/value storage with expiry, as the Session Store API needs it.

    A value is *live* while its expiry is unset or later than the store's clock. Every read
    (get, entries, get_all, list_sessions) sees live values only, whether or not `sweep` has
    run yet. Methods raise `StorageError` when the backend itself fails.

    Backends subclass this protocol explicitly (the shipped ones through `Backend`) to inherit
    `get_all`, which is `entries` without the times, so the two reads cannot disagree about
    which values are live.
    """

    async def open(self) -> None:
        """Acquire resources (files, threads, connections) before any use; idempotent, so a
        server can open early to report errors clearly and let the app's lifespan re-call it."""

    async def close(self) -> None:
        """Release everything `open` acquired, finishing pending writes first; idempotent."""

    def describe(self) -> str:
        """Where the data lives, for people (`sqlite /abs/path.db`, `memory (not saved)`)."""
        ...

    async def set(self, thread_id: str, key: str, value_json: str, expiry: datetime | None) -> None:
        """Store `value_json` under (thread_id, key), replacing the value *and* its expiry.

        Returns only once the write is durable for this backend. A user-part key also gets
        a history entry, and its history is trimmed to the policy's bounds.
        """

    async def get(self, thread_id: str, key: str) -> str | None:
        """The live value's JSON text, or None when it is missing or expired."""

    async def entries(self, thread_id: str) -> dict[str, Entry]:
        """Every live value of the thread with its expiry and last write time, in one read.

        The contract routes never return expiries, but the viewer shows a countdown for each
        value; reading them here (rather than from history, which only user parts have)
        gives every key one.
        """
        ...

    async def get_all(self, thread_id: str) -> dict[str, str]:
        """Every live value of the thread, key -> JSON text."""
        return {key: entry.value_json for key, entry in (await self.entries(thread_id)).items()}

    async def stamps(self, thread_id: str) -> dict[str, tuple[datetime, datetime | None]]:
        """Every live key of the thread -> (last write time, expiry): `entries` without the
        values, for a reader that polls to learn whether anything moved (the viewer), where
        reading a screenshot each time would be waste. Backends that store values apart
        read less; this default reads the entries."""
        return {key: (e.updated_at, e.expiry) for key, e in (await self.entries(thread_id)).items()}

    async def delete(self, thread_id: str, key: str) -> None:
        """Remove one value; removing an absent key is not an error. History is kept."""

    async def clear(self, thread_id: str) -> None:
        """Remove every value of the thread and its history."""

    async def list_sessions(
        self, thread_id: str | None, limit: int, offset: int
    ) -> list[SessionRow]:
        """Threads with at least one live value, most recently written first.

        `thread_id` narrows the list to that one thread; `limit`/`offset` page through it.
        """
        ...

    async def history(self, thread_id: str, key: str, limit: int) -> list[HistoryEntry]:
        """Up to `limit` recorded versions of a user-part key, newest first, within the
        policy's age bound (expired versions included: they are the timeline)."""
        ...

    async def sweep(self) -> int:
        """Delete expired values and out-of-bounds history; return how many values went."""
        ...


class Timing(TypedDict, total=False):
    """The keywords every shipped backend takes for time: `clock` (default `utc_now`) and
    `history` (default `HistoryPolicy()`), named once so the factory can pass them to any."""

    clock: Clock
    history: HistoryPolicy | None


class Backend(Store):
    """The shipped backends' base: it keeps the clock and history policy each one is built
    with, so every backend reads the time and trims history by the same two attributes."""

    def __init__(self, **timing: Unpack[Timing]) -> None:
        self._clock: Clock = timing.get("clock", utc_now)
        self._policy: HistoryPolicy = timing.get("history") or HistoryPolicy()
