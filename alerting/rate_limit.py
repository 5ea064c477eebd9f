"""A token bucket: ``rate`` requests a second on average, ``burst`` at once.

Pure: the caller passes the (monotonic) time. The bucket starts full, refills
continuously up to ``burst``, and a refused request costs nothing, so a client that
retries after ``Retry-After`` gets through.
"""

from __future__ import annotations

import math


class TokenBucket:
    """One tenant's request budget."""

    __slots__ = ("_at", "_tokens", "burst", "rate")

    def __init__(self, rate: float, burst: int, now: float) -> None:
        self.rate = rate
        self.burst = burst
        self._tokens = float(burst)
        self._at = now

    def take(self, now: float) -> float:
        """Spend a token: 0.0 when there was one, else the seconds until there will be."""
        elapsed = max(0.0, now - self._at)
        self._tokens = min(float(self.burst), self._tokens + elapsed * self.rate)
        self._at = max(self._at, now)
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return 0.0
        return (1.0 - self._tokens) / self.rate


def retry_after(wait: float) -> str:
    """The ``Retry-After`` header for a wait: whole seconds, at least 1."""
    return str(max(1, math.ceil(wait)))
