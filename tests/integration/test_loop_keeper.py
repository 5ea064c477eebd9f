"""The loop keeper against a real Redis: a dropped loop's heartbeat stays gone, even
when the drop comes while a watch is half-way (found under load: a watch suspended
in a loop's ``lag_seconds`` published the beat of a tenant deleted meanwhile)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest
from redis import asyncio as aioredis

from actors.loop_keeper import LoopKeeper
from alerting.liveness import LoopKind
from cluster import keys
from cluster.redis_server import EmbeddedRedis
from tests.system import other_database

pytestmark = pytest.mark.integration

DB = 11  # a database of the session's Redis no other test uses


class SlowLoop:
    """A loop whose lag is answered only when the test says so."""

    def __init__(self) -> None:
        self.progress_at = time.time()
        self.asked = asyncio.Event()
        self.answer = asyncio.Event()
        self.starts = 0

    def ensure_running(self) -> bool:
        self.starts += 1
        return False

    async def lag_seconds(self) -> float:
        self.asked.set()
        await self.answer.wait()
        return 0.0


@pytest.fixture
async def client(redis_server: EmbeddedRedis) -> AsyncIterator[aioredis.Redis]:
    found = aioredis.Redis.from_url(other_database(redis_server.url, DB))  # emptied
    yield found
    await found.aclose()


async def test_a_drop_during_a_watch_leaves_no_heartbeat(client: aioredis.Redis) -> None:
    keeper = LoopKeeper(LoopKind.CORRELATOR, 0, client, lambda tenant: True)
    loop = SlowLoop()
    keeper.keep("gone", loop)
    watch = asyncio.create_task(keeper.watch_once())
    await asyncio.wait_for(loop.asked.wait(), 10)  # the watch is half-way
    drop = asyncio.create_task(keeper.drop("gone"))
    await asyncio.sleep(0)  # the drop waits for the watch, whatever the scheduling
    loop.answer.set()
    await asyncio.wait_for(asyncio.gather(watch, drop), 10)
    assert await client.hget(keys.loop_beats(), "correlator/gone") is None
    assert await keeper.watch_once() == []  # and it is neither watched nor restarted
    assert loop.starts == 2  # kept (1) and the first watch (2); not the second
