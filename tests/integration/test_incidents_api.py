"""The incident API over real HTTP: grouping into incidents, actions, suppression, noise,
and every endpoint's bad input (unauthenticated, wrong tenant, malformed, oversize).

Incidents form asynchronously (the correlator reads the change stream), so tests
wait for them with ``wait_for``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests

from alerting.fingerprint import fingerprint
from tests.system import Vigil, said_by, unique_labels, wait_for

pytestmark = pytest.mark.integration


def post_v2(vigil: Vigil, tenant: str, alerts: list[dict[str, Any]]) -> None:
    r = vigil.session(tenant).post(f"{vigil.url}/api/v2/alerts", json=alerts, timeout=30)
    assert r.status_code == 200, r.text


def one_incident(vigil: Vigil, tenant: str, alertname: str, members: int) -> dict[str, Any]:
    """Wait until exactly one incident with ``members`` members exists; return it."""

    def ready() -> dict[str, Any] | None:
        found = vigil.incidents(tenant, alertname)
        if len(found) == 1 and len(found[0]["members"]) == members:
            return found[0]
        return None

    incident: dict[str, Any] = wait_for(ready)
    return incident


def test_alerts_of_one_group_become_one_incident_with_a_timeline(vigil: Vigil) -> None:
    a = unique_labels(host="a")
    b = {**a, "host": "b"}
    post_v2(vigil, "acme", [{"labels": a}, {"labels": b}])
    incident = one_incident(vigil, "acme", a["alertname"], 2)
    assert incident["state"] == "triggered"
    assert incident["group_key"] == f'{{}}:{{alertname="{a["alertname"]}"}}'
    assert {m["fingerprint"] for m in incident["members"]} == {fingerprint(a), fingerprint(b)}
    assert all(m["reason"] == "group_key" for m in incident["members"])
    events = [e["event"] for e in incident["timeline"]]
    assert events[0] == "created" and events.count("alert_joined") == 2


def test_continue_routes_put_an_alert_in_one_incident_per_route(vigil: Vigil) -> None:
    labels = unique_labels(team="db", severity="critical")
    post_v2(vigil, "acme", [{"labels": labels}])
    found = wait_for(lambda: len(vigil.incidents("acme", labels["alertname"])) == 2 or None)
    assert found
    incidents = vigil.incidents("acme", labels["alertname"])
    assert sorted(i["receiver"] for i in incidents) == ["db-pager", "pager"]


def test_acknowledge_and_resolve_an_incident_act_on_its_alerts(vigil: Vigil) -> None:
    labels = unique_labels()
    r = vigil.session("acme").post(vigil.api(), json={"labels": labels}, timeout=30)
    alert_id = r.json()["id"]
    incident = one_incident(vigil, "acme", labels["alertname"], 1)
    s = vigil.session("acme")
    url = vigil.incidents_url(f"/{incident['id']}")
    r = s.post(f"{url}/acknowledge", json={"by": "ana", "reason": "looking"}, timeout=30)
    assert r.status_code == 200, r.text
    assert r.json()["state"] == "acknowledged" and r.json()["acknowledged_by"] == said_by(
        "acme", "ana"
    )
    alert = wait_for(
        lambda: (
            (a := s.get(vigil.api(f"/{alert_id}"), timeout=30).json())["status"] == "acknowledged"
            and a
        )
    )
    assert alert["acknowledged_by"] == said_by("acme", "ana")
    assert s.post(f"{url}/acknowledge", timeout=30).status_code == 200  # idempotent
    r = s.post(f"{url}/resolve", json={"by": "ana"}, timeout=30)
    assert r.status_code == 200 and r.json()["state"] == "resolved"
    wait_for(lambda: s.get(vigil.api(f"/{alert_id}"), timeout=30).json()["status"] == "resolved")
    # A resolved incident cannot be acknowledged, and takes no new alerts.
    assert s.post(f"{url}/acknowledge", timeout=30).status_code == 409
    post_v2(vigil, "acme", [{"labels": {**labels, "host": "new"}}])
    wait_for(lambda: len(vigil.incidents("acme", labels["alertname"])) == 2)


def test_an_incident_resolves_when_all_its_alerts_do(vigil: Vigil) -> None:
    labels = unique_labels()
    post_v2(vigil, "acme", [{"labels": labels}])
    one_incident(vigil, "acme", labels["alertname"], 1)
    ended = (datetime.now(UTC) - timedelta(seconds=1)).isoformat()
    post_v2(vigil, "acme", [{"labels": labels, "endsAt": ended}])
    wait_for(lambda: vigil.incidents("acme", labels["alertname"])[0]["state"] == "resolved")


def test_inhibited_and_silenced_members_stay_visible_with_the_reason(vigil: Vigil) -> None:
    target = unique_labels(inhibitable="yes")
    target["cluster"] = target["alertname"]  # no other test's inhibitor shares this cluster
    source = {"alertname": target["alertname"], "inhibitor": "yes", "cluster": target["cluster"]}
    muted = {**target, "host": "silenced"}
    now = datetime.now(UTC)
    silence = {
        "matchers": [{"name": "host", "value": "silenced", "isRegex": False, "isEqual": True}],
        "startsAt": now.isoformat(),
        "endsAt": (now + timedelta(hours=1)).isoformat(),
        "createdBy": "ana",
        "comment": "test",
    }
    s = vigil.session("acme")
    r = s.post(f"{vigil.url}/api/v2/silences", json=silence, timeout=30)
    silence_id = r.json()["silenceID"]
    post_v2(vigil, "acme", [{"labels": target}, {"labels": source}, {"labels": muted}])
    incident = one_incident(vigil, "acme", target["alertname"], 3)

    def marks() -> dict[str, tuple[list[str], list[str]]]:
        (found,) = vigil.incidents("acme", target["alertname"])
        return {m["fingerprint"]: (m["inhibited_by"], m["silenced_by"]) for m in found["members"]}

    wait_for(lambda: marks()[fingerprint(target)][0] == [fingerprint(source)])
    assert marks()[fingerprint(muted)][1] == [silence_id]
    assert marks()[fingerprint(source)] == ([], [])
    assert incident["id"]


def test_noise_figures_count_what_the_tenant_sent(vigil: Vigil) -> None:
    s = vigil.session("globex")
    before = s.get(f"{vigil.url}/api/v1/noise", timeout=30).json()
    labels = unique_labels()
    post_v2(vigil, "globex", [{"labels": labels}])
    post_v2(vigil, "globex", [{"labels": labels}])  # a duplicate

    def grown() -> dict[str, Any] | None:
        now = s.get(f"{vigil.url}/api/v1/noise", timeout=30).json()
        return now if now["received"] >= before["received"] + 2 else None

    after = wait_for(grown)
    assert after["duplicates"] >= before["duplicates"] + 1
    assert after["alerts"] >= before["alerts"] + 1
    assert {"alerts_per_incident", "suppressed_by_silence", "flapping_held"} <= set(after)


def test_listing_filters_and_pages(vigil: Vigil) -> None:
    name = unique_labels()["alertname"]
    post_v2(vigil, "acme", [{"labels": {"alertname": name, "n": str(i)}} for i in range(3)])
    post_v2(vigil, "acme", [{"labels": {"alertname": name, "team": "db"}}])  # + db-pager
    wait_for(lambda: len(vigil.incidents("acme", name)) == 2)
    s = vigil.session("acme")
    params: dict[str, Any] = {"filter": f'alertname="{name}"', "limit": 1}
    first = s.get(vigil.incidents_url(), params=params, timeout=30).json()
    assert first["total"] == 2 and len(first["items"]) == 1 and first["next_cursor"]
    second = s.get(
        vigil.incidents_url(), params={**params, "cursor": first["next_cursor"]}, timeout=30
    ).json()
    assert second["items"][0]["id"] != first["items"][0]["id"] and second["next_cursor"] is None
    only_db = s.get(
        vigil.incidents_url(), params={**params, "receiver": "db-pager"}, timeout=30
    ).json()
    assert [i["receiver"] for i in only_db["items"]] == ["db-pager"]
    resolved = s.get(vigil.incidents_url(), params={**params, "state": "resolved"}, timeout=30)
    assert resolved.json()["total"] == 0


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"state": "sleeping"}, "state"),
        ({"severity": "apocalyptic"}, "severity"),
        ({"filter": "alertname=~("}, "filter"),
        ({"limit": 0}, "limit"),
        ({"cursor": "not-a-cursor"}, "cursor"),
    ],
)
def test_bad_listing_parameters_are_named(vigil: Vigil, params: dict[str, Any], field: str) -> None:
    r = vigil.session("acme").get(vigil.incidents_url(), params=params, timeout=30)
    assert r.status_code == 422
    assert r.json()["details"][0]["field"] == field


def test_incident_endpoints_refuse_bad_requests_and_change_nothing(vigil: Vigil) -> None:
    labels = unique_labels()
    post_v2(vigil, "acme", [{"labels": labels}])
    incident = one_incident(vigil, "acme", labels["alertname"], 1)
    url = vigil.incidents_url(f"/{incident['id']}")
    s = vigil.session("acme")
    # Unauthenticated: no key, a wrong key.
    assert requests.get(url, timeout=30).status_code == 401
    assert requests.get(url, auth=("acme", "wrong"), timeout=30).status_code == 401
    assert requests.get(vigil.incidents_url(), timeout=30).status_code == 401
    assert requests.post(f"{url}/acknowledge", timeout=30).status_code == 401
    assert requests.get(f"{vigil.url}/api/v1/noise", timeout=30).status_code == 401
    bad_key = requests.get(url, headers={"Authorization": "Bearer nope"}, timeout=30)
    assert bad_key.status_code == 401
    # Another tenant cannot see or act on it.
    g = vigil.session("globex")
    assert g.get(url, timeout=30).status_code == 404
    assert g.post(f"{url}/acknowledge", timeout=30).status_code == 404
    assert g.post(f"{url}/resolve", timeout=30).status_code == 404
    # Unknown ids, malformed and wrong-schema bodies, oversize bodies.
    assert s.get(vigil.incidents_url("/nope"), timeout=30).json()["error"] == "not_found"
    assert s.post(vigil.incidents_url("/nope/acknowledge"), timeout=30).status_code == 404
    malformed = s.post(
        f"{url}/acknowledge", data="{not json", headers={"Content-Type": "application/json"}
    )
    assert malformed.status_code == 400
    assert s.post(f"{url}/acknowledge", json={"who": "x"}, timeout=30).status_code == 422
    assert s.post(f"{url}/resolve", json={"by": "x" * 300}, timeout=30).status_code == 422
    huge = s.post(f"{url}/acknowledge", data=b"x" * (2 * 1024 * 1024), timeout=30)
    assert huge.status_code == 413
    # Nothing of that changed the incident.
    (after,) = vigil.incidents("acme", labels["alertname"])
    assert after["state"] == "triggered" and after["acknowledged_by"] is None
