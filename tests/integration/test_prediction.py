"""Risk prediction in the running system: the predictor deployment answering in
batches, incidents scored with the serving model, risk routes paging at once, and
feedback turned into training labels, with every refusal of the new endpoints."""

from __future__ import annotations

import asyncio
import json
import random
from typing import Any

import numpy as np
import pytest
import ray
import redis
import requests
import xgboost as xgb
from ray import serve

from cluster.runtime import PREDICTOR_DEPLOYMENT, SERVE_APP
from models.features import FEATURE_NAMES
from models.registry import ModelRegistry
from tests.integration.test_incidents_api import one_incident, post_v2
from tests.system import Vigil, said_by, unique_labels, wait_for

pytestmark = pytest.mark.integration


def serving_version(vigil: Vigil) -> str:
    version = ModelRegistry(redis.Redis.from_url(vigil.redis.url)).promoted()
    assert version is not None
    return version


def scored_incident(vigil: Vigil, tenant: str, alertname: str) -> dict[str, Any]:
    def ready() -> dict[str, Any] | None:
        found = vigil.incidents(tenant, alertname)
        return found[0] if len(found) == 1 and found[0]["risk"] is not None else None

    incident: dict[str, Any] = wait_for(ready, timeout=20)
    return incident


def test_the_predictor_scores_concurrent_requests_in_batches(vigil: Vigil) -> None:
    rng = random.Random(5)
    rows = [[rng.uniform(-1, 3) for _ in FEATURE_NAMES] for _ in range(64)]

    async def exercise() -> tuple[str, dict[str, Any], list[Any], dict[str, Any], Any]:
        handle = serve.get_deployment_handle(PREDICTOR_DEPLOYMENT, SERVE_APP)
        version = await handle.reload.remote()
        before = (await handle.info.remote())["served"]
        answers = await asyncio.gather(*(handle.score.remote([row]) for row in rows))
        after = (await handle.info.remote())["served"]
        many = await handle.score.remote(rows[:8])  # one request, several incidents
        with pytest.raises(Exception, match="features"):
            await handle.score.remote([[1.0, 2.0]])
        return version, before, answers, after, many

    # Vigil runs Serve's router on the caller's event loop, so the handle is used from
    # one, in a task of its own (the driver's loop would be gone at teardown).
    run = ray.remote(num_cpus=0)(lambda: asyncio.run(exercise()))
    version, before, answers, after, many = ray.get(run.remote())
    assert version == serving_version(vigil)
    booster = xgb.Booster()
    registry = ModelRegistry(redis.Redis.from_url(vigil.redis.url))
    booster.load_model(bytearray(registry.booster(version)))
    expected = booster.inplace_predict(np.array(rows, dtype=np.float32))
    assert {a.model for a in answers} == {version}
    assert np.allclose([a.risks[0] for a in answers], expected, atol=1e-6)
    requests_served = after["requests"] - before["requests"]
    batches = after["batches"] - before["batches"]
    print(f"64 concurrent requests scored in {batches} batches")
    assert requests_served == 64 and batches < requests_served
    assert np.allclose(many.risks, expected[:8], atol=1e-6)


def test_incidents_get_a_risk_and_a_risk_route_pages_at_once(vigil: Vigil) -> None:
    paged = unique_labels(risk_test="page", severity="critical")
    quiet = unique_labels(severity="critical")
    post_v2(vigil, "initech", [{"labels": paged}, {"labels": quiet}])
    incident = scored_incident(vigil, "initech", paged["alertname"])
    assert 0.0 <= incident["risk"] <= 1.0
    assert incident["risk_model"] == serving_version(vigil)
    # The session serves the starter model, which learnt from the simulator: its
    # scores are shown as provisional, and page only through a route that accepts that.
    assert "simulated history" in incident["risk_provisional"]
    assert incident["risk_paged"] == ['risk>=0{risk_test="page"}->default']
    events = [(e["event"], e.get("detail", "")) for e in incident["timeline"]]
    assert any(e == "notified" and d.startswith("risk ") for e, d in events)
    client = redis.Redis.from_url(vigil.redis.url)
    sent = [
        n
        for _, fields in client.xrange("initech:notifications")
        for n in json.loads(fields[b"notifications"])
    ]
    pages = [n for n in sent if n["incident_id"] == incident["id"] and n["reason"] == "risk"]
    assert len(pages) == 1 and pages[0]["receiver"] == "default"
    other = scored_incident(vigil, "initech", quiet["alertname"])
    assert other["risk_paged"] == []  # scored, but its labels match no risk route


