"""Structured logs: one JSON object per line, from every Vigil process.

Each line has ``time`` (UTC, ISO 8601 with milliseconds), ``level``, ``process``
(``correlator:0``, ``tenant:acme``, ``ingress:<replica>``), ``logger``, ``event``
(``incident.created``, ``alerts.stored``, ``notification.delivered``; ``log`` for a
plain message), ``message``, and where they apply ``tenant``, ``alert_id`` /
``alert_ids``, ``incident_id`` and ``trace_id`` (the OpenTelemetry trace the line was
written in). ``vigil logs`` reads them back across processes (``cli/logs.py``).

Lines go to stderr (where Ray, systemd or Kubernetes collect them) and to
``<data dir>/logs/<process>.jsonl`` (rotated past ``VIGIL_LOG_MAX_BYTES``, 20 MB,
and 3 older files kept: at most 80 MB a process), so one machine's story can be read
without any log shipper.

Never a secret: messages pass through ``scrub``, which cuts every URL to its scheme
and host (webhook URLs are secrets: Slack's carry their token in the path) and hides
Bearer tokens and ``key=`` / ``token=`` values. Vigil's own messages name keys by
their id or label, never the key.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TextIO

from opentelemetry import trace

from alerting.incident import TimelineEntry

LOG_DIR = "logs"
MAX_FILE_BYTES = 20 * 1024 * 1024
BACKUPS = 3
MAX_ALERT_IDS = 100  # per line: a bulk batch names its first ones, and says how many
ROOT_LOGGER = "vigil"

_URL = re.compile(r"\b([a-z][a-z0-9+.-]*://)([^/\s?#'\"]+)[^\s'\"]*", re.IGNORECASE)
_BEARER = re.compile(r"\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]+", re.IGNORECASE)
_KEYED = re.compile(
    r"\b(key|token|secret|password|routing_key|api_key)(=|:\s*)[^\s,;&'\"]+", re.IGNORECASE
)


def scrub(text: str) -> str:
    """``text`` without what may be a secret: URLs cut to scheme and host (userinfo
    dropped), Bearer / Basic credentials and ``key=value`` pairs of secret names hidden."""
    text = _URL.sub(lambda m: f"{m.group(1)}{m.group(2).rpartition('@')[2]}/…", text)
    text = _BEARER.sub(lambda m: f"{m.group(1)} …", text)
    return _KEYED.sub(lambda m: f"{m.group(1)}{m.group(2)}…", text)


def current_trace_id() -> str | None:
    """The id of the OpenTelemetry trace being recorded here, if any (32 hex digits)."""
    context = trace.get_current_span().get_span_context()
    return f"{context.trace_id:032x}" if context.is_valid else None


class JsonFormatter(logging.Formatter):
    """A log record as one JSON line (see the module's docstring for the fields)."""

    def __init__(self, process: str) -> None:
        super().__init__()
        self.process = process
        self._second = -1
        self._stamp = ""

    def _time(self, created: float) -> str:
        # strftime once a second, not once a line (it was a tenth of a line's cost).
        second = int(created)
        if second != self._second:
            self._second = second
            self._stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
        return f"{self._stamp}.{int((created - second) * 1000):03d}Z"

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": self._time(record.created),
            "level": record.levelname.lower(),
            "process": self.process,
            "logger": record.name,
            "event": getattr(record, "event", None) or "log",
            "message": scrub(record.getMessage()),
        }
        for name in ("tenant", "alert_id", "incident_id"):
            value = getattr(record, name, None)
            if value:
                entry[name] = str(value)
        alert_ids: Sequence[str] | None = getattr(record, "alert_ids", None)
        if alert_ids:
            entry["alert_ids"] = list(alert_ids[:MAX_ALERT_IDS])
            if len(alert_ids) > MAX_ALERT_IDS:
                entry["alert_count"] = len(alert_ids)
        trace_id = getattr(record, "trace_id", None) or current_trace_id()
        if trace_id:
            entry["trace_id"] = trace_id
        if record.exc_info:
            entry["error"] = scrub(self.formatException(record.exc_info))[-4000:]
        return json.dumps(entry, ensure_ascii=False, separators=(",", ":"), default=str)


