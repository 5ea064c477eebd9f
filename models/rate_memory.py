"""What a tenant's rate watch keeps across correlator restarts: each watched stream's
recent bucket counts, as the store writes and reads them.

A ``StreamingDetector``'s memory is whatever its last few thousand values made it, so
the counts *are* the memory: a restarted correlator feeds them to fresh detectors
again (``RateWatch.resume``) instead of re-learning for hours (150 buckets before a
new level alarms, 2.8 days before a recent extreme does). Counts, not the detectors'
state, are stored because they are small (two bytes a bucket), grow by appending,
and read back as plain numbers: nothing from Redis is ever unpickled or executed.
"""

from __future__ import annotations

import sys
from array import array
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from models.anomaly import DetectorSettings

COUNT_CAP = 65_535
"""A bucket's count as stored (two bytes): a bigger one is a storm either way."""

MAX_KEPT_BUCKETS = 4_400
"""The most buckets kept per stream: three days of one-minute buckets and a little (the
time-of-day signal's memory). Shorter buckets keep as many, and their time-of-day
memory, weeks of buckets, is not restored."""

MAX_RESUME_GAP = timedelta(minutes=30)
"""How long since the last save a restarted correlator still resumes the watch. Alerts
stored meanwhile are counted in the buckets they were stored in as it catches up, and
the buckets of the gap close as it does (quickly: a few thousand at most). After a
longer gap, Vigil itself was likely down: the watch starts afresh rather than judge
hours of buckets that counted nothing because nothing could be received."""


def memory_buckets(settings: DetectorSettings, period: int | None) -> int:
    """How many of a stream's latest counts rebuild its detector's memory: the longest
    memory of its signals, at most ``MAX_KEPT_BUCKETS``."""
    longest = max(
        settings.range_learning,
        settings.window + settings.history,
        settings.recent_window,
        settings.shape_history + settings.shape_length + settings.history,
        settings.seasons * period + settings.season_spread + 1 if period else 0,
    )
    return min(longest, MAX_KEPT_BUCKETS)


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
