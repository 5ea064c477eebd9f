"""The tenant's learning history in Redis: feature snapshots and labelled examples.

    <tenant>:ml:snapshots   hash   incident id → [[at, [features...]], ...] scored so
                                   far, while the incident has no label
    <tenant>:ml:examples    hash   incident id → the labelled example (JSON): label,
                                   where it came from, the keys its outcome counts
                                   under, and its snapshots
    <tenant>:ml:order       zset   incident id by the time it was labelled, to keep the
                                   newest ``VIGIL_ML_HISTORY`` examples

Training reads every tenant's examples (``read_history``); the correlator reads its
tenant's back on start to rebuild the outcome histories its features use.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

import redis
import redis.asyncio as aioredis
from redis.typing import EncodableT, FieldT

from cluster import keys
from cluster.redis_client import text
from models.context import Outcome
from models.features import FEATURE_NAMES
from models.train import Example

Snapshot = tuple[float, list[float]]

SNAPSHOTS = 4
"""Scorings of one incident kept as training examples: its first ones, when a score
matters most."""


def keep_snapshot(kept: list[Snapshot], at: float, features: list[float]) -> bool:
    """Add a scoring to an incident's snapshots unless it has ``SNAPSHOTS`` already."""
    if len(kept) >= SNAPSHOTS:
        return False
    kept.append((at, features))
    return True


def example_record(
    incident_id: str, outcome: Outcome, source: str, snapshots: list[Snapshot], at: float
) -> dict[str, Any]:
    """A labelled incident as stored: its outcome, its snapshots and when it was labelled."""
    return {
        "incident": incident_id,
        "labelled_at": at,
        "source": source,
        "outcome": asdict(outcome),
        "snapshots": [[t, f] for t, f in snapshots],
    }


def outcome_from_record(record: dict[str, Any]) -> Outcome:
    """The outcome part of a stored example."""
    o = record["outcome"]
    return Outcome(
        tuple(o["fingerprints"]),
        tuple(o["alertnames"]),
        tuple(o.get("services", ())),
        int(o["label"]),
        o.get("resolve_seconds"),
    )


def examples_of(record: dict[str, Any], tenant: str = "") -> list[Example]:
    """The training examples of one stored incident of ``tenant``: one per snapshot,
    all with its label and its incident id."""
    label = int(record["outcome"]["label"])
    incident = str(record.get("incident", ""))
    return [
        Example(float(t), list(f), label, tenant, incident)
        for t, f in record["snapshots"]
        # A snapshot taken before the features changed cannot train today's model:
        # its columns mean other things. It is skipped, not padded.
        if len(f) == len(FEATURE_NAMES)
    ]


class HistoryStore:
    """Reads and writes one tenant's snapshots and examples (an asyncio client)."""

    def __init__(self, tenant: str, client: aioredis.Redis) -> None:
        self.tenant = tenant
        self.client = client

    async def save_snapshots(self, snapshots: dict[str, list[Snapshot]]) -> None:
        """Store the snapshots of incidents scored in one round."""
        if snapshots:
            mapping: dict[FieldT, EncodableT] = {i: json.dumps(s) for i, s in snapshots.items()}
            await self.client.hset(keys.ml_snapshots(self.tenant), mapping=mapping)

    async def load_snapshots(self) -> dict[str, list[Snapshot]]:
        """Every unlabelled incident's snapshots."""
        raw = await self.client.hgetall(keys.ml_snapshots(self.tenant))
        return {text(k): [(t, f) for t, f in json.loads(v)] for k, v in raw.items()}

    async def save_examples(self, records: dict[str, dict[str, Any]], keep: int) -> None:
        """Store labelled incidents (replacing earlier labels) and forget their snapshots;
        keep the newest ``keep``."""
        if not records:
            return
        async with self.client.pipeline(transaction=True) as pipe:
            pipe.hset(
                keys.ml_examples(self.tenant),
                mapping={i: json.dumps(r) for i, r in records.items()},
            )
            pipe.zadd(
                keys.ml_example_order(self.tenant),
                {i: r["labelled_at"] for i, r in records.items()},
            )
            pipe.hdel(keys.ml_snapshots(self.tenant), *records)
            await pipe.execute()
        excess = await self.client.zcard(keys.ml_example_order(self.tenant)) - keep
        if excess > 0:
            found = await self.client.zrange(keys.ml_example_order(self.tenant), 0, excess - 1)
            oldest = [text(i) for i in found if isinstance(i, bytes | str)]
            async with self.client.pipeline(transaction=True) as pipe:
                pipe.hdel(keys.ml_examples(self.tenant), *oldest)
                pipe.zrem(keys.ml_example_order(self.tenant), *oldest)
                await pipe.execute()

    async def snapshots_of_example(self, incident_id: str) -> list[Snapshot]:
        """The snapshots stored with an already labelled incident (to relabel it)."""
        raw = await self.client.hget(keys.ml_examples(self.tenant), incident_id)
        if raw is None:
            return []
        return [(t, f) for t, f in json.loads(raw)["snapshots"]]

    async def load_examples(self) -> dict[str, dict[str, Any]]:
        """Every stored labelled incident of the tenant."""
        raw = await self.client.hgetall(keys.ml_examples(self.tenant))
        return {text(k): json.loads(v) for k, v in raw.items()}


def read_history(client: redis.Redis, tenants: list[str] | None = None) -> list[Example]:
    """Every tenant's (or the named tenants') examples, oldest first (blocking client)."""
    found = (
        [keys.ml_examples(t) for t in tenants]
        if tenants is not None
        else [text(k) for k in client.scan_iter(match=keys.ML_EXAMPLES, count=1000)]
    )
    examples: list[Example] = []
    for key in found:
        tenant = key.removesuffix(":ml:examples")  # keys.ml_examples(tenant)
        for raw in client.hvals(key):
            examples.extend(examples_of(json.loads(raw), tenant))
    return sorted(examples, key=lambda e: e.at)
