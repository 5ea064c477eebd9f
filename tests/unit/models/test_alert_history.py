"""Real alert history from JSON Lines: Alertmanager's alert and webhook formats, resends
merged, outcomes read where teams put them, bad lines refused with their line number;
then replayed through the correlation engine into examples an evaluation can trust."""

from __future__ import annotations

import json
import random
from collections.abc import Iterable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from alerting.fingerprint import fingerprint
from alerting.severity import Severity
from models.alert_history import read_alert_history, write_alert_history
from models.evaluation import by_time
from models.replay import replay_history
from models.simulate import TRAINING, simulate
from models.train import train

EXAMPLE = Path(__file__).resolve().parents[2] / "data" / "alert_history.jsonl"


def test_the_documented_example_reads_as_its_alert_changes() -> None:
    events = read_alert_history(EXAMPLE)
    seen = [(e.tenant, e.labels["alertname"], e.firing, e.outcome) for e in events]
    assert seen == [
        ("history", "Watchdog", True, None),  # an API alert: its endsAt is an expiry
        ("history", "DiskFull", True, 1),
        ("history", "CPUThrottling", True, 0),
        ("history", "CPUThrottling", False, 0),
        ("history", "DiskFull", False, 1),
        ("payments", "HighLatency", True, 1),  # three webhook payloads: one occurrence
        ("payments", "HighLatency", False, 1),
        ("history", "PodRestarting", True, 0),  # the outcome as a label, not kept as one
        ("history", "PodRestarting", False, 0),
    ]
    assert "outcome" not in events[-1].labels
    assert events[1].severity is Severity.CRITICAL
    assert events[6].at == datetime(2026, 11, 2, 9, 25, tzinfo=UTC)


@pytest.mark.parametrize(
    ("line", "says"),
    [
        ("not json", "not JSON"),
        ('{"startsAt": "2026-11-02T08:00:00Z"}', "needs its labels"),
        ('{"labels": {"alertname": "A"}}', "needs its startsAt"),
        ('{"labels": {"alertname": "A"}, "startsAt": "yesterday"}', "not a time"),
        ('{"labels": {"a": "b"}, "startsAt": "2026-11-02T08:00:00Z", "outcome": "meh"}', "outcome"),
        ('{"labels": {"a": "b"}, "startsAt": "2026-11-02T08:00:00Z", "status": "x"}', "status"),
        ('{"alerts": {"labels": {}}}', "must be a list"),
    ],
)
def test_a_bad_line_is_refused_with_its_number(tmp_path: Path, line: str, says: str) -> None:
    path = tmp_path / "alerts.jsonl"
    good = '{"labels": {"alertname": "Ok"}, "startsAt": "2026-11-02T07:00:00Z"}'
    path.write_text(good + "\n\n" + line + "\n")
    with pytest.raises(ValueError, match=says) as raised:
        read_alert_history(path)
    assert f"{path}:3" in str(raised.value)


def write_history(path: Path, incidents: int, seed: int) -> None:
    """Two tenants' alerts over days. Real problems lean critical, come more often as
    pairs of alerts and more often under "Outage" names; noise leans the other way.
    Each sign alone is weak, together they are strong. Some alerts say no outcome."""
    rng = random.Random(seed)
    start = datetime(2026, 10, 1, tzinfo=UTC)
    lines = []
    for n in range(incidents):
        at = start + timedelta(minutes=47 * n)
        real = rng.random() < 0.3
        tenant = "acme" if n % 2 else "globex"
        kind = "Outage" if rng.random() < (0.75 if real else 0.3) else "Blip"
        name = f"{kind}{rng.randrange(4)}"
        lasts = timedelta(minutes=rng.uniform(5, 40))
        outcome = None if rng.random() < 0.1 else ("actionable" if real else "noise")
        critical = rng.random() < (0.75 if real else 0.3)
        pair = rng.random() < (0.7 if real else 0.3)
        for k in range(2 if pair else 1):
            alert = {
                "labels": {"alertname": name, "service": f"s{n}", "k": str(k),
                           "severity": "critical" if critical else "warning"},
                "startsAt": (at + timedelta(seconds=20 * k)).isoformat(),
                "endsAt": (at + lasts).isoformat(),
            }  # fmt: skip
            if outcome:
                alert["outcome"] = outcome
            lines.append(json.dumps({"tenant": tenant, "alerts": [alert], "status": "resolved"}))
    path.write_text("\n".join(lines) + "\n")


def test_replayed_history_gives_examples_of_labelled_incidents_only(tmp_path: Path) -> None:
    path = tmp_path / "history.jsonl"
    write_history(path, 400, seed=1)
    events = read_alert_history(path)
    replayed = replay_history(events)
    examples = replayed.examples
    assert examples and {e.tenant for e in examples} == {"acme", "globex"}
    assert all(e.incident_id for e in examples)
    # Roughly the ninety per cent that state an outcome, a third of them actionable.
    assert 320 <= replayed.incidents <= 390
    assert 0.2 < replayed.real_incidents / replayed.incidents < 0.45
    train_side, test_side = by_time(examples, 0.25)
    assert not {e.incident_id for e in train_side} & {e.incident_id for e in test_side}
    trained = train(examples, rounds=40)
    assert trained.card["evaluation"]["test_incidents"] > 50
    assert trained.metrics["roc_auc"] > 0.75  # what separates them is learnable
    assert trained.card["evaluation"]["beats_baseline"]  # from several weak signs


def test_the_simulators_alerts_round_trip_through_the_history_format(tmp_path: Path) -> None:
    simulation = simulate(replace(TRAINING, days=1.0), seed=5, tenants=2)
    path = tmp_path / "simulated.jsonl"
    written = write_alert_history(path, simulation.alerts)
    assert written == sum(a.firing for a in simulation.alerts)
    events = read_alert_history(path)

    def changes(items: Iterable[Any]) -> list[tuple[datetime, str, str, bool, bool]]:
        return sorted((e.at, e.tenant, fingerprint(e.labels), e.firing, e.truth) for e in items)

    assert changes(events) == changes(simulation.alerts)
    assert replay_history(events).examples  # and trains like any real history


VIGIL_EXAMPLE = EXAMPLE.with_name("vigil_incidents.jsonl")


def test_vigil_incidents_read_as_their_members_with_the_incidents_outcome() -> None:
    events = read_alert_history(VIGIL_EXAMPLE)
    seen = [(e.labels["alertname"], e.firing, e.outcome) for e in events]
    assert seen == [
        ("PostgresDown", True, 1),  # acknowledged by a person: actionable
        ("UpstreamUnavailable", True, 1),
        ("PostgresDown", False, 1),  # a resolved member ends when it was last updated
        ("UpstreamUnavailable", False, 1),
        ("CPUThrottling", True, 0),  # resolved by itself, nobody touched it: noise
        ("CPUThrottling", False, 0),
        ("DiskFillingUp", True, 1),  # still open, but a person said so
    ]
    assert events[2].at == datetime(2026, 11, 2, 8, 40, 30, tzinfo=UTC)


def test_a_bad_incident_line_is_refused_with_its_number(tmp_path: Path) -> None:
    path = tmp_path / "incidents.jsonl"
    path.write_text('{"id": "i", "state": "resolved", "members": {"a": 1}}\n')
    with pytest.raises(ValueError, match=r"incidents.jsonl:1: .*'members' must be a list"):
        read_alert_history(path)
