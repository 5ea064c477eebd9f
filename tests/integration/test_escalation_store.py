"""Escalation states in a real Redis: saved with their due times, found when due, most
overdue first, and gone from the due set once nothing more is due."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from redis import asyncio as aioredis

from alerting.escalation import (
    EscalationPolicy,
    Level,
    Target,
    TargetKind,
    acknowledge,
    advance,
    start,
)
from alerting.lanes import lane_of
from alerting.severity import Severity
from cluster.escalation_store import EscalationStore
from cluster.redis_server import EmbeddedRedis
from tests.system import other_database

pytestmark = pytest.mark.integration

T0 = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
POLICY = EscalationPolicy(
    "p",
    (
        Level((Target(TargetKind.CHANNEL, "slack"),), timedelta(seconds=60)),
        Level((Target(TargetKind.CHANNEL, "pd"),), timedelta(seconds=60)),
    ),
)


@pytest.fixture
async def store(redis_server: EmbeddedRedis) -> AsyncIterator[EscalationStore]:
    client = aioredis.Redis.from_url(other_database(redis_server.url, 7))
    yield EscalationStore(client, "acme")
    await client.aclose()


async def test_due_states_come_back_most_overdue_first(store: EscalationStore) -> None:
    late = start("inc-late", POLICY, Severity.HIGH, T0)
    later = start("inc-later", POLICY, Severity.HIGH, T0 + timedelta(seconds=30))
    future = start("inc-future", POLICY, Severity.HIGH, T0 + timedelta(hours=1))
    await store.save([future, later, late])
    assert await store.due(T0 + timedelta(seconds=45)) == ["inc-late", "inc-later"]
    assert await store.next_due() == T0
    assert await store.get("inc-future") == future


async def test_an_advanced_state_moves_to_its_next_due_time_and_leaves_when_done(
    store: EscalationStore,
) -> None:
    state = start("inc-1", POLICY, Severity.HIGH, T0)
    await store.save([state])
    state, events = advance(state, POLICY, T0)
    assert len(events) == 1
    await store.save([state])
    assert await store.due(T0 + timedelta(seconds=59)) == []
    assert await store.due(T0 + timedelta(seconds=60)) == ["inc-1"]
    assert await store.get("inc-1") == state
    state = acknowledge(state, T0 + timedelta(seconds=61))
    await store.save([state])
    assert await store.due(T0 + timedelta(days=1)) == []
    assert await store.next_due() is None
    assert (await store.get("inc-1")) == state  # kept, for the resolved notice
    await store.forget(["inc-1"])
    assert await store.get("inc-1") is None


async def test_each_lane_sees_only_its_incidents_deadlines(redis_server: EmbeddedRedis) -> None:
    client = aioredis.Redis.from_url(other_database(redis_server.url, 7))
    lanes = [EscalationStore(client, "acme", lane, 2) for lane in range(2)]
    ids = [f"inc-{n}" for n in range(20)]
    # Any lane may save any incident's state: it lands in the owner's due set.
    await lanes[0].save([start(i, POLICY, Severity.HIGH, T0) for i in ids])
    seen = [await store.due(T0, limit=100) for store in lanes]
    assert sorted(seen[0] + seen[1]) == sorted(ids)
    assert seen[0] and seen[1]  # both lanes own some
    assert all(lane_of(i, 2) == 0 for i in seen[0])
    assert all(lane_of(i, 2) == 1 for i in seen[1])
    await lanes[1].forget(ids)  # from every lane's set
    assert [await store.due(T0) for store in lanes] == [[], []]
    await client.aclose()


async def test_a_lane_takes_over_its_incidents_when_the_number_of_lanes_changes(
    redis_server: EmbeddedRedis,
) -> None:
    client = aioredis.Redis.from_url(other_database(redis_server.url, 7))
    ids = [f"inc-{n}" for n in range(20)]
    states = [start(i, POLICY, Severity.HIGH, T0) for i in ids]
    await EscalationStore(client, "acme").save(states)  # one lane: every deadline in lane 0
    # A stale copy in another lane's set (an older lane count) must not win: the
    # stored state says when the step is due.
    await client.zadd("acme:escalation-due:3", {ids[0]: 1.0})
    two = [EscalationStore(client, "acme", lane, 2) for lane in range(2)]
    assert await two[1].due(T0) == []  # not moved yet
    moved = [await store.adopt() for store in two]
    assert sum(moved) >= len([i for i in ids if lane_of(i, 2) == 1])
    seen = [await store.due(T0, limit=100) for store in two]
    assert sorted(seen[0] + seen[1]) == sorted(ids)
    assert all(lane_of(i, 2) == 1 for i in seen[1]) and seen[1]
    assert await client.zscore("acme:escalation-due:3", ids[0]) is None
    assert await two[lane_of(ids[0], 2)].next_due() == T0
    # Back to one lane: lane 0 takes everything back.
    assert await EscalationStore(client, "acme").adopt() == len(seen[1])
    assert sorted(await EscalationStore(client, "acme").due(T0, limit=100)) == sorted(ids)
    await client.aclose()
