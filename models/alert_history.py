"""Real alert history from a file, as the events a replay needs (``vigil train
--from-alerts``).

The format is JSON Lines, as teams already have it from Alertmanager. Each line is
either

* one alert as Alertmanager's API (``GET /api/v2/alerts``) or a webhook lists it:
  ``labels``, ``annotations``, ``startsAt``, ``endsAt`` and ``status``; or
* a whole webhook payload, ``{"alerts": [...], ...}``: each of its alerts as above; or
* one of **Vigil's own incidents**, as ``GET /api/v1/incidents/{id}`` returns it and
  ``vigil export-incidents`` writes it: each member an alert (``starts_at``; a
  resolved member's ``updated_at`` is its end), and the incident's outcome as people
  gave it, by the rule Vigil learns from (``models/outcomes.py``): feedback decides;
  else a resolved incident someone acknowledged or resolved by name was actionable,
  one that resolved by itself noise, and an open one says nothing yet.

``endsAt`` is when the alert resolved if its ``status`` is ``"resolved"``, or if it
has no ``status`` at all (a hand-made history). A ``"firing"`` alert's ``endsAt``, and
an API alert's (``status`` is then an object such as ``{"state": "active"}``), is only
Alertmanager's expiry time: such an alert is still firing. An alert is one occurrence
per fingerprint and ``startsAt``: Alertmanager sends a firing alert again every
``repeat_interval`` and once more resolved, so the lines that repeat it add only its
resolution.

**Outcomes** say what the alert turned out to be: ``"outcome": "actionable"`` or
``"noise"`` on the line (or on the alert inside a payload), or an ``outcome`` label or
annotation with one of those values. An incident is actionable if any of its alerts
was, noise if its alerts that say anything all say noise, and unlabelled otherwise (it
still shapes the incidents and rates around it, but gives no training example).
**Tenants**: ``"tenant"`` on the line, else ``history``. Example:
``tests/data/alert_history.jsonl``. ``vigil simulate --alerts`` writes the simulator's
alerts in this format too (``write_alert_history``), with their ground truth as the
outcome.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from alerting.am_templates import ZERO_TIME
from alerting.fingerprint import fingerprint
from alerting.severity import Severity
from models.outcomes import WORDS

DEFAULT_TENANT = "history"
OUTCOMES = {word: label for label, word in WORDS.items()}  # "actionable" -> 1


@dataclass(frozen=True)
class HistoryEvent:
    """One alert change of the history: it fires or resolves at ``at``; ``outcome`` is
    what it turned out to be (1 actionable, 0 noise, ``None`` not said)."""

    at: datetime
    tenant: str
    labels: dict[str, str]
    firing: bool
    severity: Severity
    outcome: int | None

    @property
    def truth(self) -> bool:
        """Whether it was actionable (what the replay's engine bookkeeping reads)."""
        return self.outcome == 1


def history_time(value: Any, where: str) -> datetime | None:
    """A time of a history file (RFC 3339; UTC when it names no zone); ``None`` when
    absent, empty or Go's zero time (``ValueError`` names ``where`` otherwise)."""
    text = "" if value is None else str(value)
    if text in ("", ZERO_TIME):
        return None
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"{where}: not a time: {value!r}") from None
    if parsed.year <= 1:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def stated_outcome(said: Any, where: str) -> int | None:
    """An outcome a history states (``None``: it states none); ``ValueError`` for any
    word but ``actionable`` or ``noise``."""
    if said is None or said == "":
        return None
    if said not in OUTCOMES:
        raise ValueError(f"{where}: outcome must be actionable or noise, not {said!r}")
    return OUTCOMES[said]


def _outcome(line: dict[str, Any], alert: dict[str, Any], where: str) -> int | None:
    said = alert.get("outcome") or line.get("outcome")
    said = said or alert.get("annotations", {}).get("outcome")
    said = said or alert.get("labels", {}).get("outcome")
    return stated_outcome(said, where)


def _resolved_at(line: dict[str, Any], alert: dict[str, Any], where: str) -> datetime | None:
    """When the alert resolved, if this line says it did."""
    status = alert.get("status", line.get("status") if alert is not line else None)
    ends = history_time(alert.get("endsAt"), where)
    if isinstance(status, dict) or status == "firing":
        return None  # still firing: endsAt is Alertmanager's expiry
    if status not in (None, "resolved"):
        raise ValueError(f"{where}: status must be firing or resolved, not {status!r}")
    return ends


def _incident_outcome(incident: dict[str, Any]) -> str | None:
    """A Vigil incident's label, as ``models.outcomes.label_of`` gives it, as a word."""
    if incident.get("feedback") is not None:
        return str(incident["feedback"])
    if incident.get("state") != "resolved":
        return None
    if incident.get("acknowledged_at") or incident.get("resolved_by"):
        return "actionable"
    return "noise"


