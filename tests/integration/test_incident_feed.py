"""The incident feed in a real Redis: readers get the incidents a write touched, once
each and in order, resume from their position, and are told when the cap trimmed
entries they had not read."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from redis import asyncio as aioredis

from alerting.errors import InvalidRequest
from cluster import keys
from cluster.incident_feed import FEED_START, check_position, feed_head, queue_update, read_feed
from cluster.redis_server import EmbeddedRedis
from tests.system import other_database

pytestmark = pytest.mark.integration

TENANT = "acme"


@pytest.fixture
async def client(redis_server: EmbeddedRedis) -> AsyncIterator[aioredis.Redis]:
    found = aioredis.Redis.from_url(other_database(redis_server.url, 6))
    yield found
    await found.aclose()


async def write(client: aioredis.Redis, *ids: str, tenant: str = TENANT) -> None:
    async with client.pipeline(transaction=True) as pipe:
        queue_update(pipe, tenant, ids)
        await pipe.execute()


async def test_readers_get_touched_incidents_in_order_and_resume(client: aioredis.Redis) -> None:
    assert await feed_head(client, TENANT) == FEED_START
    await write(client, "b", "a")
    start = await feed_head(client, TENANT)
    await write(client, "c")
    await write(client, "a", "c")
    await write(client)  # a write that touched no incident adds nothing
    await write(client, "z", tenant="other")

    first = await read_feed(client, TENANT, start, count=1)
    assert first.incident_ids == ("c",) and not first.gap
    rest = await read_feed(client, TENANT, first.position, count=10)
    assert rest.incident_ids == ("a", "c") and not rest.gap
    idle = await read_feed(client, TENANT, rest.position, count=10)
    assert idle.incident_ids == () and idle.position == rest.position
    everything = await read_feed(client, TENANT, FEED_START, count=10)
    assert everything.incident_ids == ("a", "b", "c")  # each once, as first touched


async def test_a_reader_behind_the_trimmed_entries_is_told_to_reload(
    client: aioredis.Redis,
) -> None:
    tenant = "trimmed"
    await write(client, "old", tenant=tenant)
    stale = await feed_head(client, tenant)
    await write(client, "newer", tenant=tenant)
    await client.xtrim(keys.incident_updates(tenant), maxlen=1, approximate=False)
    read = await read_feed(client, tenant, stale, count=10)
    assert read.gap and read.incident_ids == ("newer",)


def test_positions_are_checked() -> None:
    assert check_position("1700000000000-3") == "1700000000000-3"
    for bad in ("", "abc", "1-x", "-1-0", "1" * 60):
        with pytest.raises(InvalidRequest):
            check_position(bad)
