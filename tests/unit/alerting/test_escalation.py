"""Escalation as a timeline: which level is notified when, what stops it, what an SLA
breach does, and that overdue steps after downtime come once each, in order."""

from datetime import UTC, datetime, timedelta

import pytest

from alerting.escalation import (
    Breach,
    EscalationPolicy,
    EscalationState,
    Event,
    Level,
    Notify,
    SlaDeadlines,
    SlaTier,
    StepReason,
    Target,
    TargetKind,
    acknowledge,
    advance,
    escalate_now,
    pause,
    resolve,
    resume,
    start,
    state_from_record,
    state_to_record,
)
from alerting.severity import Severity

T0 = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


def t(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def level(name: str, after_s: float, *fallback: str) -> Level:
    return Level((Target(TargetKind.CHANNEL, name),), timedelta(seconds=after_s), fallback)


TWO = EscalationPolicy("two", (level("slack", 2, "teams", "webhook"), level("pager", 2)))
TIER = SlaTier(
    "enterprise",
    {
        Severity.CRITICAL: SlaDeadlines(timedelta(seconds=3), timedelta(seconds=5)),
        Severity.HIGH: SlaDeadlines(acknowledge=timedelta(seconds=30)),
    },
)


def run(
    policy: EscalationPolicy,
    checks: list[float],
    severity: Severity = Severity.WARNING,
    tier: SlaTier | None = None,
    ack_at: float | None = None,
) -> tuple[EscalationState, list[tuple[float, str]]]:
    """Advance at each check time (acknowledging at ``ack_at``); return the state and
    what happened as (due second, event) pairs."""
    state = start("inc-1", policy, severity, T0, tier)
    seen: list[Event] = []
    for second in sorted(checks + ([ack_at] if ack_at is not None else [])):
        state, events = advance(state, policy, t(second))
        seen += events
        if ack_at == second:
            state = acknowledge(state, t(second))
    return state, [(_seconds(e.due), describe(e)) for e in seen]


def _seconds(at: datetime) -> float:
    return (at - T0).total_seconds()


def describe(event: Event) -> str:
    if isinstance(event, Breach):
        return f"breach {event.deadline.value}"
    return f"level {event.level} run {event.run} ({event.reason.value})"


@pytest.mark.parametrize(
    ("policy", "checks", "ack_at", "expected"),
    [
        # Nobody acknowledges: level 0 at once, level 1 two seconds later, then done.
        (TWO, [0, 1, 2, 3, 10], None, [(0, "level 0 run 0 (start)"), (2, "level 1 run 0 (timer)")]),
        # Acknowledged at 1 s: level 1 is never notified.
        (TWO, [0, 2, 10], 1, [(0, "level 0 run 0 (start)")]),
        # repeat=1: the levels run twice, then stop.
        (
            EscalationPolicy("again", TWO.levels, repeat=1),
            [0, 2, 4, 6, 8, 20],
            None,
            [
                (0, "level 0 run 0 (start)"),
                (2, "level 1 run 0 (timer)"),
                (4, "level 0 run 1 (timer)"),
                (6, "level 1 run 1 (timer)"),
            ],
        ),
        # Down from 0.5 s to 10 s: each overdue step comes once, at its own due time.
        (
            EscalationPolicy("three", (*TWO.levels, level("boss", 60))),
            [0, 0.5, 10, 10],
            None,
            [
                (0, "level 0 run 0 (start)"),
                (2, "level 1 run 0 (timer)"),
                (4, "level 2 run 0 (timer)"),
            ],
        ),
    ],
)
def test_levels_follow_the_timers(
    policy: EscalationPolicy,
    checks: list[float],
    ack_at: float | None,
    expected: list[tuple[float, str]],
) -> None:
    state, happened = run(policy, checks, ack_at=ack_at)
    assert happened == expected
    assert not state.is_active


def test_an_acknowledge_deadline_breach_escalates_at_once() -> None:
    slow = EscalationPolicy("slow", (level("slack", 10), level("pager", 10)))
    state, happened = run(slow, [0, 3], Severity.CRITICAL, TIER)
    assert happened == [
        (0, "level 0 run 0 (start)"),
        (3, "breach acknowledge"),
        (3, "level 1 run 0 (sla)"),
    ]
    assert state.next_due is None  # the policy is used up
    assert state.resolve_due == t(5)  # the resolve deadline still runs


def test_the_resolve_deadline_runs_on_after_an_acknowledgement() -> None:
    slow = EscalationPolicy("slow", (level("slack", 10), level("pager", 10)))
    state, happened = run(slow, [0, 5, 30], Severity.CRITICAL, TIER, ack_at=1)
    assert happened == [
        (0, "level 0 run 0 (start)"),
        (5, "breach resolve"),
        (5, "level 1 run 0 (sla)"),  # the SLA promise holds even for an acked incident
    ]
    assert not state.is_active


def test_a_breach_after_the_policy_is_used_up_is_reported_alone() -> None:
    one = EscalationPolicy("one", (level("slack", 1),))
    _, happened = run(one, [0, 1, 3], Severity.CRITICAL, TIER)
    assert happened == [(0, "level 0 run 0 (start)"), (3, "breach acknowledge")]


def test_a_severity_without_deadlines_has_none() -> None:
    state = start("inc-1", TWO, Severity.INFO, T0, TIER)
    assert (state.acknowledge_due, state.resolve_due) == (None, None)
    high = start("inc-1", TWO, Severity.HIGH, T0, TIER)
    assert (high.acknowledge_due, high.resolve_due) == (t(30), None)


def test_escalate_now_notifies_the_next_level_and_restarts_its_timer() -> None:
    state = start("inc-1", TWO, Severity.WARNING, T0)
    state, _ = advance(state, TWO, t(0))
    state, notify = escalate_now(state, TWO, t(0.5))
    assert notify == Notify("inc-1", 1, 1, 0, TWO.levels[1].targets, (), StepReason.MANUAL, t(0.5))
    assert state.next_due is None  # that was the last level
    state, none = escalate_now(state, TWO, t(1))
    assert none is None  # nothing left to escalate to


def test_resolve_stops_everything_and_names_the_levels_that_were_notified() -> None:
    state = start("inc-1", TWO, Severity.CRITICAL, T0, TIER)
    state, events = advance(state, TWO, t(2))
    assert [e.level for e in events if isinstance(e, Notify)] == [0, 1]
    state, levels = resolve(state, t(2.5))
    assert levels == (0, 1)
    assert not state.is_active
    assert advance(state, TWO, t(100)) == (state, [])
    assert resolve(state, t(3)) == (state, ())  # resolved once
    assert escalate_now(state, TWO, t(3)) == (state, None)


def test_resolve_before_any_level_sends_no_resolved_notice() -> None:
    state = start("inc-1", TWO, Severity.WARNING, T0)
    _, levels = resolve(state, T0)
    assert levels == ()


def test_a_notify_carries_its_level_fallback_chain() -> None:
    state = start("inc-1", TWO, Severity.WARNING, T0)
    _, (first,) = advance(state, TWO, T0)
    assert isinstance(first, Notify)
    assert first.fallback == ("teams", "webhook")
    assert [str(x) for x in first.targets] == ["channel:slack"]


def test_acknowledging_twice_keeps_the_first_time() -> None:
    state = acknowledge(start("inc-1", TWO, Severity.WARNING, T0), t(1))
    assert acknowledge(state, t(2)).acknowledged_at == t(1)


def test_a_state_survives_its_record() -> None:
    import json

    from alerting.escalation import state_from_record, state_to_record

    state = start("inc-1", TWO, Severity.CRITICAL, t(0.25), TIER)
    state, _ = advance(state, TWO, t(2.5))
    state = acknowledge(state, t(2.75))
    record = json.loads(json.dumps(state_to_record(state)))
    assert state_from_record(record) == state


def test_a_pause_stops_the_clocks_and_resuming_moves_them_by_the_pause() -> None:
    policy = EscalationPolicy(
        "p", (Level((Target(TargetKind.CHANNEL, "a"),), timedelta(minutes=5)),) * 2
    )
    tier = SlaTier("t", {Severity.CRITICAL: SlaDeadlines(acknowledge=timedelta(minutes=10))})
    state = start("i", policy, Severity.CRITICAL, T0, tier)
    state, events = advance(state, policy, T0)
    assert len(events) == 1 and state.next_due == T0 + timedelta(minutes=5)
    paused = pause(state, T0 + timedelta(minutes=2))
    assert paused.due_at() is None
    assert advance(paused, policy, T0 + timedelta(hours=1)) == (paused, [])
    assert pause(paused, T0 + timedelta(minutes=3)) == paused  # already paused
    resumed = resume(paused, T0 + timedelta(minutes=32))
    assert resumed.paused_at is None
    assert resumed.next_due == T0 + timedelta(minutes=35)  # 3 minutes were left
    assert resumed.acknowledge_due == T0 + timedelta(minutes=40)
    assert resume(resumed, T0 + timedelta(minutes=33)) == resumed
    assert state_from_record(state_to_record(paused)) == paused
