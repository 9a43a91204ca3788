"""The in-memory backend: dicts on the event loop, gone when the process exits.

Every method runs to completion without awaiting, so each one is atomic on the loop and
needs no lock.
"""

from __future__ import annotations

from collections import deque
from datetime import datetime
from typing import Unpack

from capture.store._base import Backend, Entry, HistoryEntry, SessionRow, Timing

__all__ = ["MemoryStore"]


class MemoryStore(Backend):
    """A `Store` in process memory; for tests, demos and throwaway servers."""

    def __init__(self, **timing: Unpack[Timing]) -> None:
        super().__init__(**timing)
        self._threads: dict[str, dict[str, Entry]] = {}
        self._history: dict[tuple[str, str], deque[HistoryEntry]] = {}

    async def open(self) -> None:
        pass

    async def close(self) -> None:
        pass

    def describe(self) -> str:
        return "memory (not saved: lost when the server stops)"

    def _live(self, thread_id: str) -> dict[str, Entry]:
        now = self._clock()
        return {k: v for k, v in self._threads.get(thread_id, {}).items() if v.live_at(now)}

    async def set(self, thread_id: str, key: str, value_json: str, expiry: datetime | None) -> None:
        now = self._clock()
        self._threads.setdefault(thread_id, {})[key] = Entry(value_json, expiry, now)
        if self._policy.keeps(key):
            versions = self._history.setdefault((thread_id, key), deque())
            versions.appendleft(HistoryEntry(value_json, now, expiry))
            self._trim(versions, now)

    def _trim(self, versions: deque[HistoryEntry], now: datetime) -> None:
        while len(versions) > self._policy.versions:
            versions.pop()
        while versions and versions[-1].set_at < now - self._policy.age:
            versions.pop()

    async def get(self, thread_id: str, key: str) -> str | None:
        entry = self._threads.get(thread_id, {}).get(key)  # one key, not the whole thread
        return entry.value_json if entry is not None and entry.live_at(self._clock()) else None

    async def entries(self, thread_id: str) -> dict[str, Entry]:
        return self._live(thread_id)

    async def delete(self, thread_id: str, key: str) -> None:
        self._threads.get(thread_id, {}).pop(key, None)

    async def clear(self, thread_id: str) -> None:
        self._threads.pop(thread_id, None)
        for pair in [pair for pair in self._history if pair[0] == thread_id]:
            del self._history[pair]

    async def list_sessions(
        self, thread_id: str | None, limit: int, offset: int
    ) -> list[SessionRow]:
        ids = list(self._threads) if thread_id is None else [thread_id]
        rows = []
        for tid in ids:
            live = self._live(tid)
            if live:
                updated = max(v.updated_at for v in live.values())
                rows.append(SessionRow(tid, sorted(live), updated))
        rows.sort(key=lambda row: (row.updated_at, row.thread_id), reverse=True)
        return rows[offset : offset + limit]

    async def history(self, thread_id: str, key: str, limit: int) -> list[HistoryEntry]:
        cutoff = self._clock() - self._policy.age
        versions = self._history.get((thread_id, key), deque())
        return [entry for entry in versions if entry.set_at >= cutoff][:limit]

    async def sweep(self) -> int:
        now = self._clock()
        removed = 0
        for tid in list(self._threads):
            values = self._threads[tid]
            for key in [k for k, v in values.items() if not v.live_at(now)]:
                del values[key]
                removed += 1
            if not values:
                del self._threads[tid]
        for pair in list(self._history):
            self._trim(self._history[pair], now)
            if not self._history[pair]:
                del self._history[pair]
        return removed
