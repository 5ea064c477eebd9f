"""The PagerDuty channel: Events API v2 ``trigger`` / ``acknowledge`` / ``resolve``,
with ``dedup_key`` = the incident id, so PagerDuty's incident follows Vigil's.

    channels:
      pd-primary:
        type: pagerduty
        routing_key_secret: pd-routing-key   # a secret's name (vigil secret set ...)
        url: https://events.pagerduty.com/v2/enqueue
        timeout: 10s

PagerDuty answers 202 when it took the event, 400 for an invalid one (not retried)
and 429 when it throttles (retried with backoff).
"""

from __future__ import annotations

import json
from typing import Any, Literal

import aiohttp
from pydantic import Field

from actors.notifiers.channel_config import ChannelConfigBase
from actors.notifiers.webhook import post
from alerting.delivery import Attempt
from alerting.message import Message, MessageKind
from alerting.severity import Severity

EVENTS_URL = "https://events.pagerduty.com/v2/enqueue"
ACTIONS = {
    MessageKind.FIRING: "trigger",
    MessageKind.ACKNOWLEDGED: "acknowledge",
    MessageKind.RESOLVED: "resolve",
}
SEVERITIES = {
    Severity.CRITICAL: "critical",
    Severity.HIGH: "error",
    Severity.WARNING: "warning",
    Severity.INFO: "info",
}
MAX_SUMMARY = 1024


class PagerDutyConfig(ChannelConfigBase):
    """A PagerDuty channel as written (the routing key by secret name)."""

    type: Literal["pagerduty"] = "pagerduty"
    routing_key_secret: str = Field(min_length=1)
    url: str = Field(default=EVENTS_URL, pattern="^https?://")


def event(message: Message, routing_key: str) -> dict[str, Any]:
    """The Events API v2 body for a notice."""
    body: dict[str, Any] = {
        "routing_key": routing_key,
        "event_action": ACTIONS[message.kind],
        "dedup_key": message.incident_id,
    }
    if message.kind is not MessageKind.FIRING:
        return body  # acknowledge and resolve need only the key
    labels = dict(message.labels)
    body["payload"] = {
        "summary": message.summary[:MAX_SUMMARY] or message.incident_id,
        "source": labels.get("instance") or labels.get("service") or f"vigil/{message.tenant}",
        "severity": SEVERITIES[message.severity],
        "timestamp": message.at.isoformat(),
        "component": labels.get("service"),
        "group": labels.get("team"),
        "class": labels.get("alertname"),
        "custom_details": {"labels": labels, "escalation_level": message.level},
    }
    body["payload"] = {k: v for k, v in body["payload"].items() if v is not None}
    body["client"] = "Vigil"
    if message.link:
        body["client_url"] = message.link
        body["links"] = [{"href": message.link, "text": "Incident in Vigil"}]
    return body


class PagerDutySender:
    """Sends notices to one PagerDuty service (its routing key already decrypted)."""

    def __init__(
        self, session: aiohttp.ClientSession, config: PagerDutyConfig, routing_key: str
    ) -> None:
        self.session = session
        self.config = config
        self._routing_key = routing_key

    def __repr__(self) -> str:
        return "PagerDutySender(<routing key hidden>)"

    async def __call__(self, message: Message) -> Attempt:
        body = json.dumps(event(message, self._routing_key)).encode()
        seconds = self.config.timeout_seconds
        return await post(self.session, self.config.url, body, seconds)
