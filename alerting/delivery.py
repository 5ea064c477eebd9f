"""Whether and when to try a notification again after an attempt.

An attempt ends in one of: delivered (2xx), a connection error, a timeout, or an HTTP
status. Connection errors, timeouts, 5xx and 429 are worth retrying, with exponential
backoff and jitter; a 429 or 503 that says ``Retry-After`` is honoured, capped. Any
other 4xx will not get better by itself (a wrong URL, a revoked token): no retry,
the fallback channel takes over at once. After ``attempts`` tries the channel has
failed, and so does the fallback chain's next step.

Pure: the random source and the current time are passed in.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from enum import StrEnum


class AttemptKind(StrEnum):
    """How an attempt ended."""

    DELIVERED = "delivered"
    CONNECTION_ERROR = "connection_error"
    TIMEOUT = "timeout"
    HTTP_ERROR = "http_error"
    REFUSED = "refused_by_policy"  # the destination is one Vigil does not send to


@dataclass(frozen=True)
class Attempt:
    """One try: how it ended, the status if there was one, and a ``Retry-After``."""

    kind: AttemptKind
    status: int | None = None
    retry_after: str | None = None

    @property
    def retryable(self) -> bool:
        """Whether trying again may help."""
        if self.kind in (AttemptKind.CONNECTION_ERROR, AttemptKind.TIMEOUT):
            return True
        if self.kind is AttemptKind.HTTP_ERROR and self.status is not None:
            return self.status == 429 or self.status >= 500
        return False

    def describe(self) -> str:
        """A short phrase for the timeline (``HTTP 503``, ``timeout``)."""
        if self.kind is AttemptKind.HTTP_ERROR:
            return f"HTTP {self.status}"
        return self.kind.value.replace("_", " ")


@dataclass(frozen=True)
class RetryPolicy:
    """How many tries a channel gets and how long to wait between them."""

    attempts: int = 4
    first_delay: timedelta = timedelta(seconds=0.5)
    factor: float = 2.0
    max_delay: timedelta = timedelta(seconds=30)
    max_retry_after: timedelta = timedelta(seconds=60)
    jitter: float = 0.2  # each delay is scaled by a random factor in [1 - j, 1 + j]

    def delay_before(
        self, attempt_number: int, last: Attempt, now: datetime, rng: random.Random
    ) -> timedelta | None:
        """How long to wait before try ``attempt_number + 1`` after ``last`` (try
        ``attempt_number``, counted from 1) failed; ``None``: do not try again."""
        if last.kind is AttemptKind.DELIVERED or not last.retryable:
            return None
        if attempt_number >= self.attempts:
            return None
        asked = retry_after(last.retry_after, now)
        if asked is not None:
            return min(asked, self.max_retry_after)
        backoff = self.first_delay * (self.factor ** (attempt_number - 1))
        backoff = min(backoff, self.max_delay)
        return backoff * rng.uniform(1 - self.jitter, 1 + self.jitter)


def retry_after(header: str | None, now: datetime) -> timedelta | None:
    """A ``Retry-After`` header (seconds, or an HTTP date) as a wait from ``now``;
    ``None`` when absent or unreadable (then the backoff applies)."""
    if header is None or not header.strip():
        return None
    text = header.strip()
    if text.isdigit():
        return timedelta(seconds=int(text))
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(when - now, timedelta(0))
