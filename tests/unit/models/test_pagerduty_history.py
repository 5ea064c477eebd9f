"""A PagerDuty incident CSV as alert history: columns found by header, urgency as
severity, outcomes from who acknowledged or resolved (or stated), bad rows refused
with their row number."""

from __future__ import annotations

from pathlib import Path

import pytest

from alerting.severity import Severity
from cli.ml import read_alert_file
from models.pagerduty_history import read_pagerduty_csv

EXAMPLE = Path(__file__).resolve().parents[2] / "data" / "pagerduty_incidents.csv"


def test_the_documented_example_reads_as_incidents_with_their_outcomes() -> None:
    events = read_alert_file(EXAMPLE)  # the CLI picks the CSV reader by suffix
    firing = [e for e in events if e.firing]
    assert [(e.labels["alertname"], e.severity, e.outcome) for e in firing] == [
        ("Disk almost full on db-1", Severity.CRITICAL, 1),  # acknowledged by a person
        ("CPU throttling on web-3", Severity.WARNING, 0),  # resolved by itself
        ("Checkout latency high", Severity.CRITICAL, 1),  # resolved by a person
        ("Pod api-7 restarting", Severity.WARNING, 0),  # resolved through the API
        ("Queue backlog growing", Severity.CRITICAL, None),  # still open: says nothing
    ]
    assert firing[0].labels == {
        "alertname": "Disk almost full on db-1",
        "pd_incident": "Q1ABCDEF",
        "service": "Database",
        "severity": "critical",
    }
    assert len(events) == 9  # four resolutions; the open one never resolves


def test_other_spellings_of_the_columns_and_a_stated_outcome(tmp_path: Path) -> None:
    path = tmp_path / "export.csv"
    path.write_text(
        "Incident Number,Description,Created At,Resolved At,Urgency,Outcome,Tenant\n"
        "7,Backup failed,2026-11-03 01:00:00,2026-11-03 02:00:00,low,actionable,acme\n"
    )
    (fired, resolved) = read_pagerduty_csv(path)
    assert fired.labels["alertname"] == "Backup failed" and fired.tenant == "acme"
    assert fired.outcome == 1 and not resolved.firing  # stated, though nobody acked


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("id,status\n1,resolved\n", "no created or title column"),
        ("title,created_on\nA,\n", "no creation time"),
        ("title,created_on\nA,someday\n", "not a time"),
        ("title,created_on,outcome\nA,2026-11-03T01:00:00Z,maybe\n", "outcome"),
    ],
)
def test_a_bad_file_is_refused_with_the_row(tmp_path: Path, text: str, says: str) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(text)
    with pytest.raises(ValueError, match=says) as raised:
        read_pagerduty_csv(path)
    if "column" not in says:
        assert f"{path}:2" in str(raised.value)
