"""The JSON log lines: their fields, and that no secret gets into one."""

from __future__ import annotations

import json
import logging
import os
import sys
from pathlib import Path

import pytest

from cluster.logs import MAX_ALERT_IDS, JsonFormatter, log_file, scrub


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # A Slack webhook's token is its path: only scheme and host remain.
        (
            "POST https://hooks.slack.com/services/T000/B000/XXXXSECRET failed",
            "POST https://hooks.slack.com/… failed",
        ),
        # Userinfo in a URL is a password.
        ("redis://:hunter2@10.0.0.5:6379/0 down", "redis://10.0.0.5:6379/… down"),
        ("Authorization: Bearer abc.def-123 refused", "Authorization: Bearer … refused"),
        ("sent with routing_key=0123456789abcdef", "sent with routing_key=…"),
        ("api_key: s3cr3t, label ana", "api_key: …, label ana"),
        # Plain words are left alone.
        ("incident 3f2a joined by group_key", "incident 3f2a joined by group_key"),
    ],
)
def test_scrub_hides_what_may_be_a_secret(text: str, expected: str) -> None:
    assert scrub(text) == expected


def record(message: str, **extra: object) -> logging.LogRecord:
    made = logging.LogRecord("vigil.correlator", logging.INFO, __file__, 1, message, (), None)
    for name, value in extra.items():
        setattr(made, name, value)
    return made


def test_a_line_carries_the_fields_it_was_given() -> None:
    line = json.loads(
        JsonFormatter("correlator:0").format(
            record(
                "alert joined",
                event="incident.alert_joined",
                tenant="acme",
                incident_id="i1",
                alert_id="a1",
                trace_id="f" * 32,
            )
        )
    )
    assert line["time"].endswith("Z") and len(line["time"]) == 24
    assert line["level"] == "info" and line["process"] == "correlator:0"
    assert line["event"] == "incident.alert_joined" and line["message"] == "alert joined"
    assert (line["tenant"], line["incident_id"], line["alert_id"]) == ("acme", "i1", "a1")
    assert line["trace_id"] == "f" * 32


def test_a_plain_message_is_a_log_event_without_empty_fields() -> None:
    line = json.loads(JsonFormatter("supervisor").format(record("judged 4 loops")))
    assert line["event"] == "log"
    assert not {"tenant", "incident_id", "alert_id", "trace_id"} & set(line)


def test_a_big_batch_names_its_first_alerts_and_says_how_many() -> None:
    ids = [f"a{n}" for n in range(MAX_ALERT_IDS + 5)]
    line = json.loads(JsonFormatter("tenant:acme").format(record("stored", alert_ids=ids)))
    assert line["alert_ids"] == ids[:MAX_ALERT_IDS]
    assert line["alert_count"] == MAX_ALERT_IDS + 5


def test_an_exception_is_logged_scrubbed() -> None:
    try:
        raise ConnectionError("cannot reach https://hooks.example.com/secret/path")
    except ConnectionError:
        made = record("delivery failed")
        made.exc_info = sys.exc_info()
    line = json.loads(JsonFormatter("escalator:0").format(made))
    assert "secret/path" not in line["error"] and "https://hooks.example.com/…" in line["error"]


def test_each_process_writes_its_own_file_with_a_safe_name() -> None:
    assert log_file(Path("/d"), "tenant:acme") == Path("/d/logs/tenant_acme.jsonl")
    assert log_file(Path("/d"), "ingress:ab/../c") == Path("/d/logs/ingress_ab_.._c.jsonl")


def test_a_rounds_timeline_entries_make_one_line_naming_their_kinds_and_alerts() -> None:
    from datetime import UTC, datetime

    from alerting.incident import TimelineEntry, TimelineEvent
    from cluster.logs import log_timeline

    class Kept(logging.Handler):
        def __init__(self) -> None:
            super().__init__()
            self.lines: list[dict[str, object]] = []

        def emit(self, record: logging.LogRecord) -> None:
            self.lines.append(json.loads(JsonFormatter("correlator:0").format(record)))

    logger = logging.getLogger("vigil.test-timeline")
    logger.propagate = False
    logger.setLevel(logging.INFO)
    kept = Kept()
    logger.handlers = [kept]
    now = datetime(2026, 12, 3, tzinfo=UTC)
    entries = [
        TimelineEntry(now, TimelineEvent.CREATED, "group key x"),
        TimelineEntry(now, TimelineEvent.ALERT_JOINED, "group x", "fp1"),
        TimelineEntry(now, TimelineEvent.ALERT_JOINED, "group x", "fp2"),
    ]
    log_timeline(logger, "acme", "i1", entries, {"fp1": "a1", "fp2": "a2"}.get)
    log_timeline(logger, "acme", "i1", [])  # nothing added: no line
    (line,) = kept.lines
    assert line["event"] == "incident.created+alert_joined"
    assert line["message"] == "group key x; group x; group x"
    assert (line["incident_id"], line["alert_ids"]) == ("i1", ["a1", "a2"])


def test_a_file_past_its_size_rotates_and_keeps_three_older_ones(tmp_path: Path) -> None:
    from cluster.logs import JsonLinesHandler

    path = tmp_path / "logs" / "p.jsonl"
    path.parent.mkdir()
    handler = JsonLinesHandler(JsonFormatter("p"), path, max_bytes=1000)
    real_stderr, sys.stderr = sys.stderr, open(os.devnull, "w")  # noqa: SIM115
    try:
        for n in range(200):
            handler.emit(record(f"line {n}"))
    finally:
        sys.stderr.close()
        sys.stderr = real_stderr
    names = sorted(p.name for p in path.parent.iterdir())
    assert names == ["p.jsonl", "p.jsonl.1", "p.jsonl.2", "p.jsonl.3"]
    assert all(p.stat().st_size <= 1000 + 200 for p in path.parent.iterdir())
    handler.close()
    newest = (path.with_name("p.jsonl.1").read_text() + path.read_text()).splitlines()
    assert json.loads(newest[-1])["message"] == "line 199"
