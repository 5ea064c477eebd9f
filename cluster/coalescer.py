"""Merging concurrent requests into one call: ingest requests for one tenant into one
actor call (the ingress), the escalator's Redis reads and writes into one round trip.

While a call is in flight, newly arriving requests wait in a queue; when it returns,
everything queued goes out as the next single call. An idle
tenant's request is sent at once, so batching adds no delay at low load and
removes most per-call overhead at high load. Each waiter gets exactly the results
of its own alerts, in order; if the call fails, every request in it fails the same
way (the actor stores a call all-or-nothing, so none of them was stored).
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")


class Coalescer(Generic[Item, Result]):
    """Queue per-request item lists and send them through ``send`` one merged call at a time."""

    def __init__(
        self,
        send: Callable[[list[Item]], Awaitable[Sequence[Result]]],
        max_items: int,
        max_in_flight: int = 1,
        merged: Callable[[int], None] | None = None,
    ) -> None:
        self._send = send
        self._merged = merged  # told how many requests each call carries (a metric)
        self._max_items = max_items
        self._max_in_flight = max_in_flight  # calls at once (1: strictly one after another)
        self._queue: deque[tuple[list[Item], asyncio.Future[list[Result]]]] = deque()
        self._drains = 0
        self._tasks: set[asyncio.Task[None]] = set()  # referenced until done

    async def one(self, item: Item) -> Result:
        """Send one item (possibly merged with others) and return its result."""
        (result,) = await self.submit([item])
        return result

    async def submit(self, items: list[Item]) -> list[Result]:
        """Send ``items`` (possibly merged with others) and return their results in order."""
        future: asyncio.Future[list[Result]] = asyncio.get_running_loop().create_future()
        self._queue.append((items, future))
        if self._drains < self._max_in_flight:
            self._drains += 1
            task = asyncio.get_running_loop().create_task(self._drain())
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return await future

    def _next_batch(self) -> list[tuple[list[Item], asyncio.Future[list[Result]]]]:
        """Whole requests from the queue head, up to ``max_items`` (at least one request)."""
        batch = [self._queue.popleft()]
        count = len(batch[0][0])
        while self._queue and count + len(self._queue[0][0]) <= self._max_items:
            request = self._queue.popleft()
            batch.append(request)
            count += len(request[0])
        return batch

    async def _drain(self) -> None:
        try:
            while self._queue:
                batch = self._next_batch()
                if self._merged is not None:
                    self._merged(len(batch))
                try:
                    results = await self._send([item for items, _ in batch for item in items])
                except Exception as exc:  # every request of the failed call gets the error
                    for _, future in batch:
                        if not future.done():
                            future.set_exception(exc)
                    continue
                start = 0
                for items, future in batch:
                    if not future.done():
                        future.set_result(list(results[start : start + len(items)]))
                    start += len(items)
        finally:
            self._drains -= 1
