"""Training the incident-risk model: XGBoost on past incidents, judged on later ones.

Examples are split by time, never at random: the model is trained on the older part
and evaluated on the newest ``holdout`` share, as it will be used (trained on the
past, asked about the future). Shuffling would let it learn from incidents that
happened after the ones it is tested on and report a quality it does not have.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import xgboost as xgb

from models.features import FEATURE_NAMES
from models.metrics import report

SERVING_THRESHOLD = 0.5
"""Risk at or above which an incident counts as predicted actionable in the reports."""

PARAMS: dict[str, Any] = {
    "objective": "binary:logistic",
    "eval_metric": "logloss",
    "max_depth": 4,
    "eta": 0.1,
    "subsample": 0.9,
    "min_child_weight": 2,
    "nthread": 2,
}


@dataclass(frozen=True)
class Example:
    """One labelled incident: when it was scored, its features, and what it turned out
    to be (1: actionable, 0: noise)."""

    at: float
    features: list[float]
    label: int


@dataclass(frozen=True)
class Trained:
    """A trained model, its figures on the held-out window, and its registry card."""

    booster: bytes
    metrics: dict[str, float]
    card: dict[str, Any]


def time_split(examples: Sequence[Example], holdout: float) -> tuple[list[Example], list[Example]]:
    """The older ``1 - holdout`` share for training and the newest for evaluation."""
    if not 0 < holdout < 1:
        raise ValueError("holdout must be between 0 and 1")
    ordered = sorted(examples, key=lambda e: e.at)
    cut = int(len(ordered) * (1 - holdout))
    train, test = ordered[:cut], ordered[cut:]
    if len({e.label for e in train}) < 2 or len({e.label for e in test}) < 2:
        raise ValueError("both windows need actionable and noise examples")
    return train, test


def _matrix(examples: Sequence[Example]) -> np.ndarray:
    return np.array([e.features for e in examples], dtype=np.float32)


def train(
    examples: Sequence[Example],
    *,
    holdout: float = 0.25,
    rounds: int = 200,
    progress: Callable[[int, int], None] | None = None,
) -> Trained:
    """Train on the older examples, evaluate on the newest; ``progress(done, rounds)``."""
    train_set, test_set = time_split(examples, holdout)
    dtrain = xgb.DMatrix(
        _matrix(train_set), label=[e.label for e in train_set], feature_names=list(FEATURE_NAMES)
    )
    callbacks = [_Progress(progress, rounds)] if progress is not None else []
    booster = xgb.train(PARAMS, dtrain, num_boost_round=rounds, callbacks=callbacks)
    predicted = booster.inplace_predict(_matrix(test_set)).tolist()
    metrics = report([e.label for e in test_set], predicted, SERVING_THRESHOLD)
    card = {
        "features": list(FEATURE_NAMES),
        "metrics": metrics,
        "threshold": SERVING_THRESHOLD,
        "trained_from": train_set[0].at,
        "trained_until": train_set[-1].at,
        "evaluated_until": test_set[-1].at,
        "examples": len(examples),
    }
    return Trained(bytes(booster.save_raw("ubj")), metrics, card)


def evaluate(booster: bytes, examples: Sequence[Example]) -> dict[str, float]:
    """A stored model's figures on other examples (say, the newest window)."""
    model = xgb.Booster()
    model.load_model(bytearray(booster))
    predicted = model.inplace_predict(_matrix(examples)).tolist()
    return report([e.label for e in examples], predicted, SERVING_THRESHOLD)


class _Progress(xgb.callback.TrainingCallback):
    """Reports boosting rounds as they finish."""

    def __init__(self, progress: Callable[[int, int], None], rounds: int) -> None:
        super().__init__()
        self.progress = progress
        self.rounds = rounds

    def after_iteration(self, model: Any, epoch: int, evals_log: Any) -> bool:
        self.progress(epoch + 1, self.rounds)
        return False  # keep going
