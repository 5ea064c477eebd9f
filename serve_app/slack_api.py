"""Slack's interactive buttons: ``POST /api/v1/integrations/slack/actions``.

Slack posts a click as a form with a ``payload`` JSON field, signed with the Slack
app's signing secret (``X-Slack-Signature``, ``X-Slack-Request-Timestamp``). The
button's value names the tenant and incident; the request is checked with that
tenant's secret ``slack-signing-secret`` (``vigil secret set TENANT
slack-signing-secret``) before anything happens:

* a missing or wrong signature, a timestamp over five minutes off, or a request seen
  before (a replay) is **401** and changes nothing;
* Acknowledge and Resolve act on the incident (and its alerts) as the Slack user,
  Escalate notifies its next level now; then the message is replaced by one showing
  the new state: with ``chat.update`` when the tenant has a bot-token Slack channel,
  otherwise (or if Slack refuses) through the click's ``response_url``.
"""

from __future__ import annotations

import json
import time
from typing import Any
from urllib.parse import parse_qs

import aiohttp
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from actors.notifiers.channels import tenant_channels
from actors.notifiers.slack import SlackConfig, SlackSender, slack_message
from alerting.audit import AuditAction
from alerting.delivery import AttemptKind
from alerting.lifecycle import Action
from alerting.message import Message, message_of
from alerting.signature import verify_slack
from cluster import keys
from cluster.keys import check_tenant_id
from serve_app.problems import ApiError
from serve_app.wire import ingress_of

PATH = "/api/v1/integrations/slack/actions"
SIGNING_SECRET = "slack-signing-secret"
REPLAY_SECONDS = 600  # longer than the five minutes a timestamp is accepted
ACTIONS = {"vigil_acknowledge": Action.ACKNOWLEDGE, "vigil_resolve": Action.RESOLVE}

router = APIRouter(tags=["slack"])


def _unauthorized(message: str) -> ApiError:
    return ApiError(401, "unauthorized", message)


def _click(body: bytes) -> tuple[str, str, str, dict[str, Any]]:
    """(action_id, tenant, incident id, payload) from Slack's form (400 if malformed)."""
    try:
        form = parse_qs(body.decode(), strict_parsing=True)
        payload = json.loads(form["payload"][0])
        action = payload["actions"][0]
        tenant, incident_id = str(action["value"]).split("/", 1)
        return str(action["action_id"]), check_tenant_id(tenant), incident_id, payload
    except (ValueError, KeyError, IndexError, TypeError, UnicodeDecodeError):
        raise ApiError(
            400, "malformed_request", "expected Slack's form with a block_actions payload"
        ) from None


@router.post(PATH)
async def slack_action(request: Request) -> JSONResponse:
    """One button click from a Vigil message in Slack."""
    ingress = ingress_of(request)
    signature = request.headers.get("X-Slack-Signature")
    timestamp = request.headers.get("X-Slack-Request-Timestamp")
    if not signature or not timestamp:
        raise _unauthorized("Slack's signature headers are missing")
    body = await request.body()
    action_id, tenant, incident_id, payload = _click(body)
    secret = await ingress.tenant_secret(tenant, SIGNING_SECRET)
    if secret is None or not verify_slack(secret, signature, timestamp, body, int(time.time())):
        raise _unauthorized("the Slack signature does not verify, or it is too old")
    # A click is the tenant's request too: its tier's rate applies (before the replay
    # mark, so a click refused for the rate can be sent again).
    ingress.admit(tenant)
    fresh = await ingress.redis.set(
        keys.slack_seen(tenant, signature), "1", nx=True, ex=REPLAY_SECONDS
    )
    if not fresh:
        raise _unauthorized("this Slack request was already handled (a replay)")
    user = payload.get("user") or {}
    by = f"slack:{user.get('username') or user.get('name') or user.get('id') or 'unknown'}"
    target = f"incident {incident_id}"
    if action_id == "vigil_escalate":
        level = await ingress.escalator(tenant).escalate(incident_id, by)
        await ingress.audit(tenant, by, AuditAction.ESCALATE, target, {"level": str(level)})
    elif action_id not in ACTIONS:
        raise ApiError(400, "unknown_action", f"unknown action {action_id!r}")
    else:
        action = ACTIONS[action_id]
        await ingress.correlator(tenant).act(action, incident_id, by, "from Slack")
        await ingress.audit(tenant, by, AuditAction(action.value), target, {"via": "slack"})
    incident, _ = await ingress.correlator(tenant).get_incident(incident_id)
    message = message_of(incident, incident.updated_at)
    async with ingress.settings.outbound_policy.session() as session:
        if not await _update_with_bot(session, ingress, tenant, payload, message):
            response_url = payload.get("response_url")
            # Only Slack's own hooks: a click is signed, but by whoever holds the
            # tenant's signing secret, and must not make Vigil post anywhere else.
            prefixes = ingress.settings.slack_response_prefixes
            if isinstance(response_url, str) and response_url.startswith(prefixes):
                update = {"replace_original": True, **slack_message(message)}
                await _post_update(session, response_url, update)
    return JSONResponse({"ok": True, "incident": incident_id, "state": incident.state.value})


async def _update_with_bot(
    session: aiohttp.ClientSession,
    ingress: Any,
    tenant: str,
    payload: dict[str, Any],
    message: Message,
) -> bool:
    """Replace the clicked message with ``chat.update`` if the tenant has a bot-token
    Slack channel (the one configured for the clicked channel, else the first); False
    if it has none, or Slack refused (then ``response_url`` is used)."""
    container = payload.get("container") or {}
    channel_id = container.get("channel_id") or (payload.get("channel") or {}).get("id")
    ts = container.get("message_ts") or (payload.get("message") or {}).get("ts")
    if not isinstance(channel_id, str) or not isinstance(ts, str):
        return False
    config = ingress.config.tenant(tenant)
    bots = [
        c
        for c in (tenant_channels(config).values() if config is not None else ())
        if isinstance(c, SlackConfig) and c.bot_token_secret is not None
    ]
    if not bots:
        return False
    bot = next((c for c in bots if c.channel == channel_id), bots[0])
    token = await ingress.tenant_secret(tenant, bot.bot_token_secret)
    if token is None:
        return False
    attempt = await SlackSender(session, bot, token).update(channel_id, ts, message)
    return attempt.kind is AttemptKind.DELIVERED


async def _post_update(session: aiohttp.ClientSession, url: str, body: dict[str, Any]) -> None:
    """Replace the clicked message; the action stands even if Slack is unreachable."""
    timeout = aiohttp.ClientTimeout(total=5)
    try:
        async with session.post(url, json=body, timeout=timeout, allow_redirects=False):
            pass
    except (aiohttp.ClientError, OSError, TimeoutError):
        pass
