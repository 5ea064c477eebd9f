"""A model card as a tenant sees it: its own labelled incidents only, and what they
mean for its scores."""

from __future__ import annotations

from models.registry import ModelCard
from models.trust import MIN_OWN_INCIDENTS
from serve_app.model_cards import card_for

EVALUATION = {
    "beats_baseline": True,
    "model": {"roc_auc": 0.93},
    "baseline": {"feature": "alertname_actionable_rate", "figures": {"roc_auc": 0.81}},
}


def card() -> ModelCard:
    return ModelCard(
        version="v0003",
        features=["a"],
        metrics={"roc_auc": 0.93},
        threshold=0.5,
        trained_from=1.0,
        trained_until=2.0,
        examples=9000,
        evaluation=EVALUATION,
        labelled={"acme": [60, 540], "initech": [3, 40]},
    )


def test_a_tenant_sees_its_own_count_and_no_other_tenant() -> None:
    seen = card_for(card(), "acme")
    assert seen["labelled"] == {"acme": [60, 540]}
    assert seen["provisional"] is None  # trusted for acme
    other = card_for(card(), "initech")
    assert other["labelled"] == {"initech": [3, 40]}
    assert "43 of this tenant's labelled incidents" in other["provisional"]
    stranger = card_for(card(), "globex")
    assert stranger["labelled"] == {}
    assert f"it needs {MIN_OWN_INCIDENTS}" in stranger["provisional"]
    assert "acme" not in str(stranger) and "initech" not in str(stranger)
