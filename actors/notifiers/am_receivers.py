"""Delivering group notifications to the integrations of an ``alertmanager.yml`` receiver.

A receiver's ``webhook_configs``, ``slack_configs``, ``msteams_configs`` and
``pagerduty_configs`` are told what Alertmanager would tell them, in its formats
(``alerting/am_templates.py``). Each integration is one target of the delivery
pipeline (retries with backoff, the notification log, steps on the incident's
timeline), so a notification is delivered once, even across escalator restarts.

A notification decided for ``send_resolved: true`` integrations goes to those; the
one decided for ``send_resolved: false`` to the others, without its resolved alerts
(and not at all when nothing in it fires), as Alertmanager's ``RetryStage`` does.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import aiohttp

from actors.notifiers.pipeline import Sender
from actors.notifiers.webhook import post
from alerting.am_templates import (
    AlertView,
    TemplateData,
    pagerduty_body,
    slack_body,
    sort_alerts,
    teams_body,
    template_data,
    truncate,
    webhook_body,
)
from alerting.correlation import Notification
from alerting.delivery import Attempt
from alerting.receivers import SUPPORTED_INTEGRATIONS, Receiver, send_resolved

PAGERDUTY_URL = "https://events.pagerduty.com/v2/enqueue"
ATTEMPT_SECONDS = 10.0
USER_AGENT = "Vigil (Alertmanager/0.25.0 compatible)"


class IntegrationUnusable(ValueError):
    """An integration whose destination cannot be read (a ``*_file`` that is missing)."""


@dataclass(frozen=True)
class Integration:
    """One integration of one receiver: ``webhook_configs[0]`` of ``team``."""

    receiver: str
    section: str
    index: int
    config: Mapping[str, Any]
    send_resolved: bool

    @property
    def name(self) -> str:
        return f"{self.receiver}/{self.section}[{self.index}]"

    @property
    def channel_type(self) -> str:
        """What kind of integration it is (``webhook``, ``slack``...): its metric label."""
        return self.section.removesuffix("_configs")


def integrations_of(receiver: Receiver) -> list[Integration]:
    """Every integration of a receiver that Vigil delivers to, in file order."""
    return [
        Integration(receiver.name, section, n, item, send_resolved(section, item))
        for section in SUPPORTED_INTEGRATIONS
        for n, item in enumerate(getattr(receiver, section))
    ]


@dataclass(frozen=True)
class GroupMessage:
    """One group notification for one integration, rendered."""

    tenant: str
    incident_id: str
    group_key: str
    reason: str
    at: float
    url: str
    body: bytes
    headers: Mapping[str, str]

    def key(self, channel: str) -> str:
        """The notification log's key: one delivery per flush and integration (under
        the incident, so it is forgotten with it)."""
        group = hashlib.sha256(self.group_key.encode()).hexdigest()[:16]
        return f"{self.tenant}/{self.incident_id}/group/{group}/{self.at}/{self.reason}/{channel}"


def alert_view(fingerprint: str, firing: bool, doc: Mapping[str, Any]) -> AlertView:
    """An alert as notified, from its stored document (the status is the flush's)."""
    ends = doc.get("ends_at") or doc.get("resolved_at")
    return AlertView(
        fingerprint=fingerprint,
        firing=firing,
        labels=doc.get("labels", {}),
        annotations=doc.get("annotations", {}),
        starts_at=datetime.fromisoformat(doc["starts_at"]),
        ends_at=None if firing or not ends else datetime.fromisoformat(ends),
        generator_url=doc.get("generator_url") or "",
    )


def _read(config: Mapping[str, Any], name: str, file_name: str) -> str | None:
    """A setting given inline or in a file (read at each send, as Alertmanager does)."""
    if config.get(name):
        return str(config[name])
    path = config.get(file_name)
    if path:
        try:
            return Path(str(path)).read_text().strip()
        except OSError as exc:
            raise IntegrationUnusable(f"{file_name} {path}: {exc.strerror}") from None
    return None


def _auth_headers(config: Mapping[str, Any]) -> dict[str, str]:
    """The ``http_config`` credentials Vigil applies: basic auth, bearer token,
    authorization."""
    http = config.get("http_config") or {}
    headers: dict[str, str] = {"User-Agent": USER_AGENT}
    basic = http.get("basic_auth")
    if basic:
        password = _read(basic, "password", "password_file") or ""
        token = base64.b64encode(f"{basic.get('username', '')}:{password}".encode()).decode()
        headers["Authorization"] = f"Basic {token}"
    bearer = _read(http, "bearer_token", "bearer_token_file")
    if bearer:
        headers["Authorization"] = f"Bearer {bearer}"
    authorization = http.get("authorization")
    if authorization:
        credentials = _read(authorization, "credentials", "credentials_file") or ""
        headers["Authorization"] = f"{authorization.get('type', 'Bearer')} {credentials}"
    return headers


def render(
    integration: Integration,
    data: TemplateData,
    group_key: str,
    truncated: int,
    global_settings: Mapping[str, Any],
) -> tuple[str, bytes]:
    """The URL and body of one integration's request (``IntegrationUnusable`` if the
    destination cannot be read)."""
    config = integration.config
    section = integration.section
    if section == "webhook_configs":
        url = _read(config, "url", "url_file")
        body = webhook_body(data, group_key, truncated)
    elif section == "slack_configs":
        url = _read(config, "api_url", "api_url_file") or _read(
            global_settings, "slack_api_url", "slack_api_url_file"
        )
        body = slack_body(data, config)
    elif section == "msteams_configs":
        url = _read(config, "webhook_url", "webhook_url_file")
        body = teams_body(data, config)
    else:
        key = _read(config, "routing_key", "routing_key_file")
        if key is None:
            raise IntegrationUnusable("only routing_key (Events API v2) is supported")
        url = str(config.get("url") or global_settings.get("pagerduty_url") or PAGERDUTY_URL)
        body = pagerduty_body(data, group_key, key, config)
    if not url:
        raise IntegrationUnusable("no URL")
    return url, body


def group_message(
    tenant: str,
    record: Notification,
    integration: Integration,
    docs: Mapping[str, Mapping[str, Any]],
    external_url: str,
    global_settings: Mapping[str, Any],
) -> GroupMessage | None:
    """The request one notification makes of one integration (``None``: nothing to
    send, as when a send_resolved: false integration is told only of resolutions)."""
    firing = list(record.firing)
    resolved = list(record.resolved) if integration.send_resolved else []
    if not firing and not integration.send_resolved:
        return None
    alert_ids = record.alert_ids
    views = [
        alert_view(fp, fp in firing, docs[alert_ids[fp]])
        for fp in [*firing, *resolved]
        if alert_ids.get(fp) in docs
    ]
    if not views:
        return None  # every document purged meanwhile: nothing left to tell
    max_alerts = int(integration.config.get("max_alerts") or 0)
    if integration.section != "webhook_configs":
        max_alerts = 0
    kept, left = truncate(sort_alerts(views), max_alerts)
    data = template_data(record.receiver, record.labels, kept, external_url)
    url, body = render(integration, data, record.group_key, left, global_settings)
    headers = _auth_headers(integration.config)
    return GroupMessage(
        tenant,
        record.incident_id,
        record.group_key,
        record.reason.value,
        record.at.timestamp(),
        url,
        body,
        headers,
    )


def group_sender(session: aiohttp.ClientSession) -> Sender:
    """A sender that posts a ``GroupMessage`` as rendered."""

    async def send(message: GroupMessage) -> Attempt:
        return await post(
            session, message.url, message.body, ATTEMPT_SECONDS, headers=dict(message.headers)
        )

    return send
