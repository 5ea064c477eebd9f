"""Escalation: who is told about an incident nobody acknowledges, and when.

A policy is an ordered list of levels. The first level is notified when the incident
starts; each level waits its ``escalate_after`` and then, unless somebody has
acknowledged or resolved the incident, the next level is notified. After the last
level the policy starts again from the first, ``repeat`` more times, and then stops
(PagerDuty's model; Alertmanager has no escalation at all, its issue #686).

An SLA tier gives each severity an acknowledge deadline and a resolve deadline,
counted from the incident's start. A deadline that passes unmet is a **breach**: it
is reported once, and the incident escalates to its next level at once.

While every open alert of the incident is silenced or inhibited, its escalation is
**paused**: no level is notified and no deadline can breach. When an alert is
unmuted and still fires, the clocks go on where they stopped: the wait for the next
level and the time left to each deadline are what they were when the mute began.
(Muting is a person's decision, or a worse alert covering this one; either way the
incident is not over, and it is not this incident's on-call that is late.) An
incident muted before its first notification starts its escalation, at the first
level, when it is first notified.

Steps are due at fixed times, chained from when the previous step was *due*, not
from when it was carried out: after downtime every overdue step is returned, once
each, in order, and none is skipped. ``EscalationState`` is a plain value and every
function here is pure (time is passed in); ``actors/escalator.py`` stores the state
and the due times in Redis and carries the steps out.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from alerting.severity import Severity


class TargetKind(StrEnum):
    """What a level notifies: a channel directly, or whoever is on call for a schedule."""

    CHANNEL = "channel"
    SCHEDULE = "schedule"


@dataclass(frozen=True)
class Target:
    """One recipient of a level (a channel or an on-call schedule, by name)."""

    kind: TargetKind
    name: str

    def __str__(self) -> str:
        return f"{self.kind.value}:{self.name}"


@dataclass(frozen=True)
class Level:
    """One level: whom it notifies, how long it waits before the next level, and the
    channels to try in order when a target's channel fails."""

    targets: tuple[Target, ...]
    escalate_after: timedelta
    fallback: tuple[str, ...] = ()


@dataclass(frozen=True)
class EscalationPolicy:
    """Ordered levels, run ``1 + repeat`` times."""

    name: str
    levels: tuple[Level, ...]
    repeat: int = 0

    @property
    def steps(self) -> int:
        """How many notifications the policy makes at most (levels times runs)."""
        return len(self.levels) * (1 + self.repeat)

    def level_of(self, step: int) -> Level:
        """The level a step notifies (steps count on through repeats)."""
        return self.levels[step % len(self.levels)]


@dataclass(frozen=True)
class SlaDeadlines:
    """How long after the start an incident of one severity must be acknowledged and
    resolved (``None``: no such deadline)."""

    acknowledge: timedelta | None = None
    resolve: timedelta | None = None


@dataclass(frozen=True)
class SlaTier:
    """A named set of deadlines per severity (e.g. ``enterprise``, ``standard``)."""

    name: str
    deadlines: Mapping[Severity, SlaDeadlines] = field(default_factory=dict)

    def for_severity(self, severity: Severity) -> SlaDeadlines:
        return self.deadlines.get(severity, SlaDeadlines())


class Deadline(StrEnum):
    """The two SLA deadlines."""

    ACKNOWLEDGE = "acknowledge"
    RESOLVE = "resolve"


class StepReason(StrEnum):
    """Why a level was notified."""

    START = "start"  # the first level, when the incident starts
    TIMER = "timer"  # the previous level's escalate_after passed unacknowledged
    SLA = "sla"  # a deadline was breached
    MANUAL = "manual"  # somebody asked (PUT .../escalate)


@dataclass(frozen=True)
class Notify:
    """Notify one level: ``step`` counts across repeats (the idempotency key's part)."""

    incident_id: str
    step: int
    level: int
    run: int  # 0 for the first run of the policy, 1 for the first repeat, ...
    targets: tuple[Target, ...]
    fallback: tuple[str, ...]
    reason: StepReason
    due: datetime  # when it should happen (earlier than now after downtime)


