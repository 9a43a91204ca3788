"""Background upload: latest wins per key, bounded queue, retries, drops, both faces."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import pytest

from capture.errors import PayloadTooLargeError, StoreUnavailableError
from capture.recorder._upload import AsyncUploader, RecorderStats, SyncUploader, Write
from capture.session import AsyncSessionClient, SessionClient
from tests.conftest import dead_port, thread_values


def _closed_port_url() -> str:
    return f"http://127.0.0.1:{dead_port()}/api/v1"


def _uploader_options(**overrides: Any) -> dict[str, Any]:
    return {"queue_size": 8, "retries": 0, "stats": RecorderStats(), **overrides}


async def test_latest_write_per_key_wins(store_server: Any) -> None:
    async with AsyncSessionClient(store_server.base_url) as client:
        up = AsyncUploader(client, "t-latest", **_uploader_options())
        done: list[tuple[str, bool]] = []
        for n in range(5):
            up.put(Write("shot", {"n": n}, on_done=lambda ok, n=n: done.append((f"shot{n}", ok))))
        up.put(Write("other", "x"))
        up.put(Write("gone", "soon"))
        up.put(Write("gone", None))  # a delete replaces the pending set
        await up.close()
    assert thread_values(store_server.base_url, "t-latest") == {"shot": {"n": 4}, "other": "x"}
    assert done == [("shot4", True)]  # superseded writes were never sent nor dropped
    assert (up.stats.uploaded, up.stats.dropped) == (3, 0)


async def test_full_queue_drops_the_oldest(store_server: Any) -> None:
    async with AsyncSessionClient(store_server.base_url) as client:
        up = AsyncUploader(client, "t-full", **_uploader_options(queue_size=2))
        for n in range(4):
            up.put(Write(f"k{n}", n))
        await up.flush()
        await up.close()
    assert thread_values(store_server.base_url, "t-full") == {"k2": 2, "k3": 3}
    assert (up.stats.uploaded, up.stats.dropped) == (2, 2)


async def test_store_down_counts_drops_and_never_raises() -> None:
    async with AsyncSessionClient(_closed_port_url(), retries=0) as client:
        up = AsyncUploader(client, "t-down", **_uploader_options(retries=1))
        results: list[bool] = []
        up.put(Write("a", 1, on_done=results.append))
        up.put(Write("b", 2))
        await up.close()
    assert up.stats.dropped == 2
    assert up.stats.uploaded == 0
    assert results == [False]
    assert all(isinstance(e, StoreUnavailableError) for e in up.errors)


async def test_unavailable_is_retried_with_backoff_then_dropped() -> None:
    # A store answering 503 forever: a fault the real server cannot be asked to produce.
    calls: list[httpx.Request] = []

    def always_503(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return httpx.Response(503, json={"error": "overloaded"})

    async with AsyncSessionClient(
        "http://127.0.0.1:1/api/v1", retries=0, transport=httpx.MockTransport(always_503)
    ) as client:
        up = AsyncUploader(client, "t-503", **_uploader_options(retries=2))
        up.put(Write("a", 1))
        await up.close()
    assert len(calls) == 3  # first try + upload_retries
    assert up.stats.dropped == 1
    assert up.retry_delay(1, StoreUnavailableError("x")) == 0.25
    assert up.retry_delay(2, StoreUnavailableError("x")) == 0.5
    assert up.retry_delay(3, StoreUnavailableError("x")) is None


@pytest.mark.parametrize("face", ["async", "sync"])
async def test_one_retry_budget_per_write_whatever_the_clients_own(face: str) -> None:
    """The uploader's retries are the only ones: a client with retries of its own does not
    multiply them (4 client tries x 3 upload tries made 12 requests, ~65 s on a dead store)."""
    calls: list[httpx.Request] = []

    def always_503(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return httpx.Response(503, json={"error": "overloaded"})

    url, transport = "http://127.0.0.1:1/api/v1", httpx.MockTransport(always_503)
    if face == "async":
        async with AsyncSessionClient(url, retries=3, transport=transport) as client:
            up = AsyncUploader(client, "t-503", **_uploader_options(retries=2))
            up.put(Write("a", 1))
            await up.close()
    else:
        with SessionClient(url, retries=3, transport=transport) as sync_client:
            sync_up = SyncUploader(sync_client, "t-503", **_uploader_options(retries=2))
            sync_up.put(Write("a", 1))
            sync_up.close()
    assert len(calls) == 3  # first try + upload_retries, once


async def test_close_gives_up_at_its_deadline_and_counts_what_is_left() -> None:
    """A store that stopped answering mid-request (a fault a real server cannot be asked to
    produce on cue): close(within=...) returns then, the write in flight and the queued ones
    counted as dropped."""

    async def hang(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(60)
        return httpx.Response(204)

    async with AsyncSessionClient(
        "http://127.0.0.1:1/api/v1", transport=httpx.MockTransport(hang)
    ) as client:
        up = AsyncUploader(client, "t-hang", **_uploader_options(retries=3))
        for key in "abc":
            up.put(Write(key, 1))
        await asyncio.sleep(0.05)  # "a" is in flight
        began = time.monotonic()
        await up.close(0.5)
    assert time.monotonic() - began < 5
    assert (up.stats.uploaded, up.stats.dropped, up.pending) == (0, 3, 0)


async def test_rejected_write_is_not_retried(start_store_server: Any) -> None:
    running = start_store_server(max_body_bytes=2048)
    async with AsyncSessionClient(running.base_url) as client:
        up = AsyncUploader(client, "t-413", **_uploader_options(retries=3))
        up.put(Write("big", "x" * 5000))
        up.put(Write("small", "ok"))
        await up.close()
    assert isinstance(up.errors[0], PayloadTooLargeError)
    assert (up.stats.uploaded, up.stats.dropped) == (1, 1)
    assert thread_values(running.base_url, "t-413") == {"small": "ok"}


def test_sync_uploader_sends_drains_and_drops(store_server: Any) -> None:
    with SessionClient(store_server.base_url) as client:
        up = SyncUploader(client, "t-sync", **_uploader_options())
        for n in range(5):
            up.put(Write("shot", {"n": n}))
        up.put(Write("rec", {"step": 1}))
        up.flush()
        assert up.pending == 0
        up.close()
    assert thread_values(store_server.base_url, "t-sync") == {"shot": {"n": 4}, "rec": {"step": 1}}
    assert up.stats.dropped == 0
    assert 2 <= up.stats.uploaded <= 6

    with SessionClient(_closed_port_url(), retries=0) as down:
        up = SyncUploader(down, "t-sync", **_uploader_options(retries=1))
        up.put(Write("a", 1))
        up.close()
    assert up.stats.dropped == 1


@pytest.mark.parametrize("size", [1, 3])
async def test_flush_on_an_idle_uploader_returns(store_server: Any, size: int) -> None:
    async with AsyncSessionClient(store_server.base_url) as client:
        up = AsyncUploader(client, "t-idle", **_uploader_options(queue_size=size))
        await up.flush()
        up.put(Write("k", 1))
        await up.flush()
        await up.flush()
        await up.close()
    assert up.stats.uploaded == 1
