"""Turning a simulation, or real alert history, into labelled examples, the way
production makes them.

The simulated alerts go through the real correlation engine (``TenantCorrelation``)
with each tenant's topology, and every new or changed incident is turned into
features by ``TenantContext.context_of`` at the moment the correlator would score
it. A simulated on-call person acknowledges incidents that hold real problems a
few minutes after the first real alert, and says "actionable" about the ones that
closed before they got to them; noise is left alone and resolves by itself. Labels
then come from ``outcomes.label_of``, exactly as they do from real people, and feed
the history features of later incidents.

Real history (``replay_history``, from ``models/alert_history.py``) goes through the
same engine and the same features; its labels come from the outcomes the history
states, put on each incident as a person's feedback when it closes.
"""

from __future__ import annotations

import heapq
import itertools
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from alerting.alert import AlertStatus
from alerting.amconfig import RoutingConfig, parse_alertmanager_config
from alerting.correlation import AlertChange, TenantCorrelation
from alerting.correlation_config import CorrelationSpec
from alerting.fingerprint import fingerprint
from alerting.incident import Incident
from alerting.lifecycle import RESOLVED_BY_SOURCE, ChangeKind
from models.alert_history import HistoryEvent
from models.context import TenantContext
from models.features import feature_vector
from models.history_store import SNAPSHOTS, Snapshot, keep_snapshot
from models.outcomes import label_of, outcome_of
from models.simulate import SimAlert, Simulation, World
from models.train import Example

PURGE_EVERY = timedelta(hours=1)
RETENTION = timedelta(hours=2)


def simulated_routing() -> RoutingConfig:
    """The routing every simulated tenant uses: one group per alertname and service."""
    return parse_alertmanager_config(
        {
            "route": {
                "receiver": "oncall",
                "group_by": ["alertname", "service"],
                "group_wait": "30s",
                "group_interval": "5m",
                "repeat_interval": "4h",
            },
            "receivers": [{"name": "oncall"}],
        }
    )


def simulated_correlation(world: World) -> CorrelationSpec:
    """A tenant's correlation section: its topology, two hops, a ten-minute window."""
    return CorrelationSpec.model_validate(
        {
            "window": "10m",
            "topology": {"label": "service", "max_hops": 2, "depends_on": world.depends_on},
        }
    )


@dataclass
class _Tenant:
    """One simulated tenant's engine, context and bookkeeping during a replay."""

    engine: TenantCorrelation
    context: TenantContext
    truth: dict[str, bool] = field(default_factory=dict)  # alert id → real problem?
    real: set[str] = field(default_factory=set)  # incidents holding a real alert
    snapshots: dict[str, list[Snapshot]] = field(default_factory=dict)
    labelled: set[str] = field(default_factory=set)
    current: dict[str, str] = field(default_factory=dict)  # fingerprint → open alert id


@dataclass
class Replayed:
    """The labelled examples, and the ground truth they were checked against."""

    examples: list[Example]
    incidents: int
    real_incidents: int
    label_agrees_with_truth: float


def replay(
    simulation: Simulation,
    *,
    progress: Callable[[int, int], None] | None = None,
    seed: int = 0,
) -> Replayed:
    """Run the simulation through the engine; return one example per kept scoring."""
    rng = random.Random(seed)
    ids = (f"i{n}" for n in itertools.count())
    routing = simulated_routing()
    tenants: dict[str, _Tenant] = {}
    for world in simulation.worlds:
        spec = simulated_correlation(world)
        engine = TenantCorrelation(world.tenant, routing, spec.policy(), ids.__next__)
        tenants[world.tenant] = _Tenant(engine, TenantContext(spec.policy().relatedness.topology))
    acks: list[tuple[datetime, int, str, str]] = []  # (due, n, tenant, incident)
    examples: list[Example] = []
    agreements = [0, 0]
    next_purge = simulation.alerts[0].at + PURGE_EVERY if simulation.alerts else None
    counter = itertools.count()
    total = len(simulation.alerts)
    for n, alert in enumerate(simulation.alerts):
        while acks and acks[0][0] <= alert.at:
            due, _, tenant_id, incident_id = heapq.heappop(acks)
            tenant = tenants[tenant_id]
            incident = tenant.engine.incidents.get(incident_id)
            if incident is not None and incident.is_open and incident.acknowledged_at is None:
                tenant.engine.acknowledge(incident_id, due, "sim-oncall", None)
        tenant = tenants[alert.tenant]
        _apply(tenant, alert, counter)
        for incident in tenant.engine.take_to_score():
            _snapshot(tenant, incident, alert.at)
            if incident.id in tenant.real and incident.acknowledged_at is None:
                delay = timedelta(minutes=rng.uniform(2, 10))
                heapq.heappush(acks, (alert.at + delay, next(counter), alert.tenant, incident.id))
        for incident in tenant.engine.take_outbox().incidents.values():
            _maybe_label(tenant, incident, alert.at, examples, agreements)
        next_purge = _purge_when_due(tenants, alert.at, next_purge)
        if progress is not None and (n % 2000 == 0 or n == total - 1):
            progress(n + 1, total)
    incidents = sum(len(t.labelled) for t in tenants.values())
    real = sum(len(t.real & t.labelled) for t in tenants.values())
    agree = agreements[0] / agreements[1] if agreements[1] else 1.0
    return Replayed(sorted(examples, key=lambda e: e.at), incidents, real, agree)


def history_correlation() -> CorrelationSpec:
    """A replayed history's correlation: the defaults and a ten-minute window, with no
    topology (an alert file does not say which service calls which)."""
    return CorrelationSpec.model_validate({"window": "10m"})


