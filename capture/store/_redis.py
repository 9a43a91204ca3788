"""The Redis backend: several `capture serve` processes sharing one Redis, or one Redis
Cluster, act as one store.

Layout, under a key prefix P (`capture` unless the URL says `?prefix=...`). Each thread lives
in one *bucket* n (crc32 of its id modulo the bucket count), and every key of a bucket
carries the hash tag `{n}`, so each script touches one hash slot, as Redis Cluster requires:

    P:meta                      hash   layout version and bucket count (read on open)
    P:{n}:v:{thread}            hash   key -> value JSON text
    P:{n}:u:{thread}            zset   key -> time it was set (µs since the epoch)
    P:{n}:x:{thread}            zset   key -> expiry (µs); keys without expiry are absent
    P:{n}:threads               zset   thread -> newest set time of its live values
    P:{n}:due                   zset   thread -> earliest expiry among its values (sweep list)
    P:{n}:h:{len}:{thread}:{key}  list  history versions, newest first ("set_us expiry_us|- json");
                                       len is the id's byte length: ids with ':' cannot collide
    P:{n}:hk:{thread}           set    names of the thread's history lists (for clear)

One Redis uses one bucket; a cluster gets 128, spread over the slots (and so the primaries).
The session list takes the newest threads of every bucket (one pipeline, which redis-py
splits per primary) and merges them; it stays paginated, and nothing uses KEYS or SCAN.

Expiry: a value's expiry is a score compared with the store's clock (µs precision, the same
injectable clock the other backends use), so an expired value is invisible at once; it is
deleted when its thread is next written or listed, or by `sweep`, which visits only threads
in a bucket's `due` set. Native TTLs reclaim the rest: a thread whose values all expire gets
PEXPIRE on its keys, history lists expire after the policy's age, and on a server with
per-field expiry (HPEXPIRE: Redis >= 7.4, Valkey >= 9) each expiring value's field gets one.

A write returns once Redis acknowledged it. With `?wait=N` it also waits (WAIT) until N
replicas have it, so a failover to one of them loses no acknowledged write.
`redis` is imported only when this backend is used.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import re
import zlib
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any, Unpack
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from capture.errors import StorageError
from capture.store._base import Backend, Entry, HistoryEntry, SessionRow, Timing, from_us, to_us
from capture.store._redis_batch import AutoPipeline
from capture.store._redis_scripts import SCRIPTS

__all__ = ["LAYOUT", "RedisStore", "has_field_expiry"]

LAYOUT = "2"
"""The key layout this code reads and writes; `P:meta` records the one a store was made with."""

_CLUSTER_BUCKETS = 128
_SWEEP_BATCH = 500
_SHAS = {name: hashlib.sha1(body.encode()).hexdigest() for name, body in SCRIPTS.items()}


def _dt(score: str) -> datetime:
    """A time from a script's reply, where Lua numbers arrive as text."""
    return from_us(int(float(score)))


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", text)[:2])


def has_field_expiry(info: dict[str, Any]) -> bool:
    """Whether a server (its `INFO server`) has per-field expiry: Redis 7.4, Valkey 9."""
    if "valkey_version" in info:
        return _version(str(info["valkey_version"])) >= (9, 0)
    return _version(str(info.get("redis_version", "0"))) >= (7, 4)


