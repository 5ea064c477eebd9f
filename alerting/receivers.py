"""Receivers: the named destinations a route sends to, as ``alertmanager.yml`` writes them.

Vigil reads the ``webhook_configs``, ``slack_configs``, ``msteams_configs`` and
``pagerduty_configs`` sections of a receiver (notifying through them is the
notifiers' job). Alertmanager's other integrations (email, Opsgenie, ...) are
accepted so an existing file loads unchanged, and reported as not supported.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from alerting.errors import InvalidConfig

SUPPORTED_INTEGRATIONS = (
    "webhook_configs",
    "slack_configs",
    "msteams_configs",
    "pagerduty_configs",
)
OTHER_INTEGRATIONS = (
    "email_configs",
    "opsgenie_configs",
    "pushover_configs",
    "sns_configs",
    "telegram_configs",
    "victorops_configs",
    "wechat_configs",
    "webex_configs",
    "discord_configs",
)

# For each supported integration: the fields of which at least one must be set, and
# the global setting that may stand in for them.
_REQUIRED: dict[str, tuple[tuple[str, ...], str | None]] = {
    "webhook_configs": (("url", "url_file"), None),
    "slack_configs": (("api_url", "api_url_file"), "slack_api_url"),
    "msteams_configs": (("webhook_url", "webhook_url_file"), None),
    "pagerduty_configs": (
        ("routing_key", "routing_key_file", "service_key", "service_key_file"),
        None,
    ),
}

# Alertmanager's default for ``send_resolved``, per integration.
SEND_RESOLVED_DEFAULT = {
    "webhook_configs": True,
    "slack_configs": False,
    "msteams_configs": True,
    "pagerduty_configs": True,
}

Integration = dict[str, Any]


class Receiver(BaseModel):
    """One named receiver and its integration sections (each a list of settings)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1)
    webhook_configs: list[Integration] = Field(default_factory=list)
    slack_configs: list[Integration] = Field(default_factory=list)
    msteams_configs: list[Integration] = Field(default_factory=list)
    pagerduty_configs: list[Integration] = Field(default_factory=list)
    email_configs: list[Integration] = Field(default_factory=list)
    opsgenie_configs: list[Integration] = Field(default_factory=list)
    pushover_configs: list[Integration] = Field(default_factory=list)
    sns_configs: list[Integration] = Field(default_factory=list)
    telegram_configs: list[Integration] = Field(default_factory=list)
    victorops_configs: list[Integration] = Field(default_factory=list)
    wechat_configs: list[Integration] = Field(default_factory=list)
    webex_configs: list[Integration] = Field(default_factory=list)
    discord_configs: list[Integration] = Field(default_factory=list)

    @model_validator(mode="after")
    def _sections_are_mappings(self) -> Receiver:
        for section in (*SUPPORTED_INTEGRATIONS, *OTHER_INTEGRATIONS):
            for item in getattr(self, section):
                if not isinstance(item, dict):
                    raise ValueError(f"{section}: each entry must be a mapping")
        return self

    def integrations(self) -> int:
        """How many integrations of this receiver Vigil delivers to."""
        return sum(len(getattr(self, s)) for s in SUPPORTED_INTEGRATIONS)

    def unsupported(self) -> list[str]:
        """The integration sections this receiver uses that Vigil does not notify through."""
        return [s for s in OTHER_INTEGRATIONS if getattr(self, s)]


def send_resolved(section: str, integration: Integration) -> bool:
    """Whether one integration is sent resolved alerts (its own setting, else the default)."""
    value = integration.get("send_resolved")
    return SEND_RESOLVED_DEFAULT[section] if value is None else bool(value)


def send_resolved_modes(receiver: Receiver) -> tuple[bool, ...]:
    """The ``send_resolved`` settings a group flush decides for: each one the
    receiver's integrations use, and always ``True`` (what Vigil's own escalation and
    timeline follow)."""
    modes = {True} | {
        send_resolved(section, item)
        for section in SUPPORTED_INTEGRATIONS
        for item in getattr(receiver, section)
    }
    return tuple(sorted(modes, reverse=True))


def check_receivers(receivers: list[Receiver], global_settings: Mapping[str, Any]) -> None:
    """Names are unique and every supported integration has its destination set."""
    seen: set[str] = set()
    for i, receiver in enumerate(receivers):
        if receiver.name in seen:
            raise InvalidConfig(
                f"receivers.{i}: notification config name {receiver.name!r} is not unique"
            )
        seen.add(receiver.name)
        for section, (fields, fallback) in _REQUIRED.items():
            for j, item in enumerate(getattr(receiver, section)):
                if any(item.get(f) for f in fields) or (fallback and global_settings.get(fallback)):
                    continue
                raise InvalidConfig(
                    f"receivers.{i}.{section}.{j} (receiver {receiver.name!r}): "
                    f"one of {', '.join(fields)} is required"
                )
