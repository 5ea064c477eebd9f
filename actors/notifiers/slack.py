"""The Slack channel: a Block Kit message with severity, summary, labels, a link and
interactive **Acknowledge / Resolve / Escalate** buttons.

    channels:
      slack-oncall:
        type: slack
        webhook_url_secret: slack-oncall-url     # an incoming webhook, or
      slack-bot:
        type: slack
        bot_token_secret: slack-bot-token        # a bot token (chat.postMessage)
        channel: C0123ONCALL                     # the channel's id (or "#name")

The buttons' ``action_id`` is ``vigil_acknowledge`` / ``vigil_resolve`` /
``vigil_escalate`` and their ``value`` ``<tenant>/<incident id>``: Slack posts the click to
``POST /api/v1/integrations/slack/actions``, which checks Slack's signature, acts, and
then replaces the message: with ``chat.update`` when the tenant has a bot-token channel
(the one posting in that channel, else the first), otherwise through the click's
``response_url``.

Slack's Web API answers HTTP 200 with ``{"ok": false, "error": ...}`` when it refuses
a call; that is a refusal (not retried), except ``ratelimited`` (retried, as a 429).
"""

from __future__ import annotations

import json
from typing import Any, Literal

import aiohttp
from pydantic import Field, model_validator

from actors.notifiers.channel_config import ChannelConfigBase
from actors.notifiers.webhook import post
from alerting.delivery import Attempt, AttemptKind
from alerting.message import Message, MessageKind
from alerting.severity import Severity
from cluster.outbound import unreachable

API_URL = "https://slack.com/api"
EMOJI = {
    Severity.CRITICAL: ":red_circle:",
    Severity.HIGH: ":large_orange_circle:",
    Severity.WARNING: ":large_yellow_circle:",
    Severity.INFO: ":large_blue_circle:",
}
STATUS = {
    MessageKind.FIRING: "Firing",
    MessageKind.ACKNOWLEDGED: "Acknowledged",
    MessageKind.RESOLVED: "Resolved",
}
MAX_HEADER = 150  # Block Kit's limits
MAX_LABELS = 10
ACTIONS = {
    "vigil_acknowledge": "Acknowledge",
    "vigil_resolve": "Resolve",
    "vigil_escalate": "Escalate",
}


class SlackConfig(ChannelConfigBase):
    """A Slack channel as written: an incoming webhook or a bot token (by secret name)."""

    type: Literal["slack"] = "slack"
    webhook_url_secret: str | None = None
    bot_token_secret: str | None = None
    channel: str | None = None
    api_url: str = Field(default=API_URL, pattern="^https?://")

    @model_validator(mode="after")
    def _one_way(self) -> SlackConfig:
        if (self.webhook_url_secret is None) == (self.bot_token_secret is None):
            raise ValueError("give exactly one of webhook_url_secret or bot_token_secret")
        if self.bot_token_secret is not None and not self.channel:
            raise ValueError("a bot token needs the channel to post in")
        return self


def button_value(tenant: str, incident_id: str) -> str:
    """What a button carries back to Vigil: which tenant's incident (the request is
    checked with that tenant's signing secret before anything is done)."""
    return f"{tenant}/{incident_id}"


def _button(action_id: str, message: Message) -> dict[str, Any]:
    button: dict[str, Any] = {
        "type": "button",
        "text": {"type": "plain_text", "text": ACTIONS[action_id]},
        "action_id": action_id,
        "value": button_value(message.tenant, message.incident_id),
    }
    if action_id == "vigil_acknowledge":
        button["style"] = "primary"
    elif action_id == "vigil_escalate":
        button["style"] = "danger"
    return button


