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
    if champion is not None:
        _, newest = time_split(examples, holdout)
        try:
            champion_metrics = evaluate(registry.booster(champion), newest)
        except UnknownModel:
            champion = None
    decision = decide(champion_metrics, trained.metrics)
    if promote == "always":
        decision = Decision(True, "promoted by hand", decision.scores)
    elif promote == "never":
        decision = Decision(False, "not promoted: asked not to", decision.scores)
    if decision.promote:
        registry.promote(card.version, decision.reason, decision.scores)
    else:
        registry.refuse(card.version, decision.reason, decision.scores)
    return Retrained(card, decision, champion, champion_metrics)
