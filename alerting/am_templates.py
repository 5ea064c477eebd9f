"""What Alertmanager 0.25 sends to a receiver's integrations, byte for byte.

``template_data`` is Alertmanager's ``template.Data`` (the receiver name quoted as a
regular expression, the alerts in ``types.AlertSlice`` order, common labels and
annotations), and ``webhook_body`` its webhook message (version 4). The Slack and
PagerDuty bodies are those its *default* templates render (``default.tmpl``);
Microsoft Teams follows Alertmanager 0.26, the first to have it. A field of an
integration written as literal text is used as written; one that is a Go template
(``{{ ... }}``) is not rendered by Vigil, and its default is sent instead
(``vigil config check`` says so).

``go_json`` writes JSON as Go's ``encoding/json`` encoder does (keys of maps sorted,
``<``, ``>`` and ``&`` escaped, a newline at the end), so a receiver that signs or
compares bodies sees the same bytes. Everything here is pure.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote

ZERO_TIME = "0001-01-01T00:00:00Z"  # Go's zero time.Time, the endsAt of a firing alert
PAGERDUTY_SUMMARY_MAX = 1024


@dataclass(frozen=True)
class AlertView:
    """One alert as a notification lists it."""

    fingerprint: str
    firing: bool
    labels: Mapping[str, str]
    annotations: Mapping[str, str]
    starts_at: datetime
    ends_at: datetime | None  # None for firing alerts (Alertmanager clears it)
    generator_url: str = ""

    @property
    def status(self) -> str:
        return "firing" if self.firing else "resolved"


def go_time(at: datetime | None) -> str:
    """A time as Go's ``time.Time`` marshals it (RFC 3339, trailing zeros cut)."""
    if at is None:
        return ZERO_TIME
    text = at.strftime("%Y-%m-%dT%H:%M:%S")
    if at.microsecond:
        text += "." + f"{at.microsecond:06d}".rstrip("0")
    offset = at.utcoffset()
    if offset is None or not offset:
        return text + "Z"
    return text + at.strftime("%z")[:3] + ":" + at.strftime("%z")[3:]


_GO_HTML = {
    "<": "\\u003c",
    ">": "\\u003e",
    "&": "\\u0026",
    "\u2028": "\\u2028",
    "\u2029": "\\u2029",
}
_GO_HTML_RE = re.compile("[<>&\u2028\u2029]")


def go_json(value: Any) -> bytes:
    """``value`` encoded as Go's ``json.Encoder`` does (dicts must be in struct order
    already; label maps are sorted here by ``sorted_map``)."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return (_GO_HTML_RE.sub(lambda m: _GO_HTML[m.group()], text) + "\n").encode()


def sorted_map(values: Mapping[str, str]) -> dict[str, str]:
    """A Go map as JSON writes it: keys sorted."""
    return {k: values[k] for k in sorted(values)}


def _label_set_before(a: Mapping[str, str], b: Mapping[str, str]) -> bool:
    """Prometheus's ``LabelSet.Before``: fewer labels first, then the first differing
    pair in the sorted union of names decides."""
    if len(a) != len(b):
        return len(a) < len(b)
    for name in sorted([*a, *b]):
        if name not in a:
            return True
        if name not in b:
            return False
        if a[name] != b[name]:
            return a[name] < b[name]
    return False


def _alert_before(a: AlertView, b: AlertView) -> bool:
    """Alertmanager's ``AlertSlice.Less``: by ``job``, then ``instance``, then labels."""
    for name in ("job", "instance"):
        if name not in a.labels and name not in b.labels:
            continue
        if name not in a.labels:
            return False
        if name not in b.labels:
            return True
        if a.labels[name] != b.labels[name]:
            return a.labels[name] < b.labels[name]
    return _label_set_before(a.labels, b.labels)


def _compare(a: AlertView, b: AlertView) -> int:
    return -1 if _alert_before(a, b) else (1 if _alert_before(b, a) else 0)


def sort_alerts(alerts: Sequence[AlertView]) -> list[AlertView]:
    """The alerts in the order a notification lists them."""
    return sorted(alerts, key=functools.cmp_to_key(_compare))


@dataclass(frozen=True)
class TemplateData:
    """Alertmanager's ``template.Data``: what every integration renders."""

    receiver: str
    status: str
    alerts: tuple[AlertView, ...]
    group_labels: Mapping[str, str]
    common_labels: Mapping[str, str]
    common_annotations: Mapping[str, str]
    external_url: str

    @property
    def firing(self) -> list[AlertView]:
        return [a for a in self.alerts if a.firing]

    @property
    def resolved(self) -> list[AlertView]:
        return [a for a in self.alerts if not a.firing]


