"""A second simulator family, built on other assumptions than ``models/simulate.py``,
to measure models on traffic they did not come from.

``simulate.py`` draws services in a call graph; real incidents are critical failures
that cascade to callers, and noise is mostly lower severity. A model trained there
can learn "critical and spreading means actionable". This family breaks each of
those assumptions, the way security and host monitoring (an IDS, host agents, log
rules) do:

* **no topology, no services**: alerts name a ``host`` and a rule (``alertname``);
* **severity says little**: each rule has a fixed severity drawn at random, and the
  busiest benign rules include critical ones;
* **benign traffic is heavy-tailed and rhythmic**: a few rules fire all the time, many
  rarely (Zipf rates); scheduled jobs fire the same rules at the same minute every
  day; maintenance touches many hosts at once at any hour;
* **actionable episodes are rare multi-stage chains** (an attack, a failing disk that
  spreads): a few hosts fire a sequence of rules over an hour or two, each stage
  repeating; half of a chain's rules are ones the benign traffic never uses, half are
  common benign rules (a failed login looks the same either way).

Every alert carries its truth, as in ``simulate.py`` (``SimAlert``), so the same
replay, history format and evaluation apply.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from alerting.severity import Severity
from models.simulate import (
    START,
    AlertStream,
    Scenario,
    Simulation,
    World,
    merged_alerts,
    poisson_times,
)

SEVERITIES = (Severity.INFO, Severity.WARNING, Severity.WARNING, Severity.CRITICAL)


@dataclass(frozen=True)
class HostScenario:
    """The mix of one host-monitoring simulation (rates per tenant)."""

    name: str = "hosts"
    days: float = 10.0
    hosts: int = 16
    benign_rules: int = 40
    rare_rules: int = 25  # used only by actionable chains
    benign_per_hour: float = 30.0
    scheduled_jobs: int = 6
    maintenance_per_day: float = 1.0
    chains_per_day: float = 1.5


HOSTS = HostScenario()


class _Host:
    """One tenant's hosts, rules and collected alert changes."""

    def __init__(self, tenant: str, scenario: HostScenario, rng: random.Random) -> None:
        self.rng = rng
        self.hosts = [f"host-{n:02d}" for n in range(scenario.hosts)]
        self.benign = [f"R{5000 + n}" for n in range(scenario.benign_rules)]
        self.rare = [f"R{9000 + n}" for n in range(scenario.rare_rules)]
        rules = self.benign + self.rare
        self.severity = {rule: rng.choice(SEVERITIES) for rule in rules}
        self.stream = AlertStream(World(tenant, [], {}, {}))  # no services, no topology

    def alert(
        self, at: datetime, lasts: timedelta, rule: str, host: str, truth: bool, cause: str
    ) -> None:
        severity = self.severity[rule]
        labels = {"alertname": rule, "host": host, "severity": severity.value}
        self.stream.fire(at, lasts, labels, severity, truth, cause)

    def short(self) -> timedelta:
        return timedelta(seconds=5 + self.rng.expovariate(1 / 90))


def _benign(world: _Host, scenario: HostScenario) -> None:
    rng = world.rng
    weights = [1 / (rank + 1) for rank in range(len(world.benign))]  # Zipf
    for at in poisson_times(rng, scenario.benign_per_hour * 24, scenario.days):
        rule = rng.choices(world.benign, weights)[0]
        world.alert(at, world.short(), rule, rng.choice(world.hosts), False, "noise")


def _scheduled(world: _Host, scenario: HostScenario) -> None:
    """Jobs that fire the same rules on the same hosts at the same minute every day."""
    rng = world.rng
    for job in range(scenario.scheduled_jobs):
        minute = rng.randrange(24 * 60)
        rules = rng.sample(world.benign, k=rng.randint(1, 3))
        hosts = rng.sample(world.hosts, k=rng.randint(1, 4))
        for day in range(int(scenario.days)):
            at = START + timedelta(days=day, minutes=minute, seconds=rng.uniform(0, 30))
            for rule in rules:
                for host in hosts:
                    world.alert(at, world.short(), rule, host, False, f"job:{job}")


def _maintenance(world: _Host, scenario: HostScenario) -> None:
    """Many hosts at once, at any hour: updates, reboots, scans by the admins."""
    rng = world.rng
    for n, at in enumerate(poisson_times(rng, scenario.maintenance_per_day, scenario.days)):
        rules = rng.sample(world.benign[:15], k=rng.randint(2, 5))
        for host in rng.sample(world.hosts, k=rng.randint(len(world.hosts) // 3, len(world.hosts))):
            for rule in rules:
                when = at + timedelta(seconds=rng.uniform(0, 600))
                world.alert(when, world.short(), rule, host, False, f"maintenance:{n}")


def _chains(world: _Host, scenario: HostScenario) -> None:
    """Rare multi-stage episodes on a few hosts: what someone must act on."""
    rng = world.rng
    for n, start in enumerate(poisson_times(rng, scenario.chains_per_day, scenario.days)):
        hosts = rng.sample(world.hosts, k=rng.randint(1, 3))
        at = start
        for _ in range(rng.randint(3, 6)):
            pool = world.rare if rng.random() < 0.5 else world.benign
            rule = rng.choice(pool)
            for _ in range(rng.randint(1, 8)):  # a stage repeats: several hits
                when = at + timedelta(seconds=rng.uniform(0, 300))
                world.alert(when, world.short(), rule, rng.choice(hosts), True, f"chain:{n}")
            at += timedelta(minutes=rng.uniform(5, 40))


def simulate_hosts(scenario: HostScenario, seed: int, tenants: int = 2) -> Simulation:
    """Generate ``tenants`` tenants' host-monitoring traffic for ``scenario.days`` days."""
    rng = random.Random(seed)
    streams = []
    for t in range(tenants):
        world = _Host(f"hosts-{t}", scenario, rng)
        for generate in (_benign, _scheduled, _maintenance, _chains):
            generate(world, scenario)
        streams.append(world.stream)
    shape = Scenario(name=scenario.name, days=scenario.days)
    return Simulation(shape, seed, [s.world for s in streams], merged_alerts(streams))
