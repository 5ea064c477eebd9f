"""GraphQL's object types, each built from what the REST API shows for the same thing,
so the two faces never disagree on a field (``incident_summary``, ``member_json``, the
alert's JSON form).

Names follow the seed's schema: ``CriticalAlert``, ``EscalationRule``,
``NotificationChannel``, ``AlertMetrics``; plus ``Incident``, ``Silence``, ``Schedule``
and ``OnCall``. A channel shows its type, name and health, never its address or secret.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

import strawberry
from strawberry.scalars import JSON

from alerting.alert import Alert
from alerting.matchers import MatchOp
from alerting.silence import Silence


def json_value(value: object) -> JSON:
    """Any JSON-ready value as the ``JSON`` scalar."""
    return cast(JSON, value)


def _when(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value.replace("Z", "+00:00"))


def _at(value: str) -> datetime:
    found = _when(value)
    assert found is not None
    return found


@strawberry.type(description="One occurrence of an alert, as Vigil stores it.")
class CriticalAlert:
    id: strawberry.ID
    fingerprint: str
    status: str
    severity: str
    labels: JSON
    annotations: JSON
    source: str
    starts_at: datetime
    ends_at: datetime
    first_seen: datetime
    last_seen: datetime
    updated_at: datetime
    count: int = strawberry.field(description="Repeats folded into this occurrence.")
    occurrence: int
    generator_url: str | None
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    resolved_at: datetime | None
    resolved_by: str | None
    escalation_level: int

    @classmethod
    def of(cls, alert: Alert) -> CriticalAlert:
        plain = alert.model_dump(include=PLAIN_ALERT_FIELDS)
        return cls(
            id=strawberry.ID(alert.id),
            status=alert.status.value,
            severity=alert.severity.value,
            labels=json_value(dict(alert.labels)),
            annotations=json_value(dict(alert.annotations)),
            **plain,
        )


PLAIN_ALERT_FIELDS = {
    name
    for name in CriticalAlert.__annotations__
    if name not in ("id", "status", "severity", "labels", "annotations")
}
"""The alert's fields that GraphQL shows as they are."""


@strawberry.type(description="An alert in an incident: why it joined, and what mutes it.")
class Member:
    fingerprint: str
    alert_id: str
    labels: JSON
    severity: str
    status: str
    reason: str = strawberry.field(description="Why it joined: group, related, storm...")
    detail: str | None
    score: float | None
    joined_at: datetime | None
    suppressed: bool
    silenced_by: list[str]
    inhibited_by: list[str]
    flapping: bool

    @classmethod
    def of(cls, record: dict[str, Any]) -> Member:
        return cls(
            fingerprint=record["fingerprint"],
            alert_id=record["alert_id"],
            labels=record["labels"],
            severity=record["severity"],
            status=record["status"],
            reason=record["reason"],
            detail=record.get("detail") or None,
            score=record.get("score"),
            joined_at=_when(record.get("joined_at")),
            suppressed=bool(record["suppressed"]),
            silenced_by=list(record["silenced_by"]),
            inhibited_by=list(record["inhibited_by"]),
            flapping=bool(record["flapping"]),
        )


@strawberry.type(description="One entry of an incident's timeline.")
class TimelineEntry:
    at: datetime
    event: str
    detail: JSON | None
    fingerprint: str | None
    by: str | None

    @classmethod
    def of(cls, record: dict[str, Any]) -> TimelineEntry:
        return cls(
            at=_at(record["at"]),
            event=record["event"],
            detail=record.get("detail"),
            fingerprint=record.get("fingerprint"),
            by=record.get("by"),
        )


@strawberry.type(description="Where an incident's escalation stands.")
class EscalationStatus:
    policy: str
    level: int = strawberry.field(description="The highest level paged so far (0: none).")
    levels_paged: list[int]
    next_due: datetime | None
    acknowledge_due: datetime | None
    resolve_due: datetime | None
    paused: bool = strawberry.field(description="Every open alert is muted: nothing is due.")
    active: bool = strawberry.field(description="Something will happen without a person.")
    people: JSON | None = strawberry.field(description="Level → who on-call targets paged.")

    @classmethod
    def of(cls, record: dict[str, Any] | None) -> EscalationStatus | None:
        if record is None:
            return None
        return cls(
            policy=record["policy"],
            level=record["level"],
            levels_paged=list(record["levels_paged"]),
            next_due=_when(record["next_due"]),
            acknowledge_due=_when(record["acknowledge_due"]),
            resolve_due=_when(record["resolve_due"]),
            paused=record["paused"],
            active=record["active"],
            people=record.get("people"),
        )


