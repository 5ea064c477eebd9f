"""Incident features: one vector per incident, named, deterministic and meaningful."""

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from alerting.severity import Severity
from models.features import FEATURE_NAMES, IncidentContext, OutcomeHistory, feature_vector

BASE = IncidentContext(
    severity=Severity.WARNING,
    members=4,
    firing=3,
    flapping=1,
    suppressed=0,
    correlated=2,
    started_at=datetime(2026, 11, 26, 12, 0, tzinfo=UTC),
    tenant_alerts_last_minute=10,
    tenant_alerts_last_hour=120,
    fingerprint_history=OutcomeHistory(
        incidents=5, actionable=4, noise=1, mean_resolve_seconds=900
    ),
    alertname_history=OutcomeHistory(),
    dependents=3,
)


def feature(ctx: IncidentContext, name: str) -> float:
    return feature_vector(ctx)[FEATURE_NAMES.index(name)]


def test_one_named_value_per_feature_and_the_same_answer_twice() -> None:
    vector = feature_vector(BASE)
    assert len(vector) == len(FEATURE_NAMES) == len(set(FEATURE_NAMES))
    assert vector == feature_vector(BASE)


@pytest.mark.parametrize(
    ("change", "name", "direction"),
    [
        # Worse severity ranks higher.
        ({"severity": Severity.CRITICAL}, "severity_rank", +1),
        # A fingerprint people acted on more often looks more actionable ...
        ({"fingerprint_history": OutcomeHistory(10, 10, 0)}, "fingerprint_actionable_rate", +1),
        # ... and one that was always noise, less.
        ({"fingerprint_history": OutcomeHistory(10, 0, 10)}, "fingerprint_actionable_rate", -1),
        # A burst above the hour's average raises the burst ratio.
        ({"tenant_alerts_last_minute": 100}, "burst_ratio", +1),
        # More flapping members: a larger flapping share.
        ({"flapping": 4}, "flapping_share", +1),
    ],
)
def test_features_move_the_way_they_should(
    change: dict[str, object], name: str, direction: int
) -> None:
    before, after = feature(BASE, name), feature(replace(BASE, **change), name)  # type: ignore[arg-type]
    assert (after - before) * direction > 0


def test_no_history_is_an_even_chance_and_an_unknown_resolve_time() -> None:
    assert feature(BASE, "alertname_actionable_rate") == 0.5
    assert feature(BASE, "alertname_log_resolve_s") == -1.0


def test_time_of_day_wraps_around_midnight() -> None:
    late = replace(BASE, started_at=datetime(2026, 11, 26, 23, 59, tzinfo=UTC))
    early = replace(BASE, started_at=datetime(2026, 11, 27, 0, 1, tzinfo=UTC))
    noon = replace(BASE, started_at=datetime(2026, 11, 26, 12, 0, tzinfo=UTC))
    gap = abs(feature(late, "hour_cos") - feature(early, "hour_cos"))
    assert gap < 0.01 < abs(feature(late, "hour_cos") - feature(noon, "hour_cos"))


def test_an_empty_incident_does_not_divide_by_zero() -> None:
    empty = replace(BASE, members=0, firing=0, flapping=0, correlated=0)
    assert feature(empty, "firing_share") == 0.0
