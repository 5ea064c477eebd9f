"""Model metrics on cases small enough to check by hand."""

import pytest

from models.metrics import at_threshold, brier, pr_auc, report, roc_auc


@pytest.mark.parametrize(
    ("labels", "scores", "expected"),
    [
        ([0, 0, 1, 1], [0.1, 0.2, 0.8, 0.9], 1.0),  # every positive above every negative
        ([1, 1, 0, 0], [0.1, 0.2, 0.8, 0.9], 0.0),  # every positive below
        ([0, 1, 0, 1], [0.5, 0.5, 0.5, 0.5], 0.5),  # all tied: a coin toss
        ([0, 1, 0, 1], [0.1, 0.3, 0.35, 0.8], 0.75),  # 3 of the 4 pairs ordered right
    ],
)
def test_roc_auc(labels: list[int], scores: list[float], expected: float) -> None:
    assert roc_auc(labels, scores) == pytest.approx(expected)


def test_roc_auc_needs_both_classes() -> None:
    with pytest.raises(ValueError):
        roc_auc([1, 1], [0.2, 0.3])


def test_pr_auc_is_average_precision() -> None:
    # Ranked: 1 (hit, 1/1), 0, 1 (hit, 2/3): (1 + 2/3) / 2
    assert pr_auc([1, 0, 1], [0.9, 0.8, 0.7]) == pytest.approx((1 + 2 / 3) / 2)


def test_precision_recall_accuracy_at_a_threshold() -> None:
    got = at_threshold([1, 1, 0, 0], [0.9, 0.4, 0.6, 0.1], 0.5)
    assert got == {"precision": 0.5, "recall": 0.5, "accuracy": 0.5}


def test_brier_and_the_full_report() -> None:
    assert brier([1, 0], [1.0, 0.0]) == 0.0
    assert brier([1, 0], [0.5, 0.5]) == 0.25
    assert set(report([0, 1], [0.2, 0.7], 0.5)) == {
        "roc_auc",
        "pr_auc",
        "brier",
        "precision",
        "recall",
        "accuracy",
    }