def replay_history(
    events: Sequence[HistoryEvent],
    *,
    routing: RoutingConfig | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Replayed:
    """Real alert history through the engine, each tenant apart (``routing``: its
    ``alertmanager.yml``, else one group per alertname and service); one example per
    kept scoring of every incident whose alerts state an outcome."""
    ids = (f"i{n}" for n in itertools.count())
    routing = routing or simulated_routing()
    spec = history_correlation()
    tenants: dict[str, _Tenant] = {}
    outcomes: dict[str, int | None] = {}  # alert id → what the history says it was
    examples: list[Example] = []
    counter = itertools.count()
    next_purge = events[0].at + PURGE_EVERY if events else None
    for n, event in enumerate(events):
        tenant = tenants.get(event.tenant)
        if tenant is None:
            engine = TenantCorrelation(event.tenant, routing, spec.policy(), ids.__next__)
            tenant = tenants[event.tenant] = _Tenant(engine, TenantContext(None))
        fp = fingerprint(event.labels)
        if not event.firing and fp not in tenant.current:
            continue  # a resolution of an alert the history never saw fire
        _apply(tenant, event, counter)
        if event.firing:
            outcomes[tenant.current[fp]] = event.outcome
        for incident in tenant.engine.take_to_score():
            _snapshot(tenant, incident, event.at)
        for incident in tenant.engine.take_outbox().incidents.values():
            _label_from_history(tenant, incident, event.at, examples, outcomes)
        next_purge = _purge_when_due(tenants, event.at, next_purge)
        if progress is not None and (n % 2000 == 0 or n == len(events) - 1):
            progress(n + 1, len(events))
    labelled = sum(len(t.labelled) for t in tenants.values())
    actionable = sum(len(t.real & t.labelled) for t in tenants.values())
    return Replayed(sorted(examples, key=lambda e: e.at), labelled, actionable, 1.0)


def _purge_when_due(
    tenants: dict[str, _Tenant], now: datetime, due: datetime | None
) -> datetime | None:
    """Purge every tenant's old incidents once ``due`` has come, as the correlator
    does; when the next purge is due."""
    if due is None or now < due:
        return due
    for each in tenants.values():
        each.engine.purge(now, RETENTION)
        each.engine.take_outbox()
    return now + PURGE_EVERY


def _label_from_history(
    tenant: _Tenant,
    incident: Incident,
    now: datetime,
    examples: list[Example],
    outcomes: dict[str, int | None],
) -> None:
    """Once an incident closes: actionable if any of its alerts was, noise if those
    that say anything say noise; unlabelled (no example) if none says anything."""
    if incident.is_open or incident.id in tenant.labelled:
        return
    said = {outcomes.get(m.alert_id) for m in incident.members.values()}
    if said <= {None}:
        tenant.snapshots.pop(incident.id, None)  # no example, and not counted
        return
    tenant.labelled.add(incident.id)
    verdict = "actionable" if 1 in said else "noise"
    if verdict == "actionable":
        tenant.real.add(incident.id)
    incident = tenant.engine.set_feedback(incident.id, verdict, now, "alert history")
    tenant.engine.take_outbox()
    outcome = outcome_of(incident)
    label = label_of(incident)
    if outcome is None or label is None:
        return
    tenant.context.record(outcome)
    for at, features in tenant.snapshots.pop(incident.id, []):
        examples.append(Example(at, features, label, incident.tenant, incident.id))


def _apply(tenant: _Tenant, alert: SimAlert | HistoryEvent, counter: itertools.count[int]) -> None:
    fp = fingerprint(alert.labels)
    if alert.firing:
        alert_id = f"a{next(counter)}"
        tenant.current[fp] = alert_id
        tenant.truth[alert_id] = alert.truth
        kind, status, resolved_by = ChangeKind.CREATED, AlertStatus.FIRING, None
        tenant.context.count_alerts(alert.at, [alert.labels])
    else:
        alert_id = tenant.current.pop(fp)
        kind, status, resolved_by = ChangeKind.RESOLVED, AlertStatus.RESOLVED, RESOLVED_BY_SOURCE
    change = AlertChange(
        change_id=f"c{next(counter)}",
        kind=kind,
        alert_id=alert_id,
        fingerprint=fp,
        status=status,
        severity=alert.severity,
        stored_at=alert.at,
        labels=alert.labels,
        starts_at=alert.at,
        resolved_by=resolved_by,
    )
    tenant.engine.apply([change], alert.at)
    tenant.engine.tick(alert.at)
    if not alert.firing:
        tenant.truth.pop(alert_id, None)


def _snapshot(tenant: _Tenant, incident: Incident, now: datetime) -> None:
    if any(tenant.truth.get(m.alert_id, False) for m in incident.members.values()):
        tenant.real.add(incident.id)
    kept = tenant.snapshots.setdefault(incident.id, [])
    if len(kept) < SNAPSHOTS:  # features cost more than the check
        features = feature_vector(tenant.context.context_of(incident, now))
        keep_snapshot(kept, now.timestamp(), features)


def _maybe_label(
    tenant: _Tenant,
    incident: Incident,
    now: datetime,
    examples: list[Example],
    agreements: list[int],
) -> None:
    if incident.is_open or incident.id in tenant.labelled:
        return
    real = incident.id in tenant.real
    if real and incident.acknowledged_at is None:
        tenant.engine.set_feedback(incident.id, "actionable", now, "sim-oncall")
    label = label_of(incident)
    outcome = outcome_of(incident)
    if label is None or outcome is None:
        return
    tenant.labelled.add(incident.id)
    tenant.context.record(outcome)
    agreements[0] += int(label == int(real))
    agreements[1] += 1
    for at, features in tenant.snapshots.pop(incident.id, []):
        examples.append(Example(at, features, label, incident.tenant, incident.id))
