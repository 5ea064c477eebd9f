"""The incident feed: which of a tenant's incidents changed, in the order they did.

Every write that changes an incident (the correlator's round, an action, the
escalator's timeline entries) appends one entry to ``keys.incident_updates`` naming the
incidents it touched, in the same pipeline as the change. A live view (the console's
stream, GraphQL's ``incidentUpdates``, the Python client's ``watch``) keeps the id of
the last entry it read and asks for what came after, so a reader that reconnects, or
talks to a restarted actor, misses nothing that the stream still holds.

The stream is capped at ``FEED_CAP`` entries. A reader whose position fell off the end
is told so (``gap``) and reloads what it shows instead of trusting a partial diff.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from redis import asyncio as aioredis

from alerting.errors import InvalidRequest
from alerting.incident import Incident
from cluster import keys
from cluster.redis_client import stream_entries, text

FEED_CAP = 10_000
"""Entries kept per tenant: minutes of a busy tenant's changes, which is as far back as
a reader that lost its connection needs to catch up."""

FEED_START = "0-0"
"""The position before the first entry a stream can hold."""


@dataclass(frozen=True)
class FeedRead:
    """What a reader gets: the incidents touched after its position, and where to go on."""

    position: str  # the last entry read (the reader's position if none was new)
    incident_ids: tuple[str, ...]  # touched, each once, in the order first touched
    gap: bool  # entries after the old position were trimmed: reload everything


@dataclass(frozen=True)
class IncidentChanges:
    """The correlator's answer to a live view: the touched incidents as they are now."""

    position: str  # pass it back as ``after`` for what comes next
    incidents: tuple[Incident, ...]  # touched and still kept, in the order touched
    removed: tuple[str, ...]  # touched and gone (purged, or the tenant deleted)
    gap: bool  # the reader fell behind the feed's cap: reload the whole view


def queue_update(pipe: Any, tenant: str, incident_ids: Iterable[str]) -> None:
    """Queue on a pipeline the feed entry that names the incidents a write touches."""
    ids = sorted(set(incident_ids))
    if ids:
        pipe.xadd(
            keys.incident_updates(tenant),
            {"ids": ",".join(ids)},
            maxlen=FEED_CAP,
            approximate=True,
        )


def _stream_id(position: str) -> tuple[int, int]:
    millis, _, sequence = position.partition("-")
    return int(millis), int(sequence or 0)


def check_position(position: str) -> str:
    """``position`` if it is a stream id (``<ms>-<n>``), else ``InvalidRequest``."""
    try:
        millis, sequence = _stream_id(position)
    except ValueError:
        millis = sequence = -1
    if millis < 0 or sequence < 0 or len(position) > 41:
        raise InvalidRequest(f"not a feed position: {position[:41]!r}")
    return position


async def feed_head(client: aioredis.Redis, tenant: str) -> str:
    """The position of the newest entry: where a reader that wants only news starts."""
    found = stream_entries(await client.xrevrange(keys.incident_updates(tenant), count=1))
    return found[0][0] if found else FEED_START


async def read_feed(client: aioredis.Redis, tenant: str, after: str, count: int) -> FeedRead:
    """Up to ``count`` entries after ``after``, as the incidents they touched."""
    key = keys.incident_updates(tenant)
    found = stream_entries(await client.xrange(key, min=f"({after}", count=count))
    gap = False
    if after != FEED_START:
        # The entry at our position is gone, so newer ones may be too. (Redis 6.2 does
        # not say which ids it trimmed; a false alarm costs the reader one reload.)
        oldest = stream_entries(await client.xrange(key, count=1))
        gap = bool(oldest) and _stream_id(oldest[0][0]) > _stream_id(after)
    touched: dict[str, None] = {}
    for _, fields in found:
        for incident_id in text(fields.get(b"ids", b"")).split(","):
            if incident_id:
                touched[incident_id] = None
    position = found[-1][0] if found else after
    return FeedRead(position, tuple(touched), gap)
