"""The Slack channel: Block Kit messages that Slack's own model classes accept, with
the buttons that fit the incident's state, sent by incoming webhook or bot token, and
Slack's 200-with-ok-false refusals told apart from its rate limiting."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime

import aiohttp
import pytest
from pydantic import ValidationError
from slack_sdk.models.blocks import Block

from actors.notifiers.slack import SlackConfig, SlackSender, blocks, slack_message
from alerting.delivery import AttemptKind
from alerting.message import Message, MessageKind
from alerting.severity import Severity
from tests.recording_server import RecordingServer

FIRING = Message(
    "acme",
    "inc-7",
    MessageKind.FIRING,
    Severity.CRITICAL,
    "db-1 is down " + "x" * 200,
    datetime(2026, 11, 26, 12, 0, tzinfo=UTC),
    level=2,
    labels={f"label{n:02d}": str(n) for n in range(12)},
    link="https://vigil.example/incidents/inc-7",
)


@pytest.fixture
async def slack() -> AsyncIterator[tuple[RecordingServer, str]]:
    server = RecordingServer()
    url = await server.start()
    yield server, url
    await server.stop()


def buttons(message: Message) -> list[str]:
    actions = [b for b in blocks(message) if b["type"] == "actions"]
    return [e["action_id"] for b in actions for e in b["elements"]]


@pytest.mark.parametrize("kind", list(MessageKind))
def test_every_message_is_valid_block_kit(kind: MessageKind) -> None:
    for block in blocks(replace(FIRING, kind=kind)):
        Block.parse(block).validate_json()  # raises on any Block Kit violation


def test_the_buttons_fit_the_incidents_state() -> None:
    assert buttons(FIRING) == ["vigil_acknowledge", "vigil_resolve", "vigil_escalate", "vigil_open"]
    acked = replace(FIRING, kind=MessageKind.ACKNOWLEDGED)
    assert buttons(acked) == ["vigil_resolve", "vigil_escalate", "vigil_open"]
    assert buttons(replace(FIRING, kind=MessageKind.RESOLVED, link=None)) == []
    values = {
        e.get("value") for b in blocks(FIRING) if b["type"] == "actions" for e in b["elements"]
    }
    assert values == {"acme/inc-7", None}  # tenant and incident; the link button has a URL


def test_the_message_shows_severity_summary_level_and_labels() -> None:
    message = slack_message(FIRING)
    assert message["text"].startswith("[critical] Firing: db-1 is down")
    header, section, context, _ = message["blocks"]
    assert len(header["text"]["text"]) == 150  # cut to Slack's limit
    fields = [f["text"] for f in section["fields"]]
    assert fields[0] == "*Severity*\n:red_circle: critical"
    assert fields[2] == "*Incident*\n<https://vigil.example/incidents/inc-7|inc-7>"
    assert fields[3] == "*Escalation level*\n2"
    assert len(context["elements"]) == 10  # Slack allows ten


async def test_an_incoming_webhook_gets_the_message(slack: tuple[RecordingServer, str]) -> None:
    server, url = slack
    async with aiohttp.ClientSession() as session:
        sender = SlackSender(session, SlackConfig(webhook_url_secret="s"), f"{url}/services/T/B/x")
        attempt = await sender(FIRING)
    assert attempt.kind is AttemptKind.DELIVERED
    (got,) = server.received
    assert got.path == "/services/T/B/x"
    assert json.loads(got.body)["blocks"] == blocks(FIRING)


@pytest.mark.parametrize(
    ("answer", "kind", "retryable"),
    [
        ('json:{"ok": true, "ts": "1.2"}', AttemptKind.DELIVERED, False),
        ('json:{"ok": false, "error": "channel_not_found"}', AttemptKind.HTTP_ERROR, False),
        ('json:{"ok": false, "error": "ratelimited"}', AttemptKind.HTTP_ERROR, True),
        ("status:429:3", AttemptKind.HTTP_ERROR, True),
        ("status:503", AttemptKind.HTTP_ERROR, True),
    ],
)
async def test_a_bot_token_posts_with_chat_post_message(
    slack: tuple[RecordingServer, str], answer: str, kind: AttemptKind, retryable: bool
) -> None:
    server, url = slack
    server.plan(answer)
    config = SlackConfig(bot_token_secret="t", channel="#oncall", api_url=f"{url}/api")
    async with aiohttp.ClientSession() as session:
        sender = SlackSender(session, config, "xoxb-secret")
        attempt = await sender(FIRING)
    assert (attempt.kind, attempt.retryable) == (kind, retryable)
    (got,) = server.received
    assert got.path == "/api/chat.postMessage"
    assert got.headers["Authorization"] == "Bearer xoxb-secret"
    assert json.loads(got.body)["channel"] == "#oncall"
    assert "xoxb" not in repr(sender)


@pytest.mark.parametrize(
    ("written", "message"),
    [
        ({}, "exactly one of webhook_url_secret or bot_token_secret"),
        ({"webhook_url_secret": "a", "bot_token_secret": "b"}, "exactly one"),
        ({"bot_token_secret": "b"}, "needs the channel"),
        ({"webhook_url_secret": "a", "timeout": "5m"}, "between 0s and 2m"),
        ({"webhook_url_secret": "a", "colour": "red"}, "Extra inputs"),
    ],
)
def test_a_wrong_slack_channel_is_refused(written: dict[str, str], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        SlackConfig.model_validate(written)
