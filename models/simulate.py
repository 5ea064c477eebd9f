"""A simulator of realistic alert traffic for many tenants, with the ground truth.

Each simulated tenant has a service topology (frontends call APIs, APIs call data
stores) and a stream of alerts made of:

* **noise** - checks that fire now and then and resolve by themselves within
  minutes (CPU, disk, memory, crash loops, certificates; sometimes ``critical``);
* **flapping checks** - a few checks that toggle every minute or two in episodes;
* **maintenance bursts** - at night, many services restart at once and fire
  crash-loop and health-check alerts (``critical``) for a quarter of an hour;
* **real incidents** - a service fails (fragile services more often), often after
  warning precursors, and the failure cascades up to the services that call it;
  it lasts until someone fixes it.

Every alert occurrence carries ``truth``: whether it belongs to a real incident.
The scenario mix (``Scenario``) and the seed decide the traffic; evaluation uses
another seed and another mix than training, so a model cannot pass by memorising.
"""

from __future__ import annotations

import heapq
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from alerting.severity import Severity
from models.alert_history import HistoryEvent

START = datetime(2026, 1, 5, tzinfo=UTC)  # a Monday

NOISE_CHECKS: tuple[tuple[str, float], ...] = (
    ("CPUHigh", 3.0),
    ("DiskSpaceLow", 2.0),
    ("MemoryPressure", 2.0),
    ("HighLatency", 2.0),
    ("PodCrashLooping", 1.5),
    ("CertificateExpiring", 0.5),
    ("ErrorRateHigh", 0.7),
    ("ServiceDown", 0.2),
)
PRECURSORS = ("HighLatency", "ReplicationLag", "ErrorRateHigh")
FAILURES = ("ServiceDown", "ErrorRateHigh")
CASCADE = ("ErrorRateHigh", "HighLatency", "UpstreamUnavailable")
MAINTENANCE = ("PodCrashLooping", "HealthCheckFailed")
FLAPPERS = ("HealthCheckFailed", "HighLatency", "PodCrashLooping")


@dataclass(frozen=True)
class Scenario:
    """The mix of traffic for one simulation (rates per tenant)."""

    name: str = "training"
    days: float = 14.0
    services: int = 12
    noise_per_hour: float = 6.0
    noise_critical_share: float = 0.1
    flappers: int = 3
    maintenance_per_week: float = 3.0
    incidents_per_day: float = 8.0
    precursor_share: float = 0.6
    quiet_incident_share: float = 0.2  # real incidents with no cascade


TRAINING = Scenario()
EVALUATION = Scenario(
    name="evaluation",
    days=4.0,
    services=15,
    noise_per_hour=9.0,
    noise_critical_share=0.15,
    flappers=5,
    maintenance_per_week=5.0,
    incidents_per_day=6.0,
    precursor_share=0.5,
    quiet_incident_share=0.3,
)
SCENARIOS = {s.name: s for s in (TRAINING, EVALUATION)}


@dataclass(frozen=True)
class SimAlert:
    """One alert change: it fires or resolves at ``at``; ``truth`` is the ground truth."""

    at: datetime
    tenant: str
    labels: dict[str, str]
    firing: bool
    severity: Severity
    truth: bool
    cause: str  # "noise", "flapping", "maintenance" or "incident:<n>"


@dataclass
class World:
    """One tenant's services, who calls whom, and which services break more often."""

    tenant: str
    services: list[str]
    depends_on: dict[str, list[str]]
    fragility: dict[str, float]
    instances: dict[str, list[str]] = field(default_factory=dict)

    def callers(self, service: str) -> list[str]:
        """The services that call ``service``."""
        return [s for s, targets in self.depends_on.items() if service in targets]


