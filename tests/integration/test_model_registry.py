"""The model registry against a real Redis: versions, cards, promotion, pinning, the log."""

from __future__ import annotations

from typing import Any

import pytest
import redis

from cluster.redis_server import EmbeddedRedis
from models.registry import ModelRegistry, UnknownModel
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