def template_data(
    receiver: str,
    group_labels: Mapping[str, str],
    alerts: Sequence[AlertView],
    external_url: str,
) -> TemplateData:
    """The data of one notification (``alerts`` already sorted and truncated)."""
    common_labels = dict(alerts[0].labels) if alerts else {}
    common_annotations = dict(alerts[0].annotations) if alerts else {}
    for alert in alerts[1:]:
        common_labels = {k: v for k, v in common_labels.items() if alert.labels.get(k) == v}
        common_annotations = {
            k: v for k, v in common_annotations.items() if alert.annotations.get(k) == v
        }
    return TemplateData(
        receiver=go_quote_meta(receiver),
        status="firing" if any(a.firing for a in alerts) else "resolved",
        alerts=tuple(alerts),
        group_labels=dict(group_labels),
        common_labels=common_labels,
        common_annotations=common_annotations,
        external_url=external_url,
    )


_GO_META = set("\\.+*?()|[]{}^$")


def go_quote_meta(text: str) -> str:
    """Go's ``regexp.QuoteMeta``: a backslash before each regular expression metacharacter."""
    return "".join("\\" + c if c in _GO_META else c for c in text)


def _alert_json(alert: AlertView) -> dict[str, Any]:
    return {
        "status": alert.status,
        "labels": sorted_map(alert.labels),
        "annotations": sorted_map(alert.annotations),
        "startsAt": go_time(alert.starts_at),
        "endsAt": go_time(None if alert.firing else alert.ends_at),
        "generatorURL": alert.generator_url,
        "fingerprint": alert.fingerprint,
    }


def truncate(alerts: Sequence[AlertView], max_alerts: int) -> tuple[list[AlertView], int]:
    """The first ``max_alerts`` alerts (0: all) and how many were left out."""
    if max_alerts <= 0 or len(alerts) <= max_alerts:
        return list(alerts), 0
    return list(alerts[:max_alerts]), len(alerts) - max_alerts


def webhook_body(data: TemplateData, group_key: str, truncated: int) -> bytes:
    """Alertmanager's webhook message, version 4."""
    return go_json(
        {
            "receiver": data.receiver,
            "status": data.status,
            "alerts": [_alert_json(a) for a in data.alerts],
            "groupLabels": sorted_map(data.group_labels),
            "commonLabels": sorted_map(data.common_labels),
            "commonAnnotations": sorted_map(data.common_annotations),
            "externalURL": data.external_url,
            "version": "4",
            "groupKey": group_key,
            "truncatedAlerts": truncated,
        }
    )


# -- the default templates (default.tmpl) ------------------------------------------


def subject(data: TemplateData) -> str:
    """``__subject``: ``[FIRING:2] <group label values> (<other common label values>)``."""
    head = data.status.upper()
    if data.status == "firing":
        head += f":{len(data.firing)}"
    values = " ".join(data.group_labels[k] for k in sorted(data.group_labels))
    text = f"[{head}] {values} "
    if len(data.common_labels) > len(data.group_labels):
        rest = {k: v for k, v in data.common_labels.items() if k not in data.group_labels}
        text += "(" + " ".join(rest[k] for k in sorted(rest)) + ")"
    return text


def alertmanager_url(data: TemplateData) -> str:
    """``__alertmanagerURL``: the alerts page of the receiver."""
    return f"{data.external_url}/#/alerts?receiver={quote(data.receiver, safe='')}"


def alert_list_text(alerts: Sequence[AlertView], markdown: bool = False) -> str:
    """``__text_alert_list`` (each alert's labels, annotations and source), or its
    Markdown twin ``__text_alert_list_markdown`` (blank lines between, deeper bullets)."""
    gap, bullet = ("\n", "  - ") if markdown else ("", " - ")
    out = []
    for alert in alerts:
        out.append(f"{gap}Labels:\n")
        out += [f"{bullet}{k} = {alert.labels[k]}\n" for k in sorted(alert.labels)]
        out.append(f"{gap}Annotations:\n")
        out += [f"{bullet}{k} = {alert.annotations[k]}\n" for k in sorted(alert.annotations)]
        out.append(f"{gap}Source: {alert.generator_url}\n")
    return "".join(out)