@strawberry.type(description="Related alerts handled as one, with its escalation.")
class Incident:
    id: strawberry.ID
    state: str
    severity: str
    route: str
    receiver: str
    group_key: str
    group_labels: JSON
    created_at: datetime
    updated_at: datetime
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    resolved_at: datetime | None
    resolved_by: str | None
    alert_count: int
    firing: int
    suppressed: int
    muted: bool
    muted_by: list[str]
    flapping: int
    last_notified_at: datetime | None
    risk: float | None
    risk_model: str | None
    risk_provisional: str | None = strawberry.field(
        description="Why the risk is only provisional (null: the model has earned trust "
        "for this tenant: evaluated, better than its best single input, and trained on "
        "enough of the tenant's own labelled incidents)."
    )
    feedback: str | None
    feedback_by: str | None
    # Set only where the incident was read whole (``incident(id:)``); a listing's
    # incidents leave them empty rather than read every timeline.
    members: list[Member] | None = None
    timeline: list[TimelineEntry] | None = None
    escalation: EscalationStatus | None = None

    @classmethod
    def of(cls, summary: dict[str, Any]) -> Incident:
        members = summary.get("members")
        timeline = summary.get("timeline")
        return cls(
            id=strawberry.ID(summary["id"]),
            state=summary["state"],
            severity=summary["severity"],
            route=summary["route"],
            receiver=summary["receiver"],
            group_key=summary["group_key"],
            group_labels=summary["group_labels"],
            created_at=_at(summary["created_at"]),
            updated_at=_at(summary["updated_at"]),
            acknowledged_at=_when(summary["acknowledged_at"]),
            acknowledged_by=summary["acknowledged_by"],
            resolved_at=_when(summary["resolved_at"]),
            resolved_by=summary["resolved_by"],
            alert_count=summary["alerts"],
            firing=summary["firing"],
            suppressed=summary["suppressed"],
            muted=summary["muted"],
            muted_by=list(summary["muted_by"]),
            flapping=summary["flapping"],
            last_notified_at=_when(summary["last_notified_at"]),
            risk=summary["risk"],
            risk_model=summary["risk_model"],
            risk_provisional=summary["risk_provisional"],
            feedback=summary["feedback"],
            feedback_by=summary["feedback_by"],
            members=None if members is None else [Member.of(m) for m in members],
            timeline=None if timeline is None else [TimelineEntry.of(e) for e in timeline],
            escalation=EscalationStatus.of(summary.get("escalation")),
        )


@strawberry.type(description="A page of alerts; pass nextCursor back as cursor.")
class AlertPage:
    items: list[CriticalAlert]
    total: int
    next_cursor: str | None


@strawberry.type(description="A page of incidents; pass nextCursor back as cursor.")
class IncidentPage:
    items: list[Incident]
    total: int
    next_cursor: str | None


@strawberry.type(description="A batch of incident changes, in the order they happened.")
class IncidentUpdate:
    position: str = strawberry.field(description="Resume a subscription from here.")
    incidents: list[Incident]
    removed: list[str]
    gap: bool = strawberry.field(description="Changes were missed: reload the list.")


@strawberry.type(description="A label matcher of a silence.")
class SilenceMatcher:
    name: str
    value: str
    is_regex: bool
    is_equal: bool


@strawberry.type(description="A silence: alerts whose labels match are not notified.")
class Silence_:
    id: strawberry.ID
    state: str
    matchers: list[SilenceMatcher]
    starts_at: datetime
    ends_at: datetime
    created_by: str
    comment: str
    updated_at: datetime

    @classmethod
    def of(cls, silence: Silence, now: datetime) -> Silence_:
        return cls(
            id=strawberry.ID(silence.id),
            state=silence.state(now).value,
            matchers=[
                SilenceMatcher(
                    name=m.name,
                    value=m.value,
                    is_regex=m.op in (MatchOp.REGEX, MatchOp.NOT_REGEX),
                    is_equal=m.op in (MatchOp.EQUAL, MatchOp.REGEX),
                )
                for m in silence.matchers
            ],
            starts_at=silence.starts_at,
            ends_at=silence.ends_at,
            created_by=silence.created_by,
            comment=silence.comment,
            updated_at=silence.updated_at,
        )


@strawberry.type(description="Who is or was to be paged at one level of a policy.")
class EscalationTarget:
    channel: str | None
    schedule: str | None


@strawberry.type(description="One level of an escalation policy.")
class EscalationLevel:
    level: int
    targets: list[EscalationTarget]
    escalate_after: str
    fallback: list[str]


@strawberry.type(description="An escalation policy: its levels, and how often it repeats.")
class EscalationRule:
    name: str
    levels: list[EscalationLevel]
    repeat: int
    receivers: list[str] = strawberry.field(description="Receivers that use this policy.")
    is_default: bool


@strawberry.type(description="What a channel's notices came to since its process started.")
class ChannelHealth:
    status: str = strawberry.field(description="healthy, degraded, failing or unknown")
    delivered: int
    failed: int
    by_fallback: int


@strawberry.type(description="Where notices go: its type and name, never its secret.")
class NotificationChannel:
    name: str
    type: str
    kind: str = strawberry.field(description="escalation (vigil.yaml) or receiver")
    health: ChannelHealth


@strawberry.type(description="The tenant's noise figures: what Vigil saved people from.")
class AlertMetrics:
    received: int
    duplicates: int
    incidents: int
    open_incidents: int
    alerts_per_incident: float | None
    suppressed: int
    notifications: int
    figures: JSON = strawberry.field(description="Every noise figure, as /api/v1/noise")


@strawberry.type(description="Who is on call for a schedule at a time.")
class OnCall:
    user: str | None
    source: str | None
    until: datetime | None


@strawberry.type(description="An on-call schedule, with who is on call now and next.")
class Schedule:
    id: str
    time_zone: str
    layers: list[str]
    now: OnCall
    next: OnCall | None


@strawberry.type(description="What a sent alert came to.")
class SendResult:
    id: str
    fingerprint: str
    status: str
    duplicate: bool
