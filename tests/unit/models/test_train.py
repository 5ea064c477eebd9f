"""Training on a small generated data set: the time split, the evaluation on the card,
the served model fitted on everything, the progress."""

import json
import random
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import xgboost as xgb

from models.export import read_jsonl, write_jsonl
from models.features import FEATURE_NAMES
from models.train import RISING, Example, evaluate, time_split, train


def generated(n: int, seed: int) -> list[Example]:
    """Incidents whose outcome depends on two features (with noise), over n hours."""
    rng = random.Random(seed)
    examples = []
    for i in range(n):
        features = [rng.random() for _ in FEATURE_NAMES]
        odds = 3 * features[0] + 2 * features[10] - 2.5 + rng.gauss(0, 0.5)
        examples.append(Example(1_700_000_000 + i * 3600.0, features, int(odds > 0)))
    rng.shuffle(examples)  # arrival order must not matter: the split sorts by time
    return examples


def test_the_split_trains_on_the_past_and_evaluates_on_the_future() -> None:
    train_set, test_set = time_split(generated(400, 1), holdout=0.25)
    assert len(test_set) == 100
    assert max(e.at for e in train_set) < min(e.at for e in test_set)


def test_a_split_without_both_classes_is_refused() -> None:
    examples = [Example(float(i), [0.0] * len(FEATURE_NAMES), 0) for i in range(10)]
    with pytest.raises(ValueError, match="both sides"):
        time_split(examples, holdout=0.3)


def test_training_separates_the_classes_and_reports_progress() -> None:
    seen: list[tuple[int, int]] = []
    examples = generated(600, 2)
    trained = train(examples, rounds=30, progress=lambda done, total: seen.append((done, total)))
    # Two fits (the evaluation's, then the served model's), counted as one bar.
    assert seen == [(n, 60) for n in range(1, 61)]
    assert trained.metrics["roc_auc"] > 0.85
    assert set(trained.metrics) >= {"roc_auc", "pr_auc", "brier", "precision", "recall"}
    evaluation = trained.card["evaluation"]
    assert evaluation["split"] == "time" and evaluation["test_examples"] == 150
    # The best single input is one of the two the outcome depends on, and the model,
    # which uses both, beats it.
    assert evaluation["baseline"]["feature"] in (FEATURE_NAMES[0], FEATURE_NAMES[10])
    assert evaluation["beats_baseline"] is True
    # The served model was fitted on every example, the held-out window included.
    assert trained.card["trained_until"] == max(e.at for e in examples)
    assert trained.card["evaluated_until"] == trained.card["trained_until"]
    # The stored booster loads and scores other data the same way.
    again = evaluate(trained.booster, generated(300, 3))
    assert again["roc_auc"] > 0.85


def test_training_on_everything_says_it_was_not_evaluated() -> None:
    trained = train(generated(200, 5), holdout=0, rounds=10)
    assert trained.metrics == {} and trained.card["metrics"] == {}
    assert "evaluation" not in trained.card
    examples = [Example(float(i), [0.0] * len(FEATURE_NAMES), 1) for i in range(10)]
    with pytest.raises(ValueError, match="both actionable and noise"):
        train(examples, holdout=0, rounds=5)


def test_jsonl_export_round_trip_and_errors(tmp_path: Path) -> None:
    path = tmp_path / "history.jsonl"
    rows = [{"at": 1.0, "features": [0.5] * len(FEATURE_NAMES), "label": 1}]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    assert read_jsonl(path)[0].label == 1
    examples = generated(20, 4)
    write_jsonl(path, examples)
    assert read_jsonl(path) == examples
    path.write_text('{"at": 1, "features": [1, 2], "label": 0}\n')
    with pytest.raises(ValueError, match="features expected"):
        read_jsonl(path)


def test_a_history_whose_newest_incidents_are_all_noise_is_held_out_at_random() -> None:
    examples = generated(600, 3)
    # Every incident of the newest third was noise (a history that ends in a quiet week).
    cut = sorted(e.at for e in examples)[400]
    quiet = [e if e.at < cut else replace(e, label=0) for e in examples]
    trained = train(quiet, rounds=20)
    evaluation = trained.card["evaluation"]
    assert evaluation["split"] == "group" and trained.judged is not None
    assert 0 < evaluation["base_rate"] < 1
    # One actionable incident in all: nothing can be held out, nothing is evaluated.
    lone = [replace(e, label=int(n == 0)) for n, e in enumerate(examples)]
    untested = train(lone, rounds=5)
    assert untested.metrics == {} and "evaluation" not in untested.card
    assert "not evaluated" in untested.card["notes"]


def test_a_higher_actionable_rate_never_lowers_the_risk() -> None:
    """Outcome history may only raise the risk. Here the training data says that only
    rules in a middle band of actionable rates were actionable (a band that holds for
    one tenant's traffic and not the next one's): the model may learn the rise, not
    the fall after it."""
    rng = random.Random(7)
    examples = []
    for name in RISING:
        column = FEATURE_NAMES.index(name)
        for _ in range(400):
            features = [rng.random() for _ in FEATURE_NAMES]
            label = int(0.3 < features[column] < 0.6)
            examples.append(Example(1_700_000_000 + len(examples) * 60.0, features, label))
    trained = train(examples, holdout=0, rounds=60)
    model = xgb.Booster()
    model.load_model(bytearray(trained.booster))
    rates = np.linspace(0.0, 1.0, 21)
    for name in RISING:
        probes = np.array([[rng.random() for _ in FEATURE_NAMES] for _ in range(5)])
        for probe in probes:
            rows = np.repeat(probe[None, :], len(rates), axis=0)
            rows[:, FEATURE_NAMES.index(name)] = rates
            scores = model.inplace_predict(rows.astype(np.float32)).tolist()
            assert scores == sorted(scores), (name, scores)
        # The rise itself was learnt: the band scores above the rules never actionable.
        low, band = rows.copy(), rows.copy()
        low[:, FEATURE_NAMES.index(name)], band[:, FEATURE_NAMES.index(name)] = 0.1, 0.45
        assert (model.inplace_predict(band) > model.inplace_predict(low)).all()
