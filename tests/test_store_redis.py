"""The Redis backend beyond the shared contract: its layout (no KEYS/SCAN, native TTLs),
agreement with the in-memory backend on random histories, several stores on one Redis, and
turning Redis failures into `StorageError`.
"""

from __future__ import annotations

import asyncio
import random
import subprocess
import sys
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import redis.asyncio as aioredis
from redis.exceptions import ResponseError

from capture.errors import StorageError
from capture.store import HistoryPolicy, MemoryStore, RedisStore, Store, store_from_url
from capture.store._redis import has_field_expiry
from capture.store._redis_batch import AutoPipeline
from tests.conftest import Clock, RedisServer

pytestmark = pytest.mark.redis

T0 = Clock.START
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@pytest.fixture
async def raw(redis_url: str) -> AsyncIterator[aioredis.Redis]:
    client = aioredis.Redis.from_url(redis_url, decode_responses=True)
    yield client
    await client.aclose()


@pytest.fixture
async def open_store(redis_url: str) -> AsyncIterator[Callable[..., Any]]:
    """Factory of opened RedisStores on the shared server, closed at teardown."""
    stores: list[RedisStore] = []

    async def make(**options: Any) -> RedisStore:
        store = RedisStore(options.pop("url", redis_url), **options)
        await store.open()
        stores.append(store)
        return store

    yield make
    for store in stores:
        await store.close()


async def test_store_from_url_builds_a_redis_store_with_a_prefix(redis_url: str) -> None:
    store = store_from_url(redis_url + "?prefix=tenant-a", history_versions=3)
    assert isinstance(store, RedisStore)
    assert store.prefix == "tenant-a"
    assert store.describe() == f"redis 127.0.0.1:{redis_url.split(':')[2]} (prefix 'tenant-a')"
    await store.open()
    await store.open()  # idempotent
    await store.set("t", "k", "1", None)
    assert await store.get("t", "k") == "1"
    await store.close()
    await store.close()