def build_world(tenant: str, services: int, rng: random.Random) -> World:
    """A layered topology: a quarter frontends, half APIs, a quarter data stores."""
    tiers = max(1, services // 4)
    front = [f"web-{i}" for i in range(tiers)]
    data = [f"db-{i}" for i in range(tiers)]
    apis = [f"api-{i}" for i in range(max(1, services - 2 * tiers))]
    depends_on: dict[str, list[str]] = {}
    for web in front:
        depends_on[web] = rng.sample(apis, k=min(len(apis), rng.randint(1, 3)))
    for api in apis:
        depends_on[api] = rng.sample(data, k=min(len(data), rng.randint(1, 2)))
    names = front + apis + data
    # Data stores break more often, and a few services are fragile.
    fragility = {
        s: (2.0 if s.startswith("db") else 1.0) * rng.choice((0.5, 1, 1, 3)) for s in names
    }
    instances = {s: [f"{s}-{n}" for n in range(rng.randint(1, 3))] for s in names}
    return World(tenant, names, depends_on, fragility, instances)


class AlertStream:
    """Collects one tenant's alert changes from several generators, in time order."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.events: list[tuple[datetime, int, SimAlert]] = []
        self.n = 0

    def fire(
        self,
        start: datetime,
        duration: timedelta,
        labels: dict[str, str],
        severity: Severity,
        truth: bool,
        cause: str,
    ) -> None:
        """An alert that fires at ``start`` and resolves ``duration`` later."""
        for at, firing in ((start, True), (start + duration, False)):
            event = SimAlert(at, self.world.tenant, labels, firing, severity, truth, cause)
            heapq.heappush(self.events, (at, self.n, event))
            self.n += 1

    def alert(
        self,
        start: datetime,
        duration: timedelta,
        service: str,
        check: str,
        severity: Severity,
        truth: bool,
        cause: str,
        instance: str,
    ) -> None:
        labels = {
            "alertname": check,
            "service": service,
            "instance": instance,
            "severity": severity.value,
        }
        self.fire(start, duration, labels, severity, truth, cause)


def poisson_times(rng: random.Random, per_day: float, days: float) -> Iterator[datetime]:
    """The times of a Poisson process of ``per_day`` events a day over ``days``."""
    t = 0.0
    while per_day > 0:
        t += rng.expovariate(per_day)
        if t >= days:
            return
        yield START + timedelta(days=t)


def _noise(stream: AlertStream, scenario: Scenario, rng: random.Random) -> None:
    world = stream.world
    checks, weights = zip(*NOISE_CHECKS, strict=True)
    for at in poisson_times(rng, scenario.noise_per_hour * 24, scenario.days):
        service = rng.choice(world.services)
        check = rng.choices(checks, weights)[0]
        critical = rng.random() < scenario.noise_critical_share
        severity = Severity.CRITICAL if critical else rng.choice((Severity.WARNING, Severity.INFO))
        duration = timedelta(seconds=30 + rng.expovariate(1 / 240))
        instance = rng.choice(world.instances[service])
        stream.alert(at, duration, service, check, severity, False, "noise", instance)


def _flapping(stream: AlertStream, scenario: Scenario, rng: random.Random) -> None:
    world = stream.world
    for _ in range(scenario.flappers):
        service = rng.choice(world.services)
        check = rng.choice(FLAPPERS)
        instance = rng.choice(world.instances[service])
        for episode in poisson_times(rng, 3.0, scenario.days):
            at = episode
            for _ in range(rng.randint(4, 12)):
                up = timedelta(seconds=rng.uniform(30, 120))
                stream.alert(at, up, service, check, Severity.WARNING, False, "flapping", instance)
                at += up + timedelta(seconds=rng.uniform(30, 120))


def _maintenance(stream: AlertStream, scenario: Scenario, rng: random.Random) -> None:
    world = stream.world
    for day in poisson_times(rng, scenario.maintenance_per_week / 7, scenario.days):
        night = day.replace(hour=rng.randint(1, 4), minute=rng.randint(0, 59))
        for service in world.services:
            if rng.random() > 0.6:
                continue
            for check in MAINTENANCE:
                at = night + timedelta(seconds=rng.uniform(0, 120))
                took = timedelta(minutes=rng.uniform(3, 15))
                instance = rng.choice(world.instances[service])
                severity = Severity.CRITICAL if check == "HealthCheckFailed" else Severity.WARNING
                stream.alert(at, took, service, check, severity, False, "maintenance", instance)


def _incidents(stream: AlertStream, scenario: Scenario, rng: random.Random) -> None:
    world = stream.world
    weights = [world.fragility[s] for s in world.services]
    for n, start in enumerate(poisson_times(rng, scenario.incidents_per_day, scenario.days)):
        # Most real incidents start in working hours, when changes are deployed.
        if rng.random() < 0.7:
            start = start.replace(hour=rng.randint(9, 17))
        cause = f"incident:{n}"
        root = rng.choices(world.services, weights)[0]
        instance = rng.choice(world.instances[root])
        lasts = timedelta(minutes=rng.uniform(20, 120))
        if rng.random() < scenario.precursor_share:
            lead = timedelta(minutes=rng.uniform(2, 10))
            check = rng.choice(PRECURSORS)
            stream.alert(
                start - lead, lead + lasts, root, check, Severity.WARNING, True, cause, instance
            )
        quiet = rng.random() < scenario.quiet_incident_share
        severity = Severity.WARNING if quiet else Severity.CRITICAL
        stream.alert(start, lasts, root, rng.choice(FAILURES), severity, True, cause, instance)
        if quiet:
            continue
        _cascade(stream, rng, root, start, lasts, cause, hops=2)


def _cascade(
    stream: AlertStream,
    rng: random.Random,
    service: str,
    start: datetime,
    lasts: timedelta,
    cause: str,
    hops: int,
) -> None:
    """The failure spreads to the callers of ``service``, each a little later."""
    if hops == 0:
        return
    for caller in stream.world.callers(service):
        if rng.random() > 0.7:
            continue
        at = start + timedelta(seconds=rng.uniform(20, 300))
        remaining = max(timedelta(minutes=2), lasts - (at - start))
        instance = rng.choice(stream.world.instances[caller])
        severity = rng.choice((Severity.WARNING, Severity.CRITICAL))
        check = rng.choice(CASCADE)
        stream.alert(at, remaining, caller, check, severity, True, cause, instance)
        _cascade(stream, rng, caller, at, remaining, cause, hops - 1)


@dataclass
class Simulation:
    """The worlds and the time-ordered alert changes of every simulated tenant."""

    scenario: Scenario
    seed: int
    worlds: list[World]
    alerts: list[SimAlert]

    def as_history(self) -> list[HistoryEvent]:
        """The alerts as an alert file states them, each with its truth as the outcome
        (what ``models.replay.replay_history`` takes)."""
        return [
            HistoryEvent(a.at, a.tenant, a.labels, a.firing, a.severity, int(a.truth))
            for a in self.alerts
        ]


def simulate(scenario: Scenario, seed: int, tenants: int = 3) -> Simulation:
    """Generate ``tenants`` tenants' traffic for ``scenario.days`` days."""
    rng = random.Random(seed)
    streams = []
    for t in range(tenants):
        stream = AlertStream(build_world(f"sim-{t}", scenario.services, rng))
        for generate in (_noise, _flapping, _maintenance, _incidents):
            generate(stream, scenario, rng)
        streams.append(stream)
    return Simulation(scenario, seed, [s.world for s in streams], merged_alerts(streams))


def merged_alerts(streams: Sequence[AlertStream]) -> list[SimAlert]:
    """Every tenant's alert changes in one time order (ties: by tenant, then by the
    order they were made), without those a source could not send."""
    merged = [
        (at, t * 10_000_000 + n, event)
        for t, stream in enumerate(streams)
        for at, n, event in stream.events
    ]
    merged.sort(key=lambda item: (item[0], item[1]))
    return no_overlaps([e for _, _, e in merged])


def no_overlaps(alerts: list[SimAlert]) -> list[SimAlert]:
    """Drop changes that would contradict the source's own state: one alert (labels)
    cannot fire while it already fires, nor resolve twice. Alertmanager's clients
    never send such pairs either."""
    open_count: dict[tuple[str, tuple[tuple[str, str], ...]], int] = {}
    kept = []
    for alert in alerts:
        key = (alert.tenant, tuple(sorted(alert.labels.items())))
        count = open_count.get(key, 0)
        open_count[key] = count + (1 if alert.firing else -1)
        # Keep a change only when it flips the alert's visible state.
        if (alert.firing and count == 0) or (not alert.firing and count == 1):
            kept.append(alert)
    return kept
