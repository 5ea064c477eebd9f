"""Builders shared by the domain tests: a fixed clock and short-hand alerts."""

from datetime import UTC, datetime, timedelta
from typing import Any

from alerting.alert import IncomingAlert
from alerting.severity import Severity

T0 = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    """The instant ``seconds`` after T0."""
    return T0 + timedelta(seconds=seconds)


def incoming(**overrides: Any) -> IncomingAlert:
    """A firing ``HighLatency`` alert for service ``db``, with fields overridden."""
    fields: dict[str, Any] = {
        "labels": {"alertname": "HighLatency", "service": "db"},
        "annotations": {"summary": "p99 above 2s"},
        "severity": Severity.CRITICAL,
    }
    fields.update(overrides)
    return IncomingAlert(**fields)
