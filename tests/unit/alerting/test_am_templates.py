"""The bodies Vigil sends to ``alertmanager.yml`` integrations equal the real
Alertmanager 0.25's, byte for byte.

``am_bodies/three_alerts.json`` holds what a real Alertmanager (Debian's
``prometheus-alertmanager``) sent to a webhook, Slack and PagerDuty for three alerts
(one then resolved), recorded by posting ``alerts_sent`` to it; each body is rebuilt
here from the same alerts and compared. ``tests/acceptance/test_notification_parity.py``
makes the same comparison live.
"""

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from alerting.am_templates import (
    AlertView,
    go_quote_meta,
    go_time,
    pagerduty_body,
    slack_body,
    sort_alerts,
    template_data,
    truncate,
    webhook_body,
)
from alerting.fingerprint import fingerprint

RECORDED = json.loads((Path(__file__).parent / "am_bodies" / "three_alerts.json").read_text())
# The recording Alertmanager's --web.external-url (its host name and port then).
EXTERNAL = json.loads(RECORDED["bodies"][0][1])["externalURL"]
RECEIVER = "team.a+b"
GROUP_KEY = '{}:{alertname="Disk"}'


def views(resolved: set[int]) -> list[AlertView]:
    found = []
    for n, sent in enumerate(RECORDED["alerts_sent"]):
        ends = sent.get("endsAt") if n in resolved else None
        found.append(
            AlertView(
                fingerprint=fingerprint(sent["labels"]),
                firing=n not in resolved,
                labels=sent["labels"],
                annotations=sent.get("annotations", {}),
                starts_at=datetime.fromisoformat(sent["startsAt"]),
                ends_at=datetime.fromisoformat(ends) if ends else None,
                generator_url=sent.get("generatorURL", ""),
            )
        )
    return sort_alerts(found)


def bodies(path: str) -> list[str]:
    return [b for p, b in RECORDED["bodies"] if p == path]


def data(resolved: set[int], max_alerts: int = 0) -> Any:
    kept, _ = truncate(views(resolved), max_alerts)
    return template_data(RECEIVER, {"alertname": "Disk"}, kept, EXTERNAL)


@pytest.mark.parametrize("n, resolved", [(0, set()), (1, {0})])
def test_webhook_bodies_equal_alertmanagers(n: int, resolved: set[int]) -> None:
    assert webhook_body(data(resolved), GROUP_KEY, 0).decode() == bodies("/hook/plain")[n]


@pytest.mark.parametrize("n, resolved", [(0, set()), (1, {0})])
def test_pagerduty_events_equal_alertmanagers(n: int, resolved: set[int]) -> None:
    body = pagerduty_body(data(resolved), GROUP_KEY, "rk1", {})
    assert body.decode() == bodies("/hook/pd")[n]


def test_slack_message_equals_alertmanagers() -> None:
    (recorded,) = bodies("/hook/slack")
    assert slack_body(data(set()), {"channel": "#ops"}).decode() == recorded


def test_truncation_counts_what_it_left_out_and_common_labels_follow_it() -> None:
    kept, left = truncate(views(set()), 2)
    assert left == 1 and len(kept) == 2
    body = json.loads(webhook_body(data(set(), 2), GROUP_KEY, left))
    assert body["truncatedAlerts"] == 1
    assert body["commonLabels"] == {"alertname": "Disk", "instance": "a"}


def test_go_formats() -> None:
    assert go_quote_meta("a.b+c(d)") == "a\\.b\\+c\\(d\\)"
    assert go_time(datetime.fromisoformat("2026-01-01T00:00:00.120000+00:00")) == (
        "2026-01-01T00:00:00.12Z"
    )
    assert go_time(None) == "0001-01-01T00:00:00Z"
