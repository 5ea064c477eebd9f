"""The alert lifecycle as a table of transitions, each with what it proves."""

from datetime import timedelta

import pytest

from alerting.alert import Alert, AlertStatus, ReportedStatus
from alerting.errors import InvalidTransition
from alerting.fingerprint import fingerprint
from alerting.lifecycle import (
    RESOLVED_BY_TIMEOUT,
    ChangeKind,
    acknowledge,
    escalate,
    expire,
    purge_time,
    receive,
    resolve,
)
from alerting.severity import Severity

from .helpers import at, incoming

TIMEOUT = timedelta(minutes=5)


def first(now_s: float = 0, **overrides: object) -> Alert:
    """The alert created by a first delivery at ``now_s``."""
    steps = receive(None, incoming(**overrides), tenant="acme", new_id="a1", now=at(now_s))
    return steps[-1].alert


def test_first_delivery_creates_a_firing_alert() -> None:
    (step,) = receive(None, incoming(), tenant="acme", new_id="a1", now=at(0))
    a = step.alert
    assert step.change is ChangeKind.CREATED
    assert (a.id, a.tenant, a.status, a.occurrence, a.count) == (
        "a1",
        "acme",
        AlertStatus.FIRING,
        1,
        1,
    )
    assert a.fingerprint == fingerprint({"alertname": "HighLatency", "service": "db"})
    # Without an end time the alert lives for the resolve timeout, as in Alertmanager.
    assert a.starts_at == at(0) and a.ends_at == at(0) + TIMEOUT
    assert a.first_seen == a.last_seen == at(0)


# (delivery at second, incoming overrides, expected change, status, count, what it proves)
DUPLICATE_CASES = [
    (10, {}, ChangeKind.DUPLICATE, AlertStatus.FIRING, 2),  # same labels refresh, no new alert
    (10, {"annotations": {"summary": "p99 3s"}}, ChangeKind.DUPLICATE, AlertStatus.FIRING, 2),
    # ^ the newest annotations win
    (10, {"status": ReportedStatus.RESOLVED}, ChangeKind.RESOLVED, AlertStatus.RESOLVED, 2),
    # ^ the sender says it stopped
    (10, {"ends_at": at(5)}, ChangeKind.RESOLVED, AlertStatus.RESOLVED, 2),
    # ^ an end time in the past also means it stopped (Prometheus sends resolved this way)
]


@pytest.mark.parametrize(("t", "overrides", "change", "status", "count"), DUPLICATE_CASES)
def test_second_delivery_of_an_open_alert(
    t: float, overrides: dict[str, object], change: ChangeKind, status: AlertStatus, count: int
) -> None:
    current = first()
    steps = receive(current, incoming(**overrides), tenant="acme", new_id="a2", now=at(t))
    step = steps[-1]
    assert len(steps) == 1
    assert step.change is change
    assert step.alert.id == "a1"  # never a second alert for one open fingerprint
    assert step.alert.status is status
    assert step.alert.count == count
    assert step.alert.last_seen == at(t)
    assert step.alert.first_seen == at(0)


def test_duplicate_extends_ends_at_and_keeps_the_earliest_start() -> None:
    current = first(0, starts_at=at(0))
    (step,) = receive(current, incoming(starts_at=at(-30)), tenant="acme", new_id="x", now=at(60))
    assert step.alert.ends_at == at(60) + TIMEOUT  # refreshed
    assert step.alert.starts_at == at(-30)  # an earlier start reported later still counts


def test_duplicate_keeps_acknowledgement() -> None:
    # Prometheus re-sends firing alerts every minute: that must not undo an ack.
    acked = acknowledge(first(), now=at(5), by="ann").alert
    (step,) = receive(acked, incoming(), tenant="acme", new_id="x", now=at(60))
    assert step.alert.status is AlertStatus.ACKNOWLEDGED
    assert step.change is ChangeKind.DUPLICATE


def test_firing_again_after_resolution_is_a_new_occurrence() -> None:
    resolved = resolve(first(), now=at(10), by="ann").alert
    (step,) = receive(resolved, incoming(), tenant="acme", new_id="a2", now=at(20))
    assert step.change is ChangeKind.REOPENED
    assert (step.alert.id, step.alert.occurrence, step.alert.count) == ("a2", 2, 1)
    assert step.alert.status is AlertStatus.FIRING
    assert step.alert.first_seen == at(20)


def test_resolved_reported_again_is_a_duplicate_that_keeps_its_end() -> None:
    # Prometheus keeps sending a resolved alert for a while; that must not reopen it.
    resolved = receive(
        first(), incoming(status=ReportedStatus.RESOLVED), tenant="acme", new_id="x", now=at(10)
    )[-1].alert
    (step,) = receive(
        resolved, incoming(status=ReportedStatus.RESOLVED), tenant="acme", new_id="x", now=at(70)
    )
    assert step.change is ChangeKind.DUPLICATE
    assert step.alert.status is AlertStatus.RESOLVED
    assert step.alert.ends_at == at(10)


