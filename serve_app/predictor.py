"""The incident-risk predictor: an XGBoost booster from the registry, on Serve replicas.

Each request carries the feature rows of one or more incidents (``features.py``).
Concurrent requests are gathered by ``@serve.batch`` and scored by one
``Booster.inplace_predict`` call, so a storm of new incidents costs a few matrix
products, not one call each. Replicas autoscale on ongoing requests (``serve.yaml``).

The model is the one ``CRITICAL_ALERT_PREDICTION_MODEL`` pins, else the promoted one;
replicas look at the registry every ``poll_seconds`` and switch when a retraining
promotes a new version. Without any model they answer "no score" (``model: null``),
and the correlator simply records nothing: a score never holds an incident back.
A pinned version that does not exist makes the replica fail its health check.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import xgboost as xgb
from ray import serve

# The module, not its families: Serve pickles the deployment class with the globals
# its methods name, and a metric holds a lock (a module pickles by reference).
from cluster import metrics
from cluster.metrics_relay import replica_process
from cluster.observability import observe_process
from cluster.redis_client import sync_client
from cluster.runtime import PREDICTOR_DEPLOYMENT
from cluster.serve_loopback import keep_replica_grpc_on_loopback
from cluster.settings import Settings
from models.features import FEATURE_NAMES
from models.registry import ModelRegistry, UnknownModel
from models.trust import Standing

keep_replica_grpc_on_loopback()  # before Serve starts this replica's gRPC server

log = logging.getLogger("vigil.predictor")

DEPLOYMENT = PREDICTOR_DEPLOYMENT
DEFAULT_BATCHING = {"max_batch_size": 64, "batch_wait_timeout_s": 0.002, "poll_seconds": 10.0}


@dataclass(frozen=True)
class Scores:
    """The answer to one request: the model version and one risk per row (or no model),
    with what its card says of it (the correlator judges from it whether the risk is
    only provisional for the tenant, ``models/trust.py``)."""

    model: str | None
    risks: list[float] | None
    standing: Standing | None = None


class LoadedModel:
    """One booster, the version it came from and its card's standing."""

    def __init__(self, version: str, raw: bytes, standing: Standing) -> None:
        self.version = version
        self.standing = standing
        self.booster = xgb.Booster()
        self.booster.load_model(bytearray(raw))
        self.booster.set_param({"nthread": 1})  # replicas share the machine's cores

    def predict(self, rows: np.ndarray) -> np.ndarray:
        """Risks for a matrix of feature rows."""
        return np.asarray(self.booster.inplace_predict(rows), dtype=np.float64)


