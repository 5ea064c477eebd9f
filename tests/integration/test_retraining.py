"""Continuous learning against real Ray and Redis: the scheduled retraining task
refuses a challenger that does not beat the champion on the newest window, promotes
one that does, and logs both decisions with both scores.

It works in its own Redis database, so the session's serving model is not touched.
"""

from __future__ import annotations

import json
import random
from dataclasses import replace

import pytest
import ray
import redis

from actors.retrainer import RemoteRetrainScheduler, retrain_task
from models.context import Outcome
from models.history_store import example_record
from models.registry import ModelRegistry
from models.replay import replay
from models.simulate import TRAINING, simulate
from models.train import Example, train
from tests.system import Vigil, other_database, wait_for

pytestmark = pytest.mark.integration


def isolated_db(vigil: Vigil) -> str:
    return other_database(vigil.redis.url, 2)


def store_history(client: redis.Redis, examples: list[Example]) -> None:
    """Write examples as one tenant's labelled incidents, one snapshot each."""
    records = {}
    for n, e in enumerate(examples):
        outcome = Outcome((f"fp{n}",), ("Sim",), ("svc",), e.label, None)
        records[f"i{n}"] = json.dumps(
            example_record(f"i{n}", outcome, "test", [(e.at, e.features)], e.at)
        )
    client.hset("sim-tenant:ml:examples", mapping=records)


def register(registry: ModelRegistry, examples: list[Example], rounds: int) -> str:
    trained = train(examples, rounds=rounds)
    card = registry.register(trained.booster, trained.card)
    registry.promote(card.version, "set up by the test", {})
    return card.version


def test_retraining_refuses_a_worse_challenger_and_promotes_a_better_one(vigil: Vigil) -> None:
    url = isolated_db(vigil)
    client = redis.Redis.from_url(url)
    registry = ModelRegistry(client)
    history = replay(simulate(replace(TRAINING, days=5), seed=11, tenants=2)).examples
    store_history(client, history)
    # A champion trained long on every example, the newest window included, against a
    # challenger of two boosting rounds that never saw that window.
    champion = register(registry, history, rounds=300)
    refused = ray.get(retrain_task.remote(url, rounds=2))
    assert refused["decision"] == "refused", refused
    assert refused["scores"]["champion_roc_auc"] > refused["scores"]["challenger_roc_auc"]
    assert registry.promoted() == champion
    # A champion that learnt from shuffled labels knows nothing: the challenger wins.
    shuffled = [e.label for e in history]
    random.Random(3).shuffle(shuffled)
    noise = [Example(e.at, e.features, label) for e, label in zip(history, shuffled, strict=True)]
    register(registry, noise, rounds=20)
    promoted = ray.get(retrain_task.remote(url, rounds=100))
    assert promoted["decision"] == "promoted", promoted
    assert registry.promoted() == promoted["version"]
    log = registry.log()
    assert [e["decision"] for e in log[-3:]] == ["refused", "promoted", "promoted"]
    for entry in (log[-3], log[-1]):
        assert {"champion_roc_auc", "challenger_roc_auc", "champion_brier"} <= set(entry["scores"])


def test_retraining_skips_when_history_is_too_small(vigil: Vigil) -> None:
    url = isolated_db(vigil)
    store_history(
        redis.Redis.from_url(url), [Example(float(n), [0.0] * 22, n % 2) for n in range(20)]
    )
    outcome = ray.get(retrain_task.remote(url, rounds=5))
    assert outcome["decision"] == "skipped" and "not enough" in outcome["reason"]
    assert ModelRegistry(redis.Redis.from_url(url)).cards() == []


def test_the_scheduler_retrains_on_its_interval(vigil: Vigil) -> None:
    url = isolated_db(vigil)
    store_history(
        redis.Redis.from_url(url), replay(simulate(replace(TRAINING, days=3), 5)).examples
    )
    settings = vigil.settings.model_copy(update={"redis_url": url, "retrain_interval_seconds": 1.0})
    scheduler = RemoteRetrainScheduler.options(num_cpus=0).remote(settings)
    try:
        assert ray.get(scheduler.start.remote()) is True
        last = wait_for(lambda: ray.get(scheduler.status.remote()), timeout=60)
        assert last["decision"] == "promoted"  # the first model: nothing served before
        assert ModelRegistry(redis.Redis.from_url(url)).promoted() == last["version"]
    finally:
        ray.kill(scheduler)
