"""The store under load and faults, with real processes: `capture serve` subprocesses on a
real redis-server that the tests kill and restart.

(a) two servers on one Redis, 64 concurrent clients: no lost or wrong value;
(b) Redis SIGKILLed during writes (append-only, fsync always): every acknowledged write is
    there after the restart;
(c) Redis stopped mid-run: 503 JSON while it is gone, recovery without a server restart, and
    retries carry a client's write and a recorder's captures through the outage.
The SQLite SIGKILL test is in test_server_process.py.
"""

from __future__ import annotations

import asyncio
import signal
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from capture.browser import open_browser
from capture.config import CaptureConfig, Config
from capture.errors import SessionStoreError
from capture.recorder import Recorder
from capture.session import AsyncSessionClient
from tests.conftest import RedisServer, ServeProcess, Site, StartServe

pytestmark = [pytest.mark.redis, pytest.mark.slow]


def _client(base_url: str, **options: Any) -> AsyncSessionClient:
    return AsyncSessionClient(base_url, timeout=10, **options)


@pytest.fixture
def redis_served(
    new_redis: Callable[[], RedisServer], capture_serve: StartServe
) -> tuple[RedisServer, ServeProcess]:
    """A redis-server of the test's own (to kill, stop and restart) and `capture serve` on it."""
    redis = new_redis()
    return redis, capture_serve("--store", redis.url)


# -- (a) two processes on one Redis, 64 concurrent clients ----------------------------------

WORKERS = 64
DURATION = 2.0  # seconds; and every client does at least ROUNDS rounds, however slow
ROUNDS = 5  # = the keys per client, so each one is written


async def test_two_servers_on_one_redis_lose_nothing_under_64_clients(
    redis_url: str, capture_serve: StartServe
) -> None:
    one, two = capture_serve("--store", redis_url), capture_serve("--store", redis_url)
    servers = [one.base_url, two.base_url]
    acked: dict[tuple[str, str], int] = {}  # (thread, key) -> last acknowledged seq
    wrong: list[str] = []
    ops = 0

    async def worker(w: int) -> None:
        nonlocal ops
        thread = f"thread {w % 8}"  # eight workers share each thread (one Redis hash)
        clients = [_client(url) for url in servers]
        deadline = time.monotonic() + DURATION
        seq = 0
        try:
            while seq < ROUNDS or time.monotonic() < deadline:
                seq += 1
                key = f"w{w}/k{seq % 5}"  # each key has one writer: reads are exact
                writer, reader = clients[seq % 2], clients[(seq + 1) % 2]
                await writer.set_session_value(thread, key, {"w": w, "seq": seq})
                acked[thread, key] = seq
                got = await reader.get_session_value(thread, key)  # the other process
                if got != {"w": w, "seq": seq}:
                    wrong.append(f"{thread}/{key}: wrote seq {seq}, read {got}")
                ops += 2
        finally:
            for client in clients:
                await client.close()

    begun = time.monotonic()
    await asyncio.gather(*(worker(w) for w in range(WORKERS)))
    elapsed = time.monotonic() - begun
    assert not wrong

    # Afterwards both processes agree on every value and on the session list.
    async with _client(one.base_url) as first, _client(two.base_url) as second:
        for client in (first, second):
            for t in range(8):
                values = await client.get_session_values(f"thread {t}")
                expected = {
                    key: {"w": int(key[1:].split("/")[0]), "seq": seq}
                    for (thread, key), seq in acked.items()
                    if thread == f"thread {t}"
                }
                assert values == expected
            sessions = await client.list_sessions(limit=100)
            assert sorted(s.thread_id for s in sessions) == [f"thread {t}" for t in range(8)]
            assert sum(s.key_count for s in sessions) == len(acked) == WORKERS * 5
    print(f"\n{ops} ops by {WORKERS} clients on 2 processes in {elapsed:.1f} s; lost 0")


# -- (b) Redis SIGKILLed while writes stream in --------------------------------------------


