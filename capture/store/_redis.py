"""The Redis backend: several `capture serve` processes sharing one Redis act as one store.

Layout, under a key prefix (`capture` unless the URL says `?prefix=...`):

    {p}:v:{thread}     hash   key -> value JSON text
    {p}:u:{thread}     zset   key -> time it was set (µs since the epoch)
    {p}:x:{thread}     zset   key -> expiry (µs); keys without expiry are absent
    {p}:threads        zset   thread -> newest set time of its live values (the session list)
    {p}:due            zset   thread -> earliest expiry among its values (what a sweep visits)
    {p}:h:{n}:{thread}:{key}  list  history versions, newest first ("set_us expiry_us|- json");
                              n is the thread id's byte length, so ids holding ':' cannot collide
    {p}:hk:{thread}    set    names of the thread's history lists (for clear)

Every operation is one Lua script, so a value and its index entries change together, and
several servers see one consistent store. Reads and the session list page through sorted
sets; nothing uses KEYS or SCAN.

Expiry: per-field TTLs (HPEXPIRE) need Redis 7.4, so a value's expiry is a score compared
with the store's clock (µs precision, the same injectable clock the other backends use).
Expired values are invisible at once and deleted when their thread is next written or listed,
or by `sweep`, which visits only threads in `{p}:due`. Native TTLs do the rest: a thread
whose values all expire gets PEXPIRE on its keys (so an abandoned one vanishes even if no
server sweeps), and history lists expire after the policy's age.

A write returns once Redis acknowledged it, so it is as durable as Redis is configured to be:
`appendonly yes` with `appendfsync always` keeps every acknowledged write through a crash
(`everysec`, Redis' default with AOF, may lose the last second). Scripts derive key names
from the prefix, so this needs one Redis (or one shard), not a Redis Cluster. `redis` is
imported only when this backend is used.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from capture.errors import StorageError
from capture.store._base import (
    Clock,
    Entry,
    HistoryEntry,
    HistoryPolicy,
    SessionRow,
    Store,
    from_us,
    to_us,
    utc_now,
)

__all__ = ["RedisStore"]

_SWEEP_BATCH = 500

# Shared by every script. ARGV[1] is the prefix, ARGV[2] the clock's now (µs). Lua numbers
# are doubles: µs timestamps (~1.8e15) stay exact below 2^53.
_PRELUDE = """
local P, NOW = ARGV[1], tonumber(ARGV[2])
local THREADS, DUE = P .. ':threads', P .. ':due'
local function key(kind, tid) return P .. ':' .. kind .. ':' .. tid end
local function hist(tid, k) return P .. ':h:' .. #tid .. ':' .. tid .. ':' .. k end

-- Delete a thread's expired values, then re-derive its index entries and native TTLs.
local function settle(tid)
  local v, u, x = key('v', tid), key('u', tid), key('x', tid)
  local dead = redis.call('ZRANGEBYSCORE', x, '-inf', NOW)
  for i = 1, #dead do
    redis.call('HDEL', v, dead[i])
    redis.call('ZREM', u, dead[i])
    redis.call('ZREM', x, dead[i])
  end
  local n = redis.call('HLEN', v)
  if n == 0 then
    redis.call('DEL', v, u, x)
    redis.call('ZREM', THREADS, tid)
    redis.call('ZREM', DUE, tid)
    return #dead
  end
  redis.call('ZADD', THREADS, redis.call('ZREVRANGE', u, 0, 0, 'WITHSCORES')[2], tid)
  local first = redis.call('ZRANGE', x, 0, 0, 'WITHSCORES')
  if #first == 0 then
    redis.call('ZREM', DUE, tid)
  else
    redis.call('ZADD', DUE, first[2], tid)
  end
  if redis.call('ZCARD', x) == n then
    local last = tonumber(redis.call('ZREVRANGE', x, 0, 0, 'WITHSCORES')[2])
    local ms = math.ceil((last - NOW) / 1000)
    for _, name in ipairs({v, u, x}) do redis.call('PEXPIRE', name, ms) end
  else
    for _, name in ipairs({v, u, x}) do redis.call('PERSIST', name) end
  end
  return #dead
end