class JsonLinesHandler(logging.Handler):
    """Writes each record, formatted once, to stderr and to the process's file, which
    it rotates by the characters it wrote (``RotatingFileHandler`` formats every record
    twice more and asks the file its size on every line: measured 89 µs a line, this
    one 18 µs, ``bench/metric_increments.py``)."""

    def __init__(
        self, formatter: JsonFormatter, path: Path | None, max_bytes: int = MAX_FILE_BYTES
    ) -> None:
        super().__init__()
        self.setFormatter(formatter)
        self.path = path
        self.max_bytes = max_bytes
        self.file: TextIO | None = None
        self.size = 0
        if path is not None:
            self.file = path.open("a", encoding="utf-8")
            self.size = self.file.tell()

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = self.format(record) + "\n"
            if self.file is not None:
                self.file.write(line)
                self.file.flush()  # `vigil logs` reads what was said, now
                self.size += len(line)
                if self.size > self.max_bytes:
                    self._rotate()
            sys.stderr.write(line)
        except Exception:
            self.handleError(record)

    def close(self) -> None:
        if self.file is not None:
            self.file.close()
            self.file = None
        super().close()

    def _rotate(self) -> None:
        """``x.jsonl`` becomes ``x.jsonl.1`` (``.1`` becomes ``.2``, ..., the oldest goes)."""
        assert self.file is not None and self.path is not None
        self.file.close()
        for n in range(BACKUPS - 1, 0, -1):
            older = self.path.with_name(f"{self.path.name}.{n}")
            if older.exists():
                older.replace(self.path.with_name(f"{self.path.name}.{n + 1}"))
        self.path.replace(self.path.with_name(f"{self.path.name}.1"))
        self.file = self.path.open("a", encoding="utf-8")
        self.size = 0


def log_file(data_dir: Path, process: str) -> Path:
    """Where a process's lines go: ``<data dir>/logs/<process>.jsonl`` (``:`` and other
    characters a file name should not carry become ``_``)."""
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", process)
    return data_dir / LOG_DIR / f"{safe}.jsonl"


_configured: str | None = None
_lock = threading.Lock()


def configure_logging(
    process: str, data_dir: Path, level: str = "INFO", max_bytes: int = MAX_FILE_BYTES
) -> Path | None:
    """Send the ``vigil`` loggers' records, as JSON lines, to stderr and to the
    process's file (once per OS process); the file, or ``None`` if it cannot be
    written (stderr only, then)."""
    global _configured
    with _lock:
        if _configured is not None:
            return None
        _configured = process
        logger = logging.getLogger(ROOT_LOGGER)
        logger.setLevel(level.upper())
        logger.propagate = False  # Ray's handlers would print every line a second time
        formatter = JsonFormatter(process)
        path = log_file(data_dir, process)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            logger.handlers = [JsonLinesHandler(formatter, path, max_bytes)]
        except OSError as exc:
            logger.handlers = [JsonLinesHandler(formatter, None)]
            logger.warning("logs go to stderr only: %s", exc)
            return None
        return path


def log_timeline(
    logger: logging.Logger,
    tenant: str,
    incident_id: str,
    entries: Sequence[TimelineEntry],
    alert_of: Callable[[str | None], str | None] = lambda _: None,
) -> None:
    """One line for what one round added to an incident's timeline: the event names
    the kinds in order (``incident.created+alert_joined+notified``), the message joins
    their details, ``alert_ids`` names the alerts they concern. One line a round, not
    one an entry: at 1,000 new incidents a second, a line costs ~18 µs of the same
    CPU that forms and pages them. ``alert_of`` names the alert of an entry's
    fingerprint, where the caller knows it."""
    if not entries or not logger.isEnabledFor(logging.INFO):
        return
    kinds = list(dict.fromkeys(entry.event.value for entry in entries))
    alerts = list(dict.fromkeys(a for a in (alert_of(e.fingerprint) for e in entries) if a))
    details = [entry.detail or entry.event.value.replace("_", " ") for entry in entries]
    message = "; ".join(details[:20]) + (
        f"; ... ({len(details)} in all)" if len(details) > 20 else ""
    )
    log_event(
        logger,
        "incident." + "+".join(kinds),
        message[:2000],
        tenant=tenant,
        incident_id=incident_id,
        alert_id=alerts[0] if len(alerts) == 1 else None,
        alert_ids=alerts if len(alerts) > 1 else None,
    )


def log_event(
    logger: logging.Logger, name: str, message: str, level: int = logging.INFO, **fields: Any
) -> None:
    """Log one event: ``name`` says what happened, ``fields`` (tenant, alert_id,
    alert_ids, incident_id) say to what."""
    if logger.isEnabledFor(level):
        logger.log(level, message, extra={"event": name, **fields})
