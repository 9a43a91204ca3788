"""The Redis backend on a real Redis Cluster beyond the shared contract (which runs on one
too): detection, threads spread over every primary, the session list paging across them,
WAIT, and a primary killed mid-write with its replica promoted."""

from __future__ import annotations

import asyncio
import gc
import signal
from datetime import timedelta
from pathlib import Path

import pytest
from redis.asyncio.cluster import RedisCluster
from redis.asyncio.connection import Connection

from capture.errors import StorageError
from capture.store import RedisStore, store_from_url
from tests.conftest import Clock, RedisClusterNodes, until

pytestmark = pytest.mark.redis

T0 = Clock.START


async def test_a_plain_redis_url_reaching_a_cluster_node_is_detected(
    redis_cluster: RedisClusterNodes, redis_cluster_url: str
) -> None:
    node = redis_cluster.nodes[4]  # any node, a replica too: the client learns the slot map
    store = store_from_url(f"redis://127.0.0.1:{node.port}?prefix=p")
    assert isinstance(store, RedisStore)
    await store.open()
    assert store.cluster is True
    assert store.describe() == f"redis cluster 127.0.0.1:{node.port} (prefix 'p')"
    await store.set("t", "k", '"v"', None)
    assert await store.get("t", "k") == '"v"'
    await store.close()


async def test_threads_spread_over_every_primary_and_the_list_pages_across_them(
    redis_cluster: RedisClusterNodes, redis_cluster_url: str
) -> None:
    clock = Clock()
    store = RedisStore(redis_cluster_url, clock=clock)
    await store.open()
    threads = [f"thread-{n}" for n in range(60)]
    for n, thread in enumerate(threads):
        expiry = T0 + timedelta(seconds=100) if n % 10 == 0 else None  # t0, t10, ... expire
        await store.set(thread, "k", str(n), expiry)
        clock.advance(seconds=1)
    for primary in redis_cluster.primaries():  # DBSIZE: b":<n>\r\n"
        assert int(primary.command("DBSIZE")[1:]) > 0

    newest_first = threads[::-1]
    pages = [await store.list_sessions(None, 7, offset) for offset in range(0, 63, 7)]
    assert [row.thread_id for page in pages for row in page] == newest_first
    assert [len(page) for page in pages] == [7] * 8 + [4]
    [row] = await store.list_sessions("thread-42", 10, 0)
    assert (row.thread_id, row.keys, row.updated_at) == (
        "thread-42",
        ["k"],
        T0 + timedelta(seconds=42),
    )

    clock.advance(seconds=100)  # six threads' only values expire, in six different buckets
    assert await store.sweep() == 6
    listed = [row.thread_id for row in await store.list_sessions(None, 100, 0)]
    assert listed == [t for n, t in enumerate(threads) if n % 10][::-1]
    await store.close()


async def test_wait_acknowledges_a_write_only_once_replicas_have_it(
    redis_cluster_url: str, redis_url: str
) -> None:
    replicated = RedisStore(redis_cluster_url + "?wait=1")
    await replicated.open()
    await replicated.set("t", "k", '"on a replica too"', None)
    await replicated.delete("t", "gone")
    await replicated.close()
    # Each primary has one replica, and a lone Redis none: WAIT says so after half the
    # `timeout`, the other half being the margin for the reply on a busy machine.
    for url in (redis_cluster_url + "?wait=2", redis_url + "?wait=1"):
        store = RedisStore(url, timeout=1.0)
        await store.open()
        with pytest.raises(StorageError, match=r"redis set reached [01] of [12] replicas"):
            await store.set("t", "k", "1", None)
        await store.close()


# -- a primary killed mid-write --------------------------------------------------------


async def _write_until(
    store: RedisStore, acked: dict[tuple[str, str], str], stop: asyncio.Event, writer: int
) -> int:
    """Set distinct values until `stop`; record the acknowledged ones, count the refused."""
    refused = n = 0
    while not stop.is_set():
        thread, key, value = f"t{(writer * 7 + n) % 40}", f"w{writer}.{n}", str(n)
        try:
            await store.set(thread, key, value, None)
            acked[thread, key] = value
        except StorageError:
            refused += 1
            await asyncio.sleep(0.05)
        n += 1
    return refused


@pytest.mark.slow
async def test_a_killed_primary_loses_no_write_acknowledged_with_wait(tmp_path: Path) -> None:
    cluster = RedisClusterNodes.start(tmp_path, node_timeout_ms=1000)
    raw = RedisCluster.from_url(cluster.url.replace("+cluster", ""))
    store = RedisStore(cluster.url + "?wait=1", timeout=2)
    try:
        await store.open()
        await raw.initialize()
        bucket0 = raw.get_node_from_key("capture:{0}:threads")
        [victim] = [node for node in cluster.nodes if node.port == bucket0.port]
        on_victim = {  # the threads whose bucket lives on the primary about to die
            f"t{n}" for n in range(40) if raw.get_node_from_key(store._base(f"t{n}")) == bucket0
        }
        assert on_victim

        acked: dict[tuple[str, str], str] = {}
        stop = asyncio.Event()
        writers = [asyncio.create_task(_write_until(store, acked, stop, w)) for w in range(8)]
        await until(
            lambda: sum(thread in on_victim for thread, _ in acked) >= 100, "100 writes", 60
        )
        mapped = store._client.nodes_manager.nodes_cache
        [dead] = [node for node in mapped.values() if node.port == victim.port]
        victim.stop(signal.SIGKILL)  # mid-write: eight writes are in flight
        before = len(acked)
        await asyncio.to_thread(cluster.wait_until_ok)  # its replica is promoted
        # The writes that reach the dead primary make the client re-read the slot map,
        # which no longer holds it.
        await until(lambda: dead not in mapped.values(), "the dead primary dropped", 30)
        # The promoted primary has no replica, so WAIT refuses its writes until the old
        # primary is back, now as its replica (as an operator would restart it).
        victim.start()
        await asyncio.to_thread(cluster.wait_until_ok)
        await until(
            lambda: sum(thread in on_victim for thread, _ in list(acked)[before:]) >= 100,
            "100 writes after the failover",
            60,
        )
        stop.set()
        refused = sum(await asyncio.gather(*writers))
        print(f"{len(acked)} acknowledged, {refused} refused during the failover")

        promoted = [node for node in cluster.primaries() if node is not victim]
        assert len(promoted) == 3  # the victim's replica took its slots
        reader = RedisStore(cluster.url)
        await reader.open()
        for (thread, key), value in acked.items():
            assert await reader.get(thread, key) == value, (thread, key)
        await reader.close()
        # A command that picked the node before the drop connects it again, now to the
        # restarted node on the same port, as a write racing the failover does.
        assert await dead.execute_command("PING")
    finally:
        await store.close()
        await raw.aclose()
        cluster.stop()
    # redis-py drops the killed primary from its slot map with the writes' connections still
    # busy on it; closing the store must end those too, or they outlive its event loop.
    # (This failed now and then on CI before `close` ended the dropped nodes' connections;
    # the PING above makes it fail every time on that code.)
    gc.collect()
    ports = {node.port for node in cluster.nodes}
    still_open = [
        (c.port, id(c))
        for c in gc.get_objects()
        if isinstance(c, Connection) and c.port in ports and c.is_connected
    ]
    assert still_open == []
