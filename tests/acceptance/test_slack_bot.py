"""A Slack bot token end to end, against a fake Slack Web API that answers as Slack
does: the escalation posts the incident with ``chat.postMessage`` (Block Kit, checked
with slack_sdk's models), a signed click on Acknowledge acts on the incident, and the
message is then replaced with ``chat.update`` (same channel and ts), not through the
click's ``response_url``, which is used only when Slack refuses the update. (Tenant
hooli, receiver slack-bot, in tests/system.py.)"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from urllib.parse import urlencode

import pytest
import redis
from slack_sdk.models.blocks import Block

from cluster.secrets import SecretStore, box_for
from tests.acceptance.test_escalation_timeline import TENANT, wait_until
from tests.integration.test_incidents_api import one_incident, post_v2
from tests.integration.test_slack_actions import send, signed
from tests.recording_server import RecordingServer
from tests.system import SLACK_API, SLACK_BOT_CHANNEL, Vigil, unique_labels

pytestmark = pytest.mark.integration

SIGNING = "hooli-slack-signing-secret"
POSTED_TS = "1795740000.000100"


@pytest.fixture
async def slack_api(vigil: Vigil) -> AsyncIterator[tuple[RecordingServer, RecordingServer, str]]:
    with redis.Redis.from_url(vigil.redis.url) as client:
        store = SecretStore(client, TENANT, box_for(vigil.settings))
        store.set("slack-signing-secret", SIGNING)
        store.set("slack-bot-token", "xoxb-test-token")
    api, responses = RecordingServer(), RecordingServer()
    answer = {"ok": True, "channel": SLACK_BOT_CHANNEL, "ts": POSTED_TS}
    api.default = "json:" + json.dumps(answer)
    await api.start(SLACK_API.take())
    yield api, responses, await responses.start() + "/respond"
    await api.stop()
    await responses.stop()


def clicked(incident_id: str, response_url: str, action: str = "vigil_acknowledge") -> bytes:
    payload = {
        "type": "block_actions",
        "user": {"id": "U1", "username": "ana"},
        "container": {"type": "message", "channel_id": SLACK_BOT_CHANNEL, "message_ts": POSTED_TS},
        "actions": [{"action_id": action, "value": f"{TENANT}/{incident_id}"}],
        "response_url": response_url,
    }
    return urlencode({"payload": json.dumps(payload)}).encode()


async def test_a_bot_posts_and_a_click_updates_the_same_message(
    vigil: Vigil, slack_api: tuple[RecordingServer, RecordingServer, str]
) -> None:
    api, responses, response_url = slack_api
    labels = unique_labels(severity="critical", escalation_test="slack-bot")
    await asyncio.to_thread(post_v2, vigil, TENANT, [{"labels": labels}])
    incident = await asyncio.to_thread(one_incident, vigil, TENANT, labels["alertname"], 1)
    (posted,) = await wait_until(lambda: api.received, 10)
    assert posted.path == "/api/chat.postMessage"
    assert posted.headers["Authorization"] == "Bearer xoxb-test-token"
    body = json.loads(posted.body)
    assert body["channel"] == SLACK_BOT_CHANNEL
    assert all(Block.parse(b) is not None for b in body["blocks"])
    assert incident["id"] in posted.body.decode()

    click = clicked(incident["id"], response_url)
    status, answer = await send(vigil, click, signed(click, secret=SIGNING))
    assert status == 200, answer
    assert answer["state"] == "acknowledged"
    updated = [r for r in api.received if r.path == "/api/chat.update"]
    assert len(updated) == 1
    update = json.loads(updated[0].body)
    assert (update["channel"], update["ts"]) == (SLACK_BOT_CHANNEL, POSTED_TS)
    buttons = [
        e["action_id"] for b in update["blocks"] if b["type"] == "actions" for e in b["elements"]
    ]
    assert "vigil_acknowledge" not in buttons and "vigil_resolve" in buttons
    assert responses.received == []  # chat.update did it; response_url was not needed

    # Slack refuses the update (the message was deleted): response_url replaces it.
    api.plan_for("/api/chat.update", 'json:{"ok": false, "error": "message_not_found"}')
    resolve = clicked(incident["id"], response_url, "vigil_resolve")
    status, answer = await send(vigil, resolve, signed(resolve, secret=SIGNING))
    assert status == 200 and answer["state"] == "resolved", answer
    (replaced,) = responses.received
    assert json.loads(replaced.body)["replace_original"] is True
