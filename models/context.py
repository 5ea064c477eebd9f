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
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from alerting.incident import Incident
from alerting.relatedness import JoinReason, Topology
from models.features import IncidentContext, OutcomeHistory

HISTORY_MEMBERS = 20
"""Members of an incident whose fingerprint histories count (its first ones)."""

ENTITY_LABELS = (
    "host",
    "hostname",
    "instance",
    "node",
    "pod",
    "agent",
    "device",
    "src_ip",
    "dest_ip",
)
"""Labels that name the machine, process or address an alert is about: alerts sharing
one of these values are neighbours (an attack or a failing disk fires several rules on
one host or from one address; a noisy check fires one rule on many)."""

NEIGHBOURHOOD_SECONDS = 3600.0
"""How far back neighbours count."""

NEIGHBOURHOOD_MAX = 50_000
"""At most this many recent alerts are remembered per tenant (a storm's oldest go
first), so the memory is bounded whatever the rate."""


def entities_of(labels: Mapping[str, str]) -> list[str]:
    """The entities an alert is about, as ``label=value``."""
    return [f"{name}={labels[name]}" for name in ENTITY_LABELS if labels.get(name)]


class Neighbourhood:
    """Which alertnames fired on each entity in the last hour.

    A memory of the last hour only: after a restart it is seeded from the members of
    the incidents the correlator restored (``seed``), so scores taken right after a
    restart see the neighbours that are still in incidents.
    """

    def __init__(self) -> None:
        self.recent: deque[tuple[float, str, str]] = deque()  # (epoch s, entity, alertname)
        self.names: dict[str, dict[str, int]] = {}  # entity → alertname → recent count

    def add(self, at: float, labels: Mapping[str, str]) -> None:
        """One alert that started firing at ``at`` (epoch seconds)."""
        name = labels.get("alertname", "")
        for entity in entities_of(labels):
            self.recent.append((at, entity, name))
            counts = self.names.setdefault(entity, {})
            counts[name] = counts.get(name, 0) + 1
        while len(self.recent) > NEIGHBOURHOOD_MAX:
            self._drop()
        self.expire(at)

    def expire(self, now: float) -> None:
        """Forget alerts older than the neighbourhood's reach."""
        while self.recent and self.recent[0][0] <= now - NEIGHBOURHOOD_SECONDS:
            self._drop()

    def _drop(self) -> None:
        _, entity, name = self.recent.popleft()
        counts = self.names[entity]
        counts[name] -= 1
        if counts[name] <= 0:
            del counts[name]
            if not counts:
                del self.names[entity]

    def around(self, entities: Iterable[str]) -> dict[str, int]:
        """The alertnames recently fired on any of ``entities``, with their counts."""
        found: dict[str, int] = {}
        for entity in entities:
            for name, count in self.names.get(entity, {}).items():
                found[name] = found.get(name, 0) + count
        return found


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
    neighbourhood: Neighbourhood = field(default_factory=Neighbourhood)

    def __post_init__(self) -> None:
        self._dependents = _dependents(self.topology)
        self.service_label = self.topology.label if self.topology is not None else "service"

    # -- rates ------------------------------------------------------------------------

    def count_alerts(self, now: datetime, alerts: Sequence[Mapping[str, str]]) -> None:
        """New alerts (or new occurrences), by their labels, arrived at ``now``."""
        if not alerts:
            return
        at = now.timestamp()
        for labels in alerts:
            self.neighbourhood.add(at, labels)
        self._count(now, len(alerts))

    def seed_neighbourhood(self, incidents: Iterable[Incident], now: datetime) -> None:
        """After a restart: the neighbours still known, from the members of the restored
        incidents that arrived in the last hour (the rates start again from zero; they
        are a minute's and an hour's counts and refill as fast)."""
        since = now.timestamp() - NEIGHBOURHOOD_SECONDS
        arrived = sorted(
            (
                (m.received_at.timestamp(), m.labels)
                for incident in incidents
                for m in incident.members.values()
                if m.received_at.timestamp() > since
            ),
            key=lambda pair: pair[0],
        )
        for at, labels in arrived:
            self.neighbourhood.add(at, labels)

    def _count(self, now: datetime, alerts: int) -> None:
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
        self.neighbourhood.expire(now.timestamp())
        entities = {e for m in members[:HISTORY_MEMBERS] for e in entities_of(m.labels)}
        neighbours = self.neighbourhood.around(entities)
        others = [n for n in neighbours if n not in alertnames]
        riskiest = max(
            (self.history([n], self.by_alertname).actionable_rate() for n in others),
            default=0.0,
        )
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
            alertnames=len(alertnames),
            neighbour_alertnames=len(neighbours),
            neighbour_actionable_rate=riskiest,
        )
