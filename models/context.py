"""The context an incident is scored in, kept up to date as a tenant's alerts flow.

``TenantContext`` holds what ``features.IncidentContext`` needs beyond the incident:
the tenant's recent alert rates, the outcomes of earlier incidents by fingerprint and
by alertname, and the service topology. The correlator keeps one per tenant and the
simulator keeps one per simulated tenant, and both turn an incident into features
through ``context_of``: the model is trained on exactly what it is served.

Outcomes come from ``outcomes.label_of``; a label that changes later (feedback after
the incident resolved) is moved, not counted twice.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from alerting.incident import Incident
from alerting.relatedness import JoinReason, Topology
from models.features import IncidentContext, OutcomeHistory

HISTORY_MEMBERS = 20
"""Members of an incident whose fingerprint histories count (its first ones)."""


@dataclass
class _Tally:
    """Mutable outcome counts for one key."""

    incidents: int = 0
    actionable: int = 0
    noise: int = 0
    resolve_seconds: float = 0.0
    resolved: int = 0

    def frozen(self) -> OutcomeHistory:
        mean = self.resolve_seconds / self.resolved if self.resolved else None
        return OutcomeHistory(self.incidents, self.actionable, self.noise, mean)


@dataclass(frozen=True)
class Outcome:
    """What became of one incident, as the history counts it."""

    fingerprints: tuple[str, ...]
    alertnames: tuple[str, ...]
    services: tuple[str, ...]
    label: int  # 1 actionable, 0 noise
    resolve_seconds: float | None


def outcome_keys(
    incident: Incident, service_label: str = "service"
) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    """The fingerprints, alertnames and services whose history an incident feeds and
    reads."""
    members = list(incident.members.values())[:HISTORY_MEMBERS]
    names = sorted({m.labels.get("alertname", "") for m in members})
    services = sorted({m.labels[service_label] for m in members if service_label in m.labels})
    return tuple(m.fingerprint for m in members), tuple(names), tuple(services)


def _dependents(topology: Topology | None) -> dict[str, int]:
    """How many services call each service (its direct dependents)."""
    counts: dict[str, int] = {}
    if topology is None:
        return counts
    for targets in topology.depends_on.values():
        for target in targets:
            counts[target] = counts.get(target, 0) + 1
    return counts


@dataclass
class TenantContext:
    """A tenant's rates, outcome history and topology, as of the last update."""

    topology: Topology | None = None
    minutes: deque[tuple[int, int]] = field(default_factory=deque)  # (epoch minute, alerts)
    by_fingerprint: dict[str, _Tally] = field(default_factory=dict)
    by_alertname: dict[str, _Tally] = field(default_factory=dict)
    by_service: dict[str, _Tally] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._dependents = _dependents(self.topology)
        self.service_label = self.topology.label if self.topology is not None else "service"

    # -- rates ------------------------------------------------------------------------

    def count_alerts(self, now: datetime, alerts: int) -> None:
        """``alerts`` new alerts (or new occurrences) arrived at ``now``."""
        if alerts <= 0:
            return
        minute = int(now.timestamp() // 60)
        if self.minutes and self.minutes[-1][0] == minute:
            self.minutes[-1] = (minute, self.minutes[-1][1] + alerts)
        else:
            self.minutes.append((minute, alerts))
        while self.minutes and self.minutes[0][0] <= minute - 60:
            self.minutes.popleft()

    def rates(self, now: datetime) -> tuple[float, float]:
        """Alerts in the last minute and in the last hour before ``now``."""
        minute = int(now.timestamp() // 60)
        last_minute = sum(n for m, n in self.minutes if m >= minute - 1 and m <= minute)
        last_hour = sum(n for m, n in self.minutes if m > minute - 60 and m <= minute)
        return float(last_minute), float(last_hour)

    # -- outcomes ---------------------------------------------------------------------

    def record(self, outcome: Outcome, sign: int = 1) -> None:
        """Count an outcome (``sign=-1`` takes one back, to move a changed label)."""
        tallies = [self.by_fingerprint.setdefault(fp, _Tally()) for fp in outcome.fingerprints]
        tallies += [self.by_alertname.setdefault(n, _Tally()) for n in outcome.alertnames]
        tallies += [self.by_service.setdefault(s, _Tally()) for s in outcome.services]
        for tally in tallies:
            tally.incidents += sign
            if outcome.label:
                tally.actionable += sign
            else:
                tally.noise += sign
            if outcome.resolve_seconds is not None:
                tally.resolve_seconds += sign * outcome.resolve_seconds
                tally.resolved += sign

    def relabel(self, old: Outcome | None, new: Outcome) -> None:
        """Replace an incident's earlier outcome (if any) with a new one."""
        if old is not None:
            self.record(old, -1)
        self.record(new)

    def history(self, keys: Iterable[str], tallies: Mapping[str, _Tally]) -> OutcomeHistory:
        """The combined history of several keys (an incident has several fingerprints)."""
        total = _Tally()
        for key in keys:
            tally = tallies.get(key)
            if tally is None:
                continue
            total.incidents += tally.incidents
            total.actionable += tally.actionable
            total.noise += tally.noise
            total.resolve_seconds += tally.resolve_seconds
            total.resolved += tally.resolved
        return total.frozen()

    # -- the context of one incident ---------------------------------------------------

    def context_of(self, incident: Incident, now: datetime) -> IncidentContext:
        """The incident as the model sees it at ``now``."""
        members = list(incident.members.values())
        fingerprints, alertnames, services = outcome_keys(incident, self.service_label)
        last_minute, last_hour = self.rates(now)
        return IncidentContext(
            severity=incident.severity,
            members=len(members),
            firing=sum(1 for m in members if m.is_open),
            flapping=sum(1 for m in members if m.flapping),
            suppressed=sum(1 for m in members if m.suppressed),
            correlated=sum(1 for m in members if m.reason is not JoinReason.GROUP_KEY),
            started_at=incident.created_at,
            tenant_alerts_last_minute=last_minute,
            tenant_alerts_last_hour=last_hour,
            fingerprint_history=self.history(fingerprints, self.by_fingerprint),
            alertname_history=self.history(alertnames, self.by_alertname),
            dependents=sum(self._dependents.get(s, 0) for s in services),
            service_history=self.history(services, self.by_service),
        )
