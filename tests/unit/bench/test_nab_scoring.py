"""NAB's scoring rules on hand-made series: where a detection falls decides its worth."""

from datetime import datetime, timedelta

import pytest

from bench.nab_scoring import (
    PROFILES,
    Series,
    probation_length,
    scaled_sigmoid,
    score_corpus,
)

STANDARD = PROFILES[0]
T0 = datetime(2026, 1, 1)


def series(rows: int = 100, windows: list[tuple[int, int]] | None = None) -> Series:
    stamps = [T0 + timedelta(minutes=i) for i in range(rows)]
    return Series("s.csv", stamps, [0.0] * rows, [(50, 59)] if windows is None else windows)


def detections(rows: int, *at: int) -> list[float]:
    flags = [0.0] * rows
    for i in at:
        flags[i] = 1.0
    return flags


@pytest.mark.parametrize(
    ("position", "expected"),
    [
        (-1.0, 0.98661),  # a window's left edge: the earliest true positive
        (-0.5, 0.84828),  # halfway into the window
        (0.0, 0.0),  # its right edge
        (1.0, -0.98661),  # one window-width past it
        (3.0, -1.0),  # far past it: a full false positive
    ],
)
def test_scaled_sigmoid(position: float, expected: float) -> None:
    assert scaled_sigmoid(position) == pytest.approx(expected, abs=1e-5)


def test_probation_is_fifteen_percent_capped_at_750_points() -> None:
    assert probation_length(100) == 15
    assert probation_length(20_000) == 750


def normalized(s: Series, flags: list[float]) -> float:
    return score_corpus([s], {s.name: flags}, STANDARD).normalized


def test_a_detection_at_a_windows_start_is_the_perfect_score() -> None:
    # Worth 0.987 unweighted; NAB scales the earliest detection to the full TP weight.
    result = score_corpus([series()], {"s.csv": detections(100, 50)}, STANDARD)
    assert result.raw == pytest.approx(1.0)
    assert result.normalized == pytest.approx(100.0)


def test_a_later_detection_in_the_window_is_worth_less() -> None:
    # Index 55 of window 50..59: position -0.5, worth 0.84828 / 0.98661 of a TP.
    assert normalized(series(), detections(100, 55)) == pytest.approx(
        100 * (0.84828 / 0.98661 + 1) / 2, abs=1e-3
    )


def test_a_detection_after_the_window_is_penalised() -> None:
    # The window is missed (-1) and the detection is a false positive 6/9 of a width
    # past it: 0.11 * scaled_sigmoid(0.667), so the detector scores below the null one.
    result = score_corpus([series()], {"s.csv": detections(100, 65)}, STANDARD)
    assert result.raw == pytest.approx(-1.0 + 0.11 * scaled_sigmoid(6 / 9))
    assert result.normalized < 0


def test_the_null_detector_scores_zero() -> None:
    assert normalized(series(), [0.0] * 100) == pytest.approx(0.0)


def test_detections_in_the_probationary_period_do_not_count() -> None:
    assert normalized(series(), detections(100, 5)) == pytest.approx(0.0)


def test_only_a_windows_best_detection_counts_but_every_false_positive_does() -> None:
    # Two detections in the window count once; one before any window costs 0.11.
    result = score_corpus([series()], {"s.csv": detections(100, 20, 50, 52)}, STANDARD)
    assert result.raw == pytest.approx(1.0 - 0.11)


def test_the_threshold_is_chosen_to_maximise_the_score() -> None:
    # A strong score at the window's start and a weaker false alarm: the best threshold
    # keeps the first and drops the second.
    flags = [0.0] * 100
    flags[50], flags[30] = 0.9, 0.5
    result = score_corpus([series()], {"s.csv": flags}, STANDARD)
    assert 0.5 < result.threshold <= 0.9
    assert result.normalized == pytest.approx(100.0)
