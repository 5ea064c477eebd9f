"""Escalation and delivery records go with their incidents (in a real Redis).

Before: the escalator's records of an incident (its state, due time and people paged,
and every delivered notice) were never dropped, so a tenant's Redis only grew.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from redis import asyncio as aioredis

from cluster import keys
from cluster.record_retention import forget_purged
from cluster.redis_server import EmbeddedRedis
from tests.system import other_database

pytestmark = pytest.mark.integration

T = "retention"
DB = 9  # a database of the session's Redis no other test uses


@pytest.fixture
async def client(redis_server: EmbeddedRedis) -> AsyncIterator[aioredis.Redis]:
    found = aioredis.Redis.from_url(other_database(redis_server.url, DB))  # emptied
    yield found
    await found.aclose()


async def test_the_records_of_purged_incidents_go_and_the_live_ones_stay(
    client: aioredis.Redis,
) -> None:
    await client.hset(keys.incidents(T), "inc-live", "{}")
    for incident in ("inc-live", "inc-gone"):
        await client.hset(keys.escalations(T), incident, "{}")
        await client.zadd(keys.escalation_due(T), {incident: 1.0})
        await client.hset(keys.escalation_people(T), incident, "{}")
        await client.hset(keys.notified(T), f"{T}/{incident}/1/l1/firing", "{}")
    await client.hset(keys.notified(T), f"{T}/inc-gone/group/ab12/5.0/first/0", "{}")
    assert await forget_purged(client, T) == 3  # one escalation, two notices
    assert await client.hkeys(keys.escalations(T)) == [b"inc-live"]
    assert await client.zrange(keys.escalation_due(T), 0, -1) == [b"inc-live"]
    assert await client.hkeys(keys.escalation_people(T)) == [b"inc-live"]
    assert await client.hkeys(keys.notified(T)) == [f"{T}/inc-live/1/l1/firing".encode()]
    assert await forget_purged(client, T) == 0  # a second sweep finds nothing
