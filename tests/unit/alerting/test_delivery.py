"""Retry decisions after a notification attempt: what is retried, how long to wait,
and Retry-After honoured within its cap."""

import random
from datetime import UTC, datetime, timedelta

import pytest

from alerting.delivery import Attempt, AttemptKind, RetryPolicy, retry_after

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
NO_JITTER = RetryPolicy(jitter=0.0)


def http(status: int, retry_after: str | None = None) -> Attempt:
    return Attempt(AttemptKind.HTTP_ERROR, status, retry_after)


@pytest.mark.parametrize(
    ("attempt", "number", "wait"),
    [
        (Attempt(AttemptKind.CONNECTION_ERROR), 1, 0.5),  # refused: retry soon
        (Attempt(AttemptKind.TIMEOUT), 2, 1.0),  # backoff doubles
        (http(500), 3, 2.0),
        (http(503), 3, 2.0),
        (http(429), 1, 0.5),  # rate limited without a hint: backoff
        (http(429, "7"), 1, 7.0),  # rate limited with a hint: as asked
        (http(503, "3600"), 1, 60.0),  # asked for an hour: capped at a minute
        (http(429, "Thu, 26 Nov 2026 12:00:20 GMT"), 1, 20.0),  # an HTTP date
        (http(429, "soon"), 2, 1.0),  # an unreadable hint: backoff
        (http(400), 1, None),  # a bad request will stay bad: no retry
        (http(401), 1, None),  # a revoked token: no retry
        (http(404), 1, None),
        (Attempt(AttemptKind.DELIVERED), 1, None),  # nothing to retry
        (http(500), 4, None),  # the fourth try was the last
    ],
)
def test_when_to_try_again(attempt: Attempt, number: int, wait: float | None) -> None:
    delay = NO_JITTER.delay_before(number, attempt, NOW, random.Random(1))
    assert (None if delay is None else delay.total_seconds()) == wait


def test_backoff_is_capped_and_jittered() -> None:
    policy = RetryPolicy(attempts=20, jitter=0.2)
    rng = random.Random(3)
    delays = [policy.delay_before(12, http(502), NOW, rng) for _ in range(200)]
    seconds = [d.total_seconds() for d in delays if d is not None]
    assert len(seconds) == 200
    assert 24.0 <= min(seconds) < max(seconds) <= 36.0  # 30 s cap, +/- 20 %
    assert len(set(seconds)) > 100  # spread out, so retries do not arrive in lockstep


def test_retry_after_in_the_past_means_now() -> None:
    assert retry_after("Thu, 26 Nov 2026 11:00:00 GMT", NOW) == timedelta(0)
    assert retry_after(None, NOW) is None
    assert retry_after(" ", NOW) is None


def test_attempts_describe_themselves_for_the_timeline() -> None:
    assert http(503).describe() == "HTTP 503"
    assert Attempt(AttemptKind.CONNECTION_ERROR).describe() == "connection error"
