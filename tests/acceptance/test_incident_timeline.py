"""Incidents as a timeline, against the running system over HTTP.

Each test pushes alerts at fixed offsets from its start and expects the incidents to
look a certain way by a given offset. The offsets carry a tolerance window (the
correlator works asynchronously); these tests check behaviour, never speed.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from alerting.fingerprint import fingerprint
from tests.system import Vigil, unique_labels

pytestmark = pytest.mark.integration

TOLERANCE = 2.0  # seconds an expectation may lag its offset


class Timeline:
    """Offsets from the test's start: ``at(t)`` waits for t, ``by(t, check)`` polls until
    t + tolerance."""

    def __init__(self, vigil: Vigil, tenant: str) -> None:
        self.vigil = vigil
        self.tenant = tenant
        self.start = time.monotonic()

    def at(self, t: float) -> None:
        time.sleep(max(0.0, self.start + t - time.monotonic()))

    def fire(self, t: float, labels: dict[str, str]) -> None:
        self.at(t)
        self._post([{"labels": labels}])

    def resolve(self, t: float, labels: dict[str, str]) -> None:
        self.at(t)
        ended = (datetime.now(UTC) - timedelta(milliseconds=1)).isoformat()
        self._post([{"labels": labels, "endsAt": ended}])

    def _post(self, alerts: list[dict[str, Any]]) -> None:
        url = f"{self.vigil.url}/api/v2/alerts"
        r = self.vigil.session(self.tenant).post(url, json=alerts, timeout=30)
        assert r.status_code == 200, r.text

    def by(self, t: float, alertname: str, check: Any) -> list[dict[str, Any]]:
        """Poll the incidents of ``alertname`` until ``check`` holds; fail after t + tolerance."""
        deadline = self.start + t + TOLERANCE
        while True:
            incidents = self.vigil.incidents(self.tenant, alertname)
            if check(incidents):
                return incidents
            if time.monotonic() > deadline:
                pytest.fail(f"by t={t}s (+{TOLERANCE}s): unexpected incidents {incidents}")
            time.sleep(0.05)


def test_two_alerts_one_incident_then_resolved(vigil: Vigil) -> None:
    a = unique_labels(instance="a")
    b = {**a, "instance": "b"}
    tl = Timeline(vigil, "acme")
    tl.fire(0, a)
    tl.fire(0.5, b)
    (incident,) = tl.by(1, a["alertname"], lambda i: len(i) == 1 and len(i[0]["members"]) == 2)
    assert incident["state"] == "triggered"
    tl.resolve(2, a)
    tl.resolve(2, b)
    (incident,) = tl.by(2, a["alertname"], lambda i: i[0]["state"] == "resolved")
    events = [e["event"] for e in incident["timeline"]]
    # The model's score lands whenever the predictor answers, between the other steps.
    formed = [e for e in events if e != "risk_changed"]
    assert formed[:3] == ["created", "alert_joined", "alert_joined"]
    assert formed[-1] == "resolved"
    # Firing again after the resolution opens a new incident; the old one stays closed.
    tl.fire(3, a)
    incidents = tl.by(3, a["alertname"], lambda i: len(i) == 2)
    assert sorted(i["state"] for i in incidents) == ["resolved", "triggered"]


def test_a_dependent_services_alert_joins_by_topology(vigil: Vigil) -> None:
    name = unique_labels()["alertname"]
    db = {"alertname": name, "service": "topo-db"}
    api = {"alertname": f"{name}Api", "service": "topo-api"}
    tl = Timeline(vigil, "initech")
    tl.fire(0, db)
    tl.fire(0.3, api)
    (incident,) = tl.by(1, name, lambda i: len(i) == 1 and len(i[0]["members"]) == 2)
    joined = {m["fingerprint"]: m for m in incident["members"]}[fingerprint(api)]
    assert (joined["reason"], joined["detail"]) == ("topology", "topo-api -> topo-db")
    tl.resolve(1.5, db)
    tl.resolve(1.5, api)
    tl.by(1.5, name, lambda i: i[0]["state"] == "resolved")


def test_a_flapping_alert_is_held_firing_and_noted(vigil: Vigil) -> None:
    labels = unique_labels()
    name = labels["alertname"]
    tl = Timeline(vigil, "initech")
    for t in (0, 0.4):  # fire, resolve, fire, resolve: four transitions, over the limit
        tl.fire(t, labels)
        tl.resolve(t + 0.2, labels)

    def held(incidents: list[dict[str, Any]]) -> bool:
        open_ones = [i for i in incidents if i["state"] == "triggered"]
        return any(m["held_until"] and m["flapping"] for i in open_ones for m in i["members"])

    incidents = tl.by(0.6, name, held)
    (open_incident,) = [i for i in incidents if i["state"] == "triggered"]
    assert "resolution_held" in [e["event"] for e in open_incident["timeline"]]
    # The hold is 3s; staying resolved through it resolves the incident.
    tl.by(0.6 + 3, name, lambda i: all(x["state"] == "resolved" for x in i))


def test_group_wait_zero_notifies_the_group_at_once(vigil: Vigil) -> None:
    labels = unique_labels()
    tl = Timeline(vigil, "initech")
    tl.fire(0, labels)

    def notified(incidents: list[dict[str, Any]]) -> bool:
        return bool(incidents) and any(e["event"] == "notified" for e in incidents[0]["timeline"])

    (incident,) = tl.by(0.5, labels["alertname"], notified)
    assert incident["last_notified_at"] is not None
    tl.resolve(1, labels)
