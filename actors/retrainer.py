"""Continuous learning: a scheduled Ray task retrains the risk model from new history.

``RetrainScheduler`` (one detached actor, no CPU reserved) wakes every
``VIGIL_RETRAIN_INTERVAL`` seconds and runs ``retrain_task`` - a Ray task that takes a
CPU while it trains, on whichever node has one. The task reads every tenant's
labelled incidents, trains a challenger, scores it and the champion on the same
newest held-out window, and promotes the challenger only if it is better; the
decision and both scores go to the registry's log either way. Predictor replicas
pick up a promotion at their next registry poll.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import ray

from cluster.observability import observe_process
from cluster.redis_client import sync_client
from cluster.runtime import long_lived_actor_options
from cluster.settings import Settings
from models.history_store import read_history
from models.registry import ModelRegistry
from models.retrain import retrain

log = logging.getLogger("vigil.retrain")

SCHEDULER_NAME = "retrain-scheduler"
MIN_EXAMPLES = 200  # fewer labelled examples than this teach nothing worth serving


@ray.remote(num_cpus=1, max_retries=0)
def retrain_task(redis_url: str, rounds: int = 200) -> dict[str, Any]:
    """Retrain from the recorded history; return what was decided (also logged)."""
    client = sync_client(redis_url, socket_timeout=60)
    try:
        registry = ModelRegistry(client)
        examples = read_history(client)
        labels = {e.label for e in examples}
        if len(examples) < MIN_EXAMPLES or len(labels) < 2:
            reason = f"{len(examples)} examples, labels {sorted(labels)}: not enough to learn"
            return {"decision": "skipped", "reason": reason}
        try:
            result = retrain(registry, examples, rounds=rounds, notes="scheduled retraining")
        except ValueError as exc:  # e.g. the newest window holds only one kind of label
            return {"decision": "skipped", "reason": str(exc)}
        return {
            "decision": "promoted" if result.decision.promote else "refused",
            "version": result.card.version,
            "reason": result.decision.reason,
            "scores": result.decision.scores,
        }
    finally:
        client.close()


class RetrainScheduler:
    """Runs ``retrain_task`` every interval, one at a time.

    The schedule starts in ``async __init__``, which Ray runs again whenever it
    restarts the actor: a killed scheduler keeps scheduling, without anybody (least of
    all itself) having to call it.
    """

    async def __init__(self, settings: Settings) -> None:  # type: ignore[misc]
        self.settings = settings
        observe_process(SCHEDULER_NAME, settings)
        self.last: dict[str, Any] | None = None
        self.loop: asyncio.Task[None] | None = None
        await self.start()

    async def start(self) -> bool:
        """Start the schedule (idempotent); ``False`` when retraining is switched off."""
        if self.settings.retrain_interval_seconds <= 0:
            return False
        if self.loop is None or self.loop.done():
            self.loop = asyncio.get_running_loop().create_task(self._forever())
        return True

    async def _forever(self) -> None:
        while True:
            await asyncio.sleep(self.settings.retrain_interval_seconds)
            await self.run_now()

    async def run_now(self) -> dict[str, Any]:
        """Retrain now and return the outcome (as the schedule does)."""
        try:
            self.last = await retrain_task.remote(self.settings.redis_url or "")
        except Exception as exc:
            self.last = {"decision": "failed", "reason": repr(exc)}
        log.warning("scheduled retraining: %s", self.last)
        return self.last

    async def status(self) -> dict[str, Any] | None:
        """The last retraining's outcome."""
        return self.last


RemoteRetrainScheduler = ray.remote(RetrainScheduler)


def ensure_retrainer(settings: Settings) -> Any:
    """The scheduler's handle, created and started on first use."""
    options = long_lived_actor_options(SCHEDULER_NAME, settings.actor_resources)
    return RemoteRetrainScheduler.options(**options).remote(settings)
