"""The token bucket and the tiers' limits."""

from __future__ import annotations

from datetime import timedelta

import pytest
from pydantic import ValidationError

from alerting.rate_limit import TokenBucket, retry_after
from alerting.tiers import TIERS, LimitOverrides, TierName, limits_for


def test_a_full_bucket_lets_a_burst_through_then_the_rate() -> None:
    bucket = TokenBucket(rate=2.0, burst=3, now=0.0)
    assert [bucket.take(0.0) for _ in range(3)] == [0.0, 0.0, 0.0]
    assert bucket.take(0.0) == pytest.approx(0.5)  # one token every half second
    assert bucket.take(0.25) == pytest.approx(0.25)
    assert bucket.take(0.5) == 0.0
    assert bucket.take(0.5) == pytest.approx(0.5)


def test_a_refused_request_costs_nothing_and_refill_stops_at_the_burst() -> None:
    bucket = TokenBucket(rate=1.0, burst=2, now=0.0)
    bucket.take(0.0), bucket.take(0.0)
    for _ in range(100):
        assert bucket.take(0.1) > 0
    assert bucket.take(1.0) == 0.0
    later = TokenBucket(rate=1.0, burst=2, now=0.0)
    assert [later.take(1000.0) for _ in range(3)][:2] == [0.0, 0.0]  # no more than burst
    assert later.take(1000.0) > 0


def test_time_going_backwards_refills_nothing() -> None:
    bucket = TokenBucket(rate=1.0, burst=1, now=10.0)
    assert bucket.take(10.0) == 0.0
    assert bucket.take(5.0) > 0


@pytest.mark.parametrize(("wait", "header"), [(0.01, "1"), (1.0, "1"), (1.2, "2"), (30.0, "30")])
def test_retry_after_is_whole_seconds(wait: float, header: str) -> None:
    assert retry_after(wait) == header


def test_tiers_grow_from_free_to_enterprise() -> None:
    free, standard, enterprise = (TIERS[t] for t in TierName)
    for field in ("requests_per_second", "burst", "max_open_alerts", "max_silences"):
        assert getattr(free, field) < getattr(standard, field) < getattr(enterprise, field)


def test_a_tenant_overrides_only_what_it_names() -> None:
    mine = limits_for(TierName.FREE, LimitOverrides(max_silences=7))
    assert mine.max_silences == 7
    assert mine.requests_per_second == TIERS[TierName.FREE].requests_per_second
    with pytest.raises(ValidationError):
        LimitOverrides.model_validate({"requests_per_second": 0})
    with pytest.raises(ValidationError):
        LimitOverrides.model_validate({"unknown": 1})


def test_retention_is_the_tiers_or_else_the_operators() -> None:
    operators = timedelta(hours=72)
    assert TIERS[TierName.FREE].retention(operators) == timedelta(hours=24)
    assert TIERS[TierName.STANDARD].retention(operators) == operators
    mine = limits_for(TierName.STANDARD, LimitOverrides(retention_hours=1))
    assert mine.retention(operators) == timedelta(hours=1)
