"""Incidents: the alerts of one problem, paged once, with their story.

    triggered ──acknowledge──▶ acknowledged
        │                          │
        └──── every member resolved, or resolved by hand ──▶ resolved

An incident is one open group of one route (Alertmanager's aggregation group), plus
any alerts correlated into it by topology or similarity. Its severity is that of its
worst member. A resolved incident is closed for good: an alert that fires later
starts a new incident. Members are keyed by fingerprint; a member whose alert fires
again (a new occurrence) stays the same member with the new alert id.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from alerting.alert import AlertStatus
from alerting.errors import InvalidTransition, NotFound
from alerting.flush import Notified, notified_from_record
from alerting.relatedness import JoinReason
from alerting.risk import RiskScore
from alerting.severity import Severity
from alerting.timeutil import from_epoch


class IncidentNotFound(NotFound):
    """The named incident does not exist for the tenant asking."""

    what = "incident"


class IncidentState(StrEnum):
    """Where an incident is in its life."""

    TRIGGERED = "triggered"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"


@dataclass(slots=True)
class Member:
    """One alert (fingerprint) in an incident, why it is there, and what mutes it."""

    fingerprint: str
    alert_id: str
    labels: dict[str, str]
    severity: Severity
    status: AlertStatus
    reason: JoinReason
    detail: str
    joined_at: datetime
    received_at: datetime  # when the change that brought it was stored (ingest)
    starts_at: datetime
    score: float | None = None
    updated_at: datetime | None = None
    silenced_by: tuple[str, ...] = ()
    inhibited_by: tuple[str, ...] = ()
    flapping: bool = False
    held_until: datetime | None = None  # a flapping alert's resolution, held

    @property
    def is_open(self) -> bool:
        """Firing or acknowledged, or resolved but held because it flaps."""
        return self.status.is_open or self.held_until is not None

    @property
    def suppressed(self) -> bool:
        """Muted by a silence or an inhibition rule: shown, but not notified."""
        return bool(self.silenced_by or self.inhibited_by)


class TimelineEvent(StrEnum):
    """What a timeline entry records (the API shows the value)."""

    # The incident itself.
    CREATED = "created"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"
    FEEDBACK = "feedback"  # a person said whether it was actionable or noise
    RISK_CHANGED = "risk_changed"
    # Its alerts.
    ALERT_JOINED = "alert_joined"
    ALERT_FIRED_AGAIN = "alert_fired_again"
    ALERT_ACKNOWLEDGED = "alert_acknowledged"
    ALERT_RESOLVED = "alert_resolved"
    RESOLUTION_HELD = "resolution_held"  # a flapping alert's resolution waits
    HOLD_ENDED = "hold_ended"
    # What mutes them.
    SILENCED = "silenced"
    UNSILENCED = "unsilenced"
    INHIBITED = "inhibited"
    UNINHIBITED = "uninhibited"
    MUTED = "muted"  # every open alert is silenced or inhibited
    UNMUTED = "unmuted"
    # Its receiver's notifications and its escalation.
    NOTIFIED = "notified"
    ESCALATION_STARTED = "escalation_started"
    ESCALATION_PAUSED = "escalation_paused"
    ESCALATION_RESUMED = "escalation_resumed"
    ESCALATION_STOPPED = "escalation_stopped"  # acknowledged: no further levels
    ESCALATED = "escalated"
    SLA_BREACHED = "sla_breached"
    ON_CALL = "on_call"  # who a schedule target paged
    DELIVERED = "delivered"
    DELIVERY_FAILED = "delivery_failed"


@dataclass(frozen=True)
class TimelineEntry:
    """One thing that happened to an incident, and why."""

    at: datetime
    event: TimelineEvent
    detail: str = ""
    fingerprint: str | None = None
    by: str | None = None


@dataclass
class Incident:
    """One problem: its group, members, state and notification bookkeeping."""

    id: str
    tenant: str
    route: str  # the route's path ("" is the root)
    receiver: str
    group_key: str
    group_labels: dict[str, str]
    created_at: datetime
    updated_at: datetime
    severity: Severity
    state: IncidentState = IncidentState.TRIGGERED
    members: dict[str, Member] = field(default_factory=dict)
    group_keys: set[str] = field(default_factory=set)  # every group merged into it
    acknowledged_at: datetime | None = None
    acknowledged_by: str | None = None
    resolved_at: datetime | None = None
    resolved_by: str | None = None
    last_notified: Notified | None = None  # its groups' last notification (to anybody)
    muted_at: datetime | None = None  # since when every open member is muted
    timeline_length: int = 0  # entries ever added (storage keeps the newest ones)
    risk: RiskScore | None = None  # the model's latest opinion, if a model serves
    risk_paged: tuple[str, ...] = ()  # risk routes that have paged it
    feedback: str | None = None  # a person's verdict: "actionable" or "noise"
    feedback_by: str | None = None

    @property
    def is_open(self) -> bool:
        """Not resolved: new alerts of its groups still join it."""
        return self.state is not IncidentState.RESOLVED

    def all_muted(self) -> bool:
        """Open, with open members, and every one of them silenced or inhibited: its
        groups send nothing and its escalation waits (muting never resolves).

        Stops at the first open member that is not muted: asked every round an
        incident changes, it must not read all of a busy incident's members."""
        if not self.is_open:
            return False
        any_open = False
        for member in self.members.values():
            if member.is_open:
                if not member.suppressed:
                    return False
                any_open = True
        return any_open

    def muted_by(self) -> list[str]:
        """What mutes the open members: ``silence <id>`` and ``inhibited by <fingerprint>``
        (each once, in the order found)."""
        found: dict[str, None] = {}
        for member in self.members.values():
            if member.is_open:
                for silence in member.silenced_by:
                    found[f"silence {silence}"] = None
                for source in member.inhibited_by:
                    found[f"inhibited by {source}"] = None
        return list(found)

    def add(self, member: Member, now: datetime) -> TimelineEntry:
        """Take a new member; a resolved incident refuses (``InvalidTransition``)."""
        if not self.is_open:
            raise InvalidTransition(f"incident {self.id} is resolved and takes no new alerts")
        self.members[member.fingerprint] = member
        self.updated_at = now
        raised = member.severity > self.severity
        self.severity = max(self.severity, member.severity)
        detail = member.detail + (f"; severity now {self.severity}" if raised else "")
        return TimelineEntry(now, TimelineEvent.ALERT_JOINED, detail, member.fingerprint)

    def acknowledge(
        self, now: datetime, by: str | None, reason: str | None
    ) -> TimelineEntry | None:
        """Triggered → acknowledged (``None`` if it already was); resolved refuses."""
        if self.state is IncidentState.RESOLVED:
            raise InvalidTransition(f"incident {self.id} is resolved and cannot be acknowledged")
        if self.state is IncidentState.ACKNOWLEDGED:
            return None
        self.state = IncidentState.ACKNOWLEDGED
        self.acknowledged_at, self.acknowledged_by, self.updated_at = now, by, now
        return TimelineEntry(now, TimelineEvent.ACKNOWLEDGED, reason or "", by=by)

    def resolve(self, now: datetime, by: str | None, reason: str) -> TimelineEntry | None:
        """Close the incident (``None`` if it already was closed)."""
        if self.state is IncidentState.RESOLVED:
            return None
        self.state = IncidentState.RESOLVED
        self.resolved_at, self.resolved_by, self.updated_at = now, by, now
        return TimelineEntry(now, TimelineEvent.RESOLVED, reason, by=by)

    def settle(self, now: datetime) -> TimelineEntry | None:
        """Move to the state the members imply: resolved when none is open any more,
        acknowledged when every open member is acknowledged.

        Stops at the first member that rules both out (one still firing), so a large
        incident costs little while it is busy.
        """
        if not self.is_open:
            return None
        any_open = False
        for member in self.members.values():
            if member.is_open:
                any_open = True
                firing = member.status is not AlertStatus.ACKNOWLEDGED
                if firing or self.state is IncidentState.ACKNOWLEDGED:
                    return None
        if not any_open:
            return self.resolve(now, None, "every alert resolved")
        if self.state is IncidentState.TRIGGERED:
            return self.acknowledge(now, None, "every open alert acknowledged")
        return None

    def notifiable(self) -> tuple[frozenset[str], frozenset[str]]:
        """Fingerprints a notification would list now: (firing, resolved), unsuppressed.

        A resolved incident has nothing firing, even before its alerts' own
        resolutions arrive (it may have been resolved by hand).
        """
        firing = set()
        resolved = set()
        for fp, member in self.members.items():
            if member.suppressed:
                continue
            if member.is_open and self.is_open:
                firing.add(fp)
            else:
                resolved.add(fp)
        return frozenset(firing), frozenset(resolved)


