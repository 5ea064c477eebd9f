"""A rate watch's bucket counts as they are stored: what the correlator hands the
store with each commit, and what the store reads back when a correlator starts
(``models/rate_memory.py`` says why counts are what is kept; ``cluster/rate_store.py``
where they are kept).

Counts are two bytes each, little-endian, newest last: they grow by appending and
read back as plain numbers, so nothing read from Redis is ever unpickled or run.
"""

from __future__ import annotations

import sys
from array import array
from dataclasses import dataclass, field
from datetime import datetime, timedelta

COUNT_CAP = 65_535
"""A bucket's count as stored (two bytes): a bigger one is a storm either way."""


def pack_counts(counts: array[int]) -> bytes:
    """Counts as stored: unsigned 16-bit, little-endian."""
    if sys.byteorder == "big":
        counts = array("H", counts)
        counts.byteswap()
    return counts.tobytes()


def unpack_counts(raw: bytes) -> array[int]:
    """The counts ``pack_counts`` stored (a stray odd byte, from a torn write, dropped)."""
    counts = array("H")
    counts.frombytes(raw[: len(raw) - len(raw) % 2])
    if sys.byteorder == "big":
        counts.byteswap()
    return counts


@dataclass(frozen=True)
class RateCounts:
    """What a watch closed since its last save, for the store to write in the same
    transaction as the correlator's commit.

    Streams are numbered (0: the tenant's own, then services in the order first seen)
    so no tenant-chosen service name ever becomes part of a Redis key."""

    bucket: timedelta
    counted: str  # "new" or "all": what a bucket counts (the policy's ``count``)
    bucket_start: datetime  # the open bucket's start
    names: dict[int, str | None]  # every stream's service (None: the tenant's)
    appended: dict[int, bytes] = field(default_factory=dict)  # counts to add at the end
    replaced: dict[int, bytes] = field(default_factory=dict)  # every count now kept
    # The open bucket's count so far, where it changed: saved with the stream position
    # it was counted up to, so a restart neither loses nor counts again what it holds.
    open_counts: dict[int, int] = field(default_factory=dict)


@dataclass(frozen=True)
class StoredRates:
    """A watch's counts as the store read them back."""

    bucket: timedelta
    counted: str
    bucket_start: datetime  # the bucket that was open at the last save
    names: dict[int, str | None]
    counts: dict[int, bytes]
    open_counts: dict[int, int] = field(default_factory=dict)