@dataclass(frozen=True)
class Breach:
    """An SLA deadline passed unmet (reported once per deadline)."""

    incident_id: str
    deadline: Deadline
    due: datetime


Event = Notify | Breach


@dataclass(frozen=True)
class EscalationState:
    """Where one incident's escalation stands."""

    incident_id: str
    policy: str
    severity: Severity
    started_at: datetime
    next_step: int = 0  # the step notified next
    next_due: datetime | None = None  # when; None: stopped or the policy is used up
    acknowledge_due: datetime | None = None  # None: no deadline, met, or breached
    resolve_due: datetime | None = None
    acknowledged_at: datetime | None = None
    resolved_at: datetime | None = None
    notified_levels: tuple[int, ...] = ()  # levels that got a firing notice, ascending
    paused_at: datetime | None = None  # muted since then: nothing is due

    @property
    def is_active(self) -> bool:
        """Whether anything can still happen without a person's action."""
        return self.due_at() is not None

    def due_at(self) -> datetime | None:
        """The next time ``advance`` has something to do (``None`` while paused)."""
        if self.paused_at is not None:
            return None
        times = [t for t in (self.next_due, self.acknowledge_due, self.resolve_due) if t]
        return min(times) if times else None


def start(
    incident_id: str,
    policy: EscalationPolicy,
    severity: Severity,
    started_at: datetime,
    tier: SlaTier | None = None,
) -> EscalationState:
    """A new escalation: the first level is due at ``started_at``."""
    deadlines = tier.for_severity(severity) if tier is not None else SlaDeadlines()
    return EscalationState(
        incident_id=incident_id,
        policy=policy.name,
        severity=severity,
        started_at=started_at,
        next_due=started_at if policy.steps else None,
        acknowledge_due=_after(started_at, deadlines.acknowledge),
        resolve_due=_after(started_at, deadlines.resolve),
    )


def _after(start: datetime, span: timedelta | None) -> datetime | None:
    return None if span is None else start + span


def advance(
    state: EscalationState, policy: EscalationPolicy, now: datetime
) -> tuple[EscalationState, list[Event]]:
    """Everything due by ``now``, oldest first, and the state after it."""
    events: list[Event] = []
    while True:
        due = state.due_at()
        if due is None or due > now:
            return state, events
        if state.acknowledge_due == due or state.resolve_due == due:
            if state.acknowledge_due == due:
                events.append(Breach(state.incident_id, Deadline.ACKNOWLEDGE, due))
                state = replace(state, acknowledge_due=None)
            else:
                events.append(Breach(state.incident_id, Deadline.RESOLVE, due))
                state = replace(state, resolve_due=None)
            state = _notify_next(state, policy, StepReason.SLA, due, events)
        else:
            reason = StepReason.START if state.next_step == 0 else StepReason.TIMER
            state = _notify_next(state, policy, reason, due, events)


def _notify_next(
    state: EscalationState,
    policy: EscalationPolicy,
    reason: StepReason,
    due: datetime,
    events: list[Event],
) -> EscalationState:
    """Notify the next step at ``due``; the one after is due ``escalate_after`` later
    (unless the incident is acknowledged or resolved: then only deadlines remain)."""
    step = state.next_step
    if step >= policy.steps:
        return replace(state, next_due=None)  # a breach after the policy is used up
    level = policy.level_of(step)
    index = step % len(policy.levels)
    events.append(
        Notify(
            state.incident_id,
            step,
            index,
            step // len(policy.levels),
            level.targets,
            level.fallback,
            reason,
            due,
        )
    )
    stopped = state.acknowledged_at is not None or state.resolved_at is not None
    more = step + 1 < policy.steps and not stopped
    return replace(
        state,
        next_step=step + 1,
        next_due=due + level.escalate_after if more else None,
        notified_levels=tuple(sorted({*state.notified_levels, index})),
    )