def _time(value: datetime | None) -> float | None:
    return None if value is None else value.timestamp()


def _from_time(value: float | None) -> datetime | None:
    return None if value is None else from_epoch(value)


def member_to_record(member: Member) -> dict[str, Any]:
    """A member as a JSON-ready dict (times as epoch seconds)."""
    return {
        "fingerprint": member.fingerprint,
        "alert_id": member.alert_id,
        "labels": member.labels,
        "severity": member.severity.value,
        "status": member.status.value,
        "reason": member.reason.value,
        "detail": member.detail,
        "score": member.score,
        "joined_at": _time(member.joined_at),
        "received_at": _time(member.received_at),
        "starts_at": _time(member.starts_at),
        "updated_at": _time(member.updated_at),
        "silenced_by": list(member.silenced_by),
        "inhibited_by": list(member.inhibited_by),
        "flapping": member.flapping,
        "held_until": _time(member.held_until),
    }


def member_from_record(record: dict[str, Any]) -> Member:
    """The inverse of ``member_to_record``."""
    return Member(
        fingerprint=record["fingerprint"],
        alert_id=record["alert_id"],
        labels=dict(record["labels"]),
        severity=Severity(record["severity"]),
        status=AlertStatus(record["status"]),
        reason=JoinReason(record["reason"]),
        detail=record["detail"],
        score=record.get("score"),
        joined_at=_req_time(record["joined_at"]),
        received_at=_req_time(record["received_at"]),
        starts_at=_req_time(record["starts_at"]),
        updated_at=_from_time(record.get("updated_at")),
        silenced_by=tuple(record.get("silenced_by", ())),
        inhibited_by=tuple(record.get("inhibited_by", ())),
        flapping=bool(record.get("flapping", False)),
        held_until=_from_time(record.get("held_until")),
    )