def mrkdwn_text(text: str) -> str:
    """Text shown as written in Slack's mrkdwn: ``&``, ``<`` and ``>`` escaped as Slack
    requires (so ``<!channel>`` or ``<https://evil|bank>`` in a label is only text)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def code_span(text: str) -> str:
    """``text`` in a mrkdwn code span that it cannot close: Slack has no escape for a
    backtick inside one, so each becomes U+02CB (the modifier letter grave accent),
    which looks alike."""
    return f"`{mrkdwn_text(text.replace('`', chr(0x2CB)))}`"


def blocks(message: Message) -> list[dict[str, Any]]:
    """The Block Kit blocks for a notice; the buttons that still make sense."""
    title = f"{STATUS[message.kind]}: {message.summary or message.incident_id}"
    incident = f"<{message.link}|{message.incident_id}>" if message.link else message.incident_id
    found: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": title[:MAX_HEADER]}},
        {
            "type": "section",
            "fields": [
                {
                    "type": "mrkdwn",
                    "text": f"*Severity*\n{EMOJI[message.severity]} {message.severity.value}",
                },
                {"type": "mrkdwn", "text": f"*Status*\n{STATUS[message.kind]}"},
                {"type": "mrkdwn", "text": f"*Incident*\n{incident}"},
                {"type": "mrkdwn", "text": f"*Escalation level*\n{message.level}"},
            ],
        },
    ]
    labels = sorted(message.labels.items())[:MAX_LABELS]
    if labels:
        found.append(
            {
                "type": "context",
                # Cut before escaping, so an entity (&lt;) is never cut in half.
                "elements": [
                    {"type": "mrkdwn", "text": code_span(f"{k}={v}"[:298])} for k, v in labels
                ],
            }
        )
    actions = {
        MessageKind.FIRING: ["vigil_acknowledge", "vigil_resolve", "vigil_escalate"],
        MessageKind.ACKNOWLEDGED: ["vigil_resolve", "vigil_escalate"],
        MessageKind.RESOLVED: [],
    }[message.kind]
    elements = [_button(a, message) for a in actions]
    if message.link:
        elements.append(
            {
                "type": "button",
                "text": {"type": "plain_text", "text": "Open in Vigil"},
                "action_id": "vigil_open",
                "url": message.link,
            }
        )
    if elements:
        found.append(
            {"type": "actions", "block_id": f"vigil:{message.incident_id}", "elements": elements}
        )
    return found


def slack_message(message: Message) -> dict[str, Any]:
    """The whole message: blocks, and a plain-text fallback for notifications."""
    # Slack reads the fallback as mrkdwn too: the summary is a tenant's annotation.
    text = mrkdwn_text(f"[{message.severity.value}] {STATUS[message.kind]}: {message.summary}")
    return {"text": text, "blocks": blocks(message)}


class SlackSender:
    """Posts notices to Slack (its webhook URL or bot token already decrypted)."""

    def __init__(self, session: aiohttp.ClientSession, config: SlackConfig, secret: str) -> None:
        self.session = session
        self.config = config
        self._secret = secret

    def __repr__(self) -> str:
        return "SlackSender(<secret hidden>)"

    async def __call__(self, message: Message) -> Attempt:
        body = slack_message(message)
        seconds = self.config.timeout_seconds
        if self.config.webhook_url_secret is not None:
            return await post(self.session, self._secret, json.dumps(body).encode(), seconds)
        return await self._web_api(
            "chat.postMessage", {**body, "channel": self.config.channel}, seconds
        )

    async def update(self, channel_id: str, ts: str, message: Message) -> Attempt:
        """Replace a message the bot posted (``chat.update``): a bot token only."""
        if self.config.bot_token_secret is None:
            return Attempt(AttemptKind.HTTP_ERROR, 400)  # webhooks cannot edit messages
        body = {**slack_message(message), "channel": channel_id, "ts": ts}
        return await self._web_api("chat.update", body, self.config.timeout_seconds)

    async def _web_api(self, method: str, body: dict[str, Any], seconds: float) -> Attempt:
        url = f"{self.config.api_url.rstrip('/')}/{method}"
        headers = {
            "Authorization": f"Bearer {self._secret}",
            "Content-Type": "application/json; charset=utf-8",
        }
        try:
            async with self.session.post(
                url,
                data=json.dumps(body).encode(),
                headers=headers,
                timeout=aiohttp.ClientTimeout(total=seconds),
                allow_redirects=False,
            ) as response:
                if response.status != 200:
                    return Attempt(
                        AttemptKind.HTTP_ERROR, response.status, response.headers.get("Retry-After")
                    )
                answer = await response.json(content_type=None)
        except TimeoutError:
            return Attempt(AttemptKind.TIMEOUT)
        except (aiohttp.ClientError, OSError, ValueError) as exc:
            return unreachable(exc)
        if answer.get("ok") is True:
            return Attempt(AttemptKind.DELIVERED, 200)
        if answer.get("error") == "ratelimited":
            return Attempt(AttemptKind.HTTP_ERROR, 429)
        return Attempt(AttemptKind.HTTP_ERROR, 400)  # invalid_auth, channel_not_found, ...
