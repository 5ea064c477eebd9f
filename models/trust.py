"""Whether a model's risk means something for one tenant, or is only provisional.

A risk is shown as a probability and may page (risk routes), so it must be earned. A
model's score of a tenant's incident is **provisional**, and says why, unless all of
these hold:

* the model was evaluated on held-out incidents (``models/train.py``);
* there it beat its best single input (``models/evaluation.py``): a model that ranks
  incidents no better than one column of its own input has learnt nothing to trust;
* it learnt from real history, not the simulator (the starter model);
* it learnt from at least ``MIN_OWN_INCIDENTS`` of **this tenant's** labelled
  incidents, at least ``MIN_EACH_CLASS`` of them actionable and as many noise.

Why 200 and 20. The evaluation holds out a quarter of the incidents, and its ROC-AUC
is only worth trusting when its error is small beside the gap it must show (chance is
0.5; a useful model ranks near 0.8). Hanley and McNeil's standard error of a ROC-AUC
of 0.8 is about 0.06 with 20 actionable and 180 noise incidents, so a 95 % interval
of about ±0.12 that clears chance; with 5 actionable it is ±0.2 and does not. Fewer
than 20 of either class also leaves XGBoost too few leaves' worth of that class to
learn this tenant's patterns rather than another tenant's. ``roc_auc_error`` gives
the figure for any counts, so ``vigil models`` can show it.

Pure: the rules read a card's figures; the predictor hands them to the correlator.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from models.example import Example

MIN_OWN_INCIDENTS = 200
MIN_EACH_CLASS = 20
SIMULATION = "simulation"
"""A card's ``source`` when the model learnt from the simulator (the starter)."""


def roc_auc_error(auc: float, actionable: int, noise: int) -> float:
    """Hanley and McNeil's standard error of a ROC-AUC measured on these counts."""
    if actionable < 1 or noise < 1:
        return math.inf
    q1 = auc / (2 - auc)
    q2 = 2 * auc * auc / (1 + auc)
    variance = (
        auc * (1 - auc) + (actionable - 1) * (q1 - auc * auc) + (noise - 1) * (q2 - auc * auc)
    ) / (actionable * noise)
    return math.sqrt(max(variance, 0.0))


def labelled_by_tenant(examples: Sequence[Example]) -> dict[str, list[int]]:
    """Each tenant's labelled incidents among training examples: ``[actionable, noise]``
    (an incident counts once, however many snapshots it has)."""
    seen: dict[tuple[str, str], int] = {}
    for n, example in enumerate(examples):
        key = (example.tenant, example.incident_id or f"#example-{n}")
        seen[key] = max(seen.get(key, 0), example.label)  # any actionable snapshot wins
    counts: dict[str, list[int]] = {}
    for (tenant, _), label in seen.items():
        pair = counts.setdefault(tenant, [0, 0])
        pair[0 if label else 1] += 1
    return counts


class Card(Protocol):
    """What a registry card (``models.registry.ModelCard``) says that trust reads: a
    protocol, so that the pure rules need not import the registry and its Redis client."""

    @property
    def version(self) -> str: ...
    @property
    def evaluation(self) -> Mapping[str, Any] | None: ...
    @property
    def source(self) -> str: ...
    @property
    def labelled(self) -> Mapping[str, Any]: ...


@dataclass(frozen=True)
class Standing:
    """What the correlator needs to know of the serving model to judge its scores."""

    version: str
    evaluated: bool
    beats_baseline: bool
    roc_auc: float | None = None
    baseline_roc_auc: float | None = None
    baseline_feature: str = ""
    simulated: bool = False
    labelled: Mapping[str, tuple[int, int]] = field(default_factory=dict)

    @classmethod
    def of_card(
        cls,
        version: str,
        evaluation: Mapping[str, Any] | None,
        source: str,
        labelled: Mapping[str, Any],
    ) -> Standing:
        """The standing a registry card describes."""
        if evaluation is None:
            return cls(version, False, False, simulated=source == SIMULATION)
        baseline = evaluation["baseline"]
        return cls(
            version,
            True,
            bool(evaluation["beats_baseline"]),
            float(evaluation["model"]["roc_auc"]),
            float(baseline["figures"]["roc_auc"]),
            str(baseline["feature"]),
            source == SIMULATION,
            {t: (int(pair[0]), int(pair[1])) for t, pair in labelled.items()},
        )

    @classmethod
    def of(cls, card: Card) -> Standing:
        """The standing of a registered model's card."""
        return cls.of_card(card.version, card.evaluation, card.source, card.labelled)

    def provisional_reason(self, tenant: str) -> str | None:
        """Why this model's risk is only provisional for ``tenant``; None if it is not."""
        if not self.evaluated:
            return f"model {self.version} was never evaluated on held-out incidents"
        if not self.beats_baseline:
            return (
                f"model {self.version} did not beat its best single input on held-out "
                f"incidents (ROC-AUC {self.roc_auc:.3f} against {self.baseline_feature}'s "
                f"{self.baseline_roc_auc:.3f})"
            )
        if self.simulated:
            return (
                f"model {self.version} learnt from simulated history, "
                "none of this tenant's incidents"
            )
        actionable, noise = self.labelled.get(tenant, (0, 0))
        if (
            actionable + noise < MIN_OWN_INCIDENTS
            or actionable < MIN_EACH_CLASS
            or noise < MIN_EACH_CLASS
        ):
            return (
                f"model {self.version} learnt from {actionable + noise} of this tenant's "
                f"labelled incidents ({actionable} actionable, {noise} noise); it needs "
                f"{MIN_OWN_INCIDENTS}, with {MIN_EACH_CLASS} of each"
            )
        return None
