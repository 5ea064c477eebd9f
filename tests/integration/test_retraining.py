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
from models.retrain import retrain
from models.simulate import TRAINING, simulate
from models.train import Example, evaluate, time_split, train
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
    # A champion trained long on the older incidents, against a challenger of two
    # boosting rounds; neither saw the newest window, where both are judged.
    older, _ = time_split(history, 0.25)
    champion = register(registry, older, rounds=300)
    refused = ray.get(retrain_task.remote(url, rounds=2))
    assert refused["decision"] == "refused", refused
    assert refused["scores"]["champion_roc_auc"] > refused["scores"]["challenger_roc_auc"]
    assert registry.promoted() == champion
    # A champion that learnt from shuffled labels knows nothing: the challenger wins.
    shuffled = [e.label for e in history]
    random.Random(3).shuffle(shuffled)
    noise = [Example(e.at, e.features, label) for e, label in zip(history, shuffled, strict=True)]
    register(registry, time_split(noise, 0.25)[0], rounds=20)
    promoted = ray.get(retrain_task.remote(url, rounds=100))
    assert promoted["decision"] == "promoted", promoted
    assert registry.promoted() == promoted["version"]
    log = registry.log()
    assert [e["decision"] for e in log[-3:]] == ["refused", "promoted", "promoted"]
    for entry in (log[-3], log[-1]):
        assert {"champion_roc_auc", "challenger_roc_auc", "champion_brier"} <= set(entry["scores"])


def test_a_champion_is_never_judged_on_incidents_it_learnt(vigil: Vigil) -> None:
    client = redis.Redis.from_url(other_database(vigil.redis.url, 3))
    client.flushdb()
    registry = ModelRegistry(client)
    history = replay(simulate(replace(TRAINING, days=5), seed=12, tenants=2)).examples
    # A champion fitted on every example has seen the whole newest window: scored
    # there it would look better than it is, so it is not compared at all and the
    # challenger is judged against its own best single input.
    register(registry, history, rounds=300)
    result = retrain(registry, history, rounds=40)
    assert result.champion_metrics is None
    assert result.decision.promote, result.decision
    assert "seen every held-out incident" in result.decision.reason
    assert registry.promoted() == result.card.version
    # A champion that saw only half the window is judged, like the challenger, on the
    # incidents newer than its newest example.
    _, newest = time_split(history, 0.25)
    cut = sorted(e.at for e in newest)[len(newest) // 2]
    register(registry, [e for e in history if e.at <= cut], rounds=300)
    judged = retrain(registry, history, rounds=40)
    assert judged.champion_metrics is not None
    assert "champion_roc_auc" in judged.decision.scores
    unseen = [e for e in newest if e.at > cut]
    assert judged.champion_metrics["roc_auc"] == pytest.approx(
        evaluate(registry.booster(judged.champion or ""), unseen)["roc_auc"]
    )
    client.flushdb()


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
