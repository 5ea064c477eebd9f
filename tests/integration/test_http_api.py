"""Every endpoint of the native API over real HTTP, with each kind of bad input.

Bad input gets a clear 4xx naming what is wrong and changes nothing; an outage of
Redis gives 503, never a 202 for what was not stored.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import ray
import requests

from cluster.runtime import NAMESPACE, tenant_actor_name
from tests.system import Vigil, said_by, unique_labels, wait_for

JSON = {"Content-Type": "application/json"}

pytestmark = pytest.mark.integration


def post_alert(vigil: Vigil, tenant: str, **fields: object) -> requests.Response:
    body = {"labels": unique_labels(), **fields}
    return vigil.session(tenant).post(vigil.api(), json=body, timeout=30)


def count_named(vigil: Vigil, tenant: str, alertname: str) -> int:
    r = vigil.session(tenant).get(
        vigil.api(), params={"filter": f'alertname="{alertname}"'}, timeout=30
    )
    assert r.status_code == 200, r.text
    return int(r.json()["total"])


# -- health ------------------------------------------------------------------------------


def test_healthz_and_readyz(vigil: Vigil) -> None:
    assert requests.get(f"{vigil.url}/healthz", timeout=10).json() == {"status": "ok"}
    # Ready once every loop has beaten (at the session's start they may still be starting).
    ready = wait_for(
        lambda: (r := requests.get(f"{vigil.url}/readyz", timeout=10)).status_code == 200 and r,
        timeout=60,
    )
    body = ready.json()
    assert body["checks"]["redis"] == "ok" and body["checks"]["loops"] == "ok"
    loops = {loop["loop"]: loop for loop in body["loops"]}
    assert loops["correlator/acme"]["status"] == "ok"
    assert loops["escalator/hooli"]["status"] == "ok"
    assert loops["supervisor/vigil"]["status"] == "ok"
    assert "escalator/acme" not in loops  # acme has no escalation policies


def test_openapi_lists_the_native_api(vigil: Vigil) -> None:
    spec = requests.get(f"{vigil.url}/openapi.json", timeout=10).json()
    for path in ["/api/v1/critical-alerts", "/api/v1/critical-alerts/bulk", "/readyz"]:
        assert path in spec["paths"]
    # Bodies the handlers parse themselves are still described, field by field.
    body = spec["paths"]["/api/v1/critical-alerts"]["post"]["requestBody"]
    assert "labels" in body["content"]["application/json"]["schema"]["properties"]
    assert requests.get(f"{vigil.url}/docs", timeout=10).status_code == 200


# -- ingest --------------------------------------------------------------------------------


def test_post_returns_202_with_id_and_duplicate_flag(vigil: Vigil) -> None:
    labels = unique_labels(service="db")
    s = vigil.session("acme")
    first = s.post(vigil.api(), json={"labels": labels, "severity": "critical"}, timeout=30)
    assert first.status_code == 202, first.text
    body = first.json()
    assert set(body) == {"id", "fingerprint", "status", "duplicate", "occurrence"}
    assert body["status"] == "firing" and body["duplicate"] is False
    again = s.post(vigil.api(), json={"labels": labels, "severity": "critical"}, timeout=30)
    assert again.json()["duplicate"] is True and again.json()["id"] == body["id"]
    got = s.get(vigil.api(f"/{body['id']}"), timeout=30).json()
    assert got["count"] == 2 and got["labels"] == labels and got["severity"] == "critical"


@pytest.mark.parametrize(
    ("headers", "why"),
    [
        ({}, "no Authorization header"),
        ({"Authorization": "Bearer not-a-real-key"}, "unknown key"),
        ({"Authorization": "Basic YWNtZTprZXk="}, "wrong scheme for the native API"),
        ({"Authorization": "Bearer "}, "empty key"),
    ],
)
def test_unauthenticated_is_401_and_stores_nothing(
    vigil: Vigil, headers: dict[str, str], why: str
) -> None:
    labels = unique_labels()
    r = requests.post(vigil.api(), json={"labels": labels}, headers=headers, timeout=30)
    assert r.status_code == 401, why
    assert r.json()["error"] == "unauthenticated"
    assert "Bearer" in r.headers["WWW-Authenticate"]
    assert count_named(vigil, "acme", labels["alertname"]) == 0


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        (b"{not json", 400, None),  # malformed JSON
        (b"", 400, None),  # empty body
        (b"\xff\xfe", 400, None),  # not even text
        (b"[]", 422, "(body)"),  # JSON, but not an object
        (b'{"labels": {}}', 422, "labels"),  # no labels
        (b'{"labels": {"bad-name": "x"}}', 422, "labels"),  # invalid label name
        (b'{"labels": {"a": "b"}, "severity": "urgent"}', 422, "severity"),  # unknown severity
        (b'{"labels": {"a": "b"}, "starts_at": "soon"}', 422, "starts_at"),  # bad timestamp
        (b'{"labels": {"a": "b"}, "colour": "red"}', 422, "colour"),  # unknown field
        (b'{"labels": {"a": 1}}', 422, "labels.a"),  # label values are strings
    ],
)
def test_bad_body_is_refused_with_the_field(
    vigil: Vigil, body: bytes, status: int, field: str | None
) -> None:
    r = vigil.session("acme").post(
        vigil.api(), data=body, headers={"Content-Type": "application/json"}, timeout=30
    )
    assert r.status_code == status, r.text
    problem = r.json()
    assert problem["message"]
    if field is not None:
        assert problem["details"][0]["field"] == field


def test_oversize_body_is_413_before_parsing(vigil: Vigil) -> None:
    big = b'{"labels": {"a": "' + b"x" * (vigil.settings.max_body_bytes + 10) + b'"}}'
    r = vigil.session("acme").post(vigil.api(), data=big, timeout=30)
    assert r.status_code == 413 and r.json()["error"] == "body_too_large"


def test_bulk_body_over_its_own_limit_is_413(vigil: Vigil) -> None:
    # /bulk has a larger limit than the other endpoints, but a limit all the same.
    over = vigil.settings.max_bulk_body_bytes + 1
    body = b'{"alerts": [{"labels": {"a": "' + b"x" * over + b'"}}]}'
    r = vigil.session("acme").post(vigil.api("/bulk"), data=body, timeout=60)
    assert r.status_code == 413 and str(vigil.settings.max_bulk_body_bytes) in r.json()["message"]


def test_bulk_accepts_bodies_over_the_single_limit(vigil: Vigil) -> None:
    # 2 MiB is over the 1 MiB single-alert limit and well inside the bulk one.
    name = unique_labels()["alertname"]
    note = "y" * 8000
    alerts = [
        {"labels": {"alertname": name, "i": str(i)}, "annotations": {"note": note}}
        for i in range(260)
    ]
    r = vigil.session("globex").post(vigil.api("/bulk"), json={"alerts": alerts}, timeout=60)
    assert len(r.request.body or b"") > vigil.settings.max_body_bytes
    assert r.status_code == 202, r.text[:300]


def test_oversize_chunked_body_is_413(vigil: Vigil) -> None:
    # No Content-Length: the limit is enforced while the body streams in.
    def chunks() -> Iterator[bytes]:
        yield b'{"labels": {"a": "'
        for _ in range(40):
            yield b"x" * 65536
        yield b'"}}'

    r = vigil.session("acme").post(vigil.api(), data=chunks(), timeout=30)
    assert r.status_code == 413


# -- bulk ----------------------------------------------------------------------------------


def test_bulk_accepts_10000_alerts(vigil: Vigil) -> None:
    name = unique_labels()["alertname"]
    alerts = [{"labels": {"alertname": name, "i": str(i)}} for i in range(10_000)]
    r = vigil.session("globex").post(vigil.api("/bulk"), json={"alerts": alerts}, timeout=120)
    assert r.status_code == 202, r.text[:500]
    body = r.json()
    assert body["accepted"] == 10_000 and len(body["results"]) == 10_000
    assert len({x["id"] for x in body["results"]}) == 10_000
    assert count_named(vigil, "globex", name) == 10_000


def test_bulk_with_bad_items_names_each_and_stores_nothing(vigil: Vigil) -> None:
    name = unique_labels()["alertname"]
    alerts = [{"labels": {"alertname": name, "i": str(i)}} for i in range(10)]
    alerts[3] = {"labels": {"alertname": name, "bad-label": "x"}}
    alerts[7] = {"labels": {"alertname": name}, "severity": "nope"}
    r = vigil.session("acme").post(vigil.api("/bulk"), json={"alerts": alerts}, timeout=30)
    assert r.status_code == 422
    details = r.json()["details"]
    assert {d["index"] for d in details} == {3, 7}
    assert {d["field"] for d in details} == {"alerts[3].labels", "alerts[7].severity"}
    assert count_named(vigil, "acme", name) == 0


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"alerts": []}, 422),  # nothing to ingest
        ({"alert": [{"labels": {"a": "b"}}]}, 422),  # misspelt key
        ([{"labels": {"a": "b"}}], 422),  # a bare list, not the documented object
    ],
)
def test_bulk_shape_errors(vigil: Vigil, body: object, status: int) -> None:
    r = vigil.session("acme").post(vigil.api("/bulk"), json=body, timeout=30)
    assert r.status_code == status


def test_bulk_over_the_item_limit_is_refused(vigil: Vigil) -> None:
    name = unique_labels()["alertname"]
    n = vigil.settings.max_bulk_alerts + 1
    alerts = [{"labels": {"alertname": name, "i": str(i)}} for i in range(n)]
    r = vigil.session("acme").post(vigil.api("/bulk"), json={"alerts": alerts}, timeout=60)
    assert r.status_code == 422 and "at most" in r.json()["message"]
    assert count_named(vigil, "acme", name) == 0


# -- reading -------------------------------------------------------------------------------


def test_list_filters_and_pages(vigil: Vigil) -> None:
    name = unique_labels()["alertname"]
    alerts = [
        {"labels": {"alertname": name, "i": str(i), "team": "db" if i < 4 else "web"}}
        for i in range(7)
    ]
    s = vigil.session("acme")
    assert s.post(vigil.api("/bulk"), json={"alerts": alerts}, timeout=30).status_code == 202
    params = {"filter": [f'alertname="{name}"', 'team="db"'], "limit": 3}
    first = s.get(vigil.api(), params=params, timeout=30).json()
    assert first["total"] == 4 and len(first["items"]) == 3 and first["next_cursor"]
    second = s.get(
        vigil.api(), params={**params, "cursor": first["next_cursor"]}, timeout=30
    ).json()
    ids = [x["labels"]["i"] for x in first["items"] + second["items"]]
    assert sorted(ids) == ["0", "1", "2", "3"] and second["next_cursor"] is None


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"filter": 'alertname=~"("'}, "filter"),  # regex that does not compile
        ({"filter": "1abc=x"}, "filter"),  # not a matcher
        ({"status": "sleeping"}, "status"),  # unknown state
        ({"severity": "urgent"}, "severity"),  # unknown severity
        ({"limit": 0}, "limit"),  # out of range
        ({"limit": 5000}, "limit"),  # out of range
        ({"cursor": "garbage!"}, "cursor"),  # not a cursor we made
    ],
)
def test_list_bad_parameters(vigil: Vigil, params: dict[str, object], field: str) -> None:
    r = vigil.session("acme").get(vigil.api(), params=params, timeout=30)
    assert r.status_code == 422, r.text
    assert r.json()["details"][0]["field"] == field


def test_unknown_alert_is_404(vigil: Vigil) -> None:
    r = vigil.session("acme").get(vigil.api("/does-not-exist"), timeout=30)
    assert r.status_code == 404 and r.json()["error"] == "not_found"


# -- actions ---------------------------------------------------------------------------------


def test_acknowledge_escalate_resolve(vigil: Vigil) -> None:
    s = vigil.session("acme")
    alert_id = post_alert(vigil, "acme").json()["id"]
    acked = s.post(vigil.api(f"/{alert_id}/acknowledge"), json={"by": "ann"}, timeout=30)
    assert acked.status_code == 200 and acked.json()["status"] == "acknowledged"
    assert acked.json()["acknowledged_by"] == said_by("acme", "ann")
    # Without a body is fine too, and acknowledging twice changes nothing.
    assert s.post(vigil.api(f"/{alert_id}/acknowledge"), timeout=30).status_code == 200
    for level in range(1, vigil.settings.max_escalation_levels + 1):
        r = s.put(vigil.api(f"/{alert_id}/escalate"), json={"reason": "no answer"}, timeout=30)
        assert r.status_code == 200 and r.json()["escalation_level"] == level
    capped = s.put(vigil.api(f"/{alert_id}/escalate"), timeout=30)
    assert capped.status_code == 409 and "highest escalation level" in capped.json()["message"]
    resolved = s.post(vigil.api(f"/{alert_id}/resolve"), timeout=30)
    assert resolved.status_code == 200 and resolved.json()["status"] == "resolved"
    assert s.post(vigil.api(f"/{alert_id}/acknowledge"), timeout=30).status_code == 409


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", ""),
        ("POST", "/acknowledge"),
        ("POST", "/resolve"),
        ("PUT", "/escalate"),
    ],
)
def test_another_tenants_alert_is_404_and_unchanged(vigil: Vigil, method: str, path: str) -> None:
    alert_id = post_alert(vigil, "acme").json()["id"]
    r = vigil.session("globex").request(method, vigil.api(f"/{alert_id}{path}"), timeout=30)
    assert r.status_code == 404 and alert_id not in r.text
    mine = vigil.session("acme").get(vigil.api(f"/{alert_id}"), timeout=30).json()
    assert mine["status"] == "firing" and mine["escalation_level"] == 0


def test_another_tenants_alerts_are_not_listed(vigil: Vigil) -> None:
    name = unique_labels()["alertname"]
    vigil.session("acme").post(vigil.api(), json={"labels": {"alertname": name}}, timeout=30)
    assert count_named(vigil, "globex", name) == 0
    assert count_named(vigil, "acme", name) == 1


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (b"{oops", 400),  # malformed JSON
        (b'{"by": 5}', 422),  # wrong type
        (b'{"who": "ann"}', 422),  # unknown field
    ],
)
def test_action_bad_body(vigil: Vigil, body: bytes, status: int) -> None:
    alert_id = post_alert(vigil, "acme").json()["id"]
    r = vigil.session("acme").post(
        vigil.api(f"/{alert_id}/acknowledge"), data=body, headers=JSON, timeout=30
    )
    assert r.status_code == status
    assert (
        vigil.session("acme").get(vigil.api(f"/{alert_id}"), timeout=30).json()["status"]
        == "firing"
    )


@pytest.mark.parametrize("path", ["/acknowledge", "/resolve", "/escalate"])
def test_actions_need_authentication(vigil: Vigil, path: str) -> None:
    alert_id = post_alert(vigil, "acme").json()["id"]
    method = "PUT" if path == "/escalate" else "POST"
    r = requests.request(method, vigil.api(f"/{alert_id}{path}"), timeout=30)
    assert r.status_code == 401


# -- durability and outages -------------------------------------------------------------------


def test_alert_survives_actor_killed_right_after_202(vigil: Vigil) -> None:
    r = post_alert(vigil, "initech", severity="critical")
    assert r.status_code == 202
    handle = ray.get_actor(tenant_actor_name("initech"), namespace=NAMESPACE)
    ray.kill(handle, no_restart=True)
    got = wait_for(
        lambda: (
            (
                x := vigil.session("initech").get(vigil.api(f"/{r.json()['id']}"), timeout=30)
            ).status_code
            == 200
            and x
        ),
        timeout=30,
    )
    assert got.json()["severity"] == "critical"


def test_redis_down_is_503_and_nothing_is_stored(vigil: Vigil) -> None:
    labels = unique_labels()
    s = vigil.session("initech")
    vigil.redis.stop()
    try:
        r = s.post(vigil.api(), json={"labels": labels}, timeout=60)
        assert r.status_code == 503, r.text
        assert r.json()["error"] == "unavailable" and r.headers["Retry-After"] == "1"
        assert requests.get(f"{vigil.url}/readyz", timeout=30).status_code == 503
    finally:
        vigil.redis.start()
    wait_for(lambda: requests.get(f"{vigil.url}/readyz", timeout=30).status_code == 200)
    assert count_named(vigil, "initech", labels["alertname"]) == 0
