"""The model registry: every trained model, its metrics and data window, and which one
serves.

Models live in Redis, so every node of a Ray cluster reaches the same registry:

    vigil:models            hash    version → the model's card (JSON)
    vigil:model:<version>   string  the XGBoost booster, in its own binary format
    vigil:models:promoted   string  the version that serves unless one is pinned
    vigil:models:log        list    every promotion and refusal, with both scores

Versions count up (``v0001``, ``v0002``, ...). ``CRITICAL_ALERT_PREDICTION_MODEL``
pins a version; otherwise the promoted one serves.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from typing import Any

import redis

from cluster import keys
from cluster.redis_client import text


class UnknownModel(LookupError):
    """No model with that version is registered."""


@dataclass(frozen=True)
class ModelCard:
    """What a registered model is: its version, features, metrics and training window."""

    version: str
    features: list[str]
    metrics: dict[str, float]  # on the held-out window (empty: not evaluated)
    threshold: float
    trained_from: float  # epoch seconds of the oldest training example
    trained_until: float  # ... and of the newest
    examples: int
    evaluated_until: float | None = None  # the newest example of the held-out window
    evaluated_from: float | None = None  # ... and its oldest
    incidents: int = 0  # the incidents the examples came from (0: not known)
    # ``models.evaluation.Evaluation.record()``: split, base rate, calibration, and the
    # best single input beside the model (None: not evaluated, or an older card).
    evaluation: dict[str, Any] | None = None
    # Where the examples came from: "history" (real outcomes) or "simulation" (the
    # starter); and each tenant's labelled incidents among them, [actionable, noise]
    # (``models/trust.py`` judges from these whether a tenant's risk is provisional).
    source: str = "history"
    labelled: dict[str, list[int]] = field(default_factory=dict)
    created_at: float = field(default_factory=time.time)
    notes: str = ""


class ModelRegistry:
    """Registers, promotes and loads models (a blocking client: training and start-up)."""

    def __init__(self, client: redis.Redis) -> None:
        self.client = client

    def register(self, booster: bytes, card: dict[str, Any]) -> ModelCard:
        """Store a model under the next version; return its card (not yet promoted)."""
        number = int(self.client.incr(keys.models_next()))
        version = f"v{number:04d}"
        stored = ModelCard(version=version, **card)
        with self.client.pipeline(transaction=True) as pipe:
            pipe.set(keys.model(version), booster)
            pipe.hset(keys.models(), version, json.dumps(asdict(stored)))
            pipe.execute()
        return stored

    def card(self, version: str) -> ModelCard:
        """The card of one version (``UnknownModel`` if none)."""
        raw = self.client.hget(keys.models(), version)
        if raw is None:
            raise UnknownModel(f"no model {version!r} is registered")
        return ModelCard(**json.loads(raw))

    def cards(self) -> list[ModelCard]:
        """Every registered model, oldest first."""
        found = [ModelCard(**json.loads(v)) for v in self.client.hvals(keys.models())]
        return sorted(found, key=lambda c: c.version)

    def booster(self, version: str) -> bytes:
        """The stored booster of one version."""
        raw = self.client.get(keys.model(version))
        if raw is None:
            raise UnknownModel(f"no model {version!r} is registered")
        if not isinstance(raw, bytes):
            raise TypeError("the model registry needs a client without decode_responses")
        return raw

    def promoted(self) -> str | None:
        """The promoted version, if any."""
        raw = self.client.get(keys.models_promoted())
        return text(raw) if raw is not None else None

    def serving(self, pinned: str | None) -> str | None:
        """The version that serves: the pinned one (which must exist), else the promoted."""
        if pinned is not None:
            self.card(pinned)
            return pinned
        return self.promoted()

    def promote(self, version: str, reason: str, scores: dict[str, float]) -> None:
        """Make ``version`` the one that serves, and log why."""
        self.card(version)
        with self.client.pipeline(transaction=True) as pipe:
            pipe.set(keys.models_promoted(), version)
            pipe.rpush(keys.models_log(), self._entry("promoted", version, reason, scores))
            pipe.execute()

    def refuse(self, version: str, reason: str, scores: dict[str, float]) -> None:
        """Log that ``version`` was not promoted, and why."""
        self.client.rpush(keys.models_log(), self._entry("refused", version, reason, scores))

    def log(self) -> list[dict[str, Any]]:
        """Every promotion and refusal, oldest first."""
        return [json.loads(e) for e in self.client.lrange(keys.models_log(), 0, -1)]

    @staticmethod
    def _entry(decision: str, version: str, reason: str, scores: dict[str, float]) -> str:
        return json.dumps(
            {
                "at": time.time(),
                "decision": decision,
                "version": version,
                "reason": reason,
                "scores": scores,
            }
        )
