"""Escalation states and their due times in Redis.

Per tenant: ``<tenant>:escalations`` (hash: incident id → the state's record) and
``<tenant>:escalation-due`` (sorted set: incident id → the epoch second its next step
is due). Both change in one transaction, so the due set never points at a state that
says otherwise.

How steps fire exactly once across crashes: the escalator takes what is due, advances
it (``alerting.escalation.advance``), delivers each step through the notification log
(keyed by incident, step, channel and kind) and only then saves the new state. A crash
before the save leaves the state due: after the restart the same steps come round
with the same numbers, and the log answers "already delivered" for those that were.
Nothing due is skipped (the due set is durable) and nothing is sent twice.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime

from redis import asyncio as aioredis

from alerting.escalation import EscalationState, state_from_record, state_to_record
from cluster import keys


class EscalationStore:
    """One tenant's escalations."""

    def __init__(self, client: aioredis.Redis, tenant: str) -> None:
        self.client = client
        self.tenant = tenant
        self.states_key = keys.escalations(tenant)
        self.due_key = keys.escalation_due(tenant)
        self.people_key = keys.escalation_people(tenant)

    async def save(self, states: Sequence[EscalationState]) -> None:
        """Store states and their due times (a state with nothing due leaves the set)."""
        if not states:
            return
        async with self.client.pipeline(transaction=True) as pipe:
            records = {s.incident_id: json.dumps(state_to_record(s)) for s in states}
            pipe.hset(self.states_key, mapping=records)  # type: ignore[arg-type]
            due = {s.incident_id: t.timestamp() for s in states if (t := s.due_at())}
            if due:
                pipe.zadd(self.due_key, due)
            idle = [s.incident_id for s in states if s.due_at() is None]
            if idle:
                pipe.zrem(self.due_key, *idle)
            await pipe.execute()

    async def get(self, incident_id: str) -> EscalationState | None:
        return (await self.get_many([incident_id])).get(incident_id)

    async def get_many(self, incident_ids: Sequence[str]) -> dict[str, EscalationState]:
        """The stored states of these incidents (those without one are left out)."""
        if not incident_ids:
            return {}
        raws = await self.client.hmget(self.states_key, list(incident_ids))
        return {
            i: state_from_record(json.loads(r))
            for i, r in zip(incident_ids, raws, strict=True)
            if r is not None
        }

    async def due(self, now: datetime, limit: int = 500) -> list[str]:
        """The incidents with a step due by ``now``, the most overdue first (their
        states are read by whoever carries the step out, under its lock)."""
        ids: list[bytes] = await self.client.zrangebyscore(
            self.due_key, "-inf", now.timestamp(), start=0, num=limit
        )  # type: ignore[assignment]
        return [i.decode() for i in ids]

    async def next_due(self) -> datetime | None:
        """When the earliest pending step is due (to sleep until then)."""
        first = await self.client.zrange(self.due_key, 0, 0, withscores=True)
        if not first:
            return None
        return datetime.fromtimestamp(float(first[0][1]), tz=UTC)

    async def add_people(self, incident_id: str, level: int, users: Sequence[str]) -> None:
        """Remember who an on-call target of ``level`` notified (for the resolved notice)."""
        if not users:
            return
        known = await self.people(incident_id)
        known[level] = sorted(set(known.get(level, [])) | set(users))
        await self.client.hset(self.people_key, incident_id, json.dumps(known))

    async def people(self, incident_id: str) -> dict[int, list[str]]:
        """Who on-call targets notified, by level."""
        raw = await self.client.hget(self.people_key, incident_id)
        return {} if raw is None else {int(k): v for k, v in json.loads(raw).items()}

    async def forget(self, incident_ids: Sequence[str]) -> None:
        """Drop escalations (their incidents were purged)."""
        if not incident_ids:
            return
        async with self.client.pipeline(transaction=True) as pipe:
            pipe.hdel(self.states_key, *incident_ids)
            pipe.zrem(self.due_key, *incident_ids)
            pipe.hdel(self.people_key, *incident_ids)
            await pipe.execute()
