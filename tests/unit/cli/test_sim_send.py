"""Simulated traffic as requests to Vigil: paced by simulated time, batched, in
Alertmanager's v2 format with the simulated tenant as a label."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from alerting.severity import Severity
from cli.sim_send import paced, send_simulation, v2_alert
from models.simulate import TRAINING, SimAlert, simulate

T0 = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)


def sim(offset_s: float, firing: bool = True, name: str = "A") -> SimAlert:
    return SimAlert(
        T0 + timedelta(seconds=offset_s),
        "sim-0",
        {"alertname": name, "service": "api-1"},
        firing,
        Severity.HIGH,
        truth=False,
        cause="noise",
    )


def test_a_change_becomes_a_v2_alert_happening_now() -> None:
    now = T0 + timedelta(days=3)
    firing = v2_alert(sim(0), now)
    assert firing == {
        "labels": {
            "severity": "high",
            "alertname": "A",
            "service": "api-1",
            "sim_tenant": "sim-0",
        },
        "annotations": {"simulated_cause": "noise"},
        "startsAt": "2026-11-29T09:00:00Z",
    }
    assert v2_alert(sim(0, firing=False), now)["endsAt"] == "2026-11-29T09:00:00Z"


def test_changes_are_paced_by_simulated_time_and_batched_when_close() -> None:
    alerts = [sim(0), sim(1, name="B"), sim(600), sim(1200), sim(1201, name="C")]
    requests = list(paced(alerts, speed=600))  # 600 simulated seconds per second
    assert [(due, [a.labels["alertname"] for a in batch]) for due, batch in requests] == [
        (0.0, ["A", "B"]),
        (1.0, ["A"]),
        (2.0, ["A", "C"]),
    ]
    assert list(paced([], 600)) == []


def test_send_posts_every_change_in_order_and_counts_refusals() -> None:
    alerts = simulate(replace(TRAINING, days=0.2), seed=4, tenants=2).alerts
    got: list[tuple[str, list[dict[str, Any]]]] = []

    def post(url: str, key: str, body: Any) -> int:
        assert key == "k"
        got.append((url, body))
        return 200 if len(got) % 5 else 400

    done: list[int] = []
    sent = send_simulation(
        alerts, "http://vigil:8000/", "k", 1e9, lambda d, t: done.append(d), post
    )
    assert sent.alerts == len(alerts) == sum(len(body) for _, body in got)
    assert sent.requests == len(got) and sent.refused == len(got) // 5
    assert {url for url, _ in got} == {"http://vigil:8000/api/v2/alerts"}
    assert done[-1] == len(alerts)
    names = [a["labels"]["alertname"] for _, body in got for a in body]
    assert names == [a.labels["alertname"] for a in alerts]
