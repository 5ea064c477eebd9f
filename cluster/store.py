"""Durable alert state in Redis: one tenant's alerts, its silences and its change stream.

A batch of changes is written in one ``MULTI``/``EXEC`` transaction: the new alert
documents go into the tenant's alerts hash and one entry listing the batch's changes
(``cluster.records.ChangeEntry``) is appended to its change stream, so a consumer of
the stream never sees a change that was not stored, and nothing stored is missing from
the stream.
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
from cluster.records import ChangeEntry, SilenceChangeRecord, alert_change_entry
from cluster.redis_client import TenantRedis, sync_client
from cluster.tracing import current_traceparent

SCAN_BATCH = 1000


def new_change_id() -> str:
    """A random change id: 32 hex digits."""
    return os.urandom(16).hex()


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
        entry = alert_change_entry(changed, now, new_change_id, current_traceparent())
        await self._store_with_change(keys.alerts(self.tenant), docs, entry)

    async def _store_with_change(
        self, hash_key: str, docs: dict[str, str], entry: ChangeEntry
    ) -> None:
        """One transaction: the documents into ``hash_key``, the entry onto the stream."""
        async with self.client.pipeline(transaction=True) as pipe:
            pipe.hset(hash_key, mapping=docs)  # type: ignore[arg-type]
            # Never trimmed here: an entry leaves the stream only once the correlator
            # has applied it (it trims up to its position, cluster/incident_store.py),
            # so a long stall delays pages but never loses a stored alert's change.
            pipe.xadd(keys.changes(self.tenant), entry.to_fields())  # type: ignore[arg-type]
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
        changes = tuple(SilenceChangeRecord.of(s, now, new_change_id()) for s in silences)
        entry = ChangeEntry(now, changes)
        await self._store_with_change(keys.silences(self.tenant), docs, entry)

    async def delete_silences(self, silence_ids: Sequence[str]) -> None:
        """Forget expired silences past their retention."""
        if silence_ids:
            await self.client.hdel(keys.silences(self.tenant), *silence_ids)
