"""Loop heartbeats in Redis: the one place that writes and reads them.

A heartbeat lives in Redis, not in the actor, so that whoever judges it (``/readyz``,
``vigil status``, the supervisor) needs nothing from the loop it judges: a hung or
frozen actor simply stops updating its entry, and its age says so.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

from alerting.lanes import MAX_LANES
from alerting.liveness import LoopBeat, LoopId, LoopKind
from alerting.timeutil import from_epoch
from cluster import keys


def beat_record(beat: LoopBeat) -> str:
    """A heartbeat as stored."""
    return json.dumps(
        {
            "beat_at": beat.beat_at.timestamp(),
            "lag": round(beat.lag_seconds, 3),
            "shard": beat.shard,
            "pid": beat.pid,
        }
    )


def beat_from_record(loop: str, record: str | bytes) -> LoopBeat | None:
    """A stored heartbeat (``None`` for an entry this version cannot read)."""
    try:
        data = json.loads(record)
        return LoopBeat(
            LoopId.parse(loop),
            from_epoch(float(data["beat_at"])),
            float(data["lag"]),
            int(data.get("shard", 0)),
            int(data.get("pid", 0)),
        )
    except (ValueError, KeyError, TypeError):
        return None


async def publish_beats(client: Any, beats: Sequence[LoopBeat]) -> None:
    """Store heartbeats (one round trip)."""
    if beats:
        await client.hset(keys.loop_beats(), mapping={str(b.loop): beat_record(b) for b in beats})


async def forget_beats(client: Any, loops: Iterable[LoopId]) -> None:
    """Drop the heartbeats of loops that no longer run anywhere (a tenant that lost its
    escalation policies), so they are not judged stalled forever."""
    names = [str(loop) for loop in loops]
    if names:
        await client.hdel(keys.loop_beats(), *names)


def beats_from_hash(raw: dict[bytes, bytes]) -> dict[LoopId, LoopBeat]:
    """Every readable heartbeat of an ``HGETALL`` of ``keys.loop_beats()``."""
    found: dict[LoopId, LoopBeat] = {}
    for name, record in raw.items():
        beat = beat_from_record(name.decode(), record)
        if beat is not None:
            found[beat.loop] = beat
    return found


async def read_beats(client: Any) -> dict[LoopId, LoopBeat]:
    """Every loop's last heartbeat (asyncio client)."""
    return beats_from_hash(await client.hgetall(keys.loop_beats()))


def forget_beats_sync(client: Any, tenant: str) -> None:
    """Drop every heartbeat of one tenant's loops (blocking client: a deleted tenant)."""
    loops = [LoopId(kind, tenant, lane) for kind in LoopKind for lane in range(MAX_LANES)]
    client.hdel(keys.loop_beats(), *(str(loop) for loop in loops))
