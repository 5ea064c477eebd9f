"""The Teams channel: an Adaptive Card 1.4 with the facts, the labels and signed
action links that fit the incident's state, posted to a Workflows webhook."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlparse

import aiohttp
import pytest
from pydantic import ValidationError

from actors.notifiers.teams import TeamsConfig, TeamsSender, action_link, card
from alerting.delivery import AttemptKind
from alerting.message import Message, MessageKind
from alerting.severity import Severity
from alerting.signature import verify_link
from tests.recording_server import RecordingServer

FIRING = Message(
    "acme",
    "inc-3",
    MessageKind.FIRING,
    Severity.HIGH,
    "checkout latency",
    datetime(2026, 11, 26, 12, 0, tzinfo=UTC),
    labels={"service": "checkout"},
    link="https://vigil.example/incidents/inc-3",
)
LINKS = action_link("https://vigil.example/", "link-secret", now=1_790_000_000)


def content(message: Message) -> dict:  # type: ignore[type-arg]
    (attachment,) = card(message, LINKS)["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    return attachment["content"]  # type: ignore[no-any-return]


def test_a_card_is_adaptive_card_1_4_with_the_facts() -> None:
    body = content(FIRING)
    assert (body["type"], body["version"]) == ("AdaptiveCard", "1.4")
    title, facts, labels = body["body"]
    assert title["text"] == "Firing: checkout latency" and title["color"] == "warning"
    assert {f["title"]: f["value"] for f in facts["facts"]}["Incident"] == "inc-3"
    assert labels["text"] == "service=checkout"


def test_the_actions_are_signed_links_that_fit_the_state() -> None:
    titles = [a["title"] for a in content(FIRING)["actions"]]
    assert titles == ["Acknowledge", "Resolve", "Open in Vigil"]
    acked = content(replace(FIRING, kind=MessageKind.ACKNOWLEDGED))["actions"]
    assert [a["title"] for a in acked] == ["Resolve", "Open in Vigil"]
    resolved = content(replace(FIRING, kind=MessageKind.RESOLVED, link=None))
    assert "actions" not in resolved
    url = urlparse(content(FIRING)["actions"][0]["url"])
    assert url.path == "/api/v1/links/acme/inc-3/acknowledge"
    query = {k: v[0] for k, v in parse_qs(url.query).items()}
    expires = int(query["expires"])
    assert expires == 1_790_000_000 + 24 * 3600
    assert verify_link("link-secret", "acme", "inc-3", "acknowledge", expires, query["sig"])


def test_without_a_link_secret_a_card_has_no_action_links() -> None:
    (attachment,) = card(FIRING)["attachments"]
    assert [a["title"] for a in attachment["content"]["actions"]] == ["Open in Vigil"]


async def test_the_card_is_posted_to_the_workflows_webhook() -> None:
    server = RecordingServer()
    url = await server.start()
    try:
        async with aiohttp.ClientSession() as session:
            sender = TeamsSender(session, TeamsConfig(webhook_url_secret="t"), f"{url}/wf", LINKS)
            assert (await sender(FIRING)).kind is AttemptKind.DELIVERED
        (got,) = server.received
        assert json.loads(got.body) == card(FIRING, LINKS)
        assert "127.0.0.1" not in repr(sender)
    finally:
        await server.stop()


def test_a_wrong_teams_channel_is_refused() -> None:
    with pytest.raises(ValidationError, match="webhook_url_secret"):
        TeamsConfig.model_validate({})
    with pytest.raises(ValidationError, match="Extra inputs"):
        TeamsConfig.model_validate({"webhook_url_secret": "t", "webhook_url": "inline"})