class RedisStore(Backend):
    """A `Store` in Redis at `redis://host:port/db` (also `rediss://`, `unix://`), or in a
    Redis Cluster at `redis+cluster://host:port` (`rediss+cluster://`; a plain `redis://` URL
    that reaches a cluster node is detected and treated the same).

    URL options: `?prefix=name` namespaces the keys, so several stores can share a database;
    `?wait=N` acknowledges a write only once N replicas have it.
    """

    def __init__(
        self,
        url: str,
        *,
        timeout: float = 5.0,
        max_connections: int = 64,
        **timing: Unpack[Timing],
    ) -> None:
        super().__init__(**timing)
        parts = urlsplit(url)
        scheme, plus, mode = parts.scheme.partition("+")
        query = parse_qsl(parts.query, keep_blank_values=True)
        options = dict(query)
        self.prefix = options.get("prefix", "capture")
        if not self.prefix or not re.fullmatch(r"[^{}]+", self.prefix):
            raise StorageError(f"bad redis URL {url!r}: the prefix is empty or holds {{ or }}")
        if not re.fullmatch(r"\d*", options.get("wait", "")):
            raise StorageError(f"bad redis URL {url!r}: wait must be a number of replicas")
        self.wait = int(options.get("wait") or 0)
        rest = urlencode([(name, value) for name, value in query if name not in ("prefix", "wait")])
        self.url = urlunsplit(parts._replace(scheme=scheme, query=rest))
        try:
            port = parts.port or 6379
        except ValueError:
            port = -1
        if scheme != "unix" and (port < 0 or not re.fullmatch(r"(/\d*)?", parts.path)):
            raise StorageError(f"bad redis URL {url!r}: use redis://host:port/db")
        if plus and (mode != "cluster" or parts.path.strip("/") not in ("", "0")):
            raise StorageError(f"bad redis URL {url!r}: use redis+cluster://host:port")
        self.cluster: bool | None = True if plus else None  # None: found out on open()
        self._host = f"{parts.hostname or parts.path}:{port}"
        self._db = parts.path
        self._timeout = timeout
        self._max_connections = max_connections
        self._client: Any = None
        self._batch: AutoPipeline | None = None
        self._bases: list[str] = []
        self._hfe = "0"
        self._gate: Any = contextlib.nullcontext()
        self._dropped: dict[int, Any] = {}  # cluster nodes the client let go of, by id
        self._loading = asyncio.Lock()
        self._loaded = 0  # how many times the scripts were loaded

    @property
    def field_expiry(self) -> bool:
        """Whether the open store gives expiring values a per-field TTL (HPEXPIRE)."""
        return self._hfe == "1"

    @property
    def _where(self) -> str:
        return f"cluster {self._host}" if self.cluster else f"{self._host}{self._db}"

    def describe(self) -> str:
        return f"redis {self._where} (prefix {self.prefix!r})"

    async def open(self) -> None:
        if self._client is not None:
            return
        try:
            import redis.asyncio  # noqa: F401 - fails early with a clear message
        except ImportError as exc:
            raise StorageError(
                "the redis backend needs the redis package: pip install 'capture[redis]'"
            ) from exc
        try:
            if not self.cluster:
                self._client = self._single_client()
                await self._run("ping", self._client.ping)
                info = await self._run("ping", self._client.info, "cluster")
                self.cluster = bool(info.get("cluster_enabled"))
                if self.cluster:  # a cluster node: a plain client would only get MOVED
                    await self._client.aclose()
            if self.cluster:
                self._client = self._cluster_client()
                await self._run("ping", self._client.initialize)
            await self._read_meta()
            await self._load_scripts()
            self._batch = AutoPipeline(self._client)
        except BaseException:
            await self.close()
            raise

    def _single_client(self) -> Any:
        import redis.asyncio as aioredis

        try:
            # One quick retry covers a pooled connection that died with a Redis restart; a
            # Redis that stays down is a StorageError (503) within about `timeout` seconds.
            # A blocking pool queues a burst of requests for its connections (bounded wait)
            # instead of failing the ones past `max_connections`.
            pool = aioredis.BlockingConnectionPool.from_url(
                self.url,
                max_connections=self._max_connections,
                timeout=self._timeout,
                retry=self._retry(1),
                **self._connection_options(),
            )
        except ValueError as exc:
            raise StorageError(f"bad redis URL {self.url!r}: {exc}") from exc
        return aioredis.Redis.from_pool(pool)

    def _cluster_client(self) -> Any:
        from redis.asyncio.cluster import RedisCluster

        # redis-py's cluster pools fail a request past `max_connections` per node instead of
        # queueing it, so a semaphore does the queueing. Retries span a failover: the client
        # re-reads the slot map after a connection error or a MOVED reply.
        self._gate = asyncio.Semaphore(self._max_connections)
        try:
            client = RedisCluster.from_url(
                self.url,
                max_connections=self._max_connections,
                retry=self._retry(3),
                **self._connection_options(),
            )
        except ValueError as exc:
            raise StorageError(f"bad redis URL {self.url!r}: {exc}") from exc
        self._keep_dropped(client.nodes_manager)
        return client

    def _keep_dropped(self, manager: Any) -> None:
        """Remember every node the cluster client drops from its maps, so `close` can end
        their connections too.

        redis-py (8.1, redis/redis-py#4053) drops a failed primary with commands still in
        flight on it, and a command that picked the node before the drop may connect it again
        (to the restarted node on the same port). The client's own close only reaches the
        nodes it still maps, so such a connection outlived the store and its event loop.
        """
        for attr in ("nodes_cache", "startup_nodes"):  # the maps set_nodes pops nodes from
            setattr(manager, attr, _Remembering(getattr(manager, attr), self._dropped))

    def _retry(self, times: int) -> Any:
        from redis.asyncio.retry import Retry
        from redis.backoff import ExponentialBackoff

        return Retry(ExponentialBackoff(cap=0.5, base=0.05), times)

    def _connection_options(self) -> dict[str, Any]:
        # `_run` bounds every call with asyncio.timeout. A socket timeout as well makes
        # redis-py send each command through asyncio.wait_for, a task per command (see
        # docs/store.md, Throughput); only the cluster client keeps one, as its signal to
        # re-read the slot map when a node stops answering.
        return {
            "decode_responses": True,
            "socket_timeout": self._timeout if self.cluster else None,
            "socket_connect_timeout": min(self._timeout, 2.0),
        }

    async def _read_meta(self) -> None:
        """Check the layout this store was made with, and learn its bucket count and whether
        every primary has per-field expiry."""
        client, meta_key = self._client, f"{self.prefix}:meta"
        meta = await self._run("open", client.hgetall, meta_key)
        if not meta:
            if await self._run("open", client.exists, f"{self.prefix}:threads"):
                raise StorageError(
                    f"redis {self._where} holds capture data in the old key layout under "
                    f"prefix {self.prefix!r} (before layout {LAYOUT}); it cannot be read in "
                    f"place: delete its keys ({self.prefix}:*) or use another ?prefix="
                )
            buckets = _CLUSTER_BUCKETS if self.cluster else 1
            await self._run("open", client.hsetnx, meta_key, "layout", LAYOUT)
            await self._run("open", client.hsetnx, meta_key, "buckets", buckets)
            meta = await self._run("open", client.hgetall, meta_key)
        if meta.get("layout") != LAYOUT:
            raise StorageError(
                f"redis {self._where} holds a capture store of layout {meta.get('layout')!r} "
                f"under prefix {self.prefix!r}; this capture reads layout {LAYOUT}"
            )
        self._bases = [f"{self.prefix}:{{{n}}}" for n in range(int(meta["buckets"]))]
        if self.cluster:
            nodes = client.get_primaries()
            infos = [await self._run("open", client.info, "server", target_nodes=n) for n in nodes]
        else:
            infos = [await self._run("open", client.info, "server")]
        self._hfe = "1" if all(has_field_expiry(info) for info in infos) else "0"

    async def close(self) -> None:
        if self._client is not None:
            client, self._client = self._client, None
            batch, self._batch = self._batch, None
            if batch is not None:  # None when open() failed before making it
                await batch.aclose()
            await client.aclose()
            dropped, self._dropped = self._dropped.values(), {}
            await asyncio.gather(*(node.disconnect() for node in dropped), return_exceptions=True)

    async def _run(self, what: str, call: Any, *args: Any, **kwargs: Any) -> Any:
        """Await `call(*args)` within the timeout, turning every Redis failure into a
        `StorageError` (except NoScriptError, which `_scripts` handles)."""
        from redis.exceptions import NoScriptError, RedisClusterException, RedisError

        try:
            async with asyncio.timeout(self._timeout):
                return await call(*args, **kwargs)
        except NoScriptError:
            raise
        except TimeoutError as exc:
            raise StorageError(
                f"redis {what} timed out after {self._timeout:g} s ({self._where})"
            ) from exc
        except (RedisError, RedisClusterException, AttributeError) as exc:
            # AttributeError: redis-py (8.1) may use a connection that its cluster client
            # closed under it while re-reading the slot map after a failover.
            raise StorageError(f"redis {what} failed ({self._where}): {exc!r}") from exc

    def _base(self, thread_id: str) -> str:
        """The key base (prefix and hash tag) of the thread's bucket."""
        bases = self._bases
        return bases[zlib.crc32(thread_id.encode()) % len(bases)] if len(bases) > 1 else bases[0]

    def _argv(self, base: str, args: tuple[object, ...]) -> list[object]:
        return [base + ":threads", base, to_us(self._clock()), self._hfe, *args]

    async def _scripts(self, what: str, send: Callable[[], Awaitable[Any]]) -> Any:
        """Await `send()` (script calls) through `_run`, loading the scripts first where a
        node lacks them (a new or a failed-over one)."""
        if self._client is None:
            raise StorageError("redis store is not open")
        from redis.exceptions import NoScriptError

        loaded = self._loaded
        try:
            return await self._run(what, self._gated, send)
        except NoScriptError:
            async with self._loading:  # one reload for all the calls that missed
                if self._loaded == loaded:
                    await self._load_scripts()
        try:
            return await self._run(what, self._gated, send)
        except NoScriptError as exc:
            raise StorageError(f"redis {what} failed ({self._where}): {exc}") from exc

    async def _gated(self, send: Callable[[], Awaitable[Any]]) -> Any:
        async with self._gate:
            return await send()

    async def _script(self, name: str, base: str, *args: object, replicate: bool = False) -> Any:
        """Run one script on the bucket `base`; `replicate` (a write) honours `?wait=`."""
        argv = self._argv(base, args)
        if replicate and self.wait:
            return await self._scripts(name, lambda: self._replicated(name, argv))
        return await self._scripts(name, lambda: self._batched("EVALSHA", _SHAS[name], 1, *argv))

    async def _batched(self, *command: object) -> Any:
        if self._batch is None:  # closed while the call waited for the gate
            raise StorageError("redis store is not open")
        return await self._batch.call(*command)

    async def _replicated(self, name: str, argv: list[object]) -> Any:
        """The script, then WAIT on the same connection (a pipeline of two commands to the
        bucket's primary): its reply counts the replicas that have the write."""
        client = self._client
        where = {"target_nodes": client.get_node_from_key(argv[0])} if self.cluster else {}
        async with client.pipeline(transaction=False) as pipe:
            pipe.execute_command("EVALSHA", _SHAS[name], 1, *argv)
            # half the timeout: the reply must come before the socket's own timeout
            pipe.execute_command("WAIT", self.wait, int(self._timeout * 500), **where)
            result, replicas = await pipe.execute()
        if int(replicas) < self.wait:
            raise StorageError(
                f"redis {name} reached {replicas} of {self.wait} replicas within "
                f"{self._timeout / 2:g} s ({self._where})"
            )
        return result

    async def _script_each(self, name: str, calls: list[tuple[str, tuple[object, ...]]]) -> Any:
        """Run a script once per (base, args), concurrently: the calls of one loop turn go
        out as one pipeline (`AutoPipeline`; on a cluster, each primary gets its share)."""
        return await asyncio.gather(*(self._script(name, base, *args) for base, args in calls))

    async def _load_scripts(self) -> None:
        """SCRIPT LOAD every script (on every primary, in a cluster)."""
        for body in SCRIPTS.values():
            await self._run("script load", self._client.script_load, body)
        self._loaded += 1

    async def set(self, thread_id: str, key: str, value_json: str, expiry: datetime | None) -> None:
        policy = self._policy
        await self._script(
            "set",
            self._base(thread_id),
            thread_id,
            key,
            value_json,
            "" if expiry is None else to_us(expiry),
            int(policy.keeps(key)),
            policy.versions,
            policy.age // timedelta(microseconds=1),
            replicate=True,
        )

    async def get(self, thread_id: str, key: str) -> str | None:
        value: str | None = await self._script("get", self._base(thread_id), thread_id, key)
        return value

    async def entries(self, thread_id: str) -> dict[str, Entry]:
        rows = await self._script("entries", self._base(thread_id), thread_id)
        return {
            key: Entry(value, None if expiry == "" else _dt(expiry), _dt(set_at))
            for key, value, set_at, expiry in sorted(rows)
        }

    async def stamps(self, thread_id: str) -> dict[str, tuple[datetime, datetime | None]]:
        rows = await self._script("stamps", self._base(thread_id), thread_id)
        return {
            key: (_dt(set_at), None if expiry == "" else _dt(expiry))
            for key, set_at, expiry in rows
        }

    async def delete(self, thread_id: str, key: str) -> None:
        await self._script("delete", self._base(thread_id), thread_id, key, replicate=True)

    async def clear(self, thread_id: str) -> None:
        await self._script("clear", self._base(thread_id), thread_id, replicate=True)

    async def list_sessions(
        self, thread_id: str | None, limit: int, offset: int
    ) -> list[SessionRow]:
        if limit <= 0:
            return []
        if thread_id is not None:  # its `row` script settles the thread itself
            wanted = [thread_id] if offset == 0 else []
        else:
            await self.sweep()  # expired threads out of the buckets' tops; in batches
            # Each bucket's newest offset+limit threads hold the page; merged in ZREVRANGE's
            # own order (time, then id, both descending), so one bucket lists as before.
            tops = await self._script_each(
                "top", [(base, (offset + limit,)) for base in self._bases]
            )
            newest = sorted(
                ((int(float(top[i + 1])), top[i]) for top in tops for i in range(0, len(top), 2)),
                reverse=True,
            )
            wanted = [tid for _, tid in newest[offset : offset + limit]]
        rows = await self._script_each("row", [(self._base(tid), (tid,)) for tid in wanted])
        return [
            SessionRow(tid, sorted(row[1]), _dt(row[0]))
            for tid, row in zip(wanted, rows, strict=True)
            if row  # a thread that emptied since its bucket was read
        ]

    async def history(self, thread_id: str, key: str, limit: int) -> list[HistoryEntry]:
        if limit <= 0:  # LRANGE 0 -1 would mean "all"
            return []
        cutoff = to_us(self._clock() - self._policy.age)
        entries = []
        for raw in await self._script("history", self._base(thread_id), thread_id, key, limit):
            set_at, expiry, value_json = raw.split(" ", 2)
            if int(set_at) >= cutoff:
                entries.append(
                    HistoryEntry(value_json, _dt(set_at), None if expiry == "-" else _dt(expiry))
                )
        return entries

    async def sweep(self) -> int:
        removed, bases = 0, self._bases
        while bases:
            replies = await self._script_each("sweep", [(base, (_SWEEP_BATCH,)) for base in bases])
            removed += sum(int(count) for count, _ in replies)
            bases = [b for b, (_, n) in zip(bases, replies, strict=True) if int(n) >= _SWEEP_BATCH]
        return removed


class _Remembering(dict[str, Any]):
    """A cluster client's node map that also keeps, in `dropped`, every node popped from it
    (a node moved to the end of the map is popped too; disconnecting it again is harmless)."""

    def __init__(self, nodes: dict[str, Any], dropped: dict[int, Any]) -> None:
        super().__init__(nodes)
        self.dropped = dropped

    def pop(self, name: str, *default: Any) -> Any:
        node = super().pop(name, *default)
        if node is not None:
            self.dropped[id(node)] = node
        return node
