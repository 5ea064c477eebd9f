"""How the correlator asks the predictor for risk scores, without ever waiting long.

The predictor is a Serve deployment found by name. When it is not deployed (ML off,
Serve not started yet, a replica restarting) or does not answer within
``TIMEOUT_SECONDS``, the client answers "no score" and waits ``RETRY_SECONDS``
before it asks again: incidents are formed, stored and notified either way, and the
ones left unscored are scored on a later round.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from typing import Any

from cluster.metrics import PREDICTOR_ERRORS
from cluster.runtime import PREDICTOR_DEPLOYMENT, SERVE_APP
from models.trust import Standing

log = logging.getLogger("vigil.risk")

TIMEOUT_SECONDS = 2.0
RETRY_SECONDS = 5.0


@dataclass(frozen=True)
class RiskAnswer:
    """The serving model's version, one risk per row, and its standing (None from a
    predictor that sends none: every score is then provisional)."""

    model: str
    risks: list[float]
    standing: Standing | None

    def provisional_reason(self, tenant: str) -> str | None:
        """Why these risks are only provisional for ``tenant`` (None: they are not)."""
        if self.standing is None:
            return f"model {self.model}: the predictor sent no evaluation of it"
        return self.standing.provisional_reason(tenant)


class RiskClient:
    """Scores feature rows through the predictor deployment; ``None`` when it cannot."""

    def __init__(self) -> None:
        self.handle: Any = None
        self.unavailable_until = 0.0
        self.warned = False

    def available(self) -> bool:
        """Whether it is worth asking now (not inside the back-off after a failure)."""
        return time.monotonic() >= self.unavailable_until

    async def score(self, rows: list[list[float]]) -> RiskAnswer | None:
        """The model's answer, or ``None``: no model, or no predictor."""
        if not rows or not self.available():
            return None
        try:
            if self.handle is None:
                from ray import serve  # Serve starts its controller on import-time use

                # A blocking lookup (it asks the Serve controller): kept off the loop
                # that forms incidents.
                self.handle = await asyncio.to_thread(
                    serve.get_deployment_handle, PREDICTOR_DEPLOYMENT, SERVE_APP
                )
            answer = await asyncio.wait_for(self.handle.score.remote(rows), TIMEOUT_SECONDS)
        except Exception as exc:  # not deployed, restarting, or too slow
            PREDICTOR_ERRORS.labels("correlator").inc()
            self.handle = None
            self.unavailable_until = time.monotonic() + RETRY_SECONDS
            if not self.warned:
                log.warning("no risk scores for now (%r); incidents go on unscored", exc)
                self.warned = True
            return None
        self.warned = False
        if answer.model is None or answer.risks is None:
            return None
        return RiskAnswer(answer.model, list(answer.risks), answer.standing)
