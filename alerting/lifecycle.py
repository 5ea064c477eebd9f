"""The alert lifecycle: every state change as a pure function of (alert, input, now).

    (none) ──receive──▶ firing ──acknowledge──▶ acknowledged
                          │  ▲                       │
                 resolve / expire                resolve / expire
                          ▼  │ receive (fires again: new occurrence, new id)
                        resolved ◀───────────────────┘

A delivery for a fingerprint whose current occurrence is open refreshes it (a
duplicate). Each function returns ``Transition`` objects saying what changed and why,
or a transition with ``change=None`` when the call was a harmless repeat.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TypedDict

from alerting.alert import Alert, AlertStatus, IncomingAlert, ReportedStatus, trusted
from alerting.errors import InvalidTransition

DEFAULT_RESOLVE_TIMEOUT = timedelta(minutes=5)
"""As Alertmanager's ``resolve_timeout``: an alert not refreshed for this long is resolved."""

RESOLVED_BY_SOURCE = "source"
RESOLVED_BY_TIMEOUT = "timeout"


class ChangeKind(StrEnum):
    """Why an alert changed; each kind becomes one entry on the tenant's change stream."""

    CREATED = "created"
    DUPLICATE = "duplicate"
    REOPENED = "reopened"
    RESOLVED = "resolved"
    EXPIRED = "expired"
    ACKNOWLEDGED = "acknowledged"
    ESCALATED = "escalated"


class Action(StrEnum):
    """What a person (or PagerDuty's event, or an incident) asks of open alerts."""

    ACKNOWLEDGE = "acknowledge"
    RESOLVE = "resolve"


@dataclass(frozen=True)
class Transition:
    """The alert after a lifecycle step, and what changed (``None``: nothing did)."""

    alert: Alert
    change: ChangeKind | None
    by: str | None = None
    reason: str | None = None


class IngestResult(TypedDict):
    """What the API answers for one delivered alert (JSON as it is)."""

    id: str
    fingerprint: str
    status: str
    duplicate: bool
    occurrence: int


def ingest_result(step: Transition, previous_id: str | None) -> IngestResult:
    """The answer for a delivery that ended in ``step``; ``previous_id`` is the id of the
    occurrence it was matched to before (the same id: it was a duplicate)."""
    alert = step.alert
    return {
        "id": alert.id,
        "fingerprint": alert.fingerprint,
        "status": alert.status.value,
        "duplicate": previous_id == alert.id,
        "occurrence": alert.occurrence,
    }


def act(
    alert: Alert, action: Action, now: datetime, by: str | None, reason: str | None
) -> Transition:
    """Carry out ``action`` on an alert (``acknowledge`` or ``resolve``)."""
    if action is Action.ACKNOWLEDGE:
        return acknowledge(alert, now=now, by=by, reason=reason)
    return resolve(alert, now=now, by=by, reason=reason)


def receive(
    current: Alert | None,
    incoming: IncomingAlert,
    *,
    tenant: str,
    new_id: str,
    now: datetime,
    resolve_timeout: timedelta = DEFAULT_RESOLVE_TIMEOUT,
) -> list[Transition]:
    """Apply one delivery to the fingerprint's latest occurrence ``current``.

    Returns the transitions in order; the last one is the delivery's own result. An
    open ``current`` whose ``ends_at`` already passed is first expired, so a delivery
    arriving after the resolve timeout starts a new occurrence instead of reviving it.
    ``new_id`` is used only when a new occurrence is created.
    """
    steps: list[Transition] = []
    if current is not None and current.is_expired(now):
        expired = expire(current, now)
        steps.append(expired)
        current = expired.alert

    stopped = incoming.status is ReportedStatus.RESOLVED or (
        incoming.ends_at is not None and incoming.ends_at <= now
    )
    ends_at = _reported_end(incoming, stopped, now, resolve_timeout)

    if current is None or (not current.status.is_open and not stopped):
        steps.append(_new_occurrence(current, incoming, tenant, new_id, now, ends_at, stopped))
    elif current.status.is_open and stopped:
        resolved = current.model_copy(
            update={
                **_refresh_fields(current, incoming, now),
                "status": AlertStatus.RESOLVED,
                "ends_at": ends_at,
                "resolved_at": now,
                "resolved_by": RESOLVED_BY_SOURCE,
            }
        )
        steps.append(Transition(resolved, ChangeKind.RESOLVED, by=incoming.source))
    else:
        # Open and still firing, or resolved and reported resolved again: a duplicate.
        # A resolved alert keeps the end it already has.
        update = _refresh_fields(current, incoming, now)
        if current.status.is_open:
            update["ends_at"] = ends_at
        steps.append(Transition(current.model_copy(update=update), ChangeKind.DUPLICATE))
    return steps


def _reported_end(
    incoming: IncomingAlert, stopped: bool, now: datetime, resolve_timeout: timedelta
) -> datetime:
    """When the delivery says the alert ends: given, now (if stopped), or now + timeout."""
    if incoming.ends_at is not None and (stopped or incoming.ends_at > now):
        return min(incoming.ends_at, now) if stopped else incoming.ends_at
    return now if stopped else now + resolve_timeout


