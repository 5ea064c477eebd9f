"""Honest evaluation of the risk model: held-out splits that never share an incident,
every figure beside the best single-feature baseline, and calibration.

Why each part:

* **No incident on both sides.** An incident is scored several times as it grows
  (``models/replay.py`` keeps up to a few snapshots), and every snapshot carries the
  same outcome. Were its snapshots split, the model would be tested on an incident it
  had learnt, and report a quality it does not have. Both splits keep an incident's
  examples together (examples without an incident id count as their own incident).
* **Two splits.** ``by_time`` trains on the older incidents and tests on the newest,
  as the model is used; ``by_group`` shuffles incidents with a seed, for histories
  whose clock says little (one replayed export, several tenants side by side).
* **PR-AUC with its base rate.** With 1 % actionable, a PR-AUC of 0.06 is six times
  chance and still useless; the base rate is what the figure is read against.
* **Calibration.** The risk is shown as a probability, so it must be one: the Brier
  score and a reliability curve (mean predicted against observed, by bin) say whether
  "0.8" means eight in ten.
* **The baseline.** The best single input, chosen and oriented on the training side
  only, then measured on the test side. A model that does not beat one column of its
  own input has learnt nothing worth its complexity, and the report says so.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from models.example import Example
from models.features import FEATURE_NAMES
from models.metrics import at_threshold, brier, pr_auc, roc_auc

SERVING_THRESHOLD = 0.5
"""Risk at or above which an incident counts as predicted actionable in the reports."""

RELIABILITY_BINS = 10
Predict = Callable[[Sequence[Example]], list[float]]
"""A trained model as the evaluation sees it: examples in, probabilities out."""


def incident_of(example: Example, index: int) -> tuple[str, str]:
    """The incident an example belongs to (its own, if the example names none)."""
    if example.incident_id:
        return example.tenant, example.incident_id
    return "", f"#example-{index}"


def _by_incident(examples: Sequence[Example]) -> dict[tuple[str, str], list[Example]]:
    groups: dict[tuple[str, str], list[Example]] = {}
    for n, example in enumerate(examples):
        groups.setdefault(incident_of(example, n), []).append(example)
    return groups


def _fill(groups: Sequence[list[Example]], holdout: float) -> tuple[list[Example], list[Example]]:
    """Whole incidents, in the order given, to training until it holds ``1 - holdout``
    of the examples, the rest to testing; both sides need both classes."""
    if not 0 < holdout < 1:
        raise ValueError("holdout must be between 0 and 1")
    wanted = sum(len(g) for g in groups) * (1 - holdout)
    train: list[Example] = []
    test: list[Example] = []
    for group in groups:
        (train if len(train) < wanted else test).extend(group)
    if len({e.label for e in train}) < 2 or len({e.label for e in test}) < 2:
        raise ValueError("both sides of the split need actionable and noise examples")
    return train, test


def by_time(examples: Sequence[Example], holdout: float) -> tuple[list[Example], list[Example]]:
    """The older incidents for training, the newest ``holdout`` share of the examples
    for testing; an incident goes wholly to the side of its first example."""
    groups = sorted(_by_incident(examples).values(), key=lambda g: min(e.at for e in g))
    return _fill(groups, holdout)


def by_group(
    examples: Sequence[Example], holdout: float, seed: int = 0
) -> tuple[list[Example], list[Example]]:
    """Incidents shuffled with ``seed``; about ``holdout`` of the examples tested."""
    groups = list(_by_incident(examples).values())
    random.Random(seed).shuffle(groups)
    return _fill(groups, holdout)


def reliability(
    labels: Sequence[int], probabilities: Sequence[float], bins: int = RELIABILITY_BINS
) -> list[dict[str, float]]:
    """The reliability curve: per probability bin (of equal width), how many examples
    fell in it, their mean predicted risk and the share that was actionable."""
    counts = [0] * bins
    predicted = [0.0] * bins
    observed = [0] * bins
    for y, p in zip(labels, probabilities, strict=True):
        b = min(bins - 1, max(0, int(p * bins)))
        counts[b] += 1
        predicted[b] += p
        observed[b] += y
    return [
        {
            "from": b / bins,
            "to": (b + 1) / bins,
            "count": counts[b],
            "mean_predicted": round(predicted[b] / counts[b], 4),
            "observed": round(observed[b] / counts[b], 4),
        }
        for b in range(bins)
        if counts[b]
    ]


@dataclass(frozen=True)
class Figures:
    """How one scorer did on the test side."""

    roc_auc: float
    pr_auc: float
    brier: float | None  # None: the scores are not probabilities (a raw feature)
    precision: float | None
    recall: float | None
    accuracy: float | None

    def metrics(self) -> dict[str, float]:
        """The figures that are known, by name (a model card's ``metrics``)."""
        return {k: round(v, 4) for k, v in asdict(self).items() if v is not None}


@dataclass(frozen=True)
class Baseline:
    """The best single input: which, which way round, and how it did."""

    feature: str
    higher_is_actionable: bool
    train_roc_auc: float
    figures: Figures

    def scores(self, examples: Sequence[Example]) -> list[float]:
        """The input's values as a ranking: higher means more likely actionable."""
        return feature_scores(self.feature, self.higher_is_actionable, examples)


def feature_scores(feature: str, higher: bool, examples: Sequence[Example]) -> list[float]:
    """One input's values, turned round if lower values mean actionable."""
    column = FEATURE_NAMES.index(feature)
    sign = 1.0 if higher else -1.0
    return [sign * e.features[column] for e in examples]


@dataclass(frozen=True)
class Evaluation:
    """One held-out evaluation of a model beside its baseline."""

    split: str
    train_examples: int
    test_examples: int
    test_incidents: int
    base_rate: float  # the share of test examples that were actionable
    threshold: float
    model: Figures
    baseline: Baseline
    reliability: list[dict[str, float]]

    @property
    def beats_baseline(self) -> bool:
        """Better than the best single input on both ranking figures."""
        return (
            self.model.roc_auc > self.baseline.figures.roc_auc
            and self.model.pr_auc > self.baseline.figures.pr_auc
        )

    def record(self) -> dict[str, Any]:
        """As JSON for a model card or a report."""
        return {**asdict(self), "beats_baseline": self.beats_baseline}


def _oriented_auc(labels: Sequence[int], values: Sequence[float]) -> tuple[float, bool]:
    """A feature's ROC-AUC as a score, and whether higher means actionable."""
    auc = roc_auc(labels, values)
    return (auc, True) if auc >= 0.5 else (1 - auc, False)


def best_single_feature(train: Sequence[Example], test: Sequence[Example]) -> Baseline:
    """The input that ranks the training side best (either way round), measured on the
    test side."""
    labels = [e.label for e in train]
    best: tuple[float, int, bool] | None = None
    for j in range(len(FEATURE_NAMES)):
        auc, higher = _oriented_auc(labels, [e.features[j] for e in train])
        if best is None or auc > best[0]:
            best = (auc, j, higher)
    assert best is not None
    auc, j, higher = best
    test_labels = [e.label for e in test]
    scores = feature_scores(FEATURE_NAMES[j], higher, test)
    figures = Figures(
        roc_auc(test_labels, scores), pr_auc(test_labels, scores), None, None, None, None
    )
    return Baseline(FEATURE_NAMES[j], higher, round(auc, 4), figures)


def figures_of(labels: Sequence[int], probabilities: Sequence[float], threshold: float) -> Figures:
    """A model's figures at an operating threshold."""
    point = at_threshold(labels, probabilities, threshold)
    return Figures(
        roc_auc(labels, probabilities),
        pr_auc(labels, probabilities),
        brier(labels, probabilities),
        point["precision"],
        point["recall"],
        point["accuracy"],
    )


def evaluate_split(
    split: str,
    train: Sequence[Example],
    test: Sequence[Example],
    fit: Callable[[Sequence[Example]], Predict],
    threshold: float = SERVING_THRESHOLD,
) -> Evaluation:
    """Fit on ``train`` (``fit`` returns the trained model's predictor), then judge it
    and the best single input on ``test``."""
    predict = fit(train)
    labels = [e.label for e in test]
    probabilities = predict(test)
    incidents = len(_by_incident(test))
    return Evaluation(
        split=split,
        train_examples=len(train),
        test_examples=len(test),
        test_incidents=incidents,
        base_rate=round(sum(labels) / len(labels), 4),
        threshold=threshold,
        model=figures_of(labels, probabilities, threshold),
        baseline=best_single_feature(train, test),
        reliability=reliability(labels, probabilities),
    )
