"""Durable correlation state in Redis: one tenant's incidents, flap history, noise counters
and the correlator's position in the change stream.

Everything one round of correlation changed is written in one ``MULTI``/``EXEC``
transaction together with the new stream position, so after a crash the correlator
resumes exactly where its stored state ends: no change is applied twice, none is lost.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from redis import asyncio as aioredis

from alerting.aggregation import (
    AggregationGroup,
    GroupAlert,
    group_alert_from_record,
    group_alert_to_record,
    group_from_record,
    group_to_record,
)
from alerting.correlation import Outbox
from alerting.flapping import FlapHistory
from alerting.flush import Notified, notified_from_record, notified_to_record
from alerting.incident import (
    Incident,
    Member,
    TimelineEntry,
    incident_from_record,
    incident_to_record,
    member_from_record,
    member_to_record,
    timeline_to_record,
)
from alerting.rate_counts import RateCounts
from alerting.silence import Silence, silence_from_record
from alerting.tiers import TIERS, TierName
from alerting.timeutil import from_epoch
from cluster import keys
from cluster.incident_feed import queue_update
from cluster.rate_store import queue_rate_counts
from cluster.records import NotificationsEntry
from cluster.redis_client import TenantRedis, stream_entries, text
from cluster.tracing import current_traceparent

TIMELINE_CAP = TIERS[TierName.STANDARD].timeline_entries
"""Timeline entries kept per incident (the newest) unless the tenant's tier says
otherwise (``timeline_entries``): a 5,000-alert storm would otherwise keep 5,000
"joined" lines that nobody reads. What is dropped is counted, never silent: every
append also adds to the incident's count of entries ever written, and the incidents
API shows the difference as ``timeline_dropped``."""

START = "0-0"
SCAN_BATCH = 1000


@dataclass
class StoredCorrelation:
    """What a correlator needs to resume a tenant."""

    incidents: list[Incident]
    flaps: dict[str, FlapHistory]
    counts: dict[str, int]
    position: str
    groups: list[AggregationGroup]
    notification_log: dict[str, Notified]


def _flap_record(history: FlapHistory) -> list[float]:
    """A fingerprint's transition times as stored (epoch seconds)."""
    return [round(t.timestamp(), 6) for t in history.transitions]