async def test_every_acknowledged_write_survives_a_redis_sigkill(
    redis_served: tuple[RedisServer, ServeProcess],
) -> None:
    redis, served = redis_served
    acked: dict[str, int] = {}
    failed = 0
    stop, streaming, refused = asyncio.Event(), asyncio.Event(), asyncio.Event()

    async def writer(w: int) -> None:
        nonlocal failed
        async with _client(served.base_url, retries=0) as client:
            i = 0
            while not stop.is_set():
                i += 1
                key = f"w{w}-{i}"
                try:
                    await client.set_session_value("durable", key, i)
                except SessionStoreError:
                    failed += 1  # not acknowledged: may or may not be stored
                    if failed >= 32:
                        refused.set()
                    await asyncio.sleep(0.01)
                else:
                    acked[key] = i
                    if len(acked) >= 300:
                        streaming.set()

    tasks = [asyncio.create_task(writer(w)) for w in range(32)]
    async with asyncio.timeout(60):  # events, not guessed sleeps: the machine may be slow
        await streaming.wait()
        redis.stop(signal.SIGKILL)  # mid-write: 32 requests are in flight right now
        await refused.wait()
    stop.set()
    await asyncio.gather(*tasks)
    redis.start()  # same port, same data directory: replays the append-only file

    async with _client(served.base_url) as client:  # the same server, never restarted
        stored = await client.get_session_values("durable")
    lost = {key: i for key, i in acked.items() if stored.get(key) != i}
    assert not lost
    print(f"\n{len(acked)} acknowledged writes, {failed} refused during the kill, lost 0")


# -- (c) Redis gone for a while -----------------------------------------------------------


async def test_redis_outage_is_503_json_then_heals_and_retries_carry_a_write(
    redis_served: tuple[RedisServer, ServeProcess],
) -> None:
    redis, served = redis_served
    values = f"{served.base_url}/sessions/t/values"
    async with httpx.AsyncClient(timeout=10) as http:
        assert (await http.post(values, json={"key": "k", "value": 1})).status_code == 204
        redis.stop()

        for request in (
            http.build_request("POST", values, json={"key": "k", "value": 2}),
            http.build_request("GET", f"{values}/k"),
            http.build_request("GET", f"{served.base_url}/sessions"),
        ):
            response = await http.send(request)
            assert response.status_code == 503
            assert response.headers["content-type"] == "application/json"
            assert response.json()["error"].startswith("storage unavailable: redis")
        assert (await http.get(f"{served.root}/healthz")).status_code == 200

        # A client with retries, started while Redis is down, gets through once it is back.
        async with _client(served.base_url, retries=10, backoff=0.1, max_backoff=0.5) as c:
            pending = asyncio.create_task(c.set_session_value("t", "k", 3))
            await asyncio.sleep(0.5)
            assert not pending.done()
            redis.start()
            await pending
            assert await c.get_session_value("t", "k") == 3

        assert (await http.get(f"{values}/k")).json() == {"value": 3}


@pytest.mark.browser
async def test_a_recorder_rides_out_a_redis_outage(
    redis_served: tuple[RedisServer, ServeProcess], config: Config, site: Site
) -> None:
    """Captures taken while Redis is down are retried by the recorder's uploader and land
    once it is back: nothing dropped, the browser task never sees the outage."""
    redis, served = redis_served
    cfg = CaptureConfig(upload_retries=8)  # 0.25 s doubling to 2 s: about 12 s of patience
    async with (
        open_browser(config.browser, config.context) as browser,
        _client(served.base_url, retries=1, backoff=0.05) as client,
        Recorder(browser.page, client, "outage", config=cfg) as recorder,
    ):
        await browser.page.goto(site.url("index.html"))
        await recorder.capture("before")
        await recorder.flush()
        redis.stop()
        await browser.page.goto(site.url("table.html"))
        result = await recorder.capture("during the outage")
        await asyncio.sleep(0.5)  # the uploads are failing now (and being retried)
        redis.start()
        await recorder.flush()
        assert recorder.stats.dropped == 0
        observation = await client.get_session_value("outage", "__user_part_observation")
    assert result.stored
    assert observation["data"] == result.observation
    assert "table.html" in observation["data"]
