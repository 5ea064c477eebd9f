"""Escalation states and their due times in Redis.

Per tenant: ``<tenant>:escalations`` (hash: incident id → the state's record) and, per
escalator lane (``alerting/lanes.py``), ``<tenant>:escalation-due[:<lane>]`` (sorted
set: incident id → the epoch second its next step is due). Both change in one
transaction, so the due set never points at a state that says otherwise. Each lane
reads only its own due set: a lane that is down or behind never hides another lane's
deadlines behind its own.

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
from alerting.lanes import MAX_LANES, lane_of
from cluster import keys


class EscalationStore:
    """One tenant's escalations, as one escalator lane of ``lanes`` sees them."""

    def __init__(self, client: aioredis.Redis, tenant: str, lane: int = 0, lanes: int = 1) -> None:
        self.client = client
        self.tenant = tenant
        self.lane = lane
        self.lanes = lanes
        self.states_key = keys.escalations(tenant)
        self.due_key = keys.escalation_due(tenant, lane)
        self.people_key = keys.escalation_people(tenant)

    async def due_by_lane(self) -> dict[str, list[str]]:
        """Every lane's due set (whatever number of lanes wrote them), by key: the
        incident ids in it. One round trip."""
        every = [keys.escalation_due(self.tenant, lane) for lane in range(MAX_LANES)]
        async with self.client.pipeline(transaction=False) as pipe:
            for key in every:
                pipe.zrange(key, 0, -1)
            found: list[list[bytes]] = await pipe.execute()
        return {
            key: [m.decode() for m in members] for key, members in zip(every, found, strict=True)
        }

    def due_key_of(self, incident_id: str) -> str:
        """The due set an incident's steps wait in: its lane's."""
        return keys.escalation_due(self.tenant, lane_of(incident_id, self.lanes))

    async def adopt(self) -> int:
        """Move this lane's incidents into its due set from the other lanes' sets (the
        number of lanes changed); how many moved. The due time is taken from the stored
        state, not from the set it was found in: the state is the truth, and a set left
        by an older lane count may be stale. Members of other lanes are left to them."""
        moved = 0
        for key, members in (await self.due_by_lane()).items():
            mine = [m for m in members if self.due_key_of(m) == self.due_key]
            if key == self.due_key or not mine:
                continue
            states = await self.get_many(mine)
            due = {i: t.timestamp() for i, s in states.items() if (t := s.due_at())}
            async with self.client.pipeline(transaction=True) as pipe:
                if due:
                    pipe.zadd(self.due_key, due)
                pipe.zrem(key, *mine)
                await pipe.execute()
            moved += len(mine)
        return moved

    async def save(self, states: Sequence[EscalationState]) -> None:
        """Store states and their due times (a state with nothing due leaves the set)."""
        if not states:
            return
        async with self.client.pipeline(transaction=True) as pipe:
            records = {s.incident_id: json.dumps(state_to_record(s)) for s in states}
            pipe.hset(self.states_key, mapping=records)  # type: ignore[arg-type]
            due: dict[str, dict[str, float]] = {}
            idle: dict[str, list[str]] = {}
            for state in states:
                key = self.due_key_of(state.incident_id)
                at = state.due_at()
                if at is None:
                    idle.setdefault(key, []).append(state.incident_id)
                else:
                    due.setdefault(key, {})[state.incident_id] = at.timestamp()
            for key, times in due.items():
                pipe.zadd(key, times)
            for key, ids in idle.items():
                pipe.zrem(key, *ids)
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
        """Drop escalations (their incidents were purged), from every lane's due set
        (whoever calls need not know how many lanes run)."""
        if not incident_ids:
            return
        async with self.client.pipeline(transaction=True) as pipe:
            pipe.hdel(self.states_key, *incident_ids)
            for lane in range(MAX_LANES):
                pipe.zrem(keys.escalation_due(self.tenant, lane), *incident_ids)
            pipe.hdel(self.people_key, *incident_ids)
            await pipe.execute()