def _refresh_fields(current: Alert, incoming: IncomingAlert, now: datetime) -> dict[str, object]:
    """What every delivery updates: the newest annotations and severity, last seen, count."""
    starts_at = current.starts_at
    if incoming.starts_at is not None and incoming.starts_at < starts_at:
        starts_at = incoming.starts_at
    return {
        "annotations": dict(incoming.annotations),
        "severity": incoming.severity,
        "generator_url": incoming.generator_url or current.generator_url,
        "starts_at": starts_at,
        "last_seen": now,
        "updated_at": now,
        "count": current.count + 1,
    }


def _new_occurrence(
    previous: Alert | None,
    incoming: IncomingAlert,
    tenant: str,
    new_id: str,
    now: datetime,
    ends_at: datetime,
    stopped: bool,
) -> Transition:
    """A fresh alert: the fingerprint's first, or a new one after a resolution."""
    starts_at = incoming.starts_at or now
    if starts_at > ends_at:
        starts_at = ends_at
    # Every part was validated (the delivery at the ingress, the rest made here), so
    # the alert is assembled without validating it again: this runs once per new alert.
    alert = trusted(
        Alert,
        {
            "id": new_id,
            "tenant": tenant,
            "fingerprint": incoming.fingerprint,
            "labels": dict(incoming.labels),
            "annotations": dict(incoming.annotations),
            "severity": incoming.severity,
            "status": AlertStatus.RESOLVED if stopped else AlertStatus.FIRING,
            "starts_at": starts_at,
            "ends_at": ends_at,
            "generator_url": incoming.generator_url,
            "source": incoming.source,
            "occurrence": 1 if previous is None else previous.occurrence + 1,
            "count": 1,
            "first_seen": now,
            "last_seen": now,
            "updated_at": now,
            "acknowledged_at": None,
            "acknowledged_by": None,
            "resolved_at": now if stopped else None,
            "resolved_by": RESOLVED_BY_SOURCE if stopped else None,
            "escalation_level": 0,
            "escalated_at": None,
        },
    )
    kind = ChangeKind.CREATED if previous is None else ChangeKind.REOPENED
    return Transition(alert, kind, by=incoming.source)


def acknowledge(
    alert: Alert, *, now: datetime, by: str | None = None, reason: str | None = None
) -> Transition:
    """Firing → acknowledged. Acknowledging twice changes nothing; a resolved alert refuses."""
    if alert.status is AlertStatus.ACKNOWLEDGED:
        return Transition(alert, None)
    if alert.status is AlertStatus.RESOLVED:
        raise InvalidTransition(f"alert {alert.id} is resolved and cannot be acknowledged")
    acked = alert.model_copy(
        update={
            "status": AlertStatus.ACKNOWLEDGED,
            "acknowledged_at": now,
            "acknowledged_by": by,
            "updated_at": now,
        }
    )
    return Transition(acked, ChangeKind.ACKNOWLEDGED, by=by, reason=reason)


def resolve(
    alert: Alert, *, now: datetime, by: str | None = None, reason: str | None = None
) -> Transition:
    """Open → resolved by a person or tool. Resolving a resolved alert changes nothing."""
    if not alert.status.is_open:
        return Transition(alert, None)
    resolved = alert.model_copy(
        update={
            "status": AlertStatus.RESOLVED,
            "ends_at": min(alert.ends_at, now),
            "resolved_at": now,
            "resolved_by": by,
            "updated_at": now,
        }
    )
    return Transition(resolved, ChangeKind.RESOLVED, by=by, reason=reason)


def expire(alert: Alert, now: datetime) -> Transition:
    """Resolve an open alert whose ``ends_at`` passed (the resolve timeout); else no change."""
    if not alert.is_expired(now):
        return Transition(alert, None)
    expired = alert.model_copy(
        update={
            "status": AlertStatus.RESOLVED,
            "resolved_at": alert.ends_at,
            "resolved_by": RESOLVED_BY_TIMEOUT,
            "updated_at": now,
        }
    )
    return Transition(expired, ChangeKind.EXPIRED, by=RESOLVED_BY_TIMEOUT)


def escalate(
    alert: Alert,
    *,
    now: datetime,
    max_level: int,
    by: str | None = None,
    reason: str | None = None,
) -> Transition:
    """Raise an open alert one escalation level, never beyond ``max_level``."""
    if not alert.status.is_open:
        raise InvalidTransition(f"alert {alert.id} is resolved and cannot be escalated")
    if alert.escalation_level >= max_level:
        raise InvalidTransition(
            f"alert {alert.id} is already at the highest escalation level ({max_level})"
        )
    escalated = alert.model_copy(
        update={
            "escalation_level": alert.escalation_level + 1,
            "escalated_at": now,
            "updated_at": now,
        }
    )
    return Transition(escalated, ChangeKind.ESCALATED, by=by, reason=reason)


def purge_time(alert: Alert, retention: timedelta) -> datetime | None:
    """When a resolved alert may be forgotten (``None`` while it is open).

    Resolved alerts are kept for ``retention`` so that people and the correlator can
    still look them up; after that they only cost memory.
    """
    if alert.status.is_open or alert.resolved_at is None:
        return None
    return alert.resolved_at + retention
