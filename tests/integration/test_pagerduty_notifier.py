"""The PagerDuty channel's events, sent to a PagerDuty-compatible receiver: Vigil's own
/v2/enqueue (checked against PagerDuty's official client in test_pagerduty_api), so a
trigger, acknowledge and resolve drive one alert through its life by dedup_key."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import aiohttp
import pytest

from actors.notifiers.pagerduty import PagerDutyConfig, PagerDutySender, event
from alerting.delivery import AttemptKind
from alerting.message import Message, MessageKind
from alerting.severity import Severity
from tests.integration.test_pagerduty_api import alerts_for
from tests.recording_server import RecordingServer
from tests.system import INTEGRATION_KEYS, Vigil

pytestmark = pytest.mark.integration


def notice(incident_id: str, kind: MessageKind) -> Message:
    return Message(
        "acme",
        incident_id,
        kind,
        Severity.HIGH,
        "checkout error rate 12%",
        datetime.now(UTC),
        labels={"alertname": "ErrorRate", "service": "checkout", "team": "payments"},
        link="http://vigil.example/incidents/x",
    )


async def test_trigger_acknowledge_resolve_follow_the_incident(vigil: Vigil) -> None:
    incident_id = f"inc-{uuid.uuid4().hex[:12]}"
    config = PagerDutyConfig(routing_key_secret="pd", url=f"{vigil.url}/v2/enqueue")
    async with aiohttp.ClientSession() as session:
        sender = PagerDutySender(session, config, INTEGRATION_KEYS["acme"])
        assert (await sender(notice(incident_id, MessageKind.FIRING))).kind is (
            AttemptKind.DELIVERED
        )
        (alert,) = alerts_for(vigil, incident_id)
        assert alert["labels"]["severity"] == "error"  # high is PagerDuty's "error"
        assert alert["labels"]["component"] == "checkout"
        assert alert["annotations"]["summary"] == "checkout error rate 12%"
        await sender(notice(incident_id, MessageKind.ACKNOWLEDGED))
        assert alerts_for(vigil, incident_id)[0]["status"] == "acknowledged"
        await sender(notice(incident_id, MessageKind.RESOLVED))
        assert alerts_for(vigil, incident_id)[0]["status"] == "resolved"
        # A wrong routing key is refused (and would not be retried: a 4xx).
        wrong = PagerDutySender(session, config, "not-a-key")
        refused = await wrong(notice(incident_id, MessageKind.FIRING))
        assert refused.kind is AttemptKind.HTTP_ERROR and not refused.retryable
    assert "not-a-key" not in repr(wrong)


async def test_the_event_carries_pagerdutys_fields() -> None:
    server = RecordingServer()
    url = await server.start()
    try:
        async with aiohttp.ClientSession() as session:
            sender = PagerDutySender(
                session, PagerDutyConfig(routing_key_secret="pd", url=url), "rk"
            )
            await sender(notice("inc-9", MessageKind.FIRING))
        (got,) = server.received
        assert got.headers["Content-Type"] == "application/json"
    finally:
        await server.stop()
    body = event(notice("inc-9", MessageKind.FIRING), "rk")
    assert body["event_action"] == "trigger" and body["dedup_key"] == "inc-9"
    assert body["payload"]["source"] == "checkout" and body["payload"]["group"] == "payments"
    assert body["links"] == [
        {"href": "http://vigil.example/incidents/x", "text": "Incident in Vigil"}
    ]
    assert event(notice("inc-9", MessageKind.RESOLVED), "rk") == {
        "routing_key": "rk",
        "event_action": "resolve",
        "dedup_key": "inc-9",
    }
