"""Structured logs: one JSON object per line, from every Vigil process.

Each line has ``time`` (UTC, ISO 8601 with milliseconds), ``level``, ``process``
(``correlator:0``, ``tenant:acme``, ``ingress:<replica>``), ``logger``, ``event``
(``incident.created``, ``alerts.stored``, ``notification.delivered``; ``log`` for a
plain message), ``message``, and where they apply ``tenant``, ``alert_id`` /
``alert_ids``, ``incident_id`` and ``trace_id`` (the OpenTelemetry trace the line was
written in). ``vigil logs`` reads them back across processes (``cli/logs.py``).

Lines go to stderr (where Ray, systemd or Kubernetes collect them) and to
``<data dir>/logs/<process>.jsonl`` (rotated at 20 MB, 3 kept), so one machine's
story can be read without any log shipper.

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
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from logging.handlers import RotatingFileHandler
from pathlib import Path
from typing import Any

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

    def format(self, record: logging.LogRecord) -> str:
        at = datetime.fromtimestamp(record.created, UTC)
        entry: dict[str, Any] = {
            "time": at.strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond // 1000:03d}Z",
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


def log_file(data_dir: Path, process: str) -> Path:
    """Where a process's lines go: ``<data dir>/logs/<process>.jsonl`` (``:`` and other
    characters a file name should not carry become ``_``)."""
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", process)
    return data_dir / LOG_DIR / f"{safe}.jsonl"


_configured: str | None = None
_lock = threading.Lock()


def configure_logging(process: str, data_dir: Path, level: str = "INFO") -> Path | None:
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
        stderr = logging.StreamHandler(sys.stderr)
        stderr.setFormatter(formatter)
        logger.handlers = [stderr]
        path = log_file(data_dir, process)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            to_file = RotatingFileHandler(
                path, maxBytes=MAX_FILE_BYTES, backupCount=BACKUPS, encoding="utf-8"
            )
        except OSError as exc:
            logger.warning("logs go to stderr only: %s cannot be written (%s)", path, exc)
            return None
        to_file.setFormatter(formatter)
        logger.addHandler(to_file)
        return path


def log_timeline(
    logger: logging.Logger,
    tenant: str,
    incident_id: str,
    entries: Iterable[TimelineEntry],
    alert_of: Callable[[str | None], str | None] = lambda _: None,
) -> None:
    """One line per timeline entry of an incident (``incident.<event>``); ``alert_of``
    names the alert of an entry's fingerprint, where the caller knows it."""
    if not logger.isEnabledFor(logging.INFO):
        return
    for entry in entries:
        log_event(
            logger,
            f"incident.{entry.event.value}",
            entry.detail or entry.event.value.replace("_", " "),
            tenant=tenant,
            incident_id=incident_id,
            alert_id=alert_of(entry.fingerprint),
        )


def log_event(
    logger: logging.Logger, name: str, message: str, level: int = logging.INFO, **fields: Any
) -> None:
    """Log one event: ``name`` says what happened, ``fields`` (tenant, alert_id,
    alert_ids, incident_id) say to what."""
    if logger.isEnabledFor(level):
        logger.log(level, message, extra={"event": name, **fields})
