"""A PagerDuty incident log (CSV) as alert history (``vigil train --from-alerts
incidents.csv``).

Each row is one PagerDuty incident, taken as one alert: its title as ``alertname``,
its service as ``service``, its id as ``pd_incident`` (so two incidents of one title
stay two alerts), its urgency as the severity (``high`` → critical, ``low`` →
warning), firing from its creation until its resolution. Columns are found by
header, in the spellings PagerDuty's exports and API-to-CSV scripts use (case and
spaces do not matter):

| what | columns tried |
|---|---|
| the incident | ``id``, ``incident_id``, ``incident_number``, ``number`` |
| created | ``created_on``, ``created_at``, ``created`` |
| resolved | ``resolved_on``, ``resolved_at``, ``resolved`` |
| title | ``title``, ``description``, ``summary`` |
| service | ``service_name``, ``service`` |
| urgency | ``urgency`` |
| who acknowledged | ``acknowledged_by``, ``acknowledgements``, ``acknowledged_by_user`` |
| who resolved | ``resolved_by``, ``resolved_by_user`` |
| the outcome, if stated | ``outcome`` (``actionable`` or ``noise``) |
| the tenant | ``tenant`` (else ``history``) |

**Outcomes**, when no ``outcome`` is stated, come from what people did, as Vigil's own
labels do (``models/outcomes.py``): an incident someone acknowledged, or resolved by
name, was actionable; one that resolved by itself (no one named, or PagerDuty's own
auto-resolution, an integration or the API) was noise; one still open says nothing.
Example: ``tests/data/pagerduty_incidents.csv``.
"""

from __future__ import annotations

import csv
from pathlib import Path

from alerting.severity import Severity
from models.alert_history import DEFAULT_TENANT, HistoryEvent, history_time, stated_outcome

COLUMNS = {
    "id": ("id", "incident_id", "incident_number", "number"),
    "created": ("created_on", "created_at", "created"),
    "resolved": ("resolved_on", "resolved_at", "resolved"),
    "title": ("title", "description", "summary"),
    "service": ("service_name", "service"),
    "urgency": ("urgency",),
    "acknowledged_by": ("acknowledged_by", "acknowledgements", "acknowledged_by_user"),
    "resolved_by": ("resolved_by", "resolved_by_user"),
    "outcome": ("outcome",),
    "tenant": ("tenant",),
}
NOBODY = {"", "-", "none", "null", "api", "integration", "auto", "auto-resolved", "pagerduty"}
"""Who-resolved values that name no person (PagerDuty's own resolution, a tool)."""
URGENCY = {"high": Severity.CRITICAL, "low": Severity.WARNING}


def _key(header: str) -> str:
    return header.strip().lower().replace(" ", "_")


def _columns(headers: list[str], where: str) -> dict[str, str]:
    """What each known column is called in this file."""
    found: dict[str, str] = {}
    by_key = {_key(h): h for h in headers}
    for what, names in COLUMNS.items():
        for name in names:
            if name in by_key:
                found[what] = by_key[name]
                break
    missing = [w for w in ("created", "title") if w not in found]
    if missing:
        raise ValueError(
            f"{where}: no {' or '.join(missing)} column (see models/pagerduty_history.py)"
        )
    return found


def _cell(row: dict[str, str], columns: dict[str, str], what: str) -> str:
    """A row's value of a known column, stripped ("" if the file has no such column)."""
    return (row.get(columns[what]) or "").strip() if what in columns else ""


def _outcome(row: dict[str, str], columns: dict[str, str], where: str) -> int | None:
    stated = stated_outcome(_cell(row, columns, "outcome").lower(), where)
    if stated is not None:
        return stated
    if _cell(row, columns, "acknowledged_by").lower() not in NOBODY:
        return 1
    if not _cell(row, columns, "resolved"):
        return None  # still open: nothing to say yet
    return 1 if _cell(row, columns, "resolved_by").lower() not in NOBODY else 0


def read_pagerduty_csv(path: Path) -> list[HistoryEvent]:
    """The incidents of a PagerDuty CSV as alert changes, oldest first (``ValueError``
    says what is wrong and on which row)."""
    with path.open(newline="") as handle:
        reader = csv.DictReader(handle)
        columns = _columns(list(reader.fieldnames or []), str(path))
        events = []
        for n, row in enumerate(reader, 2):  # row 1 is the header
            where = f"{path}:{n}"
            created = history_time(_cell(row, columns, "created"), where)
            if created is None:
                raise ValueError(f"{where}: the incident has no creation time")
            resolved = history_time(_cell(row, columns, "resolved"), where)
            labels = {"alertname": _cell(row, columns, "title") or "untitled"}
            if incident := _cell(row, columns, "id"):
                labels["pd_incident"] = incident
            if service := _cell(row, columns, "service"):
                labels["service"] = service
            severity = URGENCY.get(_cell(row, columns, "urgency").lower(), Severity.WARNING)
            labels["severity"] = severity.value
            tenant = _cell(row, columns, "tenant") or DEFAULT_TENANT
            outcome = _outcome(row, columns, where)
            events.append(HistoryEvent(created, tenant, labels, True, severity, outcome))
            if resolved is not None and resolved > created:
                events.append(HistoryEvent(resolved, tenant, labels, False, severity, outcome))
    events.sort(key=lambda e: (e.at, not e.firing))
    return events
