"""A tenant's ``channels:`` section, and the senders built from it.

    channels:
      slack-oncall: {type: slack, webhook_url_secret: slack-oncall-url}
      pd-primary:   {type: pagerduty, routing_key_secret: pd-routing-key}
      ops-webhook:  {type: webhook, url_secret: ops-url, hmac_secret: ops-hmac}

Each channel names its secrets; the values are stored encrypted (``vigil secret set``)
and decrypted only when a sender is built, in the process that sends.
"""

from __future__ import annotations

from typing import Annotated

import aiohttp
from pydantic import Field, TypeAdapter, ValidationError

from actors.notifiers.pagerduty import PagerDutyConfig, PagerDutySender
from actors.notifiers.pipeline import Sender
from actors.notifiers.slack import SlackConfig, SlackSender
from actors.notifiers.teams import LINK_SECRET, TeamsConfig, TeamsSender, action_link
from actors.notifiers.webhook import WebhookConfig, WebhookSender
from cluster.config import TenantConfig, VigilConfig
from cluster.errors import ConfigError
from cluster.secrets import SecretReader

ChannelConfig = Annotated[
    WebhookConfig | SlackConfig | TeamsConfig | PagerDutyConfig, Field(discriminator="type")
]
CHANNELS: TypeAdapter[dict[str, ChannelConfig]] = TypeAdapter(dict[str, ChannelConfig])


def tenant_channels(tenant: TenantConfig, where: str = "") -> dict[str, ChannelConfig]:
    """A tenant's channels, checked (``ConfigError`` with the path of what is wrong)."""
    try:
        channels = CHANNELS.validate_python(tenant.channels)
    except ValidationError as exc:
        problems = [
            f"{where}channels.{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()
        ]
        raise ConfigError("; ".join(problems)) from None
    missing = sorted(tenant.escalation.channels() - set(channels))
    if missing:
        raise ConfigError(
            f"{where}escalation names channels that channels lacks: {', '.join(missing)}"
        )
    missing = sorted(tenant.contact_channels() - set(channels))
    if missing:
        raise ConfigError(f"{where}people name channels that channels lacks: {', '.join(missing)}")
    return channels


def check_channels(config: VigilConfig) -> None:
    """Check every tenant's channels and the channels its escalation names."""
    for n, tenant in enumerate(config.tenants):
        tenant_channels(tenant, f"tenants.{n}.")


def secret_names(config: ChannelConfig) -> list[str]:
    """The secrets a channel needs."""
    if isinstance(config, WebhookConfig):
        return [config.url_secret] + ([config.hmac_secret] if config.hmac_secret else [])
    if isinstance(config, SlackConfig):
        return [config.webhook_url_secret or config.bot_token_secret or ""]
    if isinstance(config, TeamsConfig):
        return [config.webhook_url_secret]
    return [config.routing_key_secret]


def build_sender(
    session: aiohttp.ClientSession,
    config: ChannelConfig,
    secrets: SecretReader,
    public_url: str | None = None,
    name: str = "",
) -> Sender:
    """A sender for one channel, its secrets decrypted now (``SecretError`` names a
    missing or unreadable one). ``public_url`` is where Vigil's signed action links
    point (Teams cards); without it, or without the tenant's link secret, cards carry
    no action links. ``name`` is the channel's, signed into its links."""
    if isinstance(config, WebhookConfig):
        hmac_secret = secrets.get(config.hmac_secret) if config.hmac_secret else None
        return WebhookSender(session, config, secrets.get(config.url_secret), hmac_secret)
    if isinstance(config, SlackConfig):
        name = config.webhook_url_secret or config.bot_token_secret or ""
        return SlackSender(session, config, secrets.get(name))
    if isinstance(config, TeamsConfig):
        links = None
        if public_url is not None and LINK_SECRET in secrets.names():
            links = action_link(public_url, secrets.get(LINK_SECRET), via=name)
        return TeamsSender(session, config, secrets.get(config.webhook_url_secret), links)
    return PagerDutySender(session, config, secrets.get(config.routing_key_secret))
