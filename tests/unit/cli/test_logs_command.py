"""``vigil logs``: lines of several processes merged by time, and an incident's story."""

from __future__ import annotations

import argparse
import io
import json
from pathlib import Path
from typing import Any

from cli.logs import cmd_logs

INCIDENT, ALERT, TRACE = "inc1", "alert1", "t" * 32

LINES = {
    "ingress_r1.jsonl": [
        {"time": "2026-12-03T10:00:04.000Z", "process": "ingress:r1", "event": "api.acknowledge",
         "tenant": "acme", "incident_id": INCIDENT, "message": "ana acknowledge incident inc1"},
    ],
    "tenant_acme.jsonl": [
        {"time": "2026-12-03T10:00:01.000Z", "process": "tenant:acme", "event": "alerts.stored",
         "tenant": "acme", "alert_ids": [ALERT], "trace_id": TRACE, "message": "stored: created 1"},
        {"time": "2026-12-03T10:00:01.500Z", "process": "tenant:acme", "event": "alerts.stored",
         "tenant": "acme", "alert_ids": ["other"], "message": "stored: created 1"},
    ],
    "correlator_0.jsonl": [
        {"time": "2026-12-03T10:00:02.000Z", "process": "correlator:0", "event": "incident.created",
         "tenant": "acme", "incident_id": INCIDENT, "alert_id": ALERT, "trace_id": TRACE,
         "message": "created"},
        {"time": "2026-12-03T10:00:02.500Z", "process": "correlator:0", "event": "incident.created",
         "tenant": "globex", "incident_id": "inc2", "message": "created"},
    ],
    "escalator_0.jsonl": [
        {"time": "2026-12-03T10:00:03.000Z", "process": "escalator:0",
         "event": "incident.delivered", "tenant": "acme", "incident_id": INCIDENT,
         "message": "delivered by l1"},
    ],
}  # fmt: skip


def data_dir(tmp_path: Path) -> Path:
    logs = tmp_path / "logs"
    logs.mkdir()
    for name, lines in LINES.items():
        text = "".join(json.dumps(line) + "\n" for line in lines)
        (logs / name).write_text(text + '{"torn": ')  # a line still being written
    return tmp_path


def run(tmp_path: Path, **given: Any) -> list[dict[str, Any]]:
    args = {"tenant": None, "incident": None, "follow": False, "last": 0, "json": True, **given}
    out = io.StringIO()
    assert cmd_logs(argparse.Namespace(**args), data_dir(tmp_path), out) == 0
    return [json.loads(line) for line in out.getvalue().splitlines()]


def test_every_process_is_read_and_merged_by_time(tmp_path: Path) -> None:
    lines = run(tmp_path)
    assert len(lines) == 6  # the torn lines are skipped
    assert [line["time"] for line in lines] == sorted(line["time"] for line in lines)


def test_an_incidents_story_takes_its_alerts_and_traces_lines_from_every_process(
    tmp_path: Path,
) -> None:
    lines = run(tmp_path, incident=INCIDENT)
    assert [line["process"] for line in lines] == [
        "tenant:acme",  # names the incident's alert and trace, not the incident
        "correlator:0",
        "escalator:0",
        "ingress:r1",
    ]


def test_a_tenant_filter_keeps_only_its_lines(tmp_path: Path) -> None:
    assert [line["tenant"] for line in run(tmp_path, tenant="globex")] == ["globex"]


def test_last_keeps_the_newest_lines_and_people_get_one_line_each(tmp_path: Path) -> None:
    out = io.StringIO()
    args = argparse.Namespace(tenant=None, incident=None, follow=False, last=2, json=False)
    cmd_logs(args, data_dir(tmp_path), out)
    shown = out.getvalue().splitlines()
    assert len(shown) == 2
    assert shown[0].startswith("2026-12-03T10:00:03.000Z  escalator:0")
    assert "incident_id=inc1" in shown[0] and "delivered by l1" in shown[0]


def test_no_logs_says_where_it_looked(tmp_path: Path, capsys: Any) -> None:
    args = argparse.Namespace(tenant=None, incident=None, follow=False, last=10, json=False)
    assert cmd_logs(args, tmp_path) == 1
    assert str(tmp_path / "logs") in capsys.readouterr().err


def test_follow_prints_what_is_written_later_and_keeps_the_story(tmp_path: Path) -> None:
    from cli.logs import StoryFilter, follow

    directory = data_dir(tmp_path)
    wanted = StoryFilter(incident=INCIDENT)
    later = follow(directory, wanted)
    with (directory / "logs" / "escalator_0.jsonl").open("a") as out:
        out.write("\n")  # ends the torn line that was there
        for n, incident in enumerate((INCIDENT, "inc2")):
            line = {
                "time": f"2026-12-03T10:00:0{5 + n}.000Z",
                "event": "incident.escalated",
                "incident_id": incident,
            }
            out.write(json.dumps(line) + "\n")
    shown = next(later)
    assert [line["incident_id"] for line in shown] == [INCIDENT]


def test_a_line_half_written_when_read_is_followed_once_it_is_whole(tmp_path: Path) -> None:
    from cli.logs import StoryFilter, follow, log_files, read_lines

    directory = data_dir(tmp_path)
    lines, read_to = read_lines(log_files(directory))
    assert len(lines) == 6  # the torn ends are not lines yet
    later = follow(directory, StoryFilter(incident=INCIDENT), read_to)
    with (directory / "logs" / "escalator_0.jsonl").open("a") as out:
        out.write(f'1, "time": "2026-12-03T10:00:05.000Z", "incident_id": "{INCIDENT}"}}\n')
    (shown,) = next(later)
    assert shown == {"torn": 1, "time": "2026-12-03T10:00:05.000Z", "incident_id": INCIDENT}