def test_importing_capture_and_building_a_redis_store_does_not_import_redis() -> None:
    code = (
        "import sys, capture, capture.store, capture.cli\n"
        "capture.store.store_from_url('redis://127.0.0.1:1/0')\n"
        "print('redis' in sys.modules)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"


async def test_keys_are_namespaced_and_never_listed_with_keys_or_scan(
    open_store: Callable[..., Any], raw: aioredis.Redis, redis_url: str
) -> None:
    a = await open_store(url=redis_url + "?prefix=a")
    b = await open_store(url=redis_url + "?prefix=b")
    await raw.config_resetstat()
    await a.set("thread:1", "__user_part_x", '"one"', T0 + timedelta(days=999))
    await b.set("thread:1", "k", '"two"', None)
    assert await a.get_all("thread:1") == {"__user_part_x": '"one"'}
    assert await b.get_all("thread:1") == {"k": '"two"'}
    assert [row.thread_id for row in await a.list_sessions(None, 10, 0)] == ["thread:1"]
    await a.history("thread:1", "__user_part_x", 10)
    await a.sweep()
    await a.clear("thread:1")
    assert await b.get("thread:1", "k") == '"two"'
    stats = await raw.info("commandstats")
    assert "cmdstat_evalsha" in stats
    assert not {"cmdstat_keys", "cmdstat_scan"} & set(stats)
    assert all(name.startswith(("a:", "b:")) for name in await raw.keys("*"))


async def test_a_thread_whose_values_all_expire_gets_a_native_ttl(
    open_store: Callable[..., Any], raw: aioredis.Redis
) -> None:
    store = await open_store()
    now = datetime.now(UTC)
    await store.set("t", "a", "1", now + timedelta(seconds=60))
    await store.set("t", "b", "2", now + timedelta(seconds=30))
    assert 59_000 < await raw.pttl("capture:{0}:v:t") <= 60_000
    await store.set("t", "c", "3", None)  # one value that never expires: no TTL on the thread
    assert await raw.pttl("capture:{0}:v:t") == -1
    await store.delete("t", "c")
    assert 59_000 < await raw.pttl("capture:{0}:v:t") <= 60_000


async def test_redis_itself_drops_an_expired_thread_without_a_sweep(
    open_store: Callable[..., Any], raw: aioredis.Redis
) -> None:
    store = await open_store()
    await store.set("gone", "k", "1", datetime.now(UTC) + timedelta(milliseconds=150))
    await store.set("kept", "k", "1", None)
    assert await raw.exists("capture:{0}:v:gone")
    for _ in range(100):  # Redis expires keys on its own clock; poll instead of sleeping long
        if not await raw.exists("capture:{0}:v:gone", "capture:{0}:u:gone", "capture:{0}:x:gone"):
            break
        await asyncio.sleep(0.02)
    assert not await raw.exists("capture:{0}:v:gone", "capture:{0}:u:gone", "capture:{0}:x:gone")
    # The stale index entries are dropped on the next listing.
    assert [row.thread_id for row in await store.list_sessions(None, 10, 0)] == ["kept"]
    assert await raw.zrange("capture:{0}:threads", 0, -1) == ["kept"]
    assert await raw.zrange("capture:{0}:due", 0, -1) == []


async def test_partial_expiry_leaves_the_live_values_and_the_right_updated_at(
    open_store: Callable[..., Any],
) -> None:
    clock = Clock()
    store = await open_store(clock=clock)
    await store.set("older", "k", "1", None)
    clock.advance(seconds=1)
    await store.set("t", "stays", "1", None)
    clock.advance(seconds=1)
    await store.set("t", "goes", "2", clock.now + timedelta(seconds=5))
    rows = await store.list_sessions(None, 10, 0)
    assert [(r.thread_id, r.keys, r.updated_at) for r in rows] == [
        ("t", ["goes", "stays"], T0 + timedelta(seconds=2)),
        ("older", ["k"], T0),
    ]
    clock.advance(seconds=5)
    assert await store.get("t", "goes") is None
    assert await store.get_all("t") == {"stays": "1"}
    rows = await store.list_sessions(None, 10, 0)
    assert [(r.thread_id, r.keys, r.updated_at) for r in rows] == [
        ("t", ["stays"], T0 + timedelta(seconds=1)),
        ("older", ["k"], T0),
    ]


async def test_history_is_trimmed_by_count_and_age_and_expires_natively(
    open_store: Callable[..., Any], raw: aioredis.Redis
) -> None:
    clock = Clock()
    policy = HistoryPolicy(versions=3, age=timedelta(seconds=10))
    store = await open_store(clock=clock, history=policy)
    name = "capture:{0}:h:1:t:__user_part_s"  # 1 = len("t"): ids holding ':' cannot collide
    for i in range(5):  # set at 0, 4, 8, 12 and 16 s
        await store.set("t", "__user_part_s", f'"v{i}"', None)
        clock.advance(seconds=4)
    assert await raw.llen(name) == 3  # the count bound, applied when writing
    # At 20 s, v2 (set at 8 s) is past the 10 s age bound: reads leave it out at once...
    history = await store.history("t", "__user_part_s", 10)
    assert [(e.value_json, e.set_at) for e in history] == [
        ('"v4"', T0 + timedelta(seconds=16)),
        ('"v3"', T0 + timedelta(seconds=12)),
    ]
    clock.advance(seconds=5)
    await store.set("t", "__user_part_s", '"v5"', None)
    assert await raw.lrange(name, 0, -1) == [  # ...and the next write trims it by age
        f'{(T0 - EPOCH) // timedelta(microseconds=1) + 25_000_000} - "v5"',
        f'{(T0 - EPOCH) // timedelta(microseconds=1) + 16_000_000} - "v4"',
    ]
    assert 0 < await raw.pttl(name) <= 10_000  # Redis drops an idle history by itself
    assert 0 < await raw.pttl("capture:{0}:hk:t") <= 10_000


async def test_sweep_visits_only_due_threads_in_batches(
    open_store: Callable[..., Any], raw: aioredis.Redis
) -> None:
    clock = Clock()
    store = await open_store(clock=clock)
    soon = T0 + timedelta(seconds=1)
    await asyncio.gather(*(store.set(f"t{n}", "k", "1", soon) for n in range(1200)))
    await store.set("kept", "k", "1", None)
    assert await raw.zcard("capture:{0}:due") == 1200
    clock.advance(seconds=2)
    assert await store.sweep() == 1200  # more than one batch of 500
    assert await raw.zcard("capture:{0}:due") == 0
    assert await raw.zrange("capture:{0}:threads", 0, -1) == ["kept"]
    assert await store.sweep() == 0


async def test_several_stores_on_one_redis_are_one_store(open_store: Callable[..., Any]) -> None:
    first, second = await open_store(), await open_store()
    await first.set("t", "k", '"from first"', None)
    assert await second.get("t", "k") == '"from first"'
    await second.delete("t", "k")
    assert await first.get("t", "k") is None
    await asyncio.gather(
        *(s.set("t", f"k{i}", str(i), None) for i, s in enumerate([first, second] * 50))
    )
    assert len(await first.get_all("t")) == 100
    assert (await second.list_sessions("t", 10, 0))[0].keys == sorted(f"k{i}" for i in range(100))


async def test_unreachable_redis_is_a_storage_error(redis_binary: str) -> None:
    store = RedisStore("redis://127.0.0.1:1/0", timeout=1)
    with pytest.raises(StorageError, match=r"redis ping failed \(127.0.0.1:1/0\)"):
        await store.open()
    await store.close()


async def test_close_leaves_no_command_in_flight(raw: aioredis.Redis, redis_url: str) -> None:
    """A call that timed out leaves its batch waiting on Redis; closing the store must end it,
    or it outlives the store (and its event loop) holding a connection nobody closes."""
    store = RedisStore(redis_url, timeout=0.3)
    await store.open()
    await raw.execute_command("CLIENT", "PAUSE", 1000, "ALL")  # Redis stops answering others
    with pytest.raises(StorageError, match="redis get timed out"):
        await store.get("t", "k")
    await store.close()
    left = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
    assert left == []


async def test_a_redis_restart_is_a_storage_error_then_heals(
    new_redis: Callable[[], RedisServer],
) -> None:
    server = new_redis()
    store = RedisStore(server.url, timeout=1)
    await store.open()
    await store.set("t", "k", '"kept"', None)
    server.stop()
    with pytest.raises(StorageError, match="redis get failed"):
        await store.get("t", "k")
    server.start()
    assert await store.get("t", "k") == '"kept"'  # from the append-only file, same client
    await store.close()


def test_bad_urls_are_clear_errors() -> None:
    with pytest.raises(StorageError, match="prefix is empty"):
        RedisStore("redis://127.0.0.1:6379/0?prefix=")
    for url in ("redis://127.0.0.1:6379/notadb", "redis://127.0.0.1:port/0"):
        with pytest.raises(StorageError, match=r"bad redis URL .*use redis://host:port/db"):
            store_from_url(url)
    with pytest.raises(StorageError, match=r"prefix is empty or holds \{ or \}"):
        RedisStore("redis://127.0.0.1:6379/0?prefix=a{b}")  # would move keys' hash slot
    with pytest.raises(StorageError, match="wait must be a number of replicas"):
        RedisStore("redis://127.0.0.1:6379/0?wait=all")
    for url in ("redis+cluster://127.0.0.1:7000/3", "redis+sentinel://127.0.0.1:26379"):
        with pytest.raises(StorageError, match=r"bad redis URL .*use redis\+cluster://host:port"):
            RedisStore(url)
    cluster = store_from_url("rediss+cluster://127.0.0.1:7000?wait=1&prefix=p")
    assert isinstance(cluster, RedisStore)
    assert (cluster.cluster, cluster.wait, cluster.prefix) == (True, 1, "p")
    assert cluster.url == "rediss://127.0.0.1:7000"  # what redis-py is given


# -- the Redis backend against the in-memory one, on random histories --------------------

THREADS = ["t1", "t:2", "t 3/x", "é4"]
KEYS = ["a", "b:c", "__user_part_screenshot", "__user_part_observation", "ключ"]


async def _apply(store: Store, op: tuple[Any, ...]) -> Any:
    name, *args = op
    result = await getattr(store, name)(*args)
    if name == "history":
        return [(e.value_json, e.set_at, e.expiry) for e in result]
    if name == "list_sessions":
        return [(r.thread_id, r.keys, r.updated_at) for r in result]
    if name in ("get_all", "entries"):
        return dict(sorted(result.items()))
    return None if name == "sweep" else result


def _random_op(rng: random.Random, clock: Clock) -> tuple[Any, ...]:
    thread, key = rng.choice(THREADS), rng.choice(KEYS)
    roll = rng.random()
    if roll < 0.40:
        expiry = rng.choice([None, None, clock.now + timedelta(seconds=rng.uniform(-1, 6))])
        return ("set", thread, key, str(rng.randrange(1000)), expiry)
    if roll < 0.50:
        return ("delete", thread, key)
    if roll < 0.53:
        return ("clear", thread)
    if roll < 0.63:
        return ("get", thread, key)
    if roll < 0.68:
        return ("get_all", thread)
    if roll < 0.73:
        return ("entries", thread)
    if roll < 0.85:
        only = rng.choice([None, None, thread])
        return ("list_sessions", only, rng.randrange(1, 4), rng.randrange(0, 3))
    if roll < 0.95:
        return ("history", thread, key, rng.randrange(1, 6))
    return ("sweep",)


@pytest.mark.parametrize("seed", [1, 2])
async def test_redis_agrees_with_memory_on_random_operations(
    seed: int, open_store: Callable[..., Any]
) -> None:
    clock = Clock()
    policy = HistoryPolicy(versions=4, age=timedelta(seconds=8))
    memory = MemoryStore(clock=clock, history=policy)
    redis_store = await open_store(clock=clock, history=policy)
    rng = random.Random(seed)
    for step in range(600):
        op = _random_op(rng, clock)
        expected, got = await _apply(memory, op), await _apply(redis_store, op)
        assert got == expected, f"step {step}: {op}"
        # Distinct set times keep the session order free of ties the backends break alike.
        clock.advance(seconds=rng.choice([0.001, 0.01, 0.3, 1.0]))


# -- the key layout's version, and per-field expiry where the server has it ---------------


async def test_data_in_the_old_layout_is_a_clear_error(raw: aioredis.Redis, redis_url: str) -> None:
    await raw.zadd("capture:threads", {"t": 1})  # what capture wrote before layout 2
    with pytest.raises(StorageError, match=r"old key layout under prefix 'capture'.*capture:\*"):
        await RedisStore(redis_url).open()
    fresh = RedisStore(redis_url + "?prefix=fresh")  # another prefix is untouched
    await fresh.open()
    await fresh.close()
    await raw.hset("other:meta", mapping={"layout": "3", "buckets": "1"})
    with pytest.raises(StorageError, match=r"layout '3' under prefix 'other'.*reads layout 2"):
        await RedisStore(redis_url + "?prefix=other").open()


@pytest.mark.parametrize(
    ("info", "expected"),
    [
        ({"redis_version": "7.0.15"}, False),
        ({"redis_version": "7.4.0"}, True),
        ({"redis_version": "8.2.3"}, True),
        ({"redis_version": "7.2.4", "valkey_version": "8.1.1"}, False),
        ({"redis_version": "7.2.4", "valkey_version": "9.0.0"}, True),
    ],
)
def test_per_field_expiry_is_detected_from_the_server_version(
    info: dict[str, str], expected: bool
) -> None:
    assert has_field_expiry(info) is expected


async def test_per_field_expiry_is_used_only_where_the_server_has_it(
    redis_url: str, redis_hfe_url: str
) -> None:
    for url, native in ((redis_hfe_url, True), (redis_url, False)):
        store = RedisStore(url)
        await store.open()
        assert store.field_expiry is native
        raw = aioredis.Redis.from_url(url, decode_responses=True)
        await store.set("t", "gone", "1", datetime.now(UTC) + timedelta(milliseconds=200))
        await store.set("t", "kept", "2", None)
        await asyncio.sleep(0.3)  # past the expiry, on Redis' own clock too
        for _ in range(100):  # Redis 8 expires fields actively, a few times a second
            if not await raw.hexists("capture:{0}:v:t", "gone"):
                break
            await asyncio.sleep(0.02)
        # Redis 7.0 keeps the field until a write, a listing or a sweep settles the thread;
        # both hide it from every read at once.
        assert await raw.hexists("capture:{0}:v:t", "gone") is not native
        assert await store.get_all("t") == {"kept": "2"}
        await raw.aclose()
        await store.close()


async def test_calls_of_one_loop_turn_share_a_pipeline_and_keep_their_own_replies(
    raw: aioredis.Redis,
) -> None:
    await raw.set("s", "x")
    await raw.hset("h", "f", "v")
    batch = AutoPipeline(raw)
    sizes: list[int] = []
    send = batch._send

    async def counted(calls: list[Any]) -> None:  # the real send, counted
        sizes.append(len(calls))
        await send(calls)

    batch._send = counted  # type: ignore[method-assign]
    replies = await asyncio.gather(
        *(batch.call("GET", "s") for _ in range(20)), batch.call("GET", "h"), return_exceptions=True
    )
    assert replies[:20] == ["x"] * 20
    assert isinstance(replies[20], ResponseError)  # WRONGTYPE: that caller's error alone
    assert sizes == [21]
    assert await batch.call("HGET", "h", "f") == "v"  # a later turn: a batch of its own
    assert sizes == [21, 1]
