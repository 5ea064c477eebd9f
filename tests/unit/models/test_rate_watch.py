"""The rate watch on made-up streams: storms and silences a person would call so, and
nothing for the quiet service's first few alerts or for the synthetic alerts."""

import random
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from alerting.correlation_config import AnomalyPolicy, AnomalySpec, CorrelationSpec
from alerting.lifecycle import ChangeKind
from alerting.severity import Severity
from models.rate_watch import (
    ANOMALY_LABEL,
    MAX_GAP_BUCKETS,
    RateAnomaly,
    RateWatch,
    counts_toward_rate,
)

T0 = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
MINUTE = timedelta(minutes=1)


def feed(
    watch: RateWatch, minute: int, count: int, service: str | None = "api"
) -> list[RateAnomaly]:
    """``count`` new alerts spread over minute ``minute``; what closed buckets found."""
    found = []
    for k in range(count):
        at = T0 + minute * MINUTE + timedelta(seconds=59 * k / max(count, 1))
        found += watch.count(at, {"alertname": "X", "service": service} if service else {})
    return found


def run(watch: RateWatch, counts: list[int], service: str | None = "api") -> list[RateAnomaly]:
    found = []
    for minute, count in enumerate(counts):
        found += feed(watch, minute, count, service)
    found += watch.close_due(T0 + len(counts) * MINUTE)
    return found


def steady(n: int, mean: float, seed: int = 1) -> list[int]:
    rng = random.Random(seed)
    return [max(0, round(rng.gauss(mean, mean**0.5))) for _ in range(n)]


def test_a_storm_after_a_steady_stream_raises_one_alert_storm_per_stream() -> None:
    watch = RateWatch(AnomalyPolicy(), T0)
    found = run(watch, [*steady(60, 10), 200, *steady(20, 10, seed=2)])
    assert {(a.kind, a.service) for a in found} == {("AlertStorm", None), ("AlertStorm", "api")}
    storm = next(a for a in found if a.service is None)
    assert storm.count == 200
    assert 5 <= storm.typical <= 15
    assert storm.bucket_start == T0 + 60 * MINUTE


def test_a_second_outage_hours_later_is_a_storm_of_its_own_even_a_smaller_one() -> None:
    # A level between the usual and the first storm's peak is news again once the
    # first storm's quiet time is over: each outage pages. (A detector that kept such
    # "gaps above the range" quiet for longer scored better on NAB, whose labels skip
    # most repeated spikes, and missed a quarter of bench/storm_counting.py's outages.)
    watch = RateWatch(AnomalyPolicy(), T0)
    counts = [*steady(200, 10), 200, *steady(180, 10, seed=2), 120, *steady(10, 10, seed=3)]
    found = [a for a in run(watch, counts) if a.service is None]
    assert [(a.kind, a.count) for a in found] == [("AlertStorm", 200), ("AlertStorm", 120)]


def test_steady_traffic_raises_nothing() -> None:
    watch = RateWatch(AnomalyPolicy(), T0)
    assert run(watch, steady(300, 10)) == []


def test_a_quiet_services_first_alerts_are_not_a_storm_and_do_not_blind_the_watch() -> None:
    watch = RateWatch(AnomalyPolicy(per_service=True), T0)
    counts = [0] * 40 + [3] + [0] * 3 + [50]
    found = run(watch, counts)
    assert [(a.kind, a.service, a.count) for a in found if a.service == "api"] == [
        ("AlertStorm", "api", 50)
    ]


def test_a_busy_stream_going_quiet_is_a_silence_a_quiet_one_is_not() -> None:
    busy = RateWatch(AnomalyPolicy(per_service=False), T0)
    found = run(busy, [*steady(60, 30), 0, 0, 0, 0, 0])
    assert [a.kind for a in found] == ["AlertSilence"]
    assert found[0].count == 0 and found[0].typical >= 20
    assert found[0].bucket_start == T0 + 62 * MINUTE  # the third silent minute

    quiet = RateWatch(AnomalyPolicy(per_service=False), T0)
    assert run(quiet, [*steady(60, 2), 0, 0, 0, 0, 0]) == []


def test_one_slow_bucket_is_not_a_silence() -> None:
    watch = RateWatch(AnomalyPolicy(per_service=False), T0)
    assert run(watch, [*steady(60, 30), 0, 30, 0, 30, 30]) == []


