"""Kill the correlator in the middle of a 5,000-alert burst: afterwards every alert belongs
to exactly one incident per route it matches, and the counters saw each alert once."""

from __future__ import annotations

import threading
import time
import uuid
from typing import Any

import pytest
import ray
import requests

from alerting.amconfig import parse_alertmanager_config
from alerting.fingerprint import fingerprint
from cluster.runtime import NAMESPACE, correlator_name
from tests.system import ACME_ROUTING, Vigil, wait_for

pytestmark = pytest.mark.integration

BURST = 5000
BATCH = 100


def burst_alerts(burst: str) -> list[dict[str, str]]:
    """5,000 label sets over 40 groups; some match the db route, some the pager route."""
    alerts = []
    for n in range(BURST):
        labels = {"alertname": f"Burst{n % 40}", "burst": burst, "n": str(n)}
        if n % 7 == 0:
            labels["team"] = "db"
        if n % 5 == 0:
            labels["severity"] = "critical"
        alerts.append(labels)
    return alerts


def noise(vigil: Vigil) -> dict[str, Any]:
    r = vigil.session("acme").get(f"{vigil.url}/api/v1/noise", timeout=30)
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def test_every_alert_is_in_one_incident_per_route_after_a_kill(vigil: Vigil) -> None:
    burst = uuid.uuid4().hex[:8]
    alerts = burst_alerts(burst)
    before = noise(vigil)
    session = vigil.session("acme")
    posted = threading.Event()

    def send() -> None:
        for i in range(0, BURST, BATCH):
            batch = [{"labels": labels} for labels in alerts[i : i + BATCH]]
            r = session.post(f"{vigil.url}/api/v2/alerts", json=batch, timeout=60)
            assert r.status_code == 200, r.text
            if i == 20 * BATCH:
                posted.set()
        posted.set()

    sender = threading.Thread(target=send)
    sender.start()
    posted.wait(120)
    ray.kill(ray.get_actor(correlator_name(0), namespace=NAMESPACE), no_restart=False)
    sender.join(300)
    assert not sender.is_alive()

    root = parse_alertmanager_config(ACME_ROUTING).root
    expected = {fingerprint(a): {r.path for r in root.match(a)} for a in alerts}
    total = sum(len(routes) for routes in expected.values())

    def memberships() -> dict[str, list[str]] | None:
        try:
            r = session.get(
                f"{vigil.url}/api/v1/incidents",
                params={"filter": f'burst="{burst}"', "limit": 1000},
                timeout=30,
            )
        except requests.RequestException:
            return None
        if r.status_code != 200:
            return None  # 503 while the correlator restarts
        found: dict[str, list[str]] = {}
        for item in r.json()["items"]:
            detail = session.get(f"{vigil.url}/api/v1/incidents/{item['id']}", timeout=30).json()
            for member in detail["members"]:
                found.setdefault(member["fingerprint"], []).append(detail["route"])
        return found if sum(map(len, found.values())) >= total else None

    found = wait_for(memberships, timeout=120, interval=1.0)
    for fp, routes in expected.items():
        assert sorted(found.get(fp, [])) == sorted(routes), fp
    time.sleep(1)  # let any late, doubled change show in the counters
    after = noise(vigil)
    assert after["alerts"] - before["alerts"] == BURST
    assert after["memberships"] - before["memberships"] == total
