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
