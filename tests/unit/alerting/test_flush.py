"""Group flush timing and the notify decision (Alertmanager's aggrGroup and DedupStage)."""

from datetime import UTC, datetime, timedelta

import pytest

from alerting.aggregation import AggregationGroup, GroupAlert
from alerting.flush import Notified, NotifyReason, notify_reason

T0 = datetime(2026, 1, 1, tzinfo=UTC)
HOUR = timedelta(hours=1)


def notified(
    firing: set[str], resolved: frozenset[str] = frozenset(), ago: timedelta = HOUR
) -> Notified:
    return Notified(T0 - ago, frozenset(firing), frozenset(resolved))


@pytest.mark.parametrize(
    ("last", "firing", "resolved", "send_resolved", "expected"),
    [
        # Never notified and something fires: the first notification.
        (None, {"a"}, set(), True, NotifyReason.FIRST),
        # Never notified and only resolved alerts: nothing to say.
        (None, set(), {"a"}, True, None),
        # An alert fires that the last notification did not list.
        (notified({"a"}), {"a", "b"}, set(), True, NotifyReason.NEW_FIRING),
        # Everything notified as firing has resolved: the all-clear.
        (notified({"a"}), set(), {"a"}, False, NotifyReason.ALL_RESOLVED),
        # Fired and resolved between flushes, never announced: stay quiet.
        (notified(set(), {"x"}), set(), {"a"}, True, None),
        # Some notified alerts resolved, and the receiver wants resolutions.
        (notified({"a", "b"}), {"a"}, {"b"}, True, NotifyReason.NEWLY_RESOLVED),
        # ... but not when it does not (and the repeat interval has not passed).
        (notified({"a", "b"}), {"a"}, {"b"}, False, None),
        # A firing alert that vanished from the set is not news by itself.
        (notified({"a", "b"}), {"a"}, set(), True, None),
        # Nothing changed but the repeat interval (4h) passed.
        (notified({"a"}, ago=5 * HOUR), {"a"}, set(), True, NotifyReason.REPEAT),
    ],
)
def test_notify_reason(
    last: Notified | None,
    firing: set[str],
    resolved: set[str],
    send_resolved: bool,
    expected: NotifyReason | None,
) -> None:
    got = notify_reason(
        last,
        frozenset(firing),
        frozenset(resolved),
        send_resolved=send_resolved,
        repeat_interval=4 * HOUR,
        now=T0,
    )
    assert got == expected


@pytest.mark.parametrize(
    ("starts_ago", "expected_delay"),
    [
        (timedelta(0), timedelta(seconds=30)),  # a fresh alert waits group_wait
        (timedelta(seconds=10), timedelta(seconds=30)),  # started within group_wait: waits
        (timedelta(minutes=5), timedelta(0)),  # started long ago: flushed at once
    ],
)
def test_first_flush_at(starts_ago: timedelta, expected_delay: timedelta) -> None:
    wait = timedelta(seconds=30)
    group = AggregationGroup("", "{}:{}", "team", {}, T0 + wait)  # made at T0
    group.insert("fp", GroupAlert("a1", {}, True), T0 - starts_ago, wait, T0)
    assert group.next_flush_at == T0 + expected_delay