class IncidentStore(TenantRedis):
    """Reads and writes one tenant's correlation state; the only code touching its keys."""

    timeline_cap = TIMELINE_CAP  # the tenant's tier's, set by its correlator

    async def load(self) -> StoredCorrelation:
        """Everything stored for the tenant: incidents with members, flaps, counters, position."""
        t = self.tenant
        members: dict[str, list[Member]] = {}
        async for field, doc in self.client.hscan_iter(keys.incident_members(t), count=SCAN_BATCH):
            incident_id = text(field).split("/", 1)[0]
            members.setdefault(incident_id, []).append(member_from_record(json.loads(doc)))
        headers = await self.client.hgetall(keys.incidents(t))
        incidents = [
            incident_from_record(json.loads(doc), members.get(text(incident_id), []))
            for incident_id, doc in headers.items()
        ]
        flap_docs = await self.client.hgetall(keys.flaps(t))
        flaps = {
            text(fp): FlapHistory([from_epoch(x) for x in json.loads(doc)])
            for fp, doc in flap_docs.items()
        }
        count_docs = await self.client.hgetall(keys.noise(t))
        counts = {text(k): int(v) for k, v in count_docs.items()}
        position = await self.client.hget(keys.correlator(t), "position")
        groups = await self._load_groups()
        log_docs = await self.client.hgetall(keys.notification_log(t))
        return StoredCorrelation(
            incidents,
            flaps,
            counts,
            text(position) if position else START,
            groups,
            {text(k): notified_from_record(json.loads(v)) for k, v in log_docs.items()},
        )

    async def _load_groups(self) -> list[AggregationGroup]:
        """The aggregation groups, each header with its alerts. Headers stored with their
        alerts inline (Vigil 0.2) are stored anew, the alerts in fields of their own,
        before anything else is written, so no later header write can drop them."""
        t = self.tenant
        alerts: dict[str, dict[str, GroupAlert]] = {}
        async for name, doc in self.client.hscan_iter(keys.group_alerts(t), count=SCAN_BATCH):
            gid, _, fp = text(name).rpartition("\x00")
            alerts.setdefault(gid, {})[fp] = group_alert_from_record(json.loads(doc))
        headers = {
            text(k): json.loads(v) for k, v in (await self.client.hgetall(keys.groups(t))).items()
        }
        groups = {gid: group_from_record(h, alerts.get(gid)) for gid, h in headers.items()}
        inline = Outbox()
        for gid, header in headers.items():
            if "alerts" in header:
                inline.store_whole(gid, groups[gid])
        if inline:
            await self.commit(inline, None)
        return list(groups.values())

    async def commit(
        self, outbox: Outbox, position: str | None, rates: RateCounts | None = None
    ) -> None:
        """Write what the outbox holds and, if given, the new stream position and the
        rate watch's new counts, atomically."""
        if not outbox and position is None and rates is None:
            return
        t = self.tenant
        async with self.client.pipeline(transaction=True) as pipe:
            if outbox.incidents:
                docs = {i: json.dumps(incident_to_record(x)) for i, x in outbox.incidents.items()}
                pipe.hset(keys.incidents(t), mapping=docs)  # type: ignore[arg-type]
            member_docs = {
                f"{incident_id}/{fp}": json.dumps(member_to_record(m))
                for incident_id, members in outbox.members.items()
                for fp, m in members.items()
            }
            if member_docs:
                pipe.hset(keys.incident_members(t), mapping=member_docs)  # type: ignore[arg-type]
            for incident_id, entries in outbox.timeline.items():
                incident = outbox.incidents.get(incident_id)
                trim = incident is None or incident.timeline_length > self.timeline_cap
                _append_timeline(pipe, t, incident_id, entries, self.timeline_cap if trim else None)
            if outbox.notifications:
                # Trimmed by the escalator, up to what it delivered (StreamFrontier).
                pipe.xadd(
                    keys.notifications(t),
                    NotificationsEntry(
                        tuple(outbox.notifications), current_traceparent()
                    ).to_fields(),  # type: ignore[arg-type]
                )
            self._replace(pipe, keys.flaps(t), outbox.flaps, _flap_record)
            self._replace(pipe, keys.groups(t), outbox.groups, group_to_record)
            group_alerts = {
                f"{gid}\x00{fp}": alert
                for gid, changed in outbox.group_alerts.items()
                for fp, alert in changed.items()
            }
            self._replace(pipe, keys.group_alerts(t), group_alerts, group_alert_to_record)
            self._replace(
                pipe, keys.notification_log(t), outbox.notification_log, notified_to_record
            )
            for name, delta in outbox.counters.items():
                pipe.hincrby(keys.noise(t), name, delta)
            for incident_id, fingerprints in outbox.purged.items():
                pipe.hdel(keys.incidents(t), incident_id)
                if fingerprints:
                    fields = [f"{incident_id}/{fp}" for fp in fingerprints]
                    pipe.hdel(keys.incident_members(t), *fields)
                pipe.delete(keys.incident_timeline(t, incident_id))
                pipe.hdel(keys.timeline_written(t), incident_id)
            # Live views learn what changed from the feed, written with the change.
            touched = outbox.incidents.keys() | outbox.members.keys() | outbox.timeline.keys()
            queue_update(pipe, t, touched | outbox.purged.keys())
            if rates is not None:
                queue_rate_counts(pipe, t, rates)
            if position is not None:
                pipe.hset(keys.correlator(t), "position", position)
                # What is applied may go, in the same transaction as the position that
                # says so; "~" drops only whole stream nodes below it, never past it.
                pipe.xtrim(keys.changes(t), minid=position, approximate=True)
            await pipe.execute()

    @staticmethod
    def _replace(pipe: Any, key: str, values: dict[str, Any], to_record: Any) -> None:
        """Queue writes of a hash's changed fields (``None``: delete the field)."""
        stale = [field for field, value in values.items() if value is None]
        live = {f: json.dumps(to_record(v)) for f, v in values.items() if v is not None}
        if live:
            pipe.hset(key, mapping=live)
        if stale:
            pipe.hdel(key, *stale)

    async def read_changes(self, after: str, count: int) -> list[tuple[str, dict[bytes, bytes]]]:
        """Up to ``count`` change-stream entries after position ``after``, oldest first."""
        found = await self.client.xrange(keys.changes(self.tenant), min=f"({after}", count=count)
        return stream_entries(found)

    async def oldest_unread(self, after: str) -> float | None:
        """When the first entry after position ``after`` was appended (epoch seconds, from
        its stream id), or ``None`` if there is none: the correlator's lag."""
        found = stream_entries(
            await self.client.xrange(keys.changes(self.tenant), min=f"({after}", count=1)
        )
        if not found:
            return None
        return int(found[0][0].split("-", 1)[0]) / 1000

    async def entries_before(self, position: str, count: int) -> list[dict[bytes, bytes]]:
        """The ``count`` entries up to and including ``position`` (to know their change ids)."""
        if position == START:
            return []
        found = await self.client.xrevrange(keys.changes(self.tenant), max=position, count=count)
        return [fields for _, fields in stream_entries(found)]

    async def alert_documents(self, alert_ids: Sequence[str]) -> list[dict[str, Any] | None]:
        """The stored alerts with these ids (``None`` for one purged since)."""
        if not alert_ids:
            return []
        docs = await self.client.hmget(keys.alerts(self.tenant), list(alert_ids))
        return [json.loads(d) if d is not None else None for d in docs]

    async def silences(self) -> list[Silence]:
        """Every stored silence of the tenant."""
        docs = await self.client.hvals(keys.silences(self.tenant))
        return [silence_from_record(json.loads(d)) for d in docs]

    async def timeline(self, incident_id: str) -> list[dict[str, Any]]:
        """An incident's stored timeline, oldest first."""
        entries = await self.client.lrange(keys.incident_timeline(self.tenant, incident_id), 0, -1)
        return [json.loads(e) for e in entries]


