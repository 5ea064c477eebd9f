"""The rate watch's counts in Redis (``alerting/rate_counts.py``): written with the
correlator's commit, read back when a correlator starts.

``{tenant}:rate_watch`` (a hash) says how the counts were made (bucket size, what was
counted), which bucket was open at the last save, and each stream's service by
number; ``{tenant}:rate_counts:{n}`` holds stream ``n``'s counts. Counts only ever
grow by ``APPEND`` or are replaced whole, in the same transaction as the open bucket
they end at, so what is read back is always one consistent save.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from redis import asyncio as aioredis

from alerting.rate_counts import RateCounts, StoredRates
from alerting.timeutil import from_epoch
from cluster import keys
from cluster.redis_client import text

_NAME = "name:"
_OPEN = "open:"


def queue_rate_counts(pipe: Any, tenant: str, counts: RateCounts) -> None:
    """Queue the writes of ``counts`` on a transaction's pipeline."""
    fields: dict[str, str] = {
        "bucket": repr(counts.bucket.total_seconds()),
        "counted": counts.counted,
        "bucket_start": repr(counts.bucket_start.timestamp()),
    }
    fields.update({f"{_NAME}{i}": json.dumps(service) for i, service in counts.names.items()})
    fields.update({f"{_OPEN}{i}": str(count) for i, count in counts.open_counts.items()})
    pipe.hset(keys.rate_watch(tenant), mapping=fields)
    for index, raw in counts.replaced.items():
        pipe.set(keys.rate_counts(tenant, index), raw)
    for index, raw in counts.appended.items():
        pipe.append(keys.rate_counts(tenant, index), raw)


async def load_rates(client: aioredis.Redis, tenant: str) -> StoredRates | None:
    """The counts last saved (None: none, or bookkeeping this version cannot read)."""
    meta = {text(k): text(v) for k, v in (await client.hgetall(keys.rate_watch(tenant))).items()}
    try:
        names: dict[int, str | None] = {
            int(k.removeprefix(_NAME)): json.loads(v)
            for k, v in meta.items()
            if k.startswith(_NAME)
        }
        open_counts = {
            int(k.removeprefix(_OPEN)): int(v) for k, v in meta.items() if k.startswith(_OPEN)
        }
        bucket = timedelta(seconds=float(meta["bucket"]))
        bucket_start = from_epoch(float(meta["bucket_start"]))
        counted = meta["counted"]
    except (KeyError, ValueError):
        return None
    if not names or any(n is not None and not isinstance(n, str) for n in names.values()):
        return None
    order = sorted(names)
    raws = await client.mget([keys.rate_counts(tenant, i) for i in order])
    counts = {
        i: raw.encode() if isinstance(raw, str) else raw
        for i, raw in zip(order, raws, strict=True)
        if raw is not None
    }
    return StoredRates(bucket, counted, bucket_start, names, counts, open_counts)


async def forget_rates(client: aioredis.Redis, tenant: str) -> None:
    """Delete the stored counts (a watch starting afresh must not later resume streams
    of an earlier one)."""
    meta = await client.hkeys(keys.rate_watch(tenant))
    streams = [text(k).removeprefix(_NAME) for k in meta if text(k).startswith(_NAME)]
    stale = [keys.rate_counts(tenant, int(i)) for i in streams if i.isdigit()]
    await client.delete(keys.rate_watch(tenant), *stale)
