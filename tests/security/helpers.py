"""What every security probe needs: the APIs' URLs, and a way to see nothing changed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests

from cli import main as cli
from tests.integration.test_alertmanager_api import iso, v2
from tests.system import Vigil, unique_labels, wait_for

__all__ = ["v2"]  # the API's URLs, as the Alertmanager API tests build them


def silence(matchers: list[dict[str, Any]], comment: str = "probe") -> dict[str, Any]:
    """An Alertmanager v2 silence body, active for an hour."""
    now = datetime.now(UTC)
    return {
        "matchers": matchers,
        "startsAt": iso(now - timedelta(minutes=1)),
        "endsAt": iso(now + timedelta(hours=1)),
        "createdBy": "probe",
        "comment": comment,
    }


def regex_matcher(name: str, value: str) -> dict[str, Any]:
    return {"name": name, "value": value, "isRegex": True, "isEqual": True}


def silence_ids(vigil: Vigil, tenant: str) -> set[str]:
    r = vigil.session(tenant).get(v2(vigil, "/silences"), timeout=30)
    assert r.status_code == 200, r.text
    return {s["id"] for s in r.json()}


def alert_total(vigil: Vigil, tenant: str, alertname: str) -> int:
    r = vigil.session(tenant).get(
        vigil.api(), params={"filter": f'alertname="{alertname}"'}, timeout=30
    )
    assert r.status_code == 200, r.text
    total: int = r.json()["total"]
    return total


def make_key(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[str, str]:
    """Run a ``vigil tenant`` command that makes a key; (the key, its id) as printed."""
    assert cli.main(["tenant", *args]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    key_id = lines[-2].split(" key ", 1)[1].split()[0]
    return lines[-1], key_id


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def post_alert(vigil: Vigil, key: str) -> str:
    """A new alert sent with ``key``; its id."""
    body = {"labels": unique_labels()}
    r = requests.post(vigil.api(), json=body, headers=bearer(key), timeout=60)
    assert r.status_code == 202, r.text
    alert_id: str = r.json()["id"]
    return alert_id


def populate(vigil: Vigil, key: str, created_by: str = "probe") -> tuple[str, str]:
    """Give a tenant an alert, a silence and an incident; (the alert's id, the
    incident's URL)."""
    alert_id = post_alert(vigil, key)
    body = silence([{"name": "alertname", "value": "Never", "isRegex": False}])
    body["createdBy"] = created_by
    assert requests.post(v2(vigil, "/silences"), json=body, headers=bearer(key), timeout=30).ok
    incidents = f"{vigil.url}/api/v1/incidents"
    items = wait_for(
        lambda: requests.get(incidents, headers=bearer(key), timeout=30).json()["items"], 60
    )
    return alert_id, f"{incidents}/{items[0]['id']}"
