"""A web page cannot make a signed-in browser change anything, bodies must be JSON, and
``/api/v2/status`` masks secrets as Alertmanager does.

Before: a ``text/plain`` body got a 202, and the 401 advertised Basic auth, so a browser
that had cached a login let any page post silences or resolve incidents; and the raw
``alertmanager.yml``, receiver URLs included, went to every key holder.
"""

from __future__ import annotations

import json

import pytest

from tests.integration.test_incidents_api import one_incident
from tests.security.helpers import alert_total, silence, silence_ids, v2
from tests.system import MUTE_HOOK_PORT, TENANTS, Vigil, unique_labels

pytestmark = pytest.mark.integration

FORM_TYPES = ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data"]


def test_no_401_offers_basic_auth(vigil: Vigil) -> None:
    for path in ("/api/v1/critical-alerts", "/api/v2/alerts", "/api/v1/incidents"):
        r = vigil.session("acme").get(vigil.url + path, headers={"Authorization": ""})
        assert r.status_code == 401
        assert r.headers["WWW-Authenticate"] == 'Bearer realm="vigil"'  # never "Basic"


def test_basic_auth_still_works_for_the_clients_that_send_it(vigil: Vigil) -> None:
    assert vigil.basic("acme").get(v2(vigil, "/alerts"), timeout=30).status_code == 200


@pytest.mark.parametrize("content_type", FORM_TYPES)
def test_a_form_body_is_415_and_stores_nothing(vigil: Vigil, content_type: str) -> None:
    labels = unique_labels()
    body = json.dumps({"labels": labels, "severity": "critical"})
    s = vigil.basic("acme")  # as a browser with a cached login would send it
    headers = {"Content-Type": content_type}
    r = s.post(vigil.api(), data=body, headers=headers, timeout=30)
    assert r.status_code == 415, r.text
    r = s.post(v2(vigil, "/alerts"), data=json.dumps([{"labels": labels}]), headers=headers)
    assert r.status_code == 415, r.text
    before = silence_ids(vigil, "acme")
    r = s.post(v2(vigil, "/silences"), data=json.dumps(silence([])), headers=headers)
    assert r.status_code == 415, r.text
    assert silence_ids(vigil, "acme") == before
    assert alert_total(vigil, "acme", labels["alertname"]) == 0


def test_a_bodiless_form_cannot_act_on_an_incident(vigil: Vigil) -> None:
    labels = unique_labels(severity="critical")
    s = vigil.session("acme")
    assert s.post(v2(vigil, "/alerts"), json=[{"labels": labels}], timeout=30).status_code == 200
    incident = one_incident(vigil, "acme", labels["alertname"], 1)
    url = vigil.incidents_url(f"/{incident['id']}/acknowledge")
    for content_type in FORM_TYPES:
        r = s.post(url, headers={"Content-Type": content_type}, timeout=30)
        assert r.status_code == 415, r.text
    after = s.get(vigil.incidents_url(f"/{incident['id']}"), timeout=30).json()
    assert after["state"] == "triggered"
    assert s.post(url, timeout=30).status_code == 200  # no body, no type: a real client


def test_status_masks_receiver_urls_and_credentials(vigil: Vigil) -> None:
    status = vigil.session("hooli").get(v2(vigil, "/status"), timeout=30)
    assert status.status_code == 200
    original = status.json()["config"]["original"]
    assert "muted-team" in original and "<secret>" in original
    assert str(MUTE_HOOK_PORT) not in original
    assert TENANTS["hooli"] not in original
