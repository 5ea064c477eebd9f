"""When Vigil pages about itself (alerting/self_page.py)."""

from datetime import UTC, datetime, timedelta

from alerting.self_page import SelfPageAction, SelfPageState, decide, paged

T0 = datetime(2026, 11, 29, 12, tzinfo=UTC)
MIN = timedelta(minutes=1)
STALLED = ["escalator/acme stalled: no round for 31s (bound 30s)"]


def test_healthy_and_quiet_stays_quiet() -> None:
    assert decide(SelfPageState(), [], T0, 30 * MIN) == (SelfPageState(), SelfPageAction.NOTHING)


def test_a_failure_pages_once_then_waits_for_the_repeat() -> None:
    state, action = decide(SelfPageState(), STALLED, T0, 30 * MIN)
    assert action is SelfPageAction.PAGE and state.episode == 1 and state.failing_since == T0
    state = paged(state, T0)
    # Still failing a minute later: nothing new to send.
    state, action = decide(state, STALLED, T0 + MIN, 30 * MIN)
    assert action is SelfPageAction.NOTHING
    # Still failing when the repeat interval has passed: page again.
    state, action = decide(state, STALLED, T0 + 30 * MIN, 30 * MIN)
    assert action is SelfPageAction.PAGE and state.episode == 1


def test_without_a_repeat_a_lasting_failure_pages_once() -> None:
    state = paged(decide(SelfPageState(), STALLED, T0, None)[0], T0)
    assert decide(state, STALLED, T0 + 600 * MIN, None)[1] is SelfPageAction.NOTHING


def test_an_undelivered_page_is_tried_again_next_round() -> None:
    state, _ = decide(SelfPageState(), STALLED, T0, 30 * MIN)
    state, action = decide(state, STALLED, T0 + timedelta(seconds=1), 30 * MIN)
    assert action is SelfPageAction.PAGE


def test_recovery_of_a_paged_failure_is_announced_and_starts_afresh() -> None:
    state = paged(decide(SelfPageState(), STALLED, T0, 30 * MIN)[0], T0)
    state, action = decide(state, [], T0 + MIN, 30 * MIN)
    assert action is SelfPageAction.RECOVERED
    assert state == SelfPageState(episode=1)
    # The next failure is a new episode.
    state, action = decide(state, STALLED, T0 + 2 * MIN, 30 * MIN)
    assert action is SelfPageAction.PAGE and state.episode == 2


def test_a_failure_that_never_paged_recovers_silently() -> None:
    state, _ = decide(SelfPageState(), STALLED, T0, 30 * MIN)
    assert decide(state, [], T0 + MIN, 30 * MIN)[1] is SelfPageAction.NOTHING


def test_what_fails_is_kept_up_to_date() -> None:
    state = paged(decide(SelfPageState(), STALLED, T0, None)[0], T0)
    worse = [*STALLED, "correlator/acme lagging: oldest unapplied change 90.0s behind"]
    state, _ = decide(state, worse, T0 + MIN, None)
    assert state.failures == tuple(worse) and state.paged_at == T0
