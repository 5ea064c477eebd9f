"""PagerDuty Events API v2 and v1 over real HTTP: semantics and every refusal."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
import requests

from cluster.config import hash_api_key
from tests.system import INTEGRATION_KEYS, Vigil

pytestmark = pytest.mark.integration


def enqueue(vigil: Vigil, body: Any, raw: bytes | None = None) -> requests.Response:
    if raw is not None:
        return requests.post(
            f"{vigil.url}/v2/enqueue",
            data=raw,
            headers={"Content-Type": "application/json"},
            timeout=30,
        )
    return requests.post(f"{vigil.url}/v2/enqueue", json=body, timeout=30)


def trigger(key: str | None = None, tenant: str = "acme", **payload: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "routing_key": INTEGRATION_KEYS[tenant],
        "event_action": "trigger",
        "payload": {
            "summary": "disk full on db-1",
            "source": "db-1",
            "severity": "critical",
            **payload,
        },
    }
    if key is not None:
        body["dedup_key"] = key
    return body


def action(kind: str, key: str, tenant: str = "acme") -> dict[str, Any]:
    return {"routing_key": INTEGRATION_KEYS[tenant], "event_action": kind, "dedup_key": key}


def alerts_for(vigil: Vigil, key: str, tenant: str = "acme") -> list[dict[str, Any]]:
    r = vigil.session(tenant).get(vigil.api(), params={"filter": f'dedup_key="{key}"'}, timeout=30)
    assert r.status_code == 200
    items: list[dict[str, Any]] = r.json()["items"]
    return items


def test_trigger_acknowledge_resolve_follow_pagerduty(vigil: Vigil) -> None:
    key = f"disk-{uuid.uuid4().hex}"
    r = enqueue(
        vigil,
        trigger(
            key,
            component="postgres",
            group="prod",
            **{"class": "disk"},
            custom_details={"free": "0%"},
        ),
    )
    assert r.status_code == 202
    assert r.json() == {"status": "success", "message": "Event processed", "dedup_key": key}
    (alert,) = alerts_for(vigil, key)
    assert alert["labels"] == {
        "dedup_key": key,
        "source": "db-1",
        "severity": "critical",
        "component": "postgres",
        "group": "prod",
        "class": "disk",
    }
    assert alert["annotations"]["summary"] == "disk full on db-1"
    assert alert["annotations"]["custom_details"] == '{"free": "0%"}'
    assert alert["severity"] == "critical" and alert["source"] == "pagerduty"
    # A second trigger with the same key (a new severity and source) is the same alert.
    enqueue(vigil, trigger(key, source="db-1b", severity="warning", summary="still full"))
    (alert,) = alerts_for(vigil, key)
    assert alert["count"] == 2 and alert["severity"] == "warning"
    assert alert["annotations"]["summary"] == "still full"
    assert enqueue(vigil, action("acknowledge", key)).status_code == 202
    acknowledged = alerts_for(vigil, key)[0]
    assert acknowledged["status"] == "acknowledged"
    # Recorded as the integration key that sent it (configured without a label: its id).
    key_id = hash_api_key(INTEGRATION_KEYS["acme"])[:12]
    assert acknowledged["acknowledged_by"] == f"pagerduty:key {key_id}"
    assert enqueue(vigil, action("resolve", key)).status_code == 202
    assert alerts_for(vigil, key)[0]["status"] == "resolved"
    # Triggering again after the resolution opens a new alert under the same key.
    enqueue(vigil, trigger(key))
    statuses = sorted(a["status"] for a in alerts_for(vigil, key))
    assert statuses == ["firing", "resolved"]


def test_trigger_without_key_gets_one(vigil: Vigil) -> None:
    r = enqueue(vigil, trigger())
    key = r.json()["dedup_key"]
    assert r.status_code == 202 and len(key) == 32
    assert len(alerts_for(vigil, key)) == 1


def test_actions_for_unknown_keys_are_accepted_and_change_nothing(vigil: Vigil) -> None:
    key = f"nothing-{uuid.uuid4().hex}"
    for kind in ("acknowledge", "resolve"):
        r = enqueue(vigil, action(kind, key))
        assert r.status_code == 202 and r.json()["dedup_key"] == key
    assert alerts_for(vigil, key) == []


def test_routing_keys_are_per_tenant(vigil: Vigil) -> None:
    key = f"iso-{uuid.uuid4().hex}"
    enqueue(vigil, trigger(key, tenant="acme"))
    assert alerts_for(vigil, key, tenant="globex") == []
    # globex resolving the same dedup_key does not touch acme's alert.
    enqueue(vigil, action("resolve", key, tenant="globex"))
    assert alerts_for(vigil, key)[0]["status"] == "firing"
    # An API key is not a routing key.
    from tests.system import TENANTS

    r = enqueue(vigil, {**trigger(key), "routing_key": TENANTS["acme"]})
    assert r.status_code == 400 and r.json()["errors"] == ["Invalid routing key"]


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ({**trigger(), "routing_key": "0" * 32}, "Invalid routing key"),
        (
            {k: v for k, v in trigger().items() if k != "routing_key"},
            "'routing_key' is missing or blank",
        ),
        ({**trigger(), "event_action": "explode"}, "'event_action' is invalid"),
        ({k: v for k, v in trigger().items() if k != "payload"}, "'payload' is missing or blank"),
        (trigger(summary=""), "'payload.summary' is missing or blank"),
        (trigger(summary="x" * 1025), "'payload.summary' is too long (max 1024 characters)"),
        (trigger(source=None), "'payload.source' is missing or blank"),
        (trigger(severity="page"), "'payload.severity' is invalid"),
        (trigger(timestamp="yesterday"), "'payload.timestamp' is invalid"),
        (trigger("k" * 256), "'dedup_key' is too long (max 255 characters)"),
        ({**action("resolve", "x"), "dedup_key": None}, "'dedup_key' is missing or blank"),
        ([1, 2], "event must be a JSON object"),
    ],
)
def test_invalid_events_are_refused_with_pagerdutys_shape(
    vigil: Vigil, body: Any, error: str
) -> None:
    r = enqueue(vigil, body)
    assert r.status_code == 400
    answer = r.json()
    assert answer["status"] == "invalid event" and answer["message"] == "Event object is invalid"
    assert any(error in e for e in answer["errors"]), answer


def test_malformed_and_oversize_events(vigil: Vigil) -> None:
    r = enqueue(vigil, None, raw=b"{nope")
    assert r.status_code == 400 and "not valid JSON" in r.json()["errors"][0]
    big = trigger(custom_details={"blob": "x" * (600 * 1024)})
    assert enqueue(vigil, big).status_code == 413
    # Under 512 KB but a details blob too large to keep: refused, not truncated.
    large = trigger(custom_details={"blob": "x" * (100 * 1024)})
    assert "custom_details" in enqueue(vigil, large).json()["errors"][0]


def test_events_v1(vigil: Vigil) -> None:
    url = f"{vigil.url}/generic/2010-04-15/create_event.json"
    key = f"v1-{uuid.uuid4().hex}"
    body = {
        "service_key": INTEGRATION_KEYS["acme"],
        "event_type": "trigger",
        "incident_key": key,
        "description": "queue stuck",
        "details": {"depth": 1000},
    }
    r = requests.post(url, json=body, timeout=30)
    assert r.status_code == 200
    assert r.json() == {"status": "success", "message": "Event processed", "incident_key": key}
    (alert,) = alerts_for(vigil, key)
    assert alert["annotations"]["summary"] == "queue stuck" and alert["severity"] == "critical"
    ack = {
        "service_key": INTEGRATION_KEYS["acme"],
        "event_type": "acknowledge",
        "incident_key": key,
    }
    assert requests.post(url, json=ack, timeout=30).status_code == 200
    assert alerts_for(vigil, key)[0]["status"] == "acknowledged"
    resolve = {**ack, "event_type": "resolve"}
    assert requests.post(url, json=resolve, timeout=30).status_code == 200
    assert alerts_for(vigil, key)[0]["status"] == "resolved"
    bad = requests.post(url, json={**body, "description": ""}, timeout=30)
    assert bad.status_code == 400 and "'description' is missing or blank" in bad.json()["errors"]
    wrong = requests.post(url, json={**body, "service_key": "f" * 32}, timeout=30)
    assert wrong.status_code == 400 and wrong.json()["errors"] == ["Invalid service key"]


def test_a_dedup_key_label_names_the_alert_within_one_batch(vigil: Vigil) -> None:
    key = f"bulk-{uuid.uuid4().hex}"
    alerts = [
        {"labels": {"dedup_key": key, "source": "a"}},
        {"labels": {"dedup_key": key, "source": "b"}},  # other labels, same key
    ]
    r = vigil.session("acme").post(vigil.api("/bulk"), json={"alerts": alerts}, timeout=30)
    assert r.status_code == 202
    first, second = r.json()["results"]
    assert second["id"] == first["id"] and second["duplicate"]
    (alert,) = alerts_for(vigil, key)
    assert alert["count"] == 2 and alert["labels"]["source"] == "a"
