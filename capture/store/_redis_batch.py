"""Automatic pipelining for the Redis backend: the commands that concurrent requests issue in
one turn of the event loop go to Redis as one pipeline.

Profiling `scripts/bench store` showed a set+get spending most of its Redis time on one socket
write and one read per command, on both ends. Batched, 16 concurrent requests cost a write
and a read or two, and Redis itself reads and answers them in one go. Each command still
gets its own reply or error; a failure of the whole batch (a lost connection) reaches every
caller in it.
"""

from __future__ import annotations

import asyncio
from typing import Any

__all__ = ["AutoPipeline"]


class AutoPipeline:
    """Send `call(*command)`s made in the same loop turn together, through `client.pipeline`
    (redis-py's cluster pipeline splits a batch per primary by each command's key)."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self._queue: list[tuple[tuple[object, ...], asyncio.Future[Any]]] = []
        self._sending: set[asyncio.Task[None]] = set()

    async def call(self, *command: object) -> Any:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        self._queue.append((command, future))
        if len(self._queue) == 1:  # the first of this turn: flush once the turn is over
            loop.call_soon(self._flush)
        return await future

    async def aclose(self) -> None:
        """Cancel the batches still in flight and wait for them. A sender left running past
        the store's close would retry on a fresh connection that nobody ever closes (its
        caller has long timed out)."""
        for task in self._sending:
            task.cancel()
        await asyncio.gather(*self._sending, return_exceptions=True)

    def _flush(self) -> None:
        batch, self._queue = self._queue, []
        task = asyncio.get_running_loop().create_task(self._send(batch))
        self._sending.add(task)  # a strong reference until it is done
        task.add_done_callback(self._sending.discard)

    async def _send(self, batch: list[tuple[tuple[object, ...], asyncio.Future[Any]]]) -> None:
        try:
            if len(batch) == 1:  # a pipeline object costs more than it saves for one
                results = [await self._client.execute_command(*batch[0][0])]
            else:
                async with self._client.pipeline(transaction=False) as pipe:
                    for command, _ in batch:
                        pipe.execute_command(*command)
                    results = await pipe.execute(raise_on_error=False)
        except Exception as exc:
            results = [exc] * len(batch)
        for (_, future), result in zip(batch, results, strict=True):
            if future.done():  # its caller gave up (timed out)
                continue
            if isinstance(result, Exception):
                future.set_exception(result)
            else:
                future.set_result(result)