def escalate_now(
    state: EscalationState, policy: EscalationPolicy, now: datetime
) -> tuple[EscalationState, Notify | None]:
    """Notify the next level at once (``PUT .../escalate``); ``None`` when the incident
    is resolved or the policy is used up."""
    if state.resolved_at is not None or state.next_step >= policy.steps:
        return state, None
    events: list[Event] = []
    state = _notify_next(state, policy, StepReason.MANUAL, now, events)
    (notify,) = events
    assert isinstance(notify, Notify)
    return state, notify


def acknowledge(state: EscalationState, now: datetime) -> EscalationState:
    """Somebody took it: no more levels; the resolve deadline still runs."""
    if state.acknowledged_at is not None or state.resolved_at is not None:
        return state
    return replace(state, acknowledged_at=now, next_due=None, acknowledge_due=None)


def pause(state: EscalationState, now: datetime) -> EscalationState:
    """Every open alert is muted: stop the clocks (nothing changes if already paused
    or over)."""
    if state.paused_at is not None or state.resolved_at is not None:
        return state
    return replace(state, paused_at=now)


def resume(state: EscalationState, now: datetime) -> EscalationState:
    """An alert is unmuted: the clocks go on, each due time moved by the pause."""
    if state.paused_at is None:
        return state
    paused = max(timedelta(0), now - state.paused_at)

    def later(at: datetime | None) -> datetime | None:
        return None if at is None else at + paused

    return replace(
        state,
        paused_at=None,
        next_due=later(state.next_due),
        acknowledge_due=later(state.acknowledge_due),
        resolve_due=later(state.resolve_due),
    )


def resolve(state: EscalationState, now: datetime) -> tuple[EscalationState, tuple[int, ...]]:
    """It is over: nothing more is due. Returns the levels to send a resolved notice
    to (those that got a firing notice, and only those)."""
    if state.resolved_at is not None:
        return state, ()
    stopped = replace(
        state,
        resolved_at=now,
        next_due=None,
        acknowledge_due=None,
        resolve_due=None,
        paused_at=None,
    )
    return stopped, state.notified_levels


def _stamp(at: datetime | None) -> float | None:
    return None if at is None else at.timestamp()


def _time(value: Any) -> datetime | None:
    return None if value is None else datetime.fromtimestamp(float(value), tz=UTC)


def state_to_record(state: EscalationState) -> dict[str, Any]:
    """The state as JSON values (times as epoch seconds), for Redis."""
    return {
        "incident_id": state.incident_id,
        "policy": state.policy,
        "severity": state.severity.value,
        "started_at": state.started_at.timestamp(),
        "next_step": state.next_step,
        "next_due": _stamp(state.next_due),
        "acknowledge_due": _stamp(state.acknowledge_due),
        "resolve_due": _stamp(state.resolve_due),
        "acknowledged_at": _stamp(state.acknowledged_at),
        "resolved_at": _stamp(state.resolved_at),
        "notified_levels": list(state.notified_levels),
        "paused_at": _stamp(state.paused_at),
    }


def state_from_record(record: Mapping[str, Any]) -> EscalationState:
    """The state a record stores (``state_to_record``'s inverse)."""
    started = _time(record["started_at"])
    assert started is not None
    return EscalationState(
        incident_id=str(record["incident_id"]),
        policy=str(record["policy"]),
        severity=Severity(record["severity"]),
        started_at=started,
        next_step=int(record["next_step"]),
        next_due=_time(record["next_due"]),
        acknowledge_due=_time(record["acknowledge_due"]),
        resolve_due=_time(record["resolve_due"]),
        acknowledged_at=_time(record["acknowledged_at"]),
        resolved_at=_time(record["resolved_at"]),
        notified_levels=tuple(int(n) for n in record["notified_levels"]),
        paused_at=_time(record.get("paused_at")),
    )