def _literal(config: Mapping[str, Any], name: str, default: str) -> str:
    """A setting written as plain text, else the default (Go templates are not run)."""
    value = config.get(name)
    if isinstance(value, str) and not is_template(value):
        return value
    return default


def is_template(value: Any) -> bool:
    """Whether an integration's setting is a Go template (which Vigil does not render)."""
    return isinstance(value, str) and "{{" in value


def slack_body(data: TemplateData, config: Mapping[str, Any]) -> bytes:
    """A ``slack_configs`` entry's message with Alertmanager's default templates."""
    title = _literal(config, "title", subject(data))
    link = _literal(config, "title_link", alertmanager_url(data))
    color = "danger" if data.status == "firing" else "good"
    attachment: dict[str, Any] = {
        "title": title,
        "title_link": link,
        "pretext": _literal(config, "pretext", ""),
        "text": _literal(config, "text", ""),
        "fallback": _literal(config, "fallback", f"{title} | {link}"),
        "callback_id": _literal(config, "callback_id", ""),
        "footer": _literal(config, "footer", ""),
        "color": _literal(config, "color", color),
        "mrkdwn_in": list(config.get("mrkdwn_in") or ["fallback", "pretext", "text"]),
    }
    attachment = {k: v for k, v in attachment.items() if v != "" or k in _SLACK_ALWAYS}
    message: dict[str, Any] = {
        "channel": _literal(config, "channel", ""),
        "username": _literal(config, "username", "Alertmanager"),
    }
    for name in ("icon_emoji", "icon_url"):
        value = _literal(config, name, "")
        if value:
            message[name] = value
    if config.get("link_names"):
        message["link_names"] = True
    message["attachments"] = [attachment]
    if not message["channel"]:
        del message["channel"]
    return go_json(message)


# Attachment fields Go writes even when empty (no ``omitempty`` on them).
_SLACK_ALWAYS = {"title", "title_link", "text", "fallback", "callback_id", "footer", "color"}


def pagerduty_dedup_key(group_key: str) -> str:
    """The incident key Alertmanager gives PagerDuty: SHA-256 of the group key."""
    return hashlib.sha256(group_key.encode()).hexdigest()


def pagerduty_body(
    data: TemplateData, group_key: str, routing_key: str, config: Mapping[str, Any]
) -> bytes:
    """A ``pagerduty_configs`` entry's Events API v2 event with the default templates."""
    summary = _literal(config, "description", subject(data))
    if len(summary) > PAGERDUTY_SUMMARY_MAX:
        summary = summary[: PAGERDUTY_SUMMARY_MAX - 1] + "…"
    details = {
        "firing": alert_list_text(data.firing),
        "num_firing": str(len(data.firing)),
        "num_resolved": str(len(data.resolved)),
        "resolved": alert_list_text(data.resolved),
    }
    custom = config.get("details")
    if isinstance(custom, Mapping):
        details.update({str(k): str(v) for k, v in custom.items() if not is_template(v)})
    payload: dict[str, Any] = {
        "summary": summary,
        "source": _literal(config, "source", "Alertmanager"),
        "severity": _literal(config, "severity", "error"),
    }
    for name in ("class", "component", "group"):
        value = _literal(config, name, "")
        if value:
            payload[name] = value
    payload["custom_details"] = sorted_map(details)
    return go_json(
        {
            "routing_key": routing_key,
            "dedup_key": pagerduty_dedup_key(group_key),
            "event_action": "trigger" if data.status == "firing" else "resolve",
            "payload": payload,
            "client": _literal(config, "client", "Alertmanager"),
            "client_url": _literal(config, "client_url", alertmanager_url(data)),
        }
    )


def teams_body(data: TemplateData, config: Mapping[str, Any]) -> bytes:
    """A ``msteams_configs`` entry's MessageCard with the default templates (0.26)."""
    text = "\n"
    if data.firing:
        text += "\n# Alerts Firing:\n" + alert_list_text(data.firing, markdown=True) + "\n"
    if data.resolved:
        text += "\n# Alerts Resolved:\n" + alert_list_text(data.resolved, markdown=True) + "\n"
    color = "8C1A1A" if data.status == "firing" else "2DC72D"
    return go_json(
        {
            "@context": "http://schema.org/extensions",
            "type": "MessageCard",
            "title": _literal(config, "title", subject(data)),
            "summary": _literal(config, "summary", subject(data)),
            "text": _literal(config, "text", text),
            "themeColor": color,
        }
    )
