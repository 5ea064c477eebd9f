"""Judging loops by their heartbeats (alerting/liveness.py)."""

from datetime import UTC, datetime, timedelta

import pytest

from alerting.liveness import (
    LivenessBounds,
    LoopBeat,
    LoopId,
    LoopKind,
    LoopStatus,
    all_ok,
    failures,
    judge,
    judge_loop,
)

T0 = datetime(2026, 11, 29, 12, tzinfo=UTC)
S = timedelta(seconds=1)
BOUNDS = LivenessBounds(stall_after=10 * S, max_correlation_lag=30 * S, max_escalation_lag=60 * S)
CORR = LoopId(LoopKind.CORRELATOR, "acme")
ESC = LoopId(LoopKind.ESCALATOR, "acme")
SINCE = T0 - 100 * S  # the watcher started long ago


def beat(loop: LoopId, ago: float, lag: float = 0.0) -> LoopBeat:
    return LoopBeat(loop, T0 - ago * S, lag, shard=0, pid=42)


@pytest.mark.parametrize(
    ("loop", "last", "since", "expected"),
    [
        # A fresh beat with nothing waiting: ok.
        (CORR, beat(CORR, 1), SINCE, LoopStatus.OK),
        # Exactly at the stall bound is still ok; past it, stalled.
        (CORR, beat(CORR, 10), SINCE, LoopStatus.OK),
        (CORR, beat(CORR, 10.5), SINCE, LoopStatus.STALLED),
        # A correlator 31 s behind its stream lags (bound 30 s) ...
        (CORR, beat(CORR, 1, lag=31), SINCE, LoopStatus.LAGGING),
        # ... while an escalator may be 31 s late (bound 60 s) but not 61 s.
        (ESC, beat(ESC, 1, lag=31), SINCE, LoopStatus.OK),
        (ESC, beat(ESC, 1, lag=61), SINCE, LoopStatus.LAGGING),
        # Stalled wins over lagging: the lag it reported is old news.
        (ESC, beat(ESC, 30, lag=61), SINCE, LoopStatus.STALLED),
        # Never beat, the watcher just started: starting, not a failure yet.
        (CORR, None, T0 - 5 * S, LoopStatus.STARTING),
        # Never beat within the stall bound of watching: stalled (an idle restart).
        (CORR, None, T0 - 11 * S, LoopStatus.STALLED),
        # A beat from a previous run (before watching began) counts as none.
        (CORR, beat(CORR, 20), T0 - 5 * S, LoopStatus.STARTING),
        (CORR, beat(CORR, 20), T0 - 15 * S, LoopStatus.STALLED),
    ],
)
def test_a_loop_is_judged_by_its_heartbeat(
    loop: LoopId, last: LoopBeat | None, since: datetime, expected: LoopStatus
) -> None:
    assert judge_loop(loop, last, T0, BOUNDS, since).status is expected


def test_judge_covers_expected_loops_and_every_loop_that_beat() -> None:
    runtime = LoopId(LoopKind.CORRELATOR, "made-at-run-time")
    health = judge(
        [CORR, ESC], {CORR: beat(CORR, 1), runtime: beat(runtime, 50)}, T0, BOUNDS, SINCE
    )
    assert [(str(h.loop), h.status) for h in health] == [
        ("correlator/acme", LoopStatus.OK),
        ("correlator/made-at-run-time", LoopStatus.STALLED),
        ("escalator/acme", LoopStatus.STALLED),  # expected, never beat
    ]
    assert not all_ok(health)
    assert [str(h.loop) for h in failures(health)] == [
        "correlator/made-at-run-time",
        "escalator/acme",
    ]


def test_starting_is_not_ready_but_pages_nobody() -> None:
    health = judge([CORR], {}, T0, BOUNDS, T0 - S)
    assert not all_ok(health) and failures(health) == []


def test_reasons_say_what_is_wrong_with_numbers() -> None:
    stalled = judge_loop(ESC, beat(ESC, 12.3), T0, BOUNDS, SINCE)
    assert stalled.reason == "no round for 12.3s (bound 10s)"
    lagging = judge_loop(CORR, beat(CORR, 1, lag=45), T0, BOUNDS, SINCE)
    assert lagging.reason == "oldest unapplied change 45.0s behind (bound 30s)"
    assert lagging.pid == 42 and lagging.beat_age_seconds == 1.0


def test_a_description_names_the_process_when_one_beat() -> None:
    stalled = judge_loop(ESC, beat(ESC, 12.3), T0, BOUNDS, SINCE)
    assert stalled.describe() == (
        "escalator/acme stalled: no round for 12.3s (bound 10s) (shard 0, pid 42)"
    )
    never = judge_loop(ESC, None, T0, BOUNDS, SINCE)  # nothing to say where it runs
    assert never.describe() == "escalator/acme stalled: no heartbeat in 100s (bound 10s)"


def test_loop_ids_read_back() -> None:
    assert LoopId.parse(str(ESC)) == ESC
    second_lane = LoopId(LoopKind.ESCALATOR, "acme", 1)
    assert str(second_lane) == "escalator/acme#1"  # lane 0 keeps the name without lanes
    assert LoopId.parse(str(second_lane)) == second_lane
    with pytest.raises(ValueError):
        LoopId.parse("escalator")
    with pytest.raises(ValueError):
        LoopId.parse("escalator/acme#x")
    with pytest.raises(ValueError):
        LoopId.parse("nonsense/acme")
