"""Champion or challenger: whether a newly trained model replaces the serving one.

Both are scored on the same newest held-out window. The challenger is promoted only
if it ranks incidents better (ROC-AUC) by at least ``margin`` and is not worse
calibrated (Brier) by more than ``brier_slack``: a model that merely matches the
champion is not worth a change in what pages people.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Decision:
    """Whether to promote, why, and the scores compared."""

    promote: bool
    reason: str
    scores: dict[str, float]


def decide(
    champion: dict[str, float] | None,
    challenger: dict[str, float],
    *,
    margin: float = 0.005,
    brier_slack: float = 0.01,
) -> Decision:
    """Compare the challenger's figures with the champion's on the same window (a
    challenger without figures was not evaluated: it is promoted only by hand)."""
    if not challenger:
        return Decision(False, "not evaluated (no held-out window): promote it by hand", {})
    scores = {f"challenger_{k}": v for k, v in challenger.items() if k in ("roc_auc", "brier")}
    if champion is None:
        return Decision(True, "no model serves yet", scores)
    scores |= {f"champion_{k}": v for k, v in champion.items() if k in ("roc_auc", "brier")}
    gain = challenger["roc_auc"] - champion["roc_auc"]
    if gain < margin:
        return Decision(False, f"ROC-AUC gain {gain:+.4f} is below {margin}", scores)
    worse = challenger["brier"] - champion["brier"]
    if worse > brier_slack:
        return Decision(False, f"Brier worse by {worse:.4f} (more than {brier_slack})", scores)
    return Decision(True, f"ROC-AUC {gain:+.4f}, Brier {-worse:+.4f} better", scores)
