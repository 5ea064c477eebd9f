"""The model registry against a real Redis: versions, cards, promotion, pinning, the log."""

from __future__ import annotations

from typing import Any

import pytest
import redis

from cli.ml import ensure_starter_model
from cluster.redis_server import EmbeddedRedis
from cluster.settings import Settings
from models.features import FEATURE_NAMES
from models.registry import ModelRegistry, UnknownModel
from serve_app.predictor import Predictor
from tests.system import other_database

pytestmark = pytest.mark.integration


def card(**overrides: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "features": ["a", "b"],
        "metrics": {"roc_auc": 0.9},
        "threshold": 0.5,
        "trained_from": 1.0,
        "trained_until": 2.0,
        "evaluated_until": 3.0,
        "examples": 100,
    }
    fields.update(overrides)
    return fields


def test_register_promote_pin_and_log(redis_server: EmbeddedRedis) -> None:
    client = redis.Redis.from_url(other_database(redis_server.url, 1))
    registry = ModelRegistry(client)
    first = registry.register(b"model-one", card())
    second = registry.register(b"model-two", card(metrics={"roc_auc": 0.95}))
    assert (first.version, second.version) == ("v0001", "v0002")
    assert registry.booster("v0002") == b"model-two"
    assert registry.serving(None) is None  # nothing promoted yet
    registry.promote("v0001", "first model", {"challenger": 0.9})
    registry.refuse("v0002", "no better on the newest window", {"champion": 0.9, "challenger": 0.8})
    assert registry.serving(None) == "v0001"
    assert registry.serving("v0002") == "v0002"  # a pin wins over the promotion
    with pytest.raises(UnknownModel):
        registry.serving("v0099")
    with pytest.raises(UnknownModel):
        registry.promote("v0099", "typo", {})
    assert [c.version for c in registry.cards()] == ["v0001", "v0002"]
    assert [(e["decision"], e["version"]) for e in registry.log()] == [
        ("promoted", "v0001"),
        ("refused", "v0002"),
    ]
    assert registry.log()[1]["scores"] == {"champion": 0.9, "challenger": 0.8}


def test_a_model_of_other_features_is_never_served_and_up_replaces_it(
    redis_server: EmbeddedRedis, capsys: pytest.CaptureFixture[str]
) -> None:
    url = other_database(redis_server.url, 1)
    registry = ModelRegistry(redis.Redis.from_url(url))
    old = registry.register(b"not-a-booster", card(features=["severity_rank", "log_members"]))
    registry.promote(old.version, "an older Vigil's model", {})
    # The predictor loads the card first and serves nothing from it: no booster is
    # read (this one is not even a model), no score, and no failed health check.
    predictor = Predictor.func_or_class(Settings(REDIS_URL=url))  # type: ignore[attr-defined]
    assert predictor.model is None and predictor.problem is None
    # vigil up trains a starter in its place (the same call up makes).
    settings = Settings(REDIS_URL=url, CRITICAL_ALERT_ML_ENABLED=True)
    version = ensure_starter_model(settings)
    assert version != old.version and registry.promoted() == version
    assert registry.card(version or "").features == list(FEATURE_NAMES)
    assert "learnt other features" in capsys.readouterr().out
    predictor.refresh()
    assert predictor.model is not None and predictor.model.version == version
    assert predictor.model.standing.provisional_reason("acme") is not None  # simulated
