"""Alertmanager API v2 over real HTTP: alerts, silences, inhibition, groups, status.

Each endpoint's bad input (malformed, schema, semantic, oversize, unauthenticated,
wrong tenant) is refused with Alertmanager's status code and changes nothing.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests

from alerting.fingerprint import fingerprint
from tests.system import TENANTS, Vigil, unique_labels, wait_for

pytestmark = pytest.mark.integration


def v2(vigil: Vigil, path: str) -> str:
    return f"{vigil.url}/api/v2{path}"


def iso(dt: datetime) -> str:
    return dt.astimezone(UTC).isoformat().replace("+00:00", "Z")


def listed(
    vigil: Vigil, tenant: str, labels: dict[str, str], **params: Any
) -> list[dict[str, Any]]:
    r = vigil.session(tenant).get(
        v2(vigil, "/alerts"),
        params={"filter": f'alertname="{labels["alertname"]}"', **params},
        timeout=30,
    )
    assert r.status_code == 200, r.text
    body: list[dict[str, Any]] = r.json()
    return body


def post(vigil: Vigil, tenant: str, alerts: list[dict[str, Any]]) -> requests.Response:
    return vigil.session(tenant).post(v2(vigil, "/alerts"), json=alerts, timeout=30)


def silence_body(labels: dict[str, str], **overrides: Any) -> dict[str, Any]:
    now = datetime.now(UTC)
    body = {
        "matchers": [
            {"name": "alertname", "value": labels["alertname"], "isRegex": False, "isEqual": True}
        ],
        "startsAt": iso(now - timedelta(minutes=1)),
        "endsAt": iso(now + timedelta(hours=1)),
        "createdBy": "ana",
        "comment": "maintenance",
    }
    body.update(overrides)
    return body


def test_posted_alerts_are_listed_in_alertmanagers_shape(vigil: Vigil) -> None:
    labels = unique_labels(team="db", severity="critical")
    r = post(
        vigil,
        "acme",
        [{"labels": labels, "annotations": {"summary": "s"}, "generatorURL": "http://prom/g"}],
    )
    assert r.status_code == 200, r.text
    (alert,) = listed(vigil, "acme", labels)
    # The fingerprint is Prometheus's; receivers follow acme's routing (continue: true).
    assert alert["fingerprint"] == fingerprint(labels)
    assert [x["name"] for x in alert["receivers"]] == ["db-pager", "pager"]
    assert alert["status"] == {"inhibitedBy": [], "silencedBy": [], "state": "active"}
    assert alert["labels"] == labels and alert["annotations"] == {"summary": "s"}
    assert alert["generatorURL"] == "http://prom/g"
    # endsAt defaults to now + the tenant's global.resolve_timeout (10 min in its file).
    ends = datetime.fromisoformat(alert["endsAt"].replace("Z", "+00:00"))
    assert timedelta(minutes=9) < ends - datetime.now(UTC) <= timedelta(minutes=10)
    # A tenant without one gets Vigil's resolve timeout (5 min).
    other = unique_labels()
    assert post(vigil, "globex", [{"labels": other}]).status_code == 200
    (plain,) = listed(vigil, "globex", other)
    ends = datetime.fromisoformat(plain["endsAt"].replace("Z", "+00:00"))
    assert timedelta(minutes=4) < ends - datetime.now(UTC) <= timedelta(minutes=5)
    # The same alert is in the native API, as one alert.
    native = vigil.session("acme").get(
        vigil.api(), params={"filter": f'alertname="{labels["alertname"]}"'}, timeout=30
    )
    assert native.json()["total"] == 1


def test_ends_at_in_the_past_resolves_and_unlists(vigil: Vigil) -> None:
    labels = unique_labels()
    assert post(vigil, "acme", [{"labels": labels}]).status_code == 200
    assert len(listed(vigil, "acme", labels)) == 1
    past = iso(datetime.now(UTC) - timedelta(seconds=1))
    assert post(vigil, "acme", [{"labels": labels, "endsAt": past}]).status_code == 200
    assert listed(vigil, "acme", labels) == []
    native = vigil.session("acme").get(
        vigil.api(), params={"filter": f'alertname="{labels["alertname"]}"'}, timeout=30
    )
    assert native.json()["items"][0]["status"] == "resolved"


def test_silence_lifecycle_mutes_and_unmutes(vigil: Vigil) -> None:
    labels = unique_labels(service="api")
    assert post(vigil, "acme", [{"labels": labels}]).status_code == 200
    s = vigil.session("acme")
    created = s.post(v2(vigil, "/silences"), json=silence_body(labels), timeout=30)
    assert created.status_code == 200, created.text
    sid = created.json()["silenceID"]
    (alert,) = listed(vigil, "acme", labels)
    assert alert["status"] == {"inhibitedBy": [], "silencedBy": [sid], "state": "suppressed"}
    # silenced=false hides it, as amtool's default query does.
    assert listed(vigil, "acme", labels, silenced="false") == []
    got = s.get(v2(vigil, f"/silence/{sid}"), timeout=30).json()
    assert got["status"]["state"] == "active" and got["createdBy"] == "ana"
    assert got["matchers"][0] == {
        "name": "alertname",
        "value": labels["alertname"],
        "isRegex": False,
        "isEqual": True,
    }
    # Extending an active silence keeps its id ...
    extended = silence_body(
        labels, id=sid, startsAt=got["startsAt"], endsAt=iso(datetime.now(UTC) + timedelta(hours=2))
    )
    assert s.post(v2(vigil, "/silences"), json=extended, timeout=30).json()["silenceID"] == sid
    # ... changing its matchers replaces it: a new id, the old one expired.
    changed = silence_body(labels, id=sid)
    changed["matchers"].append(
        {"name": "service", "value": "a.*", "isRegex": True, "isEqual": True}
    )
    new_id = s.post(v2(vigil, "/silences"), json=changed, timeout=30).json()["silenceID"]
    assert new_id != sid
    assert s.get(v2(vigil, f"/silence/{sid}"), timeout=30).json()["status"]["state"] == "expired"
    assert listed(vigil, "acme", labels)[0]["status"]["silencedBy"] == [new_id]
    # The filter reads a silence's matchers as labels.
    found = s.get(
        v2(vigil, "/silences"), params={"filter": f'alertname="{labels["alertname"]}"'}, timeout=30
    ).json()
    assert {x["id"] for x in found} == {sid, new_id}
    # Expiring unmutes at once; expiring again changes nothing.
    assert s.delete(v2(vigil, f"/silence/{new_id}"), timeout=30).status_code == 200
    assert s.delete(v2(vigil, f"/silence/{new_id}"), timeout=30).status_code == 200
    assert listed(vigil, "acme", labels)[0]["status"]["state"] == "active"


def test_pending_silence_does_not_mute(vigil: Vigil) -> None:
    labels = unique_labels()
    post(vigil, "acme", [{"labels": labels}])
    later = datetime.now(UTC) + timedelta(hours=1)
    body = silence_body(labels, startsAt=iso(later), endsAt=iso(later + timedelta(hours=1)))
    sid = (
        vigil.session("acme")
        .post(v2(vigil, "/silences"), json=body, timeout=30)
        .json()["silenceID"]
    )
    assert (
        vigil.session("acme")
        .get(v2(vigil, f"/silence/{sid}"), timeout=30)
        .json()["status"]["state"]
        == "pending"
    )
    assert listed(vigil, "acme", labels)[0]["status"]["state"] == "active"


def test_inhibition_rules_of_the_tenant_apply(vigil: Vigil) -> None:
    name = unique_labels()["alertname"]
    source = {"alertname": name, "inhibitor": "yes", "cluster": "c1"}
    target = {"alertname": name, "inhibitable": "yes", "cluster": "c1"}
    other = {"alertname": name, "inhibitable": "yes", "cluster": "c2"}
    assert (
        post(vigil, "acme", [{"labels": source}, {"labels": target}, {"labels": other}]).status_code
        == 200
    )
    by_fp = {a["fingerprint"]: a for a in listed(vigil, "acme", {"alertname": name})}
    assert by_fp[fingerprint(target)]["status"] == {
        "inhibitedBy": [fingerprint(source)],
        "silencedBy": [],
        "state": "suppressed",
    }
    assert by_fp[fingerprint(other)]["status"]["state"] == "active"  # another cluster
    assert by_fp[fingerprint(source)]["status"]["state"] == "active"
    assert len(listed(vigil, "acme", {"alertname": name}, inhibited="false")) == 2


def test_inhibition_holds_when_the_filter_leaves_out_the_source(vigil: Vigil) -> None:
    source = {"alertname": unique_labels()["alertname"], "inhibitor": "yes", "cluster": "c9"}
    target = {"alertname": unique_labels()["alertname"], "inhibitable": "yes", "cluster": "c9"}
    assert post(vigil, "acme", [{"labels": source}, {"labels": target}]).status_code == 200
    # Filtering on the target's name only: the source is not listed, yet it still mutes.
    (alert,) = listed(vigil, "acme", target)
    assert alert["status"]["inhibitedBy"] == [fingerprint(source)]


def test_groups_follow_the_routing_tree(vigil: Vigil) -> None:
    name = unique_labels()["alertname"]
    alerts = [{"labels": {"alertname": name, "team": "db", "i": str(i)}} for i in range(3)]
    assert post(vigil, "acme", alerts).status_code == 200
    groups = (
        vigil.session("acme")
        .get(v2(vigil, "/alerts/groups"), params={"filter": f'alertname="{name}"'}, timeout=30)
        .json()
    )
    # One group per matching route, keyed by group_by (alertname), holding all three.
    assert [(g["receiver"]["name"], g["labels"], len(g["alerts"])) for g in groups] == [
        ("db-pager", {"alertname": name}, 3)
    ]
    assert listed(vigil, "acme", {"alertname": name}, receiver="db-.*")
    assert listed(vigil, "acme", {"alertname": name}, receiver="pager") == []  # anchored


def test_status_and_receivers(vigil: Vigil) -> None:
    status = vigil.session("acme").get(v2(vigil, "/status"), timeout=30).json()
    assert status["cluster"]["status"] == "disabled"
    assert "db-pager" in status["config"]["original"]
    assert set(status["versionInfo"]) >= {
        "version",
        "revision",
        "branch",
        "buildUser",
        "buildDate",
        "goVersion",
    }
    receivers = vigil.session("acme").get(v2(vigil, "/receivers"), timeout=30).json()
    assert receivers == [{"name": "default"}, {"name": "db-pager"}, {"name": "pager"}]
    # A tenant without routing has the one default receiver.
    assert vigil.session("globex").get(v2(vigil, "/receivers"), timeout=30).json() == [
        {"name": "default"}
    ]


def test_basic_auth_is_accepted_and_checked(vigil: Vigil) -> None:
    labels = unique_labels()
    assert (
        vigil.basic("acme")
        .post(v2(vigil, "/alerts"), json=[{"labels": labels}], timeout=30)
        .status_code
        == 200
    )
    assert len(listed(vigil, "acme", labels)) == 1
    # The right key under another tenant's name is refused.
    wrong = vigil.basic("acme", user="globex").get(v2(vigil, "/alerts"), timeout=30)
    assert wrong.status_code == 401 and "Bearer" in wrong.headers["WWW-Authenticate"]
    assert requests.get(v2(vigil, "/alerts"), auth=("acme", "nope"), timeout=30).status_code == 401
    assert requests.get(v2(vigil, "/alerts"), timeout=30).status_code == 401
    bad = requests.get(v2(vigil, "/alerts"), headers={"Authorization": "Basic !!!"}, timeout=30)
    assert bad.status_code == 401 and isinstance(bad.json(), str)  # Alertmanager's error shape


def test_tenants_do_not_see_each_others_alerts_or_silences(vigil: Vigil) -> None:
    labels = unique_labels()
    post(vigil, "acme", [{"labels": labels}])
    sid = (
        vigil.session("acme")
        .post(v2(vigil, "/silences"), json=silence_body(labels), timeout=30)
        .json()["silenceID"]
    )
    assert listed(vigil, "globex", labels) == []
    g = vigil.session("globex")
    assert g.get(v2(vigil, f"/silence/{sid}"), timeout=30).status_code == 404
    assert g.delete(v2(vigil, f"/silence/{sid}"), timeout=30).status_code == 404
    # globex cannot change acme's silence by naming its id either.
    assert (
        g.post(v2(vigil, "/silences"), json=silence_body(labels, id=sid), timeout=30).status_code
        == 404
    )
    state = (
        vigil.session("acme")
        .get(v2(vigil, f"/silence/{sid}"), timeout=30)
        .json()["status"]["state"]
    )
    assert state == "active"


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        # Not JSON at all.
        (b"{not json", 400, "not valid JSON"),
        # An object where Alertmanager wants an array.
        (b'{"labels": {"a": "b"}}', 400, "JSON array"),
        # Missing the required labels: a schema error, 422 as go-swagger answers.
        (b'[{"annotations": {}}]', 422, "labels"),
        # Labels present but empty.
        (b'[{"labels": {}}]', 400, "at least one label pair required"),
        # A label name Prometheus would refuse.
        (b'[{"labels": {"0bad": "x"}}]', 400, 'invalid name "0bad"'),
        # Ends before it starts.
        (
            b'[{"labels": {"a": "b"}, "startsAt": "2026-01-02T00:00:00Z",'
            b' "endsAt": "2026-01-01T00:00:00Z"}]',
            400,
            "start time must be before end time",
        ),
    ],
)
def test_bad_alert_posts(vigil: Vigil, body: bytes, status: int, message: str) -> None:
    r = vigil.session("acme").post(
        v2(vigil, "/alerts"), data=body, headers={"Content-Type": "application/json"}, timeout=30
    )
    assert r.status_code == status
    assert message in r.json()  # a JSON string, as Alertmanager answers


def test_one_bad_alert_stores_none_of_the_batch(vigil: Vigil) -> None:
    good = unique_labels()
    r = post(vigil, "acme", [{"labels": good}, {"labels": {"bad-name": "x"}}])
    assert r.status_code == 400 and "alert 1" in r.json()
    assert listed(vigil, "acme", good) == []


def test_oversize_post_is_refused(vigil: Vigil) -> None:
    big = [{"labels": unique_labels(), "annotations": {"a": "x" * 16000}} for _ in range(1100)]
    r = post(vigil, "acme", big)
    assert r.status_code == 413


@pytest.mark.parametrize(
    ("change", "status", "message"),
    [
        ({"matchers": []}, 400, "at least one matcher"),
        ({"matchers": [{"name": "a", "value": "(", "isRegex": True}]}, 400, "invalid regex"),
        (
            {"matchers": [{"name": "a", "value": ".*", "isRegex": True}]},
            400,
            "must not match the empty string",
        ),
        (
            {"endsAt": "2020-01-01T00:00:00Z", "startsAt": "2019-01-01T00:00:00Z"},
            400,
            "end time can't be in the past",
        ),
        ({"createdBy": ""}, 400, "creator information missing"),
        ({"id": "no-such-silence"}, 404, "silence not found"),
        ({"startsAt": "yesterday"}, 422, "startsAt"),
    ],
)
def test_bad_silences(vigil: Vigil, change: dict[str, Any], status: int, message: str) -> None:
    labels = unique_labels()
    s = vigil.session("acme")
    before = len(s.get(v2(vigil, "/silences"), timeout=30).json())
    r = s.post(v2(vigil, "/silences"), json=silence_body(labels, **change), timeout=30)
    assert r.status_code == status, r.text
    assert message in r.json()
    assert len(s.get(v2(vigil, "/silences"), timeout=30).json()) == before


def test_bad_filter_and_receiver_params(vigil: Vigil) -> None:
    s = vigil.session("acme")
    for params in ({"filter": "a=~'('"}, {"receiver": "("}):
        for path in ("/alerts", "/alerts/groups"):
            r = s.get(v2(vigil, path), params=params, timeout=30)
            assert r.status_code == 400 and isinstance(r.json(), str)
    assert s.get(v2(vigil, "/silences"), params={"filter": "{"}, timeout=30).status_code == 400
    assert s.get(v2(vigil, "/silence/nope"), timeout=30).status_code == 404


def test_expired_alert_is_not_listed_even_before_the_sweep(vigil: Vigil) -> None:
    labels = unique_labels()
    soon = iso(datetime.now(UTC) + timedelta(seconds=1))
    post(vigil, "acme", [{"labels": labels, "endsAt": soon}])
    wait_for(lambda: listed(vigil, "acme", labels) == [], timeout=5)


V2_ENDPOINTS = [
    ("GET", "/alerts"),
    ("POST", "/alerts"),
    ("GET", "/alerts/groups"),
    ("GET", "/silences"),
    ("POST", "/silences"),
    ("GET", "/silence/some-id"),
    ("DELETE", "/silence/some-id"),
    ("GET", "/status"),
    ("GET", "/receivers"),
]


@pytest.mark.parametrize(("method", "path"), V2_ENDPOINTS)
def test_every_endpoint_refuses_missing_or_wrong_credentials(
    vigil: Vigil, method: str, path: str
) -> None:
    for auth in (None, ("acme", "not-a-key"), ("globex", TENANTS["acme"])):
        r = requests.request(method, v2(vigil, path), auth=auth, json=[], timeout=30)
        assert r.status_code == 401, (auth, r.text)
        assert isinstance(r.json(), str)


def test_oversize_silence_is_refused(vigil: Vigil) -> None:
    body = silence_body(unique_labels(), comment="x" * (2 * 1024 * 1024))
    r = vigil.session("acme").post(v2(vigil, "/silences"), json=body, timeout=30)
    assert r.status_code == 413


def test_openapi_describes_the_compatible_apis(vigil: Vigil) -> None:
    spec = requests.get(f"{vigil.url}/openapi.json", timeout=10).json()
    for path in [
        "/api/v2/alerts",
        "/api/v2/silences",
        "/v2/enqueue",
        "/api/v1/integrations/alertmanager",
    ]:
        assert "requestBody" in spec["paths"][path]["post"], path
    assert "/api/v2/silence/{silence_id}" in spec["paths"]
