"""One retraining: train a challenger, judge it and the champion on the same held-out
incidents (the newest, or at random when the newest are all of one kind:
``models.train.held_out_split``), register it, and promote it or log the refusal
with both scores.

The window both are judged on holds only incidents **newer than anything the champion
was fitted on**: the served model is fitted on every example it was given (see
``models/train.py``), so scoring it on incidents it learnt would flatter it. The
challenger is judged there by the model its own evaluation fitted on the older side.
When the champion has seen the whole held-out window (retrained again before new
incidents were labelled) there is nothing fair to compare on; the challenger, which
learnt from the same incidents and more, is then judged alone against its baseline.

``vigil train`` and the scheduled retraining task both call ``retrain``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from models.promotion import Decision, decide
from models.registry import ModelCard, ModelRegistry, UnknownModel
from models.train import Example, evaluate, train


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
    source: str = "history",
    progress: Callable[[int, int], None] | None = None,
) -> Retrained:
    """Train on ``examples``; ``promote`` is ``auto`` (if it beats the champion),
    ``always`` or ``never``; ``source`` says where the examples came from
    (``models.trust.SIMULATION`` for the simulator)."""
    trained = train(examples, holdout=holdout, rounds=rounds, progress=progress)
    said = [notes, trained.card.get("notes", "")]  # train() says why it did not evaluate
    trained.card.update(notes="; ".join(n for n in said if n), source=source)
    card = registry.register(trained.booster, trained.card)
    champion = registry.promoted()
    champion_metrics = None
    challenger_metrics = trained.metrics
    champion_saw_all = False
    if champion is not None and trained.judged is not None:
        try:
            champion_card = registry.card(champion)
            # The incidents the challenger was judged on that the champion never saw.
            unseen = [e for e in trained.held_out if e.at > champion_card.trained_until]
            if len({e.label for e in unseen}) == 2:
                champion_metrics = evaluate(registry.booster(champion), unseen)
                challenger_metrics = evaluate(trained.judged, unseen)
            else:  # nothing it has not seen: nothing fair to compare on
                champion, champion_saw_all = None, True
        except UnknownModel:
            champion = None
    decision = decide(champion_metrics, challenger_metrics)
    if champion_saw_all and decision.promote:
        decision = Decision(
            True,
            "the champion has seen every held-out incident: judged against its baseline only",
            decision.scores,
        )
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
