"""A label or summary cannot inject Slack markup: ``<!channel>``, links, or a backtick
that closes the code span a label is shown in. Before, a label value with a backtick
escaped the span and ``<!channel>`` after it pinged the whole channel."""

from __future__ import annotations

from datetime import UTC, datetime

from actors.notifiers.slack import slack_message
from alerting.message import Message, MessageKind
from alerting.severity import Severity

EVIL = "x` <!channel> <https://evil.example|your bank> &amp;"


def test_labels_and_summary_stay_text() -> None:
    message = Message(
        tenant="acme",
        incident_id="inc-1",
        kind=MessageKind.FIRING,
        severity=Severity.CRITICAL,
        summary=EVIL,
        at=datetime(2026, 12, 2, tzinfo=UTC),
        labels={"alertname": "Probe", "probe": EVIL},
    )
    body = slack_message(message)
    (context,) = [b for b in body["blocks"] if b["type"] == "context"]
    shown = [e["text"] for e in context["elements"]]
    probe = next(t for t in shown if "probe=" in t)
    assert probe.startswith("`") and probe.endswith("`") and probe.count("`") == 2
    for text in (*shown, body["text"]):
        assert "<!channel>" not in text and "<https://" not in text
        assert "&lt;!channel&gt;" in text or "probe" not in text
    assert "&amp;amp;" in body["text"]  # an entity in the input is shown, not decoded
    # Only plain_text (the header), which Slack never parses for mentions, keeps it raw.
    mrkdwn = [
        o["text"]
        for block in body["blocks"]
        for o in [*block.get("fields", []), *block.get("elements", []), block.get("text") or {}]
        if isinstance(o, dict) and o.get("type") == "mrkdwn"
    ]
    assert mrkdwn and not any("<!" in t for t in mrkdwn)
