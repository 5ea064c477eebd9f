"""One retraining: train a challenger, judge it and the champion on the same newest
window, register it, and promote it or log the refusal with both scores.

``vigil train`` and the scheduled retraining task both call ``retrain``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from models.promotion import Decision, decide
from models.registry import ModelCard, ModelRegistry, UnknownModel
from models.train import Example, evaluate, time_split, train


@dataclass(frozen=True)
class Retrained:
    """The registered challenger, the decision, and the champion's figures (if any)."""

    card: ModelCard
    decision: Decision
    champion: str | None
    champion_metrics: dict[str, float] | None


def retrain(
    registry: ModelRegistry,
    examples: Sequence[Example],
    *,
    holdout: float = 0.25,
    rounds: int = 200,
    promote: str = "auto",
    notes: str = "",
    progress: Callable[[int, int], None] | None = None,
) -> Retrained:
    """Train on ``examples``; ``promote`` is ``auto`` (if it beats the champion),
    ``always`` or ``never``."""
    trained = train(examples, holdout=holdout, rounds=rounds, progress=progress)
    trained.card["notes"] = notes
    card = registry.register(trained.booster, trained.card)
    champion = registry.promoted()
    champion_metrics = None
    if champion is not None and holdout:
        _, newest = time_split(examples, holdout)  # the window the challenger was judged on
        try:
            champion_metrics = evaluate(registry.booster(champion), newest)
        except UnknownModel:
            champion = None
    decision = decide(champion_metrics, trained.metrics)
    evaluation = trained.card.get("evaluation")
    if decision.promote and evaluation is not None and not evaluation["beats_baseline"]:
        # A model that does not rank the held-out incidents better than one of its own
        # inputs would show a risk that means less than that input: never served
        # without a person deciding so.
        baseline = evaluation["baseline"]
        decision = Decision(
            False,
            f"does not beat its best single input, {baseline['feature']} "
            f"(ROC-AUC {evaluation['model']['roc_auc']:.3f} against "
            f"{baseline['figures']['roc_auc']:.3f})",
            decision.scores,
        )
    if promote == "always":
        decision = Decision(True, "promoted by hand", decision.scores)
    elif promote == "never":
        decision = Decision(False, "not promoted: asked not to", decision.scores)
    if decision.promote:
        registry.promote(card.version, decision.reason, decision.scores)
    else:
        registry.refuse(card.version, decision.reason, decision.scores)
    return Retrained(card, decision, champion, champion_metrics)
