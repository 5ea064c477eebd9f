"""Training the incident-risk model: XGBoost on past incidents, judged on later ones.

``train`` first evaluates, then fits the model to serve:

1. **Evaluation** (``models/evaluation.py``): the examples are split by time, never at
   random, and an incident goes wholly to one side. A model fitted on the older side
   is judged on the newest ``holdout`` share, as it will be used (trained on the past,
   asked about the future), beside the best single input. Those figures go on the
   card: they say how well this recipe does on incidents it has not seen.
2. **The served model** is then fitted on every example. Holding the newest quarter
   out of it would only make it older; what it would have scored there is what step
   1 measured. With ``holdout=0`` step 1 is skipped (evaluation was done separately)
   and the card says the model was not evaluated.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import xgboost as xgb

from models.evaluation import SERVING_THRESHOLD, Predict, by_group, by_time, evaluate_split
from models.example import Example
from models.features import FEATURE_NAMES
from models.metrics import report
from models.trust import labelled_by_tenant

__all__ = ["SERVING_THRESHOLD", "Example", "Trained", "evaluate", "time_split", "train"]

RISING = (
    "fingerprint_actionable_rate",
    "alertname_actionable_rate",
    "service_actionable_rate",
    "neighbour_actionable_rate",
)
"""Inputs the risk may only rise with: an alert whose fingerprint, rule, services or
neighbours were more often actionable before is never scored as less risky for it.
Trees fitted freely learn bands of these rates that hold for the traffic they came
from and not for another's; with shallower trees, this constraint took a model of the
first simulator family, judged on the second, from 0.62-0.64 to 0.72-0.76 ROC-AUC
(``bench/README.md``, risk model, sections 2 and 4)."""

PARAMS: dict[str, Any] = {
    "objective": "binary:logistic",
    "eval_metric": "logloss",
    # Two levels: pairs of inputs, not the deeper interactions that fit one tenant's
    # (or one simulator's) traffic and fail on the next.
    "max_depth": 2,
    "eta": 0.1,
    "subsample": 0.9,
    "min_child_weight": 2,
    "monotone_constraints": f"({','.join('1' if n in RISING else '0' for n in FEATURE_NAMES)})",
    "nthread": 2,
}


@dataclass(frozen=True)
class Trained:
    """A trained model, its figures on the held-out window (empty: not evaluated), and
    its registry card; ``judged`` is the model the figures came from (fitted on the
    older side only) and ``held_out`` the examples it was judged on, so a champion can
    later be compared with it on a narrower window."""

    booster: bytes
    metrics: dict[str, float]
    card: dict[str, Any]
    judged: bytes | None = None
    held_out: list[Example] = field(default_factory=list)


def time_split(examples: Sequence[Example], holdout: float) -> tuple[list[Example], list[Example]]:
    """The older incidents for training and the newest ``holdout`` share for
    evaluation, no incident on both sides (``models.evaluation.by_time``)."""
    return by_time(examples, holdout)


def held_out_split(
    examples: Sequence[Example], holdout: float
) -> tuple[str, list[Example], list[Example]] | None:
    """How to hold incidents out: the newest ``holdout`` share (``"time"``) when both
    sides then have actionable and noise incidents; else, when the newest incidents
    are all of one kind (a history that ends in a quiet week, or in one attack),
    incidents held out at random (``"group"``, seed 0), which the card names; else
    ``None``: too few incidents of one kind to hold any out, and the model is not
    evaluated (it is then promoted only by hand)."""
    try:
        older, newest = by_time(examples, holdout)
        return "time", older, newest
    except ValueError:
        pass
    try:
        older, newest = by_group(examples, holdout)
        return "group", older, newest
    except ValueError:
        return None


def _matrix(examples: Sequence[Example]) -> np.ndarray:
    return np.array([e.features for e in examples], dtype=np.float32)


def _fit(
    examples: Sequence[Example], rounds: int, progress: Callable[[int], None] | None
) -> xgb.Booster:
    dtrain = xgb.DMatrix(
        _matrix(examples), label=[e.label for e in examples], feature_names=list(FEATURE_NAMES)
    )
    callbacks = [_Progress(progress)] if progress is not None else []
    return xgb.train(PARAMS, dtrain, num_boost_round=rounds, callbacks=callbacks)


def _predictor(booster: xgb.Booster) -> Predict:
    def predict(examples: Sequence[Example]) -> list[float]:
        predicted: list[float] = booster.inplace_predict(_matrix(examples)).tolist()
        return predicted

    return predict


def train(
    examples: Sequence[Example],
    *,
    holdout: float = 0.25,
    rounds: int = 200,
    progress: Callable[[int, int], None] | None = None,
) -> Trained:
    """Evaluate on the newest ``holdout`` (0: not at all), then fit the served model on
    every example; ``progress(done, total)`` counts the boosting rounds of both fits."""
    if not 0 <= holdout < 1:
        raise ValueError("holdout must be at least 0 and below 1")
    if len({e.label for e in examples}) < 2:
        raise ValueError("the examples need both actionable and noise incidents")
    fits = 2 if holdout else 1
    total = rounds * fits

    def counted(offset: int) -> Callable[[int], None] | None:
        if progress is None:
            return None
        return lambda done: progress(offset + done, total)

    card: dict[str, Any] = {
        "features": list(FEATURE_NAMES),
        "threshold": SERVING_THRESHOLD,
        "examples": len(examples),
        "incidents": len({(e.tenant, e.incident_id) for e in examples if e.incident_id}),
        "labelled": labelled_by_tenant(examples),
    }
    metrics: dict[str, float] = {}
    judged: list[xgb.Booster] = []
    newest: list[Example] = []

    def fit_older(part: Sequence[Example]) -> Predict:
        judged.append(_fit(part, rounds, counted(0)))
        return _predictor(judged[-1])

    split = held_out_split(examples, holdout) if holdout else None
    if split is not None:
        name, older, newest = split
        evaluation = evaluate_split(name, older, newest, fit_older)
        metrics = evaluation.model.metrics()
        card |= {
            "evaluation": evaluation.record(),
            "evaluated_from": min(e.at for e in newest),
            "evaluated_until": max(e.at for e in newest),
        }
    elif holdout:
        card["notes"] = "not evaluated: too few incidents of one kind to hold some out"
    booster = _fit(examples, rounds, counted(total - rounds))
    card |= {
        "metrics": metrics,
        "trained_from": min(e.at for e in examples),
        "trained_until": max(e.at for e in examples),
    }
    fitted_older = bytes(judged[0].save_raw("ubj")) if judged else None
    return Trained(bytes(booster.save_raw("ubj")), metrics, card, fitted_older, newest)


def evaluate(booster: bytes, examples: Sequence[Example]) -> dict[str, float]:
    """A stored model's figures on other examples (say, the newest window)."""
    model = xgb.Booster()
    model.load_model(bytearray(booster))
    predicted = _predictor(model)(examples)
    return report([e.label for e in examples], predicted, SERVING_THRESHOLD)


class _Progress(xgb.callback.TrainingCallback):
    """Reports boosting rounds as they finish."""

    def __init__(self, progress: Callable[[int], None]) -> None:
        super().__init__()
        self.progress = progress

    def after_iteration(self, model: Any, epoch: int, evals_log: Any) -> bool:
        self.progress(epoch + 1)
        return False  # keep going
