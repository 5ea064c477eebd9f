"""Slack's buttons over real HTTP: a signed click acknowledges or resolves the incident
and replaces the message; a bad, stale, missing or replayed signature is 401 and
changes nothing."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlencode

import aiohttp
import pytest
import redis

from alerting.signature import slack_signature
from cluster.secrets import SecretStore, box_for
from serve_app.slack_api import PATH
from tests.integration.test_incidents_api import one_incident, post_v2
from tests.recording_server import RecordingServer
from tests.system import Vigil, unique_labels

pytestmark = pytest.mark.integration

SIGNING = "slack-signing-secret-for-tests"


@pytest.fixture
async def slack(vigil: Vigil) -> AsyncIterator[tuple[RecordingServer, str]]:
    client = redis.Redis.from_url(vigil.redis.url)
    SecretStore(client, "acme", box_for(vigil.settings)).set("slack-signing-secret", SIGNING)
    server = RecordingServer()
    url = await server.start()
    yield server, url
    await server.stop()


def click(action: str, value: str, response_url: str) -> bytes:
    payload = {
        "type": "block_actions",
        "user": {"id": "U1", "username": "ana"},
        "actions": [{"action_id": action, "value": value}],
        "response_url": response_url,
    }
    return urlencode({"payload": json.dumps(payload)}).encode()


def signed(body: bytes, secret: str = SIGNING, age: int = 0) -> dict[str, str]:
    timestamp = str(int(time.time()) - age)
    return {
        "X-Slack-Request-Timestamp": timestamp,
        "X-Slack-Signature": slack_signature(secret, timestamp, body),
        "Content-Type": "application/x-www-form-urlencoded",
    }


async def send(vigil: Vigil, body: bytes, headers: dict[str, str]) -> tuple[int, Any]:
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{vigil.url}{PATH}", data=body, headers=headers) as r,
    ):
        return r.status, await r.json(content_type=None)


def state(vigil: Vigil, incident_id: str) -> dict[str, Any]:
    r = vigil.session("acme").get(vigil.incidents_url(f"/{incident_id}"), timeout=30)
    assert r.status_code == 200
    found: dict[str, Any] = r.json()
    return found


async def test_a_signed_click_acts_and_replaces_the_message(
    vigil: Vigil, slack: tuple[RecordingServer, str]
) -> None:
    server, url = slack
    labels = unique_labels(severity="critical")
    post_v2(vigil, "acme", [{"labels": labels}])
    incident_id = one_incident(vigil, "acme", labels["alertname"], 1)["id"]
    body = click("vigil_acknowledge", f"acme/{incident_id}", f"{url}/respond")

    refusals = [
        {},  # no signature at all
        signed(body, secret="not-the-secret"),
        signed(body, age=400),  # older than five minutes
    ]
    for headers in refusals:
        status, _ = await send(vigil, body, headers)
        assert status == 401
    assert state(vigil, incident_id)["state"] == "triggered"  # nothing changed

    headers = signed(body)
    status, answer = await send(vigil, body, headers)
    assert status == 200, answer
    assert answer == {"ok": True, "incident": incident_id, "state": "acknowledged"}
    after = state(vigil, incident_id)
    assert (after["state"], after["acknowledged_by"]) == ("acknowledged", "slack:ana")
    (update,) = server.received
    replaced = json.loads(update.body)
    assert replaced["replace_original"] is True
    actions = [b for b in replaced["blocks"] if b["type"] == "actions"]
    ids = [e["action_id"] for b in actions for e in b["elements"]]
    assert "vigil_acknowledge" not in ids and "vigil_resolve" in ids

    status, _ = await send(vigil, body, headers)  # the very same request again
    assert status == 401

    resolve = click("vigil_resolve", f"acme/{incident_id}", f"{url}/respond")
    status, answer = await send(vigil, resolve, signed(resolve))
    assert status == 200 and answer["state"] == "resolved"


async def test_malformed_unknown_and_other_tenants_clicks_are_refused(
    vigil: Vigil, slack: tuple[RecordingServer, str]
) -> None:
    _, url = slack
    garbage = b"payload=%7Bnot-json"
    status, _ = await send(vigil, garbage, signed(garbage))
    assert status == 400
    # globex has no Slack signing secret: nothing it is sent can verify.
    other = click("vigil_acknowledge", "globex/inc-x", url)
    status, _ = await send(vigil, other, signed(other))
    assert status == 401
    escalate = click("vigil_escalate", "acme/inc-x", url)
    status, answer = await send(vigil, escalate, signed(escalate))
    assert status == 409 and "no escalation policies" in json.dumps(answer)  # acme has none
    unknown = click("vigil_dance", "acme/inc-x", url)
    status, _ = await send(vigil, unknown, signed(unknown))
    assert status == 400
    missing = click("vigil_acknowledge", "acme/inc-does-not-exist", url)
    status, _ = await send(vigil, missing, signed(missing))
    assert status == 404
