"""What a channel is told about an incident: one firing or resolved notice.

Every notifier renders the same ``Message`` in its own format (a webhook's JSON, a
Slack Block Kit message, a Teams Adaptive Card, a PagerDuty event). ``key`` names the
notice for the notification log, so a send is idempotent across retries and restarts.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from alerting.incident import Incident, IncidentState
from alerting.severity import Severity


class MessageKind(StrEnum):
    """What the notice says: it fires, somebody took it, or it is over."""

    FIRING = "firing"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"


@dataclass(frozen=True)
class Message:
    """One notice about one incident, for one escalation step."""

    tenant: str
    incident_id: str
    kind: MessageKind
    severity: Severity
    summary: str
    at: datetime
    step: int = 0  # the escalation step (its idempotency), 0 for the first notice
    level: int = 1  # the escalation level, counted from 1 as on timelines and in the API
    labels: Mapping[str, str] = field(default_factory=dict)
    link: str | None = None
    due: datetime | None = None  # when the step was due (escalation notices)

    def key(self, channel: str) -> str:
        """The notification log's key: one send per incident, step, channel and kind."""
        return f"{self.tenant}/{self.incident_id}/{self.step}/{channel}/{self.kind.value}"

    def as_dict(self) -> dict[str, Any]:
        """The message as plain JSON values (the default webhook body, and what
        templates see)."""
        return {
            "tenant": self.tenant,
            "incident_id": self.incident_id,
            "status": self.kind.value,
            "severity": self.severity.value,
            "summary": self.summary,
            "labels": dict(self.labels),
            "link": self.link,
            "escalation": {"step": self.step, "level": self.level, "due": _iso(self.due)},
            "at": _iso(self.at),
        }


def _iso(at: datetime | None) -> str | None:
    return None if at is None else at.isoformat().replace("+00:00", "Z")


KIND_OF_STATE = {
    IncidentState.TRIGGERED: MessageKind.FIRING,
    IncidentState.ACKNOWLEDGED: MessageKind.ACKNOWLEDGED,
    IncidentState.RESOLVED: MessageKind.RESOLVED,
}


def summary_of(incident: Incident) -> str:
    """One line for a notice: the first member's alertname, and how many more."""
    first = next(iter(incident.members.values()), None)
    summary = (first.labels.get("alertname", "") if first else "") or incident.group_key
    if len(incident.members) > 1:
        summary = f"{summary} and {len(incident.members) - 1} more"
    return summary


def message_of(incident: Incident, at: datetime, link: str | None = None) -> Message:
    """A notice of an incident as it stands (its state decides the kind)."""
    return Message(
        tenant=incident.tenant,
        incident_id=incident.id,
        kind=KIND_OF_STATE[incident.state],
        severity=incident.severity,
        summary=summary_of(incident),
        at=at,
        labels=dict(incident.group_labels),
        link=link,
    )
