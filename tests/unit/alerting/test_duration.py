"""Prometheus durations."""

from datetime import timedelta

import pytest

from alerting.duration import format_duration, parse_duration


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0", timedelta(0)),  # bare zero is allowed
        ("30s", timedelta(seconds=30)),
        ("1h30m", timedelta(minutes=90)),  # units combine, largest first
        ("1d", timedelta(days=1)),
        ("2w", timedelta(weeks=2)),
        ("1y", timedelta(days=365)),  # a Prometheus year is 365 days
        ("150ms", timedelta(milliseconds=150)),
    ],
)
def test_parse(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected
    assert parse_duration(format_duration(expected)) == expected  # round trip


@pytest.mark.parametrize("text", ["", "5", "1.5h", "30m1h", "5 m", "-1s", "1hh"])
def test_refused(text: str) -> None:
    with pytest.raises(ValueError, match="not a valid duration"):
        parse_duration(text)