def test_first_delivery_already_resolved_is_stored_resolved() -> None:
    # A sender may report an alert's end before Vigil saw it fire (e.g. after a restart).
    (step,) = receive(
        None, incoming(status=ReportedStatus.RESOLVED), tenant="acme", new_id="a1", now=at(0)
    )
    assert step.change is ChangeKind.CREATED
    assert step.alert.status is AlertStatus.RESOLVED


def test_delivery_after_the_resolve_timeout_expires_then_reopens() -> None:
    # Silence for longer than the timeout means it ended; a new delivery is a new occurrence.
    current = first(0)
    steps = receive(current, incoming(), tenant="acme", new_id="a2", now=at(301))
    assert [s.change for s in steps] == [ChangeKind.EXPIRED, ChangeKind.REOPENED]
    assert steps[0].alert.id == "a1" and steps[0].alert.resolved_by == RESOLVED_BY_TIMEOUT
    assert steps[1].alert.id == "a2" and steps[1].alert.occurrence == 2


# (alert's state, action, expected change or error, what it proves)
@pytest.mark.parametrize(
    ("prepare", "action", "expected"),
    [
        ("firing", "acknowledge", ChangeKind.ACKNOWLEDGED),  # firing → acknowledged
        ("acknowledged", "acknowledge", None),  # acknowledging twice is a no-op
        ("resolved", "acknowledge", InvalidTransition),  # a resolved alert cannot be acked
        ("firing", "resolve", ChangeKind.RESOLVED),  # firing → resolved
        ("acknowledged", "resolve", ChangeKind.RESOLVED),  # acknowledged → resolved
        ("resolved", "resolve", None),  # resolving twice is a no-op
        ("firing", "escalate", ChangeKind.ESCALATED),  # an open alert escalates
        ("acknowledged", "escalate", ChangeKind.ESCALATED),  # escalation after ack is allowed
        ("resolved", "escalate", InvalidTransition),  # a resolved alert cannot escalate
    ],
)
def test_manual_actions(prepare: str, action: str, expected: object) -> None:
    alert = first()
    if prepare == "acknowledged":
        alert = acknowledge(alert, now=at(1), by="ann").alert
    elif prepare == "resolved":
        alert = resolve(alert, now=at(1), by="ann").alert

    def run() -> object:
        if action == "acknowledge":
            return acknowledge(alert, now=at(2), by="bob").change
        if action == "resolve":
            return resolve(alert, now=at(2), by="bob").change
        return escalate(alert, now=at(2), max_level=5, by="bob").change

    if isinstance(expected, type) and issubclass(expected, Exception):
        with pytest.raises(expected):
            run()
    else:
        assert run() is expected


def test_acknowledge_records_who_and_when() -> None:
    acked = acknowledge(first(), now=at(3), by="ann").alert
    assert (acked.status, acked.acknowledged_at, acked.acknowledged_by) == (
        AlertStatus.ACKNOWLEDGED,
        at(3),
        "ann",
    )


def test_manual_resolve_ends_the_alert_now() -> None:
    resolved = resolve(first(), now=at(3), by="ann").alert
    assert (resolved.ends_at, resolved.resolved_at, resolved.resolved_by) == (at(3), at(3), "ann")


def test_escalation_is_capped_at_max_level() -> None:
    alert = first()
    for level in range(1, 4):
        alert = escalate(alert, now=at(level), max_level=3).alert
        assert alert.escalation_level == level
    with pytest.raises(InvalidTransition, match="highest escalation level \\(3\\)"):
        escalate(alert, now=at(9), max_level=3)


# (seconds after creation, expected change, what it proves)
@pytest.mark.parametrize(
    ("t", "expected"),
    [
        (299, None),  # still inside the resolve timeout
        (300, ChangeKind.EXPIRED),  # ends_at reached: resolved
        (900, ChangeKind.EXPIRED),  # long past: resolved, at its ends_at
    ],
)
def test_expire(t: float, expected: ChangeKind | None) -> None:
    step = expire(first(), at(t))
    assert step.change is expected
    if expected is not None:
        assert step.alert.resolved_at == at(300)  # resolved when it ended, not when noticed


def test_expire_leaves_resolved_alone() -> None:
    resolved = resolve(first(), now=at(1)).alert
    assert expire(resolved, at(1000)).change is None


def test_severity_follows_the_newest_delivery() -> None:
    current = first(severity=Severity.WARNING)
    (step,) = receive(
        current, incoming(severity=Severity.CRITICAL), tenant="acme", new_id="x", now=at(5)
    )
    assert step.alert.severity is Severity.CRITICAL


# (alert state, expected purge time, what it proves)
@pytest.mark.parametrize(
    ("state", "expected"),
    [
        ("firing", None),  # open alerts are never purged
        ("acknowledged", None),  # nor acknowledged ones
        ("resolved", at(10) + timedelta(hours=1)),  # resolved: kept for the retention
    ],
)
def test_purge_time(state: str, expected: object) -> None:
    alert = first()
    if state == "acknowledged":
        alert = acknowledge(alert, now=at(5)).alert
    if state == "resolved":
        alert = resolve(alert, now=at(10)).alert
    assert purge_time(alert, timedelta(hours=1)) == expected
