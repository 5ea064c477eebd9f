"""Merging concurrent ingest requests: each caller gets its own results, in order."""

import asyncio

import pytest

from cluster.coalescer import Coalescer


class RecordingSender:
    """Stands in for the actor: records each merged call and answers item → item * 10."""

    def __init__(self, fail_on: int | None = None) -> None:
        self.calls: list[list[int]] = []
        self.fail_on = fail_on
        self.release = asyncio.Event()

    async def __call__(self, items: list[int]) -> list[int]:
        self.calls.append(items)
        await self.release.wait()
        if self.fail_on is not None and self.fail_on in items:
            raise RuntimeError("store down")
        return [i * 10 for i in items]


async def test_idle_request_is_sent_at_once() -> None:
    sender = RecordingSender()
    sender.release.set()
    c = Coalescer(sender, max_items=100)
    assert await c.submit([1, 2]) == [10, 20]
    assert sender.calls == [[1, 2]]


async def test_requests_arriving_during_a_call_are_merged_and_split_back() -> None:
    sender = RecordingSender()
    merged: list[int] = []
    c = Coalescer(sender, max_items=100, merged=merged.append)
    first = asyncio.create_task(c.submit([1]))
    await asyncio.sleep(0)  # the first call is now in flight
    rest = [asyncio.create_task(c.submit([n, n + 1])) for n in (2, 4, 6)]
    await asyncio.sleep(0)
    sender.release.set()
    assert await first == [10]
    assert [await r for r in rest] == [[20, 30], [40, 50], [60, 70]]
    assert sender.calls == [[1], [2, 3, 4, 5, 6, 7]]  # two calls for four requests
    assert merged == [1, 3]  # requests per call, as the ingress's metric counts them


async def test_batches_respect_max_items_without_splitting_a_request() -> None:
    sender = RecordingSender()
    c = Coalescer(sender, max_items=4)
    first = asyncio.create_task(c.submit([0]))
    await asyncio.sleep(0)
    rest = [asyncio.create_task(c.submit([n, n, n])) for n in (1, 2, 3)]
    await asyncio.sleep(0)
    sender.release.set()
    await asyncio.gather(first, *rest)
    assert sender.calls == [[0], [1, 1, 1], [2, 2, 2], [3, 3, 3]]


async def test_a_failed_call_fails_every_request_in_it_and_only_those() -> None:
    sender = RecordingSender(fail_on=2)
    c = Coalescer(sender, max_items=100)
    first = asyncio.create_task(c.submit([1]))
    await asyncio.sleep(0)
    merged = [asyncio.create_task(c.submit([n])) for n in (2, 3)]
    await asyncio.sleep(0)
    sender.release.set()
    assert await first == [10]
    for task in merged:
        with pytest.raises(RuntimeError, match="store down"):
            await task
    assert await c.submit([5]) == [50]  # the coalescer keeps working afterwards


async def test_one_item_at_a_time_callers_share_calls_too() -> None:
    sender = RecordingSender()
    c = Coalescer(sender, max_items=100)
    first = asyncio.create_task(c.one(1))
    await asyncio.sleep(0)  # the first call is now in flight
    rest = [asyncio.create_task(c.one(n)) for n in (2, 3)]
    await asyncio.sleep(0)
    sender.release.set()
    assert await first == 10 and [await r for r in rest] == [20, 30]
    assert sender.calls == [[1], [2, 3]]


async def test_with_two_calls_in_flight_a_second_call_starts_before_the_first_returns() -> None:
    sender = RecordingSender()
    c = Coalescer(sender, max_items=100, max_in_flight=2)
    first = asyncio.create_task(c.one(1))
    await asyncio.sleep(0.01)
    second = asyncio.create_task(c.one(2))
    await asyncio.sleep(0.01)
    assert sender.calls == [[1], [2]]  # both in flight, neither has returned
    third = asyncio.create_task(c.one(3))
    await asyncio.sleep(0.01)
    assert sender.calls == [[1], [2]]  # the third waits for a free slot
    sender.release.set()
    assert [await t for t in (first, second, third)] == [10, 20, 30]
    assert sender.calls[2:] == [[3]]
