"""``vigil logs``: every Vigil process's JSON lines (``cluster/logs.py``), merged by time.

    vigil logs                          the newest 200 lines of every process
    vigil logs --tenant acme            one tenant's
    vigil logs --incident 3f2a... -f    one incident's story, then follow it

An incident's story is every line that names the incident, and every line that names
one of its alerts or one of its traces (found in the incident's own lines: the alert
that joined it, the trace that carried it), so the request that stored the alert, the
correlator that opened the incident, the escalator's pages and the notifier's
outcome read as one story, whichever processes wrote them.

It reads ``<data dir>/logs`` of this machine; on a cluster each node has its own
(ship them with Vector, Promtail or Fluent Bit: the lines are JSON on stderr too).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from cluster.logs import LOG_DIR

FOLLOW_POLL_SECONDS = 0.5


@dataclass
class StoryFilter:
    """Which lines to show; for an incident, what else belongs to its story (it grows
    as the incident's own lines name alerts and traces)."""

    tenant: str | None = None
    incident: str | None = None
    alerts: set[str] = field(default_factory=set)
    traces: set[str] = field(default_factory=set)

    def learn(self, line: dict[str, Any]) -> None:
        """Take the alerts and traces an incident's own line names."""
        if self.incident is not None and line.get("incident_id") == self.incident:
            if line.get("alert_id"):
                self.alerts.add(str(line["alert_id"]))
            if line.get("trace_id"):
                self.traces.add(str(line["trace_id"]))

    def wants(self, line: dict[str, Any]) -> bool:
        if self.tenant is not None and line.get("tenant") != self.tenant:
            return False
        if self.incident is None:
            return True
        if line.get("incident_id") == self.incident:
            return True
        if line.get("alert_id") in self.alerts or line.get("trace_id") in self.traces:
            return True
        return any(a in self.alerts for a in line.get("alert_ids", ()))


def log_files(data_dir: Path) -> list[Path]:
    """Every process's file, rotated ones first (oldest lines first)."""
    directory = data_dir / LOG_DIR
    if not directory.is_dir():
        return []
    return sorted(directory.glob("*.jsonl*"), key=lambda p: (p.name.split(".jsonl")[0], p.name))


def parse(raw: str) -> dict[str, Any] | None:
    """One JSON line (``None`` for a torn or foreign line)."""
    try:
        line = json.loads(raw)
    except ValueError:
        return None
    return line if isinstance(line, dict) and "time" in line else None


def read_complete(path: Path, start: int = 0) -> tuple[list[dict[str, Any]], int]:
    """The whole lines of a file from byte ``start``, and the byte after the last of them
    (a line still being written is left for the next read)."""
    with path.open("rb") as handle:
        handle.seek(start)
        chunk = handle.read()
    complete = chunk[: chunk.rfind(b"\n") + 1]
    raws = complete.decode("utf-8", errors="replace").splitlines()
    return [line for raw in raws if (line := parse(raw)) is not None], start + len(complete)


def read_lines(paths: Iterable[Path]) -> tuple[list[dict[str, Any]], dict[Path, int]]:
    """Every whole line of the files, sorted by time (stable: a process's order kept),
    and where each file's whole lines end (where following it starts)."""
    lines: list[dict[str, Any]] = []
    read_to: dict[Path, int] = {}
    for path in paths:
        try:
            found, read_to[path] = read_complete(path)
        except OSError:
            continue  # rotated away while we looked
        lines += found
    lines.sort(key=lambda line: str(line["time"]))
    return lines, read_to


def story(lines: list[dict[str, Any]], wanted: StoryFilter) -> list[dict[str, Any]]:
    """The lines ``wanted`` selects (learning the incident's alerts and traces first)."""
    for line in lines:
        wanted.learn(line)
    return [line for line in lines if wanted.wants(line)]


def render(line: dict[str, Any]) -> str:
    """A line for people: time, process, level, event, tenant, incident, message."""
    where = " ".join(
        f"{key}={line[key]}" for key in ("tenant", "incident_id", "alert_id") if line.get(key)
    )
    text = f"{line['time']}  {line.get('process', '?'):<22} {line.get('level', ''):<7}"
    text += f" {line.get('event', 'log'):<28} {where}  {line.get('message', '')}"
    alert_ids = line.get("alert_ids") or []
    if alert_ids:
        more = "…" if len(alert_ids) > 5 else ""
        text += f" (alerts: {', '.join(alert_ids[:5])}{more})"
    return text


def _print(lines: Iterable[dict[str, Any]], as_json: bool, out: TextIO) -> None:
    for line in lines:
        print(json.dumps(line, ensure_ascii=False) if as_json else render(line), file=out)
    out.flush()


def follow(
    data_dir: Path, wanted: StoryFilter, read_to: dict[Path, int] | None = None
) -> Iterator[list[dict[str, Any]]]:
    """New lines as they are written, a poll's worth at a time (files that appear later
    and files that rotate are followed too), from where ``read_to`` says each file was
    read (default: where each ends now, not when the caller first asks)."""
    if read_to is None:
        read_to = {p: p.stat().st_size for p in log_files(data_dir)}
    return _polls(data_dir, wanted, dict(read_to))


def _polls(
    data_dir: Path, wanted: StoryFilter, offsets: dict[Path, int]
) -> Iterator[list[dict[str, Any]]]:
    while True:
        time.sleep(FOLLOW_POLL_SECONDS)
        fresh: list[dict[str, Any]] = []
        for path in log_files(data_dir):
            if ".jsonl." in path.name:
                continue  # a rotated file: its lines were read before it rotated
            try:
                start = offsets.get(path, 0)
                if path.stat().st_size < start:
                    start = 0  # rotated: a new file under the old name
                found, offsets[path] = read_complete(path, start)
            except OSError:
                continue
            fresh += found
        fresh.sort(key=lambda line: str(line["time"]))
        yield story(fresh, wanted)


def cmd_logs(args: argparse.Namespace, data_dir: Path, out: TextIO = sys.stdout) -> int:
    """``vigil logs``."""
    files = log_files(data_dir)
    if not files and not args.follow:
        print(
            f"vigil: no logs in {data_dir / LOG_DIR} (is this Vigil's data dir?)", file=sys.stderr
        )
        return 1
    wanted = StoryFilter(tenant=args.tenant, incident=args.incident)
    lines, read_to = read_lines(files)
    shown = story(lines, wanted)
    _print(shown[-args.last :] if args.last > 0 else shown, args.json, out)
    if args.follow:
        try:
            for batch in follow(data_dir, wanted, read_to):
                _print(batch, args.json, out)
        except KeyboardInterrupt:
            return 0
    return 0
