"""Many concurrent calls, one round trip.

Calls made during the same turn of the event loop are queued; on the next turn they go
to one batch function together and each caller gets its own result back. The escalator
reads and writes its Redis state this way: a thousand steps due at once cost a few
Redis round trips instead of a few thousand, and a lone step is not held back (no
timer, just the end of the current turn).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")


class Coalescer(Generic[T, R]):
    """``await coalescer(item)``: the item's result from ``run_batch(items)``, which
    returns one result per item, in order. If the batch fails, every caller in it
    gets the error."""

    def __init__(self, run_batch: Callable[[list[T]], Awaitable[Sequence[R]]]) -> None:
        self._run_batch = run_batch
        self._waiting: list[tuple[T, asyncio.Future[R]]] = []
        self._running: set[asyncio.Task[None]] = set()  # keep the batches referenced

    async def __call__(self, item: T) -> R:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[R] = loop.create_future()
        self._waiting.append((item, future))
        if len(self._waiting) == 1:
            loop.call_soon(self._start_batch)  # after everyone of this turn has queued
        return await future

    def _start_batch(self) -> None:
        batch, self._waiting = self._waiting, []
        task = asyncio.get_running_loop().create_task(self._run(batch))
        self._running.add(task)
        task.add_done_callback(self._running.discard)

    async def _run(self, batch: list[tuple[T, asyncio.Future[R]]]) -> None:
        try:
            results = await self._run_batch([item for item, _ in batch])
            if len(results) != len(batch):
                raise RuntimeError(f"batch of {len(batch)} gave {len(results)} results")
        except Exception as exc:
            for _, future in batch:
                if not future.done():
                    future.set_exception(exc)
            return
        for (_, future), result in zip(batch, results, strict=True):
            if not future.done():  # its caller may have been cancelled
                future.set_result(result)