def test_synthetic_alerts_are_not_counted() -> None:
    watch = RateWatch(AnomalyPolicy(), T0)
    for _ in range(100):
        watch.count(T0, {"alertname": "AlertStorm", ANOMALY_LABEL: "storm"})
    assert watch.tenant.count == 0


def test_services_beyond_the_cap_count_for_the_tenant_only() -> None:
    watch = RateWatch(AnomalyPolicy(max_services=2), T0)
    for service in ["a", "b", "c"]:
        watch.count(T0, {"alertname": "X", "service": service})
    assert sorted(watch.services) == ["a", "b"]
    assert watch.tenant.count == 3


def test_a_late_alert_counts_in_the_open_bucket_and_a_long_pause_is_cut_short() -> None:
    watch = RateWatch(AnomalyPolicy(), T0 + timedelta(seconds=30))
    assert watch.bucket_start == T0  # aligned to whole buckets
    watch.close_due(T0 + 5 * MINUTE)
    watch.count(T0, {"alertname": "X"})  # stored long ago, seen now
    assert watch.tenant.count == 1 and watch.bucket_start == T0 + 5 * MINUTE
    watch.close_due(T0 + timedelta(days=30))
    assert watch.bucket_start == T0 + timedelta(days=30)
    # Only whole days were skipped: the buckets fed still follow the time of day, which
    # the detectors compare with the same time on earlier days.
    fed = watch.closed - 5
    assert fed <= MAX_GAP_BUCKETS + 1440
    assert (30 * 1440 - 5 - fed) % 1440 == 0
    assert watch.tenant.detector.seasonal is not None
    assert watch.tenant.detector.seasonal.period == 1440


def test_an_anomaly_becomes_an_alert_that_resolves_by_itself() -> None:
    policy = AnomalyPolicy(resolve_after=timedelta(minutes=15), severity=Severity.HIGH)
    anomaly = RateAnomaly("AlertStorm", "api", 200, 10.0, 0.9, T0, MINUTE)
    now = T0 + MINUTE
    alert = anomaly.as_alert(policy, now)
    assert alert.labels == {"alertname": "AlertStorm", ANOMALY_LABEL: "storm", "service": "api"}
    assert alert.severity == Severity.HIGH
    assert alert.ends_at == now + timedelta(minutes=15)
    assert alert.annotations["summary"] == (
        "alert storm (service api): 200 new alerts in 1 minute, usually 10"
    )
    tenant_wide = RateAnomaly("AlertSilence", None, 0, 40.0, 0.7, T0, MINUTE)
    assert "service" not in tenant_wide.as_alert(policy, now).labels


def test_the_anomaly_section_is_read_and_checked() -> None:
    spec = CorrelationSpec.model_validate(
        {"topology": {"label": "app"}, "anomaly": {"bucket": "30s", "storm_min_alerts": 5}}
    )
    policy = spec.policy().anomaly
    assert policy.bucket == timedelta(seconds=30)
    assert policy.storm_min_alerts == 5
    assert policy.service_label == "app"
    assert CorrelationSpec().policy().anomaly.enabled
    for bad in [{"bucket": "0s"}, {"storm_min_alerts": 0}, {"colour": "red"}]:
        with pytest.raises(ValidationError):
            AnomalySpec.model_validate(bad)


@pytest.mark.parametrize(
    ("count", "kinds"),
    [
        ("new", {ChangeKind.CREATED, ChangeKind.REOPENED}),
        ("all", {ChangeKind.CREATED, ChangeKind.REOPENED, ChangeKind.DUPLICATE}),
    ],
)
def test_a_tenant_chooses_whether_resends_count_toward_its_rate(
    count: str, kinds: set[ChangeKind]
) -> None:
    policy = AnomalySpec.model_validate({"count": count}).policy("service")
    assert {k for k in ChangeKind if counts_toward_rate(k, policy)} == kinds
    watch = RateWatch(policy, T0)
    (storm,) = [a for a in run(watch, [*steady(60, 10), 200], service=None) if a.service is None]
    said = "alert reports" if count == "all" else "new alerts"
    assert storm.summary().startswith(f"alert storm (all services): 200 {said} in 1 minute,")
    with pytest.raises(ValidationError):
        AnomalySpec.model_validate({"count": "some"})
