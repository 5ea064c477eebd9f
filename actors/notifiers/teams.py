"""The Microsoft Teams channel: an Adaptive Card (version 1.4) posted to a Workflows
webhook, with **Acknowledge** and **Resolve** buttons that open signed links served by
Vigil (``serve_app/links_api.py``; they ask to confirm before they act).

    channels:
      teams-oncall:
        type: teams
        webhook_url_secret: teams-oncall-url   # a secret's name (vigil secret set ...)

The links are signed with the tenant's secret ``link-signing-secret`` and expire after
a day; a tenant without that secret gets cards with only the "Open in Vigil" link.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any, Literal
from urllib.parse import quote

import aiohttp
from pydantic import Field

from actors.notifiers.channel_config import ChannelConfigBase
from actors.notifiers.webhook import post
from alerting.delivery import Attempt
from alerting.message import Message, MessageKind
from alerting.signature import link_signature

LINK_SECRET = "link-signing-secret"
LINK_LIFETIME_SECONDS = 24 * 3600
CARD_VERSION = "1.4"
COLOR = {"critical": "attention", "high": "warning", "warning": "warning", "info": "accent"}
LinkMaker = Callable[[Message, str], str]


class TeamsConfig(ChannelConfigBase):
    """A Teams channel as written (the Workflows webhook URL by secret name)."""

    type: Literal["teams"] = "teams"
    webhook_url_secret: str = Field(min_length=1)


def action_link(public_url: str, secret: str, now: float | None = None, via: str = "") -> LinkMaker:
    """A maker of signed action links for one tenant's secret; ``via`` (the channel's
    name) is signed in, so a click is recorded as coming through that channel."""

    def make(message: Message, action: str) -> str:
        expires = int((now if now is not None else time.time()) + LINK_LIFETIME_SECONDS)
        sig = link_signature(secret, message.tenant, message.incident_id, action, expires, via)
        path = f"{quote(message.tenant)}/{quote(message.incident_id)}/{action}"
        through = f"&via={quote(via)}" if via else ""
        base = public_url.rstrip("/")
        return f"{base}/api/v1/links/{path}?expires={expires}{through}&sig={sig}"

    return make


def card(message: Message, links: LinkMaker | None = None) -> dict[str, Any]:
    """The Adaptive Card for a notice, with the actions that still make sense."""
    status = message.kind.value.capitalize()
    body: list[dict[str, Any]] = [
        {
            "type": "TextBlock",
            "text": f"{status}: {message.summary or message.incident_id}",
            "weight": "Bolder",
            "size": "Medium",
            "color": COLOR[message.severity.value],
            "wrap": True,
        },
        {
            "type": "FactSet",
            "facts": [
                {"title": "Severity", "value": message.severity.value},
                {"title": "Status", "value": status},
                {"title": "Incident", "value": message.incident_id},
                {"title": "Escalation level", "value": str(message.level)},
            ],
        },
    ]
    if message.labels:
        text = ", ".join(f"{k}={v}" for k, v in sorted(message.labels.items()))
        body.append({"type": "TextBlock", "text": text, "isSubtle": True, "wrap": True})
    wanted = {
        MessageKind.FIRING: ["acknowledge", "resolve"],
        MessageKind.ACKNOWLEDGED: ["resolve"],
        MessageKind.RESOLVED: [],
    }[message.kind]
    actions = (
        [
            {"type": "Action.OpenUrl", "title": a.capitalize(), "url": links(message, a)}
            for a in wanted
        ]
        if links is not None
        else []
    )
    if message.link:
        actions.append({"type": "Action.OpenUrl", "title": "Open in Vigil", "url": message.link})
    content: dict[str, Any] = {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": CARD_VERSION,
        "body": body,
    }
    if actions:
        content["actions"] = actions
    return {
        "type": "message",
        "attachments": [
            {"contentType": "application/vnd.microsoft.card.adaptive", "content": content}
        ],
    }


class TeamsSender:
    """Posts cards to one Teams Workflows webhook (its URL already decrypted)."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        config: TeamsConfig,
        url: str,
        links: LinkMaker | None = None,
    ) -> None:
        self.session = session
        self.config = config
        self._url = url
        self.links = links

    def __repr__(self) -> str:
        return "TeamsSender(<url hidden>)"

    async def __call__(self, message: Message) -> Attempt:
        body = json.dumps(card(message, self.links)).encode()
        seconds = self.config.timeout_seconds
        return await post(self.session, self._url, body, seconds)