def _incident_alerts(incident: dict[str, Any], where: str) -> list[dict[str, Any]]:
    """A Vigil incident's members as alerts of this format, with its outcome."""
    members = incident["members"]
    if not isinstance(members, list):
        raise ValueError(f"{where}: an incident's 'members' must be a list")
    outcome = _incident_outcome(incident)
    alerts = []
    for member in members:
        if not isinstance(member, dict):
            raise ValueError(f"{where}: an incident member must be an object")
        resolved = member.get("status") == "resolved"
        alerts.append(
            {
                "labels": member.get("labels"),
                "startsAt": member.get("starts_at"),
                "endsAt": member.get("updated_at") if resolved else None,
                "status": "resolved" if resolved else "firing",
                "outcome": outcome,
            }
        )
    return alerts


@dataclass
class _Occurrence:
    tenant: str
    labels: dict[str, str]
    starts: datetime
    ends: datetime | None
    outcome: int | None


def read_alert_history(path: Path) -> list[HistoryEvent]:
    """The history's alert changes, oldest first (``ValueError`` says what is wrong and
    on which line)."""
    occurrences: dict[tuple[str, str, datetime], _Occurrence] = {}
    for n, text in enumerate(path.read_text().splitlines(), 1):
        if not text.strip():
            continue
        where = f"{path}:{n}"
        try:
            line = json.loads(text)
        except ValueError as exc:
            raise ValueError(f"{where}: not JSON: {exc}") from None
        if not isinstance(line, dict):
            raise ValueError(f"{where}: a line must be an alert or a webhook payload")
        alerts = _incident_alerts(line, where) if "members" in line else line.get("alerts", [line])
        if not isinstance(alerts, list):
            raise ValueError(f"{where}: 'alerts' must be a list")
        tenant = str(line.get("tenant") or DEFAULT_TENANT)
        for alert in alerts:
            labels = alert.get("labels") if isinstance(alert, dict) else None
            if not isinstance(labels, dict) or not labels:
                raise ValueError(f"{where}: an alert needs its labels")
            labels = {str(k): str(v) for k, v in labels.items() if k != "outcome"}
            starts = history_time(alert.get("startsAt"), where)
            if starts is None:
                raise ValueError(f"{where}: an alert needs its startsAt")
            ends = _resolved_at(line, alert, where)
            outcome = _outcome(line, alert, where)
            key = (tenant, fingerprint(labels), starts)
            known = occurrences.get(key)
            if known is None:
                occurrences[key] = _Occurrence(tenant, labels, starts, ends, outcome)
            else:  # a resend: its latest end, and an outcome wherever one was said
                if ends is not None and (known.ends is None or ends > known.ends):
                    known.ends = ends
                known.outcome = outcome if outcome is not None else known.outcome
    events = []
    for o in occurrences.values():
        severity = Severity.from_labels(o.labels, Severity.WARNING)
        events.append(HistoryEvent(o.starts, o.tenant, o.labels, True, severity, o.outcome))
        if o.ends is not None and o.ends > o.starts:
            events.append(HistoryEvent(o.ends, o.tenant, o.labels, False, severity, o.outcome))
    # Firing before resolving at the same instant; stable otherwise.
    events.sort(key=lambda e: (e.at, not e.firing))
    return events


class AlertChange(Protocol):
    """An alert firing or resolving, as the simulator makes them (``SimAlert``)."""

    @property
    def at(self) -> datetime: ...
    @property
    def tenant(self) -> str: ...
    @property
    def labels(self) -> dict[str, str]: ...
    @property
    def firing(self) -> bool: ...
    @property
    def truth(self) -> bool: ...


def write_alert_history(path: Path, changes: Iterable[AlertChange]) -> int:
    """Write alert changes (oldest first) as the history ``read_alert_history`` reads:
    one line per occurrence, its resolution as ``endsAt`` (none while it fires), its
    truth as the outcome. How many lines were written."""
    open_at: dict[tuple[str, str], tuple[datetime, AlertChange]] = {}
    lines: list[tuple[datetime, dict[str, Any]]] = []

    def line(start: datetime, change: AlertChange, ends: datetime | None) -> None:
        record: dict[str, Any] = {
            "tenant": change.tenant,
            "labels": change.labels,
            "startsAt": start.isoformat(),
            "outcome": "actionable" if change.truth else "noise",
        }
        if ends is not None:
            record["endsAt"] = ends.isoformat()
        lines.append((start, record))

    for change in changes:
        key = (change.tenant, fingerprint(change.labels))
        if change.firing:
            open_at[key] = (change.at, change)
        elif key in open_at:
            start, fired = open_at.pop(key)
            line(start, fired, change.at)
    for start, fired in open_at.values():
        line(start, fired, None)
    lines.sort(key=lambda pair: pair[0])
    path.write_text("".join(json.dumps(record) + "\n" for _, record in lines))
    return len(lines)
