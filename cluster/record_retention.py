"""Escalation and delivery records go with their incidents.

The correlator purges a resolved incident once the tenant's retention has passed; the
escalator's records of it (its escalation state, due time and people paged, and the
notification log's delivered notices, all keyed by incident) would otherwise stay
forever. ``forget_purged`` drops every such record whose incident is gone.

It is a sweep, not a message: idempotent, safe to run again after a crash at any
point, and it needs nothing from the correlator but the incidents hash it already
keeps. It never drops a live incident's records, because an escalation starts only
from a notification the correlator wrote in the same transaction as the incident.
"""

from __future__ import annotations

from collections.abc import Iterable

from redis import asyncio as aioredis

from cluster import keys
from cluster.escalation_store import EscalationStore
from cluster.redis_client import text

BATCH = 1000


async def _missing(client: aioredis.Redis, tenant: str, incident_ids: Iterable[str]) -> set[str]:
    """Those of the incident ids the tenant no longer has."""
    ids = sorted(set(incident_ids))
    gone: set[str] = set()
    for start in range(0, len(ids), BATCH):
        chunk = ids[start : start + BATCH]
        async with client.pipeline(transaction=False) as pipe:
            for incident_id in chunk:  # existence only: the documents need not travel
                pipe.hexists(keys.incidents(tenant), incident_id)
            found = await pipe.execute()
        gone.update(i for i, exists in zip(chunk, found, strict=True) if not exists)
    return gone


async def forget_purged(client: aioredis.Redis, tenant: str) -> int:
    """Drop the records of the tenant's purged incidents; how many records went."""
    escalated = {text(i) for i in await client.hkeys(keys.escalations(tenant))}
    escalated |= {text(i) for i in await client.hkeys(keys.escalation_people(tenant))}
    store = EscalationStore(client, tenant)
    for members in (await store.due_by_lane()).values():  # every lane's, whatever runs now
        escalated.update(members)
    notices: dict[str, list[str]] = {}  # incident id → its notification-log fields
    async for field, _ in client.hscan_iter(keys.notified(tenant), count=BATCH):
        name = text(field)
        parts = name.split("/", 2)
        if len(parts) == 3 and parts[0] == tenant:
            notices.setdefault(parts[1], []).append(name)
    gone = await _missing(client, tenant, escalated | set(notices))
    if not gone:
        return 0
    await store.forget(sorted(gone & escalated))
    fields = [name for incident_id in gone for name in notices.get(incident_id, [])]
    for start in range(0, len(fields), BATCH):
        await client.hdel(keys.notified(tenant), *fields[start : start + BATCH])
    return len(gone & escalated) + len(fields)
