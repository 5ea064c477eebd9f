"""Features: one function turns an incident and its recent context into numbers.

Training and serving call the same ``feature_vector``, so a model never sees a
feature computed one way in training and another way in production. Every feature
has a name (``FEATURE_NAMES``, in vector order) so that models, their reports and
their registry entries can say what they used.

What the context holds, and why it predicts whether an incident is actionable:

* the incident itself - worst severity, size, how many members fire, flap, are
  muted or were correlated by topology or similarity (storms of muted, flapping
  checks are mostly noise; a critical incident with many correlated services is not);
* the tenant's recent alert rates (a burst against a quiet hour means something);
* what happened before to incidents with this fingerprint, this alertname and
  these services - how often people acted on them, how long they took to resolve (the best single
  predictor in practice: checks that were noise before usually still are);
* the incident's place in the service topology (how many services depend on it);
* its neighbours: the other alertnames that fired in the last hour on the same hosts
  or instances, and how often the riskiest of them was actionable (an attack or a
  failing machine fires several rules on one host, one of them rare; a noisy check
  fires one rule alone), and how many alertnames the incident itself holds;
* when it started (time of day and day of week, as points on a circle, so 23:59 is
  next to 00:00).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

from alerting.severity import Severity

PRIOR_ACTIONABLE = 0.5
PRIOR_WEIGHT = 2.0
"""Past outcomes are smoothed towards an even chance, as if two earlier incidents had
gone one each way, so one past incident does not decide everything."""


@dataclass(frozen=True)
class OutcomeHistory:
    """What became of earlier incidents sharing a key (a fingerprint or an alertname)."""

    incidents: int = 0
    actionable: int = 0
    noise: int = 0
    mean_resolve_seconds: float | None = None

    def actionable_rate(self) -> float:
        """The smoothed share of labelled incidents that were actionable."""
        labelled = self.actionable + self.noise
        return (self.actionable + PRIOR_ACTIONABLE * PRIOR_WEIGHT) / (labelled + PRIOR_WEIGHT)


@dataclass(frozen=True)
class IncidentContext:
    """An incident as the model sees it, with the context known when it is scored."""

    severity: Severity
    members: int
    firing: int
    flapping: int
    suppressed: int
    correlated: int  # members joined by topology or similarity
    started_at: datetime
    tenant_alerts_last_minute: float
    tenant_alerts_last_hour: float
    fingerprint_history: OutcomeHistory
    alertname_history: OutcomeHistory
    dependents: int = 0  # services that depend on the incident's services (topology)
    service_history: OutcomeHistory = OutcomeHistory()  # by the incident's services
    alertnames: int = 1  # distinct alertnames among its (first) members
    neighbour_alertnames: int = 0  # alertnames fired on its hosts / instances in the hour
    neighbour_actionable_rate: float = 0.0  # the riskiest other one's actionable rate


FEATURE_NAMES = (
    "severity_rank",
    "log_members",
    "firing_share",
    "flapping_share",
    "suppressed_share",
    "correlated_share",
    "log_rate_1m",
    "log_rate_1h",
    "burst_ratio",
    "fingerprint_incidents",
    "fingerprint_actionable_rate",
    "fingerprint_log_resolve_s",
    "alertname_incidents",
    "alertname_actionable_rate",
    "alertname_log_resolve_s",
    "log_dependents",
    "service_incidents",
    "service_actionable_rate",
    "hour_sin",
    "hour_cos",
    "weekday_sin",
    "weekday_cos",
    "log_alertnames",
    "log_neighbour_alertnames",
    "neighbour_actionable_rate",
)


def _share(part: int, whole: int) -> float:
    return part / whole if whole else 0.0


def _log_seconds(seconds: float | None) -> float:
    """log1p of a duration; -1 when unknown (no earlier resolution)."""
    return math.log1p(seconds) if seconds is not None else -1.0


def _circle(value: float, period: float) -> tuple[float, float]:
    angle = 2 * math.pi * value / period
    return math.sin(angle), math.cos(angle)


def feature_vector(ctx: IncidentContext) -> list[float]:
    """The features of one incident, in ``FEATURE_NAMES`` order."""
    start = ctx.started_at
    hour = start.hour + start.minute / 60 + start.second / 3600
    hour_sin, hour_cos = _circle(hour, 24.0)
    day_sin, day_cos = _circle(start.weekday() + hour / 24, 7.0)
    per_minute_over_hour = ctx.tenant_alerts_last_hour / 60.0
    fp, name = ctx.fingerprint_history, ctx.alertname_history
    vector = [
        float(ctx.severity.rank),
        math.log1p(ctx.members),
        _share(ctx.firing, ctx.members),
        _share(ctx.flapping, ctx.members),
        _share(ctx.suppressed, ctx.members),
        _share(ctx.correlated, ctx.members),
        math.log1p(ctx.tenant_alerts_last_minute),
        math.log1p(ctx.tenant_alerts_last_hour),
        # How far the last minute is above the hour's average minute (1: as usual).
        (ctx.tenant_alerts_last_minute + 1.0) / (per_minute_over_hour + 1.0),
        math.log1p(fp.incidents),
        fp.actionable_rate(),
        _log_seconds(fp.mean_resolve_seconds),
        math.log1p(name.incidents),
        name.actionable_rate(),
        _log_seconds(name.mean_resolve_seconds),
        math.log1p(ctx.dependents),
        math.log1p(ctx.service_history.incidents),
        ctx.service_history.actionable_rate(),
        hour_sin,
        hour_cos,
        day_sin,
        day_cos,
        math.log1p(ctx.alertnames),
        math.log1p(ctx.neighbour_alertnames),
        ctx.neighbour_actionable_rate,
    ]
    assert len(vector) == len(FEATURE_NAMES)
    return vector