async def append_timelines(
    client: aioredis.Redis,
    tenant: str,
    entries: dict[str, list[TimelineEntry]],
    cap: int = TIMELINE_CAP,
) -> None:
    """Append entries to incidents' stored timelines in one round trip, each capped at
    ``cap``: what the escalator does with its steps and deliveries, without asking the
    correlator to rewrite the incidents."""
    if not entries:
        return
    async with client.pipeline(transaction=False) as pipe:
        for incident_id, noted in entries.items():
            # The escalator does not know the timeline's length: it always trims.
            _append_timeline(pipe, tenant, incident_id, noted, cap)
        queue_update(pipe, tenant, entries.keys())
        await pipe.execute()


async def timeline_dropped(client: aioredis.Redis, tenant: str, incident_id: str) -> int:
    """How many of an incident's oldest timeline entries the tier's cap dropped."""
    async with client.pipeline(transaction=True) as pipe:
        pipe.hget(keys.timeline_written(tenant), incident_id)
        pipe.llen(keys.incident_timeline(tenant, incident_id))
        written, kept = await pipe.execute()
    return 0 if written is None else max(0, int(written) - int(kept))


def _append_timeline(
    pipe: Any, tenant: str, incident_id: str, entries: Sequence[TimelineEntry], cap: int | None
) -> None:
    """Queue on a pipeline the append of entries to one incident's stored timeline, the
    count of entries written, and (with ``cap``) the trim to the newest ``cap``."""
    key = keys.incident_timeline(tenant, incident_id)
    pipe.rpush(key, *[json.dumps(timeline_to_record(e)) for e in entries])
    pipe.hincrby(keys.timeline_written(tenant), incident_id, len(entries))
    if cap is not None:
        pipe.ltrim(key, -cap, -1)
