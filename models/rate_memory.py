"""What a tenant's rate watch keeps across correlator restarts, and for how long.

A ``StreamingDetector``'s memory is whatever its last few thousand values made it, so
each stream's recent bucket counts *are* the memory: a restarted correlator feeds them
to fresh detectors again (``RateWatch.resume``) instead of re-learning for hours (150
buckets before a new level alarms, 2.8 days before a recent extreme does). Counts, not
the detectors' state, are stored because they are small (two bytes a bucket), grow by
appending, and read back as plain numbers (``alerting/rate_counts.py``).
"""

from __future__ import annotations

from datetime import timedelta

from models.anomaly import DetectorSettings

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
