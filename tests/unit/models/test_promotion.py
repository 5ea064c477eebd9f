"""Champion/challenger decisions, each case a reason to promote or to refuse."""

import pytest

from models.promotion import decide


@pytest.mark.parametrize(
    ("champion", "challenger", "promote"),
    [
        # Nothing serves: the first model is promoted.
        (None, {"roc_auc": 0.7, "brier": 0.2}, True),
        # Clearly better ranking, calibration as good: promoted.
        ({"roc_auc": 0.80, "brier": 0.15}, {"roc_auc": 0.85, "brier": 0.14}, True),
        # Worse ranking: refused.
        ({"roc_auc": 0.85, "brier": 0.15}, {"roc_auc": 0.80, "brier": 0.10}, False),
        # Better by less than the margin: not worth a change.
        ({"roc_auc": 0.850, "brier": 0.15}, {"roc_auc": 0.852, "brier": 0.15}, False),
        # Better ranking but much worse calibration: refused.
        ({"roc_auc": 0.80, "brier": 0.10}, {"roc_auc": 0.85, "brier": 0.20}, False),
    ],
)
def test_decide(
    champion: dict[str, float] | None, challenger: dict[str, float], promote: bool
) -> None:
    decision = decide(champion, challenger)
    assert decision.promote is promote
    assert decision.reason
    assert "challenger_roc_auc" in decision.scores


def test_both_scores_are_kept_for_the_log() -> None:
    decision = decide({"roc_auc": 0.9, "brier": 0.1}, {"roc_auc": 0.8, "brier": 0.1})
    assert decision.scores == {
        "challenger_roc_auc": 0.8,
        "challenger_brier": 0.1,
        "champion_roc_auc": 0.9,
        "champion_brier": 0.1,
    }
