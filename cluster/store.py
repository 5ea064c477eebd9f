"""Durable alert state in Redis: one tenant's alerts, its silences and its change stream.

A batch of changes is written in one ``MULTI``/``EXEC`` transaction: the new alert
documents go into the tenant's alerts hash and one entry listing the batch's changes
is appended to its change stream, so a consumer of the stream never sees a change
that was not stored, and nothing stored is missing from the stream.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Sequence
from datetime import datetime

from alerting.alert import Alert
from alerting.lifecycle import Transition
from alerting.silence import Silence, silence_from_record, silence_to_record
from cluster import keys
from cluster.redis_client import TenantRedis, sync_client

SCAN_BATCH = 1000


def change_record(step: Transition) -> dict[str, str]:
    """One change: what happened to which alert, and by whom.

    ``change_id`` is unique per change and is what consumers dedupe on: a stream
    entry id would differ if a retried transaction appended the same batch twice.
    """
    assert step.change is not None
    record = {
        "change_id": os.urandom(16).hex(),
        "kind": step.change.value,
        "alert_id": step.alert.id,
        "fingerprint": step.alert.fingerprint,
        "status": step.alert.status.value,
        "severity": step.alert.severity.value,
    }
    if step.alert.resolved_by and not step.alert.status.is_open:
        record["resolved_by"] = step.alert.resolved_by
    if step.by:
        record["by"] = step.by
    if step.reason:
        record["reason"] = step.reason
    return record


def change_entry(steps: Sequence[Transition], now: datetime) -> dict[str, str]:
    """The stream entry for one stored batch: its changes, in order, as a JSON array.

    One entry per batch, not per change: appending 1,000 entries costs Redis and the
    client far more than one entry holding 1,000 changes, and a batch is stored
    atomically anyway.
    """
    return _entry([change_record(s) for s in steps if s.change is not None], now)


def _entry(changes: list[dict[str, str]], now: datetime) -> dict[str, str]:
    """The stream entry's fields: when, how many, and the changes as a JSON array."""
    return {
        "at": f"{now.timestamp():.6f}",
        "count": str(len(changes)),
        "changes": json.dumps(changes),
    }


def silence_change_entry(silences: Sequence[Silence], now: datetime) -> dict[str, str]:
    """The stream entry for stored silence changes: what mutes alerts changed, so
    consumers re-evaluate what they would notify."""
    changes = [
        {
            "change_id": os.urandom(16).hex(),
            "kind": "silence",
            "silence_id": s.id,
            "state": s.state(now).value,
        }
        for s in silences
    ]
    return _entry(changes, now)


def read_changes(entry: dict[bytes, bytes]) -> list[dict[str, str]]:
    """The changes inside a stream entry written by ``change_entry``."""
    changes: list[dict[str, str]] = json.loads(entry[b"changes"])
    return changes


class AlertStore(TenantRedis):
    """Reads and writes one tenant's alerts; the only code that touches their keys."""

    def load(self) -> Iterator[Alert]:
        """Every stored alert of the tenant (a blocking read, for an actor's ``__init__``)."""
        client = sync_client(self.redis_url)
        try:
            for _, doc in client.hscan_iter(keys.alerts(self.tenant), count=SCAN_BATCH):
                yield Alert.model_validate_json(doc)
        finally:
            client.close()

    async def save(self, steps: Sequence[Transition], now: datetime) -> None:
        """Store the alerts the steps produced and append their changes, atomically.

        Raises ``redis.RedisError`` if Redis did not confirm the transaction; then
        nothing was stored and the caller must not report success.
        """
        changed = [s for s in steps if s.change is not None]
        if not changed:
            return
        docs = {s.alert.id: s.alert.model_dump_json() for s in changed}
        await self._store_with_change(keys.alerts(self.tenant), docs, change_entry(changed, now))

    async def _store_with_change(
        self, hash_key: str, docs: dict[str, str], entry: dict[str, str]
    ) -> None:
        """One transaction: the documents into ``hash_key``, the entry onto the stream."""
        async with self.client.pipeline(transaction=True) as pipe:
            pipe.hset(hash_key, mapping=docs)  # type: ignore[arg-type]
            pipe.xadd(
                keys.changes(self.tenant),
                entry,  # type: ignore[arg-type]
                maxlen=self.stream_maxlen,
                approximate=True,
            )
            await pipe.execute()

    async def delete(self, alert_ids: Sequence[str]) -> None:
        """Forget alerts for good (retention); their past changes stay on the stream."""
        if alert_ids:
            await self.client.hdel(keys.alerts(self.tenant), *alert_ids)

    def load_silences(self) -> list[Silence]:
        """Every stored silence of the tenant (a blocking read, for an actor's ``__init__``)."""
        client = sync_client(self.redis_url)
        try:
            return [
                silence_from_record(json.loads(doc))
                for _, doc in client.hscan_iter(keys.silences(self.tenant), count=SCAN_BATCH)
            ]
        finally:
            client.close()

    async def save_silences(self, silences: Sequence[Silence], now: datetime) -> None:
        """Store created or changed silences and append their change, atomically."""
        if not silences:
            return
        docs = {s.id: json.dumps(silence_to_record(s)) for s in silences}
        entry = silence_change_entry(silences, now)
        await self._store_with_change(keys.silences(self.tenant), docs, entry)

    async def delete_silences(self, silence_ids: Sequence[str]) -> None:
        """Forget expired silences past their retention."""
        if silence_ids:
            await self.client.hdel(keys.silences(self.tenant), *silence_ids)
