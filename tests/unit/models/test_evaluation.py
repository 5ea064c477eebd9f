"""Held-out evaluation without leaks: splits keep each incident on one side, the base
rate and calibration are reported, and the model is measured against its best single
input, chosen on the training side only."""

from __future__ import annotations

import math
import random

import pytest

from models.evaluation import (
    Figures,
    best_single_feature,
    by_group,
    by_time,
    evaluate_split,
    reliability,
)
from models.example import Example
from models.features import FEATURE_NAMES

WIDTH = len(FEATURE_NAMES)


def incidents(count: int, seed: int, snapshots: int = 3) -> list[Example]:
    """``count`` incidents of two tenants, each scored ``snapshots`` times over an hour;
    actionable when feature 3 is high (with noise), and feature 7 low when actionable."""
    rng = random.Random(seed)
    examples = []
    for n in range(count):
        actionable = rng.random() < 0.3
        start = 1_700_000_000 + n * 600.0
        for k in range(snapshots):
            features = [rng.random() for _ in range(WIDTH)]
            features[3] = rng.gauss(1.0 if actionable else 0.0, 0.6)
            features[7] = rng.gauss(0.0 if actionable else 1.0, 1.5)
            tenant = "acme" if n % 2 else "globex"
            examples.append(Example(start + k * 1200, features, int(actionable), tenant, f"i{n}"))
    rng.shuffle(examples)
    return examples


def sides(train: list[Example], test: list[Example]) -> tuple[set[str], set[str]]:
    return {e.incident_id for e in train}, {e.incident_id for e in test}


def test_the_time_split_keeps_each_incident_whole_and_tests_the_newest() -> None:
    train, test = by_time(incidents(200, 1), holdout=0.25)
    seen, tested = sides(train, test)
    assert not seen & tested  # no incident on both sides
    assert len(test) == pytest.approx(150, abs=3)
    first = {}
    for e in train + test:
        first[e.incident_id] = min(first.get(e.incident_id, e.at), e.at)
    assert max(first[i] for i in seen) < min(first[i] for i in tested)


def test_the_group_split_keeps_each_incident_whole_and_depends_only_on_its_seed() -> None:
    examples = incidents(200, 2)
    train, test = by_group(examples, holdout=0.3, seed=7)
    assert not set.intersection(*sides(train, test))
    again = by_group(examples, holdout=0.3, seed=7)
    assert sides(*again) == sides(train, test)
    assert sides(*by_group(examples, holdout=0.3, seed=8)) != sides(train, test)


def test_examples_without_an_incident_each_count_as_their_own() -> None:
    bare = [Example(float(n), [0.0] * WIDTH, n % 2) for n in range(40)]
    train, test = by_time(bare, holdout=0.25)
    assert len(test) == 10 and max(e.at for e in train) < min(e.at for e in test)


def test_a_split_without_both_classes_on_each_side_is_refused() -> None:
    examples = [Example(float(n), [0.0] * WIDTH, int(n >= 30), "t", f"i{n}") for n in range(40)]
    with pytest.raises(ValueError, match="both sides"):
        by_time(examples, holdout=0.25)  # the newest ten are all actionable


def test_the_reliability_curve_bins_predictions_and_observes_outcomes() -> None:
    labels = [0, 0, 1, 1, 1, 0]
    probabilities = [0.05, 0.08, 0.95, 0.91, 0.55, 0.52]
    curve = reliability(labels, probabilities)
    assert [(b["from"], b["count"], b["observed"]) for b in curve] == [
        (0.0, 2, 0.0),
        (0.5, 2, 0.5),
        (0.9, 2, 1.0),
    ]
    assert curve[2]["mean_predicted"] == pytest.approx(0.93)


def test_the_baseline_is_chosen_and_oriented_on_the_training_side() -> None:
    train, test = by_time(incidents(400, 3), holdout=0.25)
    baseline = best_single_feature(train, test)
    assert baseline.feature == FEATURE_NAMES[3] and baseline.higher_is_actionable
    assert baseline.figures.roc_auc > 0.75 and baseline.figures.brier is None
    # With feature 3 flattened, the next best is feature 7, whose low values matter.
    flat = [Example(e.at, [*e.features[:3], 0.5, *e.features[4:]], e.label) for e in train]
    second = best_single_feature(flat, test)
    assert second.feature == FEATURE_NAMES[7] and not second.higher_is_actionable


def test_a_model_no_better_than_its_best_input_is_reported_as_such() -> None:
    train, test = by_time(incidents(400, 4), holdout=0.25)

    def constant(_: object) -> object:
        return lambda examples: [0.3] * len(examples)

    flat = evaluate_split("time", train, test, constant)  # type: ignore[arg-type]
    assert flat.model.roc_auc == 0.5 and not flat.beats_baseline
    assert flat.base_rate == pytest.approx(sum(e.label for e in test) / len(test), abs=1e-4)
    assert flat.test_incidents == len({e.incident_id for e in test})
    record = flat.record()
    assert record["beats_baseline"] is False and record["baseline"]["feature"]

    def both_inputs(_: object) -> object:
        # What a model that learnt both inputs would score: each weighted by its
        # separation over its variance (a logistic of the two).
        return lambda examples: [
            1 / (1 + math.exp(-(2.8 * e.features[3] - 0.45 * e.features[7] - 1))) for e in examples
        ]

    better = evaluate_split("time", train, test, both_inputs)  # type: ignore[arg-type]
    assert better.beats_baseline
    assert isinstance(better.model, Figures) and better.model.brier is not None
    assert better.reliability and sum(b["count"] for b in better.reliability) == len(test)