def _req_time(value: float) -> datetime:
    found = _from_time(value)
    assert found is not None
    return found


def incident_to_record(incident: Incident) -> dict[str, Any]:
    """An incident's own fields (not its members) as a JSON-ready dict."""
    last = incident.last_notified
    return {
        "id": incident.id,
        "tenant": incident.tenant,
        "route": incident.route,
        "receiver": incident.receiver,
        "group_key": incident.group_key,
        "group_labels": incident.group_labels,
        "group_keys": sorted(incident.group_keys),
        "created_at": _time(incident.created_at),
        "updated_at": _time(incident.updated_at),
        "severity": incident.severity.value,
        "state": incident.state.value,
        "acknowledged_at": _time(incident.acknowledged_at),
        "acknowledged_by": incident.acknowledged_by,
        "resolved_at": _time(incident.resolved_at),
        "resolved_by": incident.resolved_by,
        "muted_at": _time(incident.muted_at),
        "timeline_length": incident.timeline_length,
        # When, not what: the notification log keeps what each group was told. The
        # lists of a big group's fingerprints here were re-encoded on every round.
        "last_notified": None if last is None else {"at": last.at.timestamp()},
        "risk": None if incident.risk is None else _risk_to_record(incident.risk),
        "risk_paged": list(incident.risk_paged),
        "feedback": incident.feedback,
        "feedback_by": incident.feedback_by,
    }


def _risk_to_record(risk: RiskScore) -> dict[str, Any]:
    record = {"value": risk.value, "model": risk.model, "at": _time(risk.at)}
    if risk.provisional is not None:
        record["provisional"] = risk.provisional
    return record


def _risk_from_record(record: dict[str, Any]) -> RiskScore:
    provisional = record.get("provisional")
    return RiskScore(
        float(record["value"]),
        str(record["model"]),
        _req_time(record["at"]),
        None if provisional is None else str(provisional),
    )


def incident_from_record(record: dict[str, Any], members: list[Member]) -> Incident:
    """The inverse of ``incident_to_record``, with the members stored beside it."""
    last = record.get("last_notified")
    return Incident(
        id=record["id"],
        tenant=record["tenant"],
        route=record["route"],
        receiver=record["receiver"],
        group_key=record["group_key"],
        group_labels=dict(record["group_labels"]),
        group_keys=set(record.get("group_keys", [record["group_key"]])),
        created_at=_req_time(record["created_at"]),
        updated_at=_req_time(record["updated_at"]),
        severity=Severity(record["severity"]),
        state=IncidentState(record["state"]),
        members={m.fingerprint: m for m in members},
        acknowledged_at=_from_time(record.get("acknowledged_at")),
        acknowledged_by=record.get("acknowledged_by"),
        resolved_at=_from_time(record.get("resolved_at")),
        resolved_by=record.get("resolved_by"),
        muted_at=_from_time(record.get("muted_at")),
        timeline_length=int(record.get("timeline_length", 0)),
        # Records written before the notification log existed also name the alerts.
        last_notified=None if last is None else notified_from_record(last),
        risk=None if record.get("risk") is None else _risk_from_record(record["risk"]),
        risk_paged=tuple(record.get("risk_paged", ())),
        feedback=record.get("feedback"),
        feedback_by=record.get("feedback_by"),
    )


def timeline_to_record(entry: TimelineEntry) -> dict[str, Any]:
    """A timeline entry as a JSON-ready dict."""
    record: dict[str, Any] = {"at": entry.at.timestamp(), "event": entry.event}
    if entry.detail:
        record["detail"] = entry.detail
    if entry.fingerprint:
        record["fingerprint"] = entry.fingerprint
    if entry.by:
        record["by"] = entry.by
    return record
