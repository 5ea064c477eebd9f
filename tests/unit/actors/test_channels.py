"""A tenant's channels section: each channel checked by its type, and every channel an
escalation policy names must exist."""

from __future__ import annotations

import pytest

from actors.notifiers.channels import check_channels, secret_names, tenant_channels
from actors.notifiers.slack import SlackConfig
from actors.notifiers.webhook import WebhookConfig
from cluster.config import parse_config
from cluster.errors import ConfigError

HEAD = "tenants:\n  - id: t\n"
CHANNELS = (
    "    channels:\n"
    "      slack-oncall: {type: slack, webhook_url_secret: slack-url}\n"
    "      ops: {type: webhook, url_secret: ops-url, hmac_secret: ops-hmac}\n"
    "      pd: {type: pagerduty, routing_key_secret: pd-key}\n"
)
ESCALATION = (
    "    escalation:\n"
    "      policies: {p: {levels: [{targets: [{channel: slack-oncall}], fallback: [ops, pd]}]}}\n"
)


def test_channels_are_read_by_type() -> None:
    config = parse_config(HEAD + CHANNELS + ESCALATION)
    check_channels(config)
    channels = tenant_channels(config.tenants[0])
    assert isinstance(channels["slack-oncall"], SlackConfig)
    assert isinstance(channels["ops"], WebhookConfig)
    assert [secret_names(c) for c in channels.values()] == [
        ["slack-url"],
        ["ops-url", "ops-hmac"],
        ["pd-key"],
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        # an escalation naming a channel that does not exist
        (HEAD + CHANNELS.replace("      pd:", "      pdx:") + ESCALATION, "channels lacks: pd"),
        # a person reached through a channel that does not exist
        (
            HEAD + CHANNELS + "    people:\n      ana: {channels: [ops, ana-sms]}\n",
            "people name channels that channels lacks: ana-sms",
        ),
        # a type Vigil does not know
        (HEAD + "    channels:\n      mail: {type: email}\n", r"channels\.mail: Input tag 'email'"),
        # a field the type does not have
        (
            HEAD + "    channels:\n      pd: {type: pagerduty, routing_key: inline-secret}\n",
            r"channels\.pd\.pagerduty\.routing_key: Extra inputs",
        ),
        # a template that would fail at 3 a.m.
        (
            HEAD
            + "    channels:\n      w: {type: webhook, url_secret: u, template: '{{ nope }}'}\n",
            "cannot render",
        ),
    ],
)
def test_a_wrong_channel_is_a_config_error_with_its_path(text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        check_channels(parse_config(text))


def test_people_are_reached_through_the_tenants_channels() -> None:
    config = parse_config(HEAD + CHANNELS + "    people:\n      ana: {channels: [pd, ops]}\n")
    check_channels(config)
    assert config.tenants[0].people["ana"].channels == ["pd", "ops"]
    assert config.tenants[0].contact_channels() == {"pd", "ops"}
    with pytest.raises(ConfigError, match=r"people\.ana\.channels"):
        parse_config(HEAD + "    people:\n      ana: {channels: []}\n")


def test_an_inline_secret_is_never_echoed_in_the_error() -> None:
    text = HEAD + "    channels:\n      pd: {type: pagerduty, routing_key: hunter2-key}\n"
    with pytest.raises(ConfigError) as info:
        check_channels(parse_config(text))
    assert "hunter2" not in str(info.value)
