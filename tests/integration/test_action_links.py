"""Signed action links over real HTTP: a GET only asks to confirm, a POST acts; a
forged, expired, retargeted or unknown link is refused and changes nothing."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime
from typing import Any

import pytest
import redis
import requests

from actors.notifiers.teams import LINK_SECRET, action_link
from alerting.message import Message, MessageKind
from alerting.severity import Severity
from cluster.secrets import SecretStore, box_for
from tests.integration.test_incidents_api import one_incident, post_v2
from tests.system import Vigil, unique_labels

pytestmark = pytest.mark.integration

SECRET = "link-secret-for-tests"


def state(vigil: Vigil, incident_id: str) -> dict[str, Any]:
    r = vigil.session("acme").get(vigil.incidents_url(f"/{incident_id}"), timeout=30)
    assert r.status_code == 200
    found: dict[str, Any] = r.json()
    return found


def test_a_link_asks_first_then_acts_and_forgeries_are_refused(vigil: Vigil) -> None:
    client = redis.Redis.from_url(vigil.redis.url)
    SecretStore(client, "acme", box_for(vigil.settings)).set(LINK_SECRET, SECRET)
    labels = unique_labels()
    post_v2(vigil, "acme", [{"labels": labels}])
    incident_id = one_incident(vigil, "acme", labels["alertname"], 1)["id"]
    message = Message(
        "acme", incident_id, MessageKind.FIRING, Severity.HIGH, "x", datetime.now(UTC)
    )
    link = action_link(vigil.url, SECRET)(message, "acknowledge")

    page = requests.get(link, timeout=30)
    assert page.status_code == 200 and "<form method='post'>" in page.text
    assert state(vigil, incident_id)["state"] == "triggered"  # a GET never acts

    forged = re.sub(r"sig=[0-9a-f]+", "sig=" + "0" * 64, link)
    retargeted = link.replace(f"/{incident_id}/acknowledge", f"/{incident_id}/resolve")
    other_tenant = link.replace("/links/acme/", "/links/globex/")
    expired = action_link(vigil.url, SECRET, now=time.time() - 2 * 86400)(message, "acknowledge")
    for bad, status in [
        (forged, 401),
        (retargeted, 401),
        (other_tenant, 401),
        (expired, 410),
        (link.replace("/acknowledge?", "/dance?"), 404),
    ]:
        assert requests.post(bad, timeout=30).status_code == status, bad
        assert requests.get(bad, timeout=30).status_code == status, bad
    assert state(vigil, incident_id)["state"] == "triggered"  # nothing changed

    done = requests.post(link, timeout=30)
    assert done.status_code == 200 and "acknowledged" in done.text
    after = state(vigil, incident_id)
    assert (after["state"], after["acknowledged_by"]) == ("acknowledged", "link")
    # A link names the channel it was sent to, signed: the click is recorded as such,
    # and a link whose channel was changed is a forgery.
    resolve = action_link(vigil.url, SECRET, via="teams-oncall")(message, "resolve")
    assert "via=teams-oncall" in resolve
    moved = resolve.replace("via=teams-oncall", "via=someone-else")
    assert requests.post(moved, timeout=30).status_code == 401
    assert requests.post(resolve, timeout=30).status_code == 200
    after = state(vigil, incident_id)
    assert (after["state"], after["resolved_by"]) == ("resolved", "link via teams-oncall")