def test_feedback_becomes_the_incidents_training_label(vigil: Vigil) -> None:
    labels = unique_labels()
    post_v2(vigil, "acme", [{"labels": labels}])
    incident = scored_incident(vigil, "acme", labels["alertname"])
    url = vigil.incidents_url(f"/{incident['id']}/feedback")
    s = vigil.session("acme")
    r = s.post(url, json={"verdict": "noise", "by": "ana"}, timeout=30)
    assert r.status_code == 200, r.text
    assert (r.json()["feedback"], r.json()["feedback_by"]) == ("noise", said_by("acme", "ana"))
    client = redis.Redis.from_url(vigil.redis.url)

    def example() -> dict[str, Any] | None:
        raw = client.hget("acme:ml:examples", incident["id"])
        return json.loads(raw) if raw else None

    stored = wait_for(example)
    assert (stored["outcome"]["label"], stored["source"]) == (0, "feedback")
    assert len(stored["snapshots"]) >= 1
    assert len(stored["snapshots"][0][1]) == len(FEATURE_NAMES)
    assert s.post(url, json={"verdict": "actionable"}, timeout=30).status_code == 200
    relabelled = wait_for(lambda: (e := example()) and e["outcome"]["label"] == 1 and e)
    assert relabelled["snapshots"] == stored["snapshots"]  # moved, not lost
    timeline = vigil.incidents("acme", labels["alertname"])[0]["timeline"]
    assert [e["detail"] for e in timeline if e["event"] == "feedback"] == ["noise", "actionable"]


def test_feedback_refuses_bad_requests_and_changes_nothing(vigil: Vigil) -> None:
    labels = unique_labels()
    post_v2(vigil, "acme", [{"labels": labels}])
    incident = one_incident(vigil, "acme", labels["alertname"], 1)
    url = vigil.incidents_url(f"/{incident['id']}/feedback")
    s = vigil.session("acme")
    good = {"verdict": "noise"}
    assert requests.post(url, json=good, timeout=30).status_code == 401
    assert requests.post(url, json=good, auth=("acme", "wrong"), timeout=30).status_code == 401
    assert vigil.session("globex").post(url, json=good, timeout=30).status_code == 404
    unknown = s.post(vigil.incidents_url("/nope/feedback"), json=good, timeout=30)
    assert unknown.status_code == 404
    malformed = s.post(url, data="{no", headers={"Content-Type": "application/json"})
    assert malformed.status_code == 400
    for body in ({"verdict": "meh"}, {}, {"verdict": "noise", "extra": 1}, {"verdict": 1}):
        r = s.post(url, json=body, timeout=30)
        assert r.status_code == 422, (body, r.text)
    assert s.post(url, data=b"x" * (2 * 1024 * 1024), timeout=30).status_code == 413
    (after,) = vigil.incidents("acme", labels["alertname"])
    assert after["feedback"] is None
    assert not [e for e in after["timeline"] if e["event"] == "feedback"]
    client = redis.Redis.from_url(vigil.redis.url)
    assert client.hget("acme:ml:examples", incident["id"]) is None


def test_the_models_endpoint_shows_the_serving_model(vigil: Vigil) -> None:
    r = vigil.session("globex").get(f"{vigil.url}/api/v1/models", timeout=30)
    assert r.status_code == 200, r.text
    body = r.json()
    version = serving_version(vigil)
    assert body["enabled"] is True and body["serving"]["model"] == version
    (card,) = [m for m in body["models"] if m["version"] == version]
    assert card["features"] == list(FEATURE_NAMES) and 0.5 < card["metrics"]["roc_auc"] <= 1
    # The starter learnt from simulated tenants: globex sees no tenant's count, and that
    # its risk is provisional.
    assert card["labelled"] == {} and "simulated history" in card["provisional"]
    assert requests.get(f"{vigil.url}/api/v1/models", timeout=30).status_code == 401
