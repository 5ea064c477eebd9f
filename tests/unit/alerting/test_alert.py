"""Validation of what senders report: bad input is refused with the field that is wrong."""

import pytest
from pydantic import ValidationError

from alerting.alert import MAX_LABELS
from alerting.severity import Severity

from .helpers import incoming


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"labels": {}}, "labels"),  # an alert needs at least one label
        ({"labels": {"bad-name": "x"}}, "labels"),  # Prometheus label-name rule
        ({"labels": {f"l{i}": "x" for i in range(MAX_LABELS + 1)}}, "labels"),  # too many
        ({"labels": {"a": "x" * 2000}}, "labels"),  # oversize value
        ({"severity": "urgent"}, "severity"),  # unknown severity word
        ({"status": "exploded"}, "status"),  # unknown status
        ({"starts_at": "yesterday"}, "starts_at"),  # not a timestamp
        ({"unknown_field": 1}, "unknown_field"),  # extra keys are refused
    ],
)
def test_invalid_incoming_names_the_field(overrides: dict[str, object], field: str) -> None:
    with pytest.raises(ValidationError) as info:
        incoming(**overrides)
    assert info.value.errors()[0]["loc"][0] == field


def test_timestamps_are_normalised_to_utc() -> None:
    a = incoming(starts_at="2026-01-01T13:00:00+01:00", severity=Severity.INFO)
    assert a.starts_at is not None
    assert a.starts_at.utcoffset() is not None and a.starts_at.utcoffset().total_seconds() == 0
    assert a.starts_at.hour == 12