-- Settle up to `limit` threads that hold an expired value; returns {values removed, threads}.
local function settle_due(limit)
  local tids = redis.call('ZRANGEBYSCORE', DUE, '-inf', NOW, 'LIMIT', 0, limit)
  local removed = 0
  for i = 1, #tids do removed = removed + settle(tids[i]) end
  return {removed, #tids}
end
"""

# ARGV[3..]: thread, key, value JSON, expiry µs or '', keep history '1'/'0', versions, age µs
_SET = """
local tid, k, val, exp = ARGV[3], ARGV[4], ARGV[5], ARGV[6]
redis.call('HSET', key('v', tid), k, val)
redis.call('ZADD', key('u', tid), NOW, k)
if exp == '' then
  redis.call('ZREM', key('x', tid), k)
else
  redis.call('ZADD', key('x', tid), exp, k)
end
settle(tid)
if ARGV[7] == '1' then
  local versions, age = tonumber(ARGV[8]), tonumber(ARGV[9])
  local h = hist(tid, k)
  redis.call('LPUSH', h, ARGV[2] .. ' ' .. (exp == '' and '-' or exp) .. ' ' .. val)
  redis.call('LTRIM', h, 0, versions - 1)
  while true do
    local oldest = redis.call('LINDEX', h, -1)
    if tonumber(string.match(oldest, '^%d+')) >= NOW - age then break end
    redis.call('RPOP', h)
  end
  local ms = math.max(1, math.ceil(age / 1000))
  local hk = key('hk', tid)
  redis.call('SADD', hk, h)
  redis.call('PEXPIRE', h, ms)
  redis.call('PEXPIRE', hk, ms)
end
"""

_GET = """
local tid, k = ARGV[3], ARGV[4]
local value = redis.call('HGET', key('v', tid), k)
if not value then return false end
local exp = redis.call('ZSCORE', key('x', tid), k)
if exp and tonumber(exp) <= NOW then return false end
return value
"""

# Returns {key, value JSON, set µs, expiry µs or ''} for each live value of the thread.
_ENTRIES = """
local tid = ARGV[3]
local set_at, expiry = {}, {}
local u = redis.call('ZRANGE', key('u', tid), 0, -1, 'WITHSCORES')
for i = 1, #u, 2 do set_at[u[i]] = u[i + 1] end
local x = redis.call('ZRANGE', key('x', tid), 0, -1, 'WITHSCORES')
for i = 1, #x, 2 do expiry[x[i]] = x[i + 1] end
local values, out = redis.call('HGETALL', key('v', tid)), {}
for i = 1, #values, 2 do
  local k = values[i]
  local exp = expiry[k]
  if not exp or tonumber(exp) > NOW then
    out[#out + 1] = {k, values[i + 1], set_at[k], exp or ''}
  end
end
return out
"""

_DELETE = """
local tid, k = ARGV[3], ARGV[4]
redis.call('HDEL', key('v', tid), k)
redis.call('ZREM', key('u', tid), k)
redis.call('ZREM', key('x', tid), k)
settle(tid)
"""

_CLEAR = """
local tid = ARGV[3]
local hk = key('hk', tid)
for _, h in ipairs(redis.call('SMEMBERS', hk)) do redis.call('DEL', h) end
redis.call('DEL', key('v', tid), key('u', tid), key('x', tid), hk)
redis.call('ZREM', THREADS, tid)
redis.call('ZREM', DUE, tid)
"""

_SWEEP = """
return settle_due(tonumber(ARGV[3]))
"""

# ARGV[3..]: one thread id or '' for all, offset, limit. Returns {tid, updated µs, keys}...
_LIST = """
local only, offset, limit = ARGV[3], tonumber(ARGV[4]), tonumber(ARGV[5])
local rows
if only ~= '' then
  settle(only)
  local score = redis.call('ZSCORE', THREADS, only)
  rows = (score and offset == 0) and {only, score} or {}
else
  settle_due(1000000)
  rows = redis.call('ZREVRANGE', THREADS, offset, offset + limit - 1, 'WITHSCORES')
end
local out = {}
for i = 1, #rows, 2 do
  out[#out + 1] = {rows[i], rows[i + 1], redis.call('HKEYS', key('v', rows[i]))}
end
return out
"""

_HISTORY = """
return redis.call('LRANGE', hist(ARGV[3], ARGV[4]), 0, tonumber(ARGV[5]) - 1)
"""


def _dt(score: str) -> datetime:
    """A time from a script's reply, where Lua numbers arrive as text."""
    return from_us(int(float(score)))


_SCRIPTS = {
    "set": _SET,
    "get": _GET,
    "entries": _ENTRIES,
    "delete": _DELETE,
    "clear": _CLEAR,
    "sweep": _SWEEP,
    "list": _LIST,
    "history": _HISTORY,
}


class RedisStore(Store):
    """A `Store` in Redis at `redis://host:port/db` (also `rediss://`, `unix://`).

    `?prefix=name` in the URL namespaces the keys, so several stores can share a database.
    """

    def __init__(
        self,
        url: str,
        *,
        clock: Clock = utc_now,
        history: HistoryPolicy | None = None,
        timeout: float = 5.0,
        max_connections: int = 64,
    ) -> None:
        parts = urlsplit(url)
        query = parse_qsl(parts.query, keep_blank_values=True)
        prefixes = [value for name, value in query if name == "prefix"]
        self.prefix = prefixes[-1] if prefixes else "capture"
        if not self.prefix:
            raise StorageError(f"bad redis URL {url!r}: the prefix is empty")
        rest = urlencode([(name, value) for name, value in query if name != "prefix"])
        self.url = urlunsplit(parts._replace(query=rest))
        try:
            port = parts.port or 6379
        except ValueError:
            port = -1
        if parts.scheme != "unix" and (port < 0 or not re.fullmatch(r"(/\d*)?", parts.path)):
            raise StorageError(f"bad redis URL {url!r}: use redis://host:port/db")
        self._where = f"{parts.hostname or parts.path}:{port}{parts.path}"
        self._clock = clock
        self._policy = history or HistoryPolicy()
        self._timeout = timeout
        self._max_connections = max_connections
        self._client: Any = None
        self._scripts: dict[str, Any] = {}

    def describe(self) -> str:
        return f"redis {self._where} (prefix {self.prefix!r})"

    async def open(self) -> None:
        if self._client is not None:
            return
        try:
            import redis.asyncio as aioredis
            from redis.asyncio.retry import Retry
            from redis.backoff import ExponentialBackoff
        except ImportError as exc:
            raise StorageError(
                "the redis backend needs the redis package: pip install 'capture[redis]'"
            ) from exc
        try:
            # One quick retry covers a pooled connection that died with a Redis restart; a
            # Redis that stays down is a StorageError (503) within about `timeout` seconds.
            # A blocking pool queues a burst of requests for its connections (bounded wait)
            # instead of failing the ones past `max_connections`.
            pool = aioredis.BlockingConnectionPool.from_url(
                self.url,
                max_connections=self._max_connections,
                timeout=self._timeout,
                decode_responses=True,
                socket_timeout=self._timeout,
                socket_connect_timeout=min(self._timeout, 2.0),
                retry=Retry(ExponentialBackoff(cap=0.2, base=0.05), 1),
            )
            self._client = aioredis.Redis.from_pool(pool)
        except ValueError as exc:
            raise StorageError(f"bad redis URL {self.url!r}: {exc}") from exc
        self._scripts = {
            name: self._client.register_script(_PRELUDE + body) for name, body in _SCRIPTS.items()
        }
        await self._run("ping", self._client.ping)

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None
            self._scripts = {}

    async def _run(self, what: str, call: Any, *args: Any) -> Any:
        """Await `call(*args)`, turning every Redis failure into a `StorageError`."""
        from redis.exceptions import RedisError

        try:
            return await call(*args)
        except RedisError as exc:
            raise StorageError(f"redis {what} failed ({self._where}): {exc}") from exc

    async def _script(self, name: str, *args: object) -> Any:
        script = self._scripts.get(name)
        if script is None:
            raise StorageError("redis store is not open")
        return await self._run(name, script, None, [self.prefix, to_us(self._clock()), *args])

    async def set(self, thread_id: str, key: str, value_json: str, expiry: datetime | None) -> None:
        policy = self._policy
        await self._script(
            "set",
            thread_id,
            key,
            value_json,
            "" if expiry is None else to_us(expiry),
            int(policy.keeps(key)),
            policy.versions,
            policy.age // timedelta(microseconds=1),
        )

    async def get(self, thread_id: str, key: str) -> str | None:
        value: str | None = await self._script("get", thread_id, key)
        return value

    async def entries(self, thread_id: str) -> dict[str, Entry]:
        rows = await self._script("entries", thread_id)
        return {
            key: Entry(value, None if expiry == "" else _dt(expiry), _dt(set_at))
            for key, value, set_at, expiry in sorted(rows)
        }

    async def delete(self, thread_id: str, key: str) -> None:
        await self._script("delete", thread_id, key)

    async def clear(self, thread_id: str) -> None:
        await self._script("clear", thread_id)

    async def list_sessions(
        self, thread_id: str | None, limit: int, offset: int
    ) -> list[SessionRow]:
        if limit <= 0:
            return []
        await self.sweep()  # in batches, so the listing script itself stays short
        rows = await self._script("list", thread_id or "", offset, limit)
        return [SessionRow(tid, sorted(keys), _dt(updated)) for tid, updated, keys in rows]

    async def history(self, thread_id: str, key: str, limit: int) -> list[HistoryEntry]:
        if limit <= 0:  # LRANGE 0 -1 would mean "all"
            return []
        cutoff = to_us(self._clock() - self._policy.age)
        entries = []
        for raw in await self._script("history", thread_id, key, limit):
            set_at, expiry, value_json = raw.split(" ", 2)
            if int(set_at) >= cutoff:
                entries.append(
                    HistoryEntry(value_json, _dt(set_at), None if expiry == "-" else _dt(expiry))
                )
        return entries

    async def sweep(self) -> int:
        removed = 0
        while True:
            count, threads = await self._script("sweep", _SWEEP_BATCH)
            removed += int(count)
            if int(threads) < _SWEEP_BATCH:
                return removed
