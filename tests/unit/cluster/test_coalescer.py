"""The coalescer: calls of one event-loop turn share one batch; results go back to
their own callers; a failed batch fails each of its callers; a lone call is served."""

from __future__ import annotations

import asyncio

import pytest

from cluster.coalescer import Coalescer


class Doubler:
    def __init__(self) -> None:
        self.batches: list[list[int]] = []

    async def __call__(self, items: list[int]) -> list[int]:
        self.batches.append(items)
        await asyncio.sleep(0)
        return [2 * i for i in items]


async def test_calls_of_one_turn_share_one_batch_and_get_their_own_results() -> None:
    doubler = Doubler()
    double = Coalescer(doubler)
    assert await asyncio.gather(*(double(i) for i in range(5))) == [0, 2, 4, 6, 8]
    assert doubler.batches == [[0, 1, 2, 3, 4]]
    assert await double(7) == 14  # a lone call is not held back
    assert doubler.batches[-1] == [7]


async def test_calls_while_a_batch_runs_form_the_next_batch() -> None:
    release = asyncio.Event()
    batches: list[list[str]] = []

    async def slow(items: list[str]) -> list[str]:
        batches.append(items)
        await release.wait()
        return [i.upper() for i in items]

    upper = Coalescer(slow)
    first = asyncio.gather(upper("a"), upper("b"))
    await asyncio.sleep(0.01)
    second = asyncio.gather(upper("c"))
    await asyncio.sleep(0.01)
    release.set()
    assert await first == ["A", "B"] and await second == ["C"]
    assert batches == [["a", "b"], ["c"]]


async def test_a_failed_batch_fails_each_of_its_callers_and_the_next_one_works() -> None:
    calls = 0

    async def flaky(items: list[int]) -> list[int]:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise ConnectionError("redis away")
        return items

    echo = Coalescer(flaky)
    results = await asyncio.gather(echo(1), echo(2), return_exceptions=True)
    assert all(isinstance(r, ConnectionError) for r in results)
    assert await echo(3) == 3


async def test_a_batch_with_the_wrong_number_of_results_is_an_error() -> None:
    async def short(items: list[int]) -> list[int]:
        return items[:-1]

    broken = Coalescer(short)
    with pytest.raises(RuntimeError, match="batch of 2 gave 1 results"):
        await asyncio.gather(broken(1), broken(2))
