"""Service tiers: what one tenant may ask of Vigil, so that no tenant can crowd out another.

A tenant's ``tier:`` in ``vigil.yaml`` (``free``, ``standard`` or ``enterprise``;
``standard`` when absent) sets its limits, and ``limits:`` may override any of them
for that tenant. The same tier name chooses the tenant's escalation SLA deadlines when
its ``escalation.sla_tiers`` defines it.

    tenants:
      - id: acme
        tier: enterprise
        limits: {requests_per_second: 2000}

| limit | free | standard | enterprise | past it |
|---|---|---|---|---|
| ``requests_per_second`` (per ingress replica) | 5 | 200 | 2,000 | 429, ``Retry-After`` |
| ``burst`` (at once, then the rate) | 20 | 1,000 | 10,000 | 429, ``Retry-After`` |
| ``max_open_alerts`` | 1,000 | 100,000 | 1,000,000 | 429, the batch refused whole |
| ``max_silences`` (active and pending) | 50 | 2,000 | 20,000 | 429 |
| ``timeline_entries`` per incident | 200 | 1,000 | 10,000 | oldest dropped, counted |
| ``retention_hours`` of resolved alerts and incidents | 24 | the operator's | 720 | purged |

The standard tier's retention is the operator's ``VIGIL_RESOLVED_RETENTION`` (72 h by
default); the purge takes an incident's escalation and delivery records with it.

Every API request of a tenant, whichever path it takes (native, Alertmanager,
webhook, PagerDuty events), draws from the same bucket. The bounds on one alert
(labels, annotations and their sizes) are the same for every tier: they protect the
system, not a tenant's share of it (``alerting/alert.py``).
"""

from __future__ import annotations

from datetime import timedelta
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field


class TierName(StrEnum):
    FREE = "free"
    STANDARD = "standard"
    ENTERPRISE = "enterprise"


class TierLimits(BaseModel):
    """What a tenant of a tier may use (see the module's table)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    requests_per_second: float = Field(gt=0, le=1_000_000)
    burst: int = Field(ge=1, le=10_000_000)
    max_open_alerts: int = Field(ge=1)
    max_silences: int = Field(ge=1)
    timeline_entries: int = Field(ge=10, le=1_000_000)
    retention_hours: float | None = Field(default=None, gt=0)  # None: the operator's

    def retention(self, operators: timedelta) -> timedelta:
        """How long resolved alerts and incidents are kept for a tenant of this tier."""
        return operators if self.retention_hours is None else timedelta(hours=self.retention_hours)


class LimitOverrides(BaseModel):
    """A tenant's ``limits:``: any limit of its tier, changed for it alone."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    requests_per_second: float | None = Field(default=None, gt=0, le=1_000_000)
    burst: int | None = Field(default=None, ge=1, le=10_000_000)
    max_open_alerts: int | None = Field(default=None, ge=1)
    max_silences: int | None = Field(default=None, ge=1)
    timeline_entries: int | None = Field(default=None, ge=10, le=1_000_000)
    retention_hours: float | None = Field(default=None, gt=0)


# requests/s, burst, open alerts, silences, timeline entries, retention hours
_LIMITS: dict[TierName, tuple[float, int, int, int, int, float | None]] = {
    TierName.FREE: (5, 20, 1_000, 50, 200, 24),
    TierName.STANDARD: (200, 1_000, 100_000, 2_000, 1_000, None),
    TierName.ENTERPRISE: (2_000, 10_000, 1_000_000, 20_000, 10_000, 720),
}
TIERS: dict[TierName, TierLimits] = {
    tier: TierLimits(
        requests_per_second=rate,
        burst=burst,
        max_open_alerts=alerts,
        max_silences=silences,
        timeline_entries=timeline,
        retention_hours=hours,
    )
    for tier, (rate, burst, alerts, silences, timeline, hours) in _LIMITS.items()
}


def limits_for(tier: TierName, overrides: LimitOverrides | None = None) -> TierLimits:
    """A tier's limits with a tenant's own overrides applied."""
    base = TIERS[tier]
    if overrides is None:
        return base
    changed = {k: v for k, v in overrides.model_dump().items() if v is not None}
    return base.model_copy(update=changed)
