"""The Alertmanager webhook receiver over real HTTP (a real Alertmanager is in acceptance/)."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from alerting.fingerprint import fingerprint
from tests.system import Vigil, unique_labels

JSON = {"Content-Type": "application/json"}

pytestmark = pytest.mark.integration

PATH = "/api/v1/integrations/alertmanager"


def message(status: str, *alerts: dict[str, Any], version: str = "4") -> dict[str, Any]:
    return {
        "version": version,
        "groupKey": "{}:{}",
        "truncatedAlerts": 0,
        "status": status,
        "receiver": "vigil",
        "groupLabels": {},
        "commonLabels": {},
        "commonAnnotations": {},
        "externalURL": "http://am:9093",
        "alerts": list(alerts),
    }


def am_alert(labels: dict[str, str], status: str = "firing", **extra: Any) -> dict[str, Any]:
    """One alert as Alertmanager notifies it; ``extra`` overrides fields (labels too)."""
    return {
        "status": status,
        "labels": labels,
        "annotations": {"summary": "s"},
        "startsAt": "2026-11-26T10:00:00.123456789Z",
        "endsAt": "0001-01-01T00:00:00Z" if status == "firing" else "2026-11-26T10:05:00Z",
        "generatorURL": "http://prom/graph",
        "fingerprint": fingerprint(labels),
        **extra,
    }


def find(vigil: Vigil, labels: dict[str, str]) -> list[dict[str, Any]]:
    r = vigil.session("acme").get(
        vigil.api(), params={"filter": f'alertname="{labels["alertname"]}"'}, timeout=30
    )
    items: list[dict[str, Any]] = r.json()["items"]
    return items


def test_firing_then_resolved(vigil: Vigil) -> None:
    labels = unique_labels(severity="critical")
    s = vigil.session("acme")
    r = s.post(f"{vigil.url}{PATH}", json=message("firing", am_alert(labels)), timeout=30)
    assert r.status_code == 200 and r.json()["accepted"] == 1
    (alert,) = find(vigil, labels)
    assert alert["fingerprint"] == fingerprint(labels) and alert["labels"] == labels
    assert alert["status"] == "firing" and alert["source"] == "alertmanager"
    assert alert["starts_at"].startswith("2026-11-26T10:00:00.123")
    # A firing webhook alert outlives Alertmanager's 4 h repeat interval.
    assert alert["ends_at"] > "2026-11-27"
    s.post(f"{vigil.url}{PATH}", json=message("resolved", am_alert(labels, "resolved")), timeout=30)
    (alert,) = find(vigil, labels)
    assert alert["status"] == "resolved"


def test_basic_auth_as_alertmanager_http_config_sends_it(vigil: Vigil) -> None:
    labels = unique_labels()
    r = vigil.basic("acme").post(
        f"{vigil.url}{PATH}", json=message("firing", am_alert(labels)), timeout=30
    )
    assert r.status_code == 200 and len(find(vigil, labels)) == 1


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (message("firing", am_alert({"alertname": "x"}), version="3"), 422),  # only version 4
        (message("firing"), 422),  # no alerts
        (message("firing", {**am_alert({"alertname": "x"}), "labels": {}}), 422),  # empty labels
        (
            message(
                "firing",
                {**am_alert({"alertname": "x"}), "labels": {"bad-name": "x"}, "fingerprint": None},
            ),
            422,
        ),
        (message("firing", am_alert({"alertname": "x"}, fingerprint="0000000000000000")), 422),
    ],
)
def test_bad_payloads_change_nothing(vigil: Vigil, body: dict[str, Any], status: int) -> None:
    r = vigil.session("acme").post(f"{vigil.url}{PATH}", json=body, timeout=30)
    assert r.status_code == status, r.text
    assert r.json()["error"]


def test_refusals(vigil: Vigil) -> None:
    url = f"{vigil.url}{PATH}"
    body = message("firing", am_alert(unique_labels()))
    assert requests.post(url, json=body, timeout=30).status_code == 401
    assert requests.post(url, json=body, auth=("globex", "wrong"), timeout=30).status_code == 401
    assert (
        vigil.session("acme").post(url, data=b"nope", headers=JSON, timeout=30).status_code == 400
    )
    assert vigil.session("acme").post(url, data=b"nope", timeout=30).status_code == 415
    huge = message(
        "firing", *[am_alert(unique_labels(), annotations={"a": "x" * 16000}) for _ in range(1100)]
    )
    assert vigil.session("acme").post(url, json=huge, timeout=30).status_code == 413
