"""The notification log: which notices were delivered, so a send is idempotent.

One Redis hash per tenant, ``<tenant>:notified``, keyed by ``Message.key(channel)``
(incident, escalation step, channel, firing or resolved) → who delivered it and when.
A notice found here is not sent again: not when a retry of the escalation step comes
round, not after the escalator restarts, and not because another target of the same
level failed. ``claim`` and ``record`` are separate, so a crash between the channel's
answer and the record can resend once (at-least-once: receivers dedupe by the
incident id we send, as PagerDuty's ``dedup_key`` does).
"""

from __future__ import annotations

import json
import time
from typing import Any

from redis import asyncio as aioredis

from cluster import keys
from cluster.coalescer import Coalescer


class NotificationLog:
    """One tenant's delivered notices in Redis."""

    def __init__(self, client: aioredis.Redis, tenant: str) -> None:
        self.client = client
        self.key = keys.notified(tenant)

    async def delivered(self, notice: str) -> dict[str, Any] | None:
        """The record of a delivered notice, or ``None`` if it was not delivered."""
        (found,) = await self.delivered_many([notice])
        return found

    async def record(self, notice: str, channel: str, steps: list[str]) -> None:
        """Remember that ``channel`` delivered ``notice`` (with how it got there)."""
        await self.record_many([(notice, channel, steps)])

    async def delivered_many(self, notices: list[str]) -> list[dict[str, Any] | None]:
        """``delivered`` for several notices in one round trip."""
        raws = await self.client.hmget(self.key, notices)
        return [None if raw is None else dict(json.loads(raw)) for raw in raws]

    async def record_many(self, entries: list[tuple[str, str, list[str]]]) -> list[None]:
        """``record`` for several (notice, channel, steps) in one round trip."""
        now = time.time()
        mapping = {
            notice: json.dumps({"channel": channel, "at": now, "steps": steps[-10:]})
            for notice, channel, steps in entries
        }
        await self.client.hset(self.key, mapping=mapping)  # type: ignore[arg-type]
        return [None] * len(entries)

    async def forget_incident(self, tenant: str, incident_id: str) -> int:
        """Drop an incident's records (when it is purged); return how many."""
        prefix = f"{tenant}/{incident_id}/"
        fields = [name async for name, _ in self.client.hscan_iter(self.key, match=f"{prefix}*")]
        return int(await self.client.hdel(self.key, *fields)) if fields else 0


BATCH = 1000  # notices per Redis round trip at most


class CoalescedLog:
    """The notification log with concurrent lookups and records sent to Redis in
    batches (``cluster.coalescer``): what the escalator uses when many steps are due."""

    def __init__(self, log: NotificationLog, in_flight: int = 1) -> None:
        self._delivered = Coalescer(log.delivered_many, BATCH, in_flight)
        self._record = Coalescer(log.record_many, BATCH, in_flight)

    async def delivered(self, notice: str) -> dict[str, Any] | None:
        return await self._delivered.one(notice)

    async def record(self, notice: str, channel: str, steps: list[str]) -> None:
        await self._record.one((notice, channel, steps))
