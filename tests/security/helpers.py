"""What every security probe needs: the APIs' URLs, and a way to see nothing changed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from tests.integration.test_alertmanager_api import iso, v2
from tests.system import Vigil

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
