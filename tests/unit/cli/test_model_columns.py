"""What ``vigil models`` and ``vigil train`` say of a model's held-out evaluation: the
base rate and the baseline beside the figures, a mark where the model does not beat
its best single input, and plainly when a model was not evaluated."""

from __future__ import annotations

import random
from dataclasses import replace

from cli.ml import evaluation_lines, held_out_columns, trust_lines
from models.example import Example
from models.features import FEATURE_NAMES
from models.registry import ModelCard
from models.train import train
from models.trust import SIMULATION


def card_of(trained_card: dict[str, object]) -> ModelCard:
    return ModelCard(version="v0001", **trained_card)  # type: ignore[arg-type]


def history(seed: int, informative: bool) -> list[Example]:
    """Incidents whose outcome two inputs each say something of (or none does)."""
    rng = random.Random(seed)
    examples = []
    for n in range(1500):
        label = int(rng.random() < 0.3)
        features = [rng.random() for _ in FEATURE_NAMES]
        if informative:
            features[2] = rng.gauss(label, 0.8)
            features[5] = rng.gauss(label, 0.8)
        examples.append(Example(1_700_000_000 + n * 60.0, features, label, "acme", f"i{n}"))
    return examples


def test_an_evaluated_model_shows_base_rate_and_baseline() -> None:
    card = card_of(train(history(1, informative=True), rounds=40).card)
    columns = held_out_columns(card)
    assert "!" not in columns  # using both inputs, it beats either alone
    lines = evaluation_lines(card)
    assert "none seen in training" in lines[0] and "actionable" in lines[0]
    assert (FEATURE_NAMES[2] in lines[2] or FEATURE_NAMES[5] in lines[2]) and "beats it" in lines[2]


def test_a_model_that_learnt_nothing_is_marked_and_one_not_evaluated_says_so() -> None:
    noise = card_of(train(history(2, informative=False), rounds=20).card)
    assert noise.evaluation is not None and not noise.evaluation["beats_baseline"]
    assert held_out_columns(noise).endswith("!")
    assert "does NOT beat" in evaluation_lines(noise)[2]
    blind = card_of(train(history(3, informative=True), holdout=0, rounds=5).card)
    assert "not evaluated" in held_out_columns(blind)
    assert "not evaluated" in evaluation_lines(blind)[0]


def test_the_trust_lines_say_per_tenant_whether_the_risk_is_provisional() -> None:
    card = card_of(train(history(1, informative=True), rounds=40).card)
    header, acme = trust_lines(card)
    assert "by tenant" in header
    # 1,500 incidents of acme, about 30 % actionable: enough to earn trust.
    assert acme.split()[0] == "acme" and acme.endswith("trusted")
    starter = replace(card, source=SIMULATION)
    (only,) = trust_lines(starter)
    assert "provisional for every tenant" in only and "simulated history" in only