@serve.deployment(name=PREDICTOR_DEPLOYMENT, ray_actor_options={"num_cpus": 0.25})
class Predictor:
    """Scores incidents in batches with the serving model."""

    def __init__(self, settings: Settings) -> None:
        if settings.redis_url is None:
            raise ValueError("Predictor needs settings.redis_url")
        self.settings = settings
        self.registry = ModelRegistry(sync_client(settings.redis_url, socket_timeout=5))
        self.model: LoadedModel | None = None
        self.problem: str | None = None
        self.unusable: str | None = None  # the serving version, if it learnt other features
        self.poll_seconds = float(DEFAULT_BATCHING["poll_seconds"])
        self.checked_at = 0.0
        self.counts = {"requests": 0, "rows": 0, "batches": 0}
        observe_process(replica_process("predictor"), settings, actor=False)
        metrics.PREDICTOR_ERRORS.labels("predictor")  # at 0 from the start
        self.refresh()
        if self.problem is not None:
            raise RuntimeError(self.problem)  # a pinned version that does not exist

    def reconfigure(self, config: dict[str, Any]) -> None:
        """Batching and polling from ``user_config`` in ``serve.yaml`` (changeable live)."""
        merged = {**DEFAULT_BATCHING, **(config or {})}
        batching: Any = self._score_batch  # serve.batch's wrapper; its stubs lack these
        batching.set_max_batch_size(int(merged["max_batch_size"]))
        batching.set_batch_wait_timeout_s(float(merged["batch_wait_timeout_s"]))
        self.poll_seconds = float(merged["poll_seconds"])

    def refresh(self) -> None:
        """Load the serving version if it is not the one loaded (a blocking Redis read)."""
        self.checked_at = time.monotonic()
        try:
            version = self.registry.serving(self.settings.prediction_model)
            if version is None:
                self.model, self.problem = None, None
                return
            if self.model is None or self.model.version != version:
                card = self.registry.card(version)
                if self.model is not None:
                    metrics.MODEL_SERVING.remove(self.model.version)
                    self.model = None
                if card.features != list(FEATURE_NAMES):
                    # Learnt from other features (an older Vigil): its answers to
                    # today's rows would mean nothing. No score until one is trained
                    # (``vigil up`` trains a starter then; so does ``vigil train``).
                    pinned = self.settings.prediction_model == version
                    self.problem = (
                        f"pinned model {version} learnt other features" if pinned else None
                    )
                    if self.unusable != version:
                        log.warning("model %s learnt other features: not served", version)
                        self.unusable = version
                    return
                standing = Standing.of(card)
                self.model = LoadedModel(version, self.registry.booster(version), standing)
                metrics.MODEL_SERVING.labels(version).set(1)
                log.warning("predictor serves model %s", version)
            self.problem = None
        except UnknownModel as exc:
            self.model, self.problem = None, str(exc)
        except Exception as exc:  # Redis away: keep serving what is loaded
            log.warning("predictor could not read the registry: %r", exc)

    async def _maybe_refresh(self) -> None:
        if time.monotonic() - self.checked_at >= self.poll_seconds:
            self.checked_at = time.monotonic()
            await asyncio.to_thread(self.refresh)

    async def score(self, rows: list[list[float]]) -> Scores:
        """Risks for the feature rows of one or more incidents."""
        if not rows or any(len(r) != len(FEATURE_NAMES) for r in rows):
            raise ValueError(f"each row needs {len(FEATURE_NAMES)} features")
        await self._maybe_refresh()
        if self.model is None:
            return Scores(None, None)
        self.counts["requests"] += 1
        self.counts["rows"] += len(rows)
        model, risks = await self._score_batch(rows)
        return Scores(model.version, risks, model.standing)

    @serve.batch(max_batch_size=64, batch_wait_timeout_s=0.002)
    async def _score_batch(
        self, requests: list[list[list[float]]]
    ) -> list[tuple[LoadedModel, list[float]]]:
        model = self.model
        assert model is not None
        self.counts["batches"] += 1
        sizes = [len(r) for r in requests]
        matrix = np.array([row for rows in requests for row in rows], dtype=np.float32)
        started = time.perf_counter()
        try:
            risks = model.predict(matrix).tolist()
        except Exception:
            metrics.PREDICTOR_ERRORS.labels("predictor").inc()
            raise
        metrics.PREDICTOR_LATENCY.observe(time.perf_counter() - started)
        metrics.PREDICTOR_BATCH.observe(len(matrix))
        metrics.PREDICTIONS.inc(len(matrix))
        answers, start = [], 0
        for size in sizes:
            answers.append((model, risks[start : start + size]))
            start += size
        return answers

    async def info(self) -> dict[str, Any]:
        """The serving version, if any, and why none serves when one should."""
        await self._maybe_refresh()
        return {
            "model": self.model.version if self.model else None,
            "pinned": self.settings.prediction_model,
            "problem": self.problem,
            "served": dict(self.counts),  # this replica's requests, rows and batches
        }

    async def reload(self) -> str | None:
        """Look at the registry now (not at the next poll); return the serving version."""
        await asyncio.to_thread(self.refresh)
        return self.model.version if self.model else None

    async def check_health(self) -> None:
        """Unhealthy when the pinned model cannot be loaded (Serve restarts the replica)."""
        if self.problem is not None:
            raise RuntimeError(self.problem)
