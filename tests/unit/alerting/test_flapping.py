"""Flapping detection: transitions in a sliding window, and when a resolution is held."""

from datetime import UTC, datetime, timedelta

import pytest

from alerting.flapping import FlapHistory, FlapPolicy, hold_until

T0 = datetime(2026, 1, 1, tzinfo=UTC)
POLICY = FlapPolicy(max_transitions=4, window=timedelta(minutes=10), hold=timedelta(minutes=5))


def history(*minutes: float) -> FlapHistory:
    h = FlapHistory()
    for m in minutes:
        h.record(T0 + timedelta(minutes=m), POLICY)
    return h


@pytest.mark.parametrize(
    ("transitions", "now_minute", "flapping"),
    [
        ((0, 1, 2, 3), 3, False),  # four transitions: at the limit, not over it
        ((0, 1, 2, 3, 4), 4, True),  # five in ten minutes: flapping
        ((0, 1, 2, 3, 4), 10.5, False),  # the oldest has left the window: four remain
        ((0, 6, 12, 18, 24), 24, False),  # slow toggling is not flapping
    ],
)
def test_is_flapping(transitions: tuple[float, ...], now_minute: float, flapping: bool) -> None:
    now = T0 + timedelta(minutes=now_minute)
    assert history(*transitions).is_flapping(now, POLICY) is flapping


def test_a_flapping_resolution_is_held_for_the_hold_time() -> None:
    now = T0 + timedelta(minutes=4)
    assert hold_until(history(0, 1, 2, 3, 4), now, POLICY) == now + POLICY.hold
    assert hold_until(history(0, 1), now, POLICY) is None  # not flapping: takes effect


def test_zero_transitions_turns_detection_off() -> None:
    off = FlapPolicy(max_transitions=0)
    h = FlapHistory([T0] * 50)
    assert not h.is_flapping(T0, off)
    assert not off.enabled


def test_record_forgets_transitions_older_than_the_window() -> None:
    h = history(0, 1, 15)
    assert h.transitions == [T0 + timedelta(minutes=15)]
