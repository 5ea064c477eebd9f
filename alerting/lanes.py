"""Escalator lanes: how one tenant's notification work is spread over several
escalator processes, and where each lane reads its stream from.

One Python process delivers about a thousand notices a second (``bench/notices.py``),
so a busy tenant would be capped at one core. With ``VIGIL_ESCALATOR_LANES=n`` each
shard runs ``n`` escalator processes; every lane reads the tenant's whole
notifications stream and does its share of it:

* a **group's notifications** belong to the lane of its group key, so one group's
  notices still go out in order, from one process;
* an **incident's escalation** (its start, steps, hand escalations, acknowledgement,
  muting and resolution) belongs to the lane of its incident id, so one process owns
  its state and its lock;
* each lane keeps its own stream position and its own due set; the stream is trimmed
  only below every lane's position.

Lane numbers come from CRC-32, stable across processes and restarts, like shards.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable

MAX_LANES = 16
"""The most lanes a shard may run (``VIGIL_ESCALATOR_LANES``); the lane keys a store
must look through when the number changes."""

STREAM_START = "0-0"


def lane_of(key: str, lanes: int) -> int:
    """The lane that owns a group key or an incident id."""
    if lanes <= 1:
        return 0
    return zlib.crc32(key.encode()) % lanes


def stream_order(entry_id: str) -> tuple[int, int]:
    """A Redis stream id as a sortable pair (``"1700000000000-3"`` → ``(1700..., 3)``)."""
    millis, _, seq = entry_id.partition("-")
    return int(millis), int(seq or 0)


def resume_position(stored: Iterable[str]) -> str:
    """Where a lane starts reading after a (re)start: the earliest position any lane
    stored, whatever the number of lanes was then. Entries between that and the lane's
    own position are read again; the notification log and the stored escalation
    states make that harmless (nothing is sent twice). Starting from its own position
    instead could skip work: a lane count lowered from 2 to 1 leaves the old lane 1's
    unfinished entries behind lane 0's position."""
    positions = list(stored)
    if not positions:
        return STREAM_START
    return min(positions, key=stream_order)


def trim_point(positions: dict[int, str], lanes: int) -> str | None:
    """Below which stream entries every lane is done (``None``: a lane has not stored
    a position yet, so nothing may go)."""
    wanted = [positions.get(lane) for lane in range(lanes)]
    known = [p for p in wanted if p is not None]
    if len(known) < lanes:
        return None
    return min(known, key=stream_order)
