"""Erasing a person from one tenant's stored data (``alerting/erasure.py`` says what is
rewritten in each document).

Each function rewrites one kind of record in place. Those that the tenant actor or
the correlator write alone (alerts and silences; incidents) are rewritten by that actor,
under its lock, or with Vigil stopped; those the escalator also writes (timelines, the
people an escalation paged) are rewritten in an optimistic transaction that starts
again if anything was written meanwhile, so no entry is lost. The change and
notification streams are left: their entries are trimmed once applied, within
seconds. The audit trail is left too: it is sealed, and kept for accountability.
"""

from __future__ import annotations

import json
import re
from typing import Any

from redis import asyncio as aioredis
from redis.exceptions import WatchError

from alerting.erasure import mention, scrub
from cluster import keys
from cluster.redis_client import text

SCAN_BATCH = 1000


async def _hash(client: aioredis.Redis, key: str, pattern: re.Pattern[str], pseudonym: str) -> int:
    """Rewrite a hash of JSON documents whose only writer is the caller."""
    changed: dict[str, str] = {}
    count = 0
    async for field, doc in client.hscan_iter(key, count=SCAN_BATCH):
        new, n = scrub(json.loads(doc), pattern, pseudonym)
        if n:
            changed[text(field)] = json.dumps(new)
            count += n
    if changed:
        await client.hset(key, mapping=changed)  # type: ignore[arg-type]
    return count


async def _watched(
    client: aioredis.Redis, key: str, pattern: re.Pattern[str], pseudonym: str, is_list: bool
) -> int:
    """Rewrite a list or hash of JSON documents that another process may write meanwhile."""
    pipe: Any
    async with client.pipeline(transaction=True) as pipe:
        while True:
            try:
                await pipe.watch(key)
                if is_list:
                    raws = await pipe.lrange(key, 0, -1)
                    pairs = [scrub(json.loads(r), pattern, pseudonym) for r in raws]
                    count = sum(n for _, n in pairs)
                else:
                    found = await pipe.hgetall(key)
                    docs = {
                        text(f): scrub(json.loads(d), pattern, pseudonym) for f, d in found.items()
                    }
                    count = sum(n for _, n in docs.values())
                if not count:
                    await pipe.unwatch()
                    return 0
                pipe.multi()
                if is_list:
                    pipe.delete(key)
                    pipe.rpush(key, *[json.dumps(v) for v, _ in pairs])
                else:
                    pipe.hset(key, mapping={f: json.dumps(v) for f, (v, n) in docs.items() if n})
                await pipe.execute()
                return count
            except WatchError:
                continue  # written meanwhile: read it again


async def erase_alerts_and_silences(
    client: aioredis.Redis, tenant: str, names: list[str], pseudonym: str
) -> int:
    """The tenant actor's records: who acknowledged or resolved alerts, who made silences."""
    pattern = mention(names)
    count = await _hash(client, keys.alerts(tenant), pattern, pseudonym)
    return count + await _hash(client, keys.silences(tenant), pattern, pseudonym)


async def erase_incidents(
    client: aioredis.Redis, tenant: str, names: list[str], pseudonym: str
) -> int:
    """The correlator's and escalator's records: incidents, their timelines, and the
    people each escalation paged."""
    pattern = mention(names)
    count = await _hash(client, keys.incidents(tenant), pattern, pseudonym)
    for incident_id in await client.hkeys(keys.incidents(tenant)):
        timeline = keys.incident_timeline(tenant, text(incident_id))
        count += await _watched(client, timeline, pattern, pseudonym, is_list=True)
    people = keys.escalation_people(tenant)
    return count + await _watched(client, people, pattern, pseudonym, is_list=False)
