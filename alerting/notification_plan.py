"""What each receiver of a routing configuration will and will not be told: the
report ``vigil config check`` prints.

A receiver's supported integrations are notified as Alertmanager would notify them;
a receiver with an escalation policy also escalates; a receiver with neither forms
incidents that nobody is told about. Settings Vigil does not apply are named.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

from alerting.am_templates import is_template
from alerting.amconfig import RoutingConfig
from alerting.receivers import SUPPORTED_INTEGRATIONS, Receiver, send_resolved

# http_config settings Vigil applies; any other is reported as not applied.
APPLIED_HTTP = {"basic_auth", "authorization", "bearer_token", "bearer_token_file"}


def _destination(section: str, item: Mapping[str, Any], global_settings: Mapping[str, Any]) -> str:
    """Where an integration sends, without secrets: the URL's host, or the file."""
    for name in ("url", "api_url", "webhook_url"):
        if item.get(name):
            return urlsplit(str(item[name])).netloc or "(a URL)"
        if item.get(f"{name}_file"):
            return f"the URL in {item[f'{name}_file']}"
    if section == "slack_configs" and global_settings.get("slack_api_url"):
        return urlsplit(str(global_settings["slack_api_url"])).netloc
    if section == "pagerduty_configs":
        return "PagerDuty Events API v2"
    return "(no URL)"


def _integration_lines(
    receiver: Receiver, global_settings: Mapping[str, Any]
) -> tuple[list[str], list[str]]:
    """(what is notified, what is not applied) for one receiver."""
    told: list[str] = []
    warnings: list[str] = []
    for section in SUPPORTED_INTEGRATIONS:
        for n, item in enumerate(getattr(receiver, section)):
            name = f"{section}[{n}]"
            resolved = "with resolved alerts" if send_resolved(section, item) else "firing only"
            told.append(f"{name} to {_destination(section, item, global_settings)} ({resolved})")
            where = f"receiver {receiver.name!r} {name}"
            for key, value in item.items():
                if is_template(value):
                    warnings.append(
                        f"{where}.{key} is a Go template, which Vigil does not render: "
                        "Alertmanager's default is sent instead"
                    )
            if section == "pagerduty_configs" and not (
                item.get("routing_key") or item.get("routing_key_file")
            ):
                warnings.append(
                    f"{where}: service_key (Events API v1) is not supported and will not be "
                    "notified; use routing_key"
                )
            ignored = sorted(set(item.get("http_config") or {}) - APPLIED_HTTP)
            if ignored:
                warnings.append(f"{where}.http_config: {', '.join(ignored)} not applied")
    for section in receiver.unsupported():
        warnings.append(
            f"receiver {receiver.name!r}: {section} is not supported by Vigil and will not be "
            "notified"
        )
    return told, warnings


def notification_report(
    routing: RoutingConfig, policy_for: Callable[[str], str | None]
) -> tuple[list[str], list[str]]:
    """One line per receiver saying who is told what, and the warnings."""
    lines: list[str] = []
    warnings: list[str] = []
    for receiver in routing.receivers:
        told, problems = _integration_lines(receiver, routing.global_settings)
        warnings += problems
        policy = policy_for(receiver.name)
        parts = told + ([f"escalation policy {policy!r}"] if policy else [])
        what = "; ".join(parts) if parts else "NOBODY is notified (no integration, no policy)"
        lines.append(f"  {receiver.name}: {what}")
    return lines, warnings
