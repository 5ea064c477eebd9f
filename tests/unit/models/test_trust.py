"""When a model's risk is only provisional for a tenant, and why."""

from __future__ import annotations

import math

import pytest

from models.example import Example
from models.trust import (
    MIN_EACH_CLASS,
    MIN_OWN_INCIDENTS,
    SIMULATION,
    Standing,
    labelled_by_tenant,
    roc_auc_error,
)

EVALUATION = {
    "beats_baseline": True,
    "model": {"roc_auc": 0.91},
    "baseline": {"feature": "log_rate_1m", "figures": {"roc_auc": 0.74}},
}


def standing(**changes: object) -> Standing:
    evaluation = {**EVALUATION, **changes.pop("evaluation", {})}  # type: ignore[dict-item]
    labelled = changes.pop("labelled", {"acme": [40, 200]})
    source = str(changes.pop("source", "history"))
    return Standing.of_card("v0007", evaluation, source, labelled)  # type: ignore[arg-type]


def test_a_model_evaluated_better_than_its_baseline_on_enough_own_history_is_trusted() -> None:
    assert standing().provisional_reason("acme") is None


@pytest.mark.parametrize(
    ("tenant", "labelled", "says"),
    [
        ("initech", {"acme": [40, 200]}, "0 of this tenant's labelled incidents"),
        ("acme", {"acme": [19, 300]}, "19 actionable"),  # too few of one class
        ("acme", {"acme": [300, 19]}, "19 noise"),
        ("acme", {"acme": [30, 150]}, f"it needs {MIN_OWN_INCIDENTS}"),
    ],
)
def test_too_little_of_the_tenants_own_history_is_provisional(
    tenant: str, labelled: dict[str, list[int]], says: str
) -> None:
    reason = standing(labelled=labelled).provisional_reason(tenant)
    assert reason is not None and says in reason


def test_a_model_that_failed_its_evaluation_is_provisional_whatever_it_learnt_from() -> None:
    failed = standing(evaluation={"beats_baseline": False}, labelled={"acme": [900, 900]})
    reason = failed.provisional_reason("acme")
    assert reason == (
        "model v0007 did not beat its best single input on held-out incidents "
        "(ROC-AUC 0.910 against log_rate_1m's 0.740)"
    )


def test_an_unevaluated_or_simulated_model_is_provisional() -> None:
    never = Standing.of_card("v0001", None, "history", {})
    assert never.provisional_reason("acme") == (
        "model v0001 was never evaluated on held-out incidents"
    )
    # The starter learnt from the simulator, whose tenants may share a real one's name.
    starter = standing(source=SIMULATION, labelled={"acme": [900, 900]})
    reason = starter.provisional_reason("acme")
    assert reason is not None and "simulated history" in reason


def test_labelled_incidents_are_counted_once_per_incident_and_tenant() -> None:
    examples = [
        Example(1.0, [0.0], 1, "acme", "i1"),
        Example(2.0, [0.0], 1, "acme", "i1"),  # a second snapshot of the same incident
        Example(1.0, [0.0], 0, "acme", "i2"),
        Example(1.0, [0.0], 0, "initech", "i1"),  # another tenant's incident of that id
        Example(1.0, [0.0], 0, "initech", ""),  # no id: its own incident
        Example(1.0, [0.0], 0, "initech", ""),
    ]
    assert labelled_by_tenant(examples) == {"acme": [1, 1], "initech": [0, 3]}


def test_the_minimum_is_where_the_roc_auc_error_clears_chance() -> None:
    # At the minimum, a held-out ROC-AUC of 0.8 is known to about ±0.12 (95 %), clear of
    # chance; with a quarter as many actionable incidents it is not.
    at_minimum = roc_auc_error(0.8, MIN_EACH_CLASS, MIN_OWN_INCIDENTS - MIN_EACH_CLASS)
    assert 0.05 < at_minimum < 0.07
    assert 0.8 - 1.96 * at_minimum > 0.5
    assert 0.8 - 1.96 * roc_auc_error(0.8, 5, 195) < 0.6
    assert math.isinf(roc_auc_error(0.8, 0, 10))
