"""Generated scenarios for the notification parity suite: the same batches of alerts
and silences go to a real Alertmanager and to Vigil, and what each sends is compared.

Each scenario takes the routing of one grouping scenario (``grouping/``), gives every
receiver a webhook to a recorder (and the first receiver a second webhook with
``send_resolved: false`` and ``max_alerts: 2``, a Slack and a PagerDuty integration
posting there too), and plays a seeded story over its alerts in batches
``INTERVAL`` apart: alerts fire, are re-sent, resolve (and are sent resolved again, as
Prometheus does) and fire again; a silence is created active, another pending, and
both expire mid-run; at the end everything resolves.

Timing: every group is created by a batch (at a multiple of ``INTERVAL``) and first
flushes ``group_wait`` = ``INTERVAL / 2`` later, then every ``INTERVAL``. So every
flush of every group, in both systems, falls halfway between two batches: no change
races a flush, and an emptied group that Alertmanager keeps for up to 30 s flushes at
the same moments as a new one would. Silences start and end at batch times.

One thing Alertmanager leaves to chance: a group emptied by a flush is deleted by a
maintenance pass that runs every 30 s from its own start, so an alert that comes
back to it finds the old group (no flush until its next tick) or a new one. A new
group holding an alert that started more than ``group_wait`` ago flushes at once,
at the batch's own moment, and from then on every flush races a batch. Only a
resolution sent again carries such an old start to a group that may be empty, so the
story sends one again only while another alert of each of its groups is firing:
those groups are alive in both systems, and their flushes stay halfway.
"""

from __future__ import annotations

import copy
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from alerting.routing import RouteSpec, build_route
from tests.acceptance.grouping_scenarios import SCENARIOS as GROUPING

INTERVAL = 6.0  # seconds between batches; the groups' group_interval
BATCHES = 10  # batch 8 resolves everything; 9 is when the last notifications are due
# Half an interval of margin either side of every flush (3 s: a loaded machine's
# HTTP and scheduling delays stay well inside it); the repeat falls between flushes.
TIMINGS = {"group_wait": "3s", "group_interval": "6s", "repeat_interval": "15s"}
ROUTINGS = (
    "continue",
    "deep",
    "inhibit-equal",
    "inhibit-two-sided",
    "no-group-by",
    "all-labels",
    "quoted-values",
)


@dataclass
class Batch:
    """What is sent at ``INTERVAL * index`` seconds into the run."""

    index: int
    alerts: list[dict[str, Any]] = field(default_factory=list)  # to POST /api/v2/alerts
    silences: list[dict[str, Any]] = field(default_factory=list)  # to POST /api/v2/silences


@dataclass(frozen=True)
class NotifyScenario:
    """One routing, its receivers' webhooks, and its batches (times are offsets)."""

    name: str
    routing: dict[str, Any]
    pool: list[dict[str, str]]
    seed: int

    @property
    def tenant(self) -> str:
        return f"notify-{self.name}"

    def config(self, recorder: str, system: str) -> dict[str, Any]:
        """The routing with webhooks to ``recorder``/``system``/scenario/receiver/n."""
        config = copy.deepcopy(self.routing)
        config["route"] = {**config["route"], **TIMINGS}
        for n, receiver in enumerate(config["receivers"]):
            url = f"{recorder}/{system}/{self.name}/{receiver['name']}"
            hooks: list[dict[str, Any]] = [{"url": f"{url}/0"}]
            if n == 0:
                hooks.append({"url": f"{url}/1", "send_resolved": False, "max_alerts": 2})
                # Slack (send_resolved false by default) and PagerDuty, default templates.
                receiver["slack_configs"] = [{"api_url": f"{url}/slack", "channel": "#ops"}]
                receiver["pagerduty_configs"] = [{"routing_key": "rk", "url": f"{url}/pd"}]
            receiver["webhook_configs"] = hooks
        return config

    def batches(self, start: datetime) -> list[Batch]:
        """The story, with absolute times from ``start`` (the time of batch 0)."""
        rng = random.Random(self.seed)

        def at(index: float) -> str:
            moment = start + timedelta(seconds=INTERVAL * index)
            return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")

        def alert(labels: dict[str, str], starts: int, ends: int | None = None) -> dict[str, Any]:
            body: dict[str, Any] = {
                "labels": labels,
                "annotations": {"summary": f"{labels.get('alertname', '')} <&> on {starts}"},
                "startsAt": at(starts),
                "generatorURL": f"http://prometheus.test/graph?g0.expr={len(labels)}",
            }
            if ends is not None:
                body["endsAt"] = at(ends)
            return body

        groups = self.groups()
        firing: dict[int, int] = {}  # pool index → the batch its occurrence started
        resolved: dict[int, tuple[int, int]] = {}  # pool index → (started, ended) batches
        batches = [Batch(i) for i in range(BATCHES)]
        for i, labels in enumerate(self.pool):
            if rng.random() < 0.6:
                firing[i] = 0
                batches[0].alerts.append(alert(labels, 0))
        for k in range(1, BATCHES - 2):
            alive = {g for j in firing for g in groups[j]}  # groups not empty now
            for i, labels in enumerate(self.pool):
                roll = rng.random()
                if i in firing:
                    if roll < 0.2:
                        resolved[i] = (firing.pop(i), k)
                        batches[k].alerts.append(alert(labels, *resolved[i]))
                    elif roll < 0.5:
                        batches[k].alerts.append(alert(labels, firing[i]))  # re-sent
                elif roll < 0.3:
                    firing[i] = k  # new, or fires again
                    resolved.pop(i, None)
                    batches[k].alerts.append(alert(labels, k))
                elif roll < 0.5 and i in resolved and groups[i] <= alive:
                    batches[k].alerts.append(alert(labels, *resolved[i]))  # resolved, again
        last = batches[BATCHES - 2]
        for i, started in firing.items():
            last.alerts.append(alert(self.pool[i], started, BATCHES - 2))
        # A silence active from batch 1 to 4, and one pending from 2, active 3 to 5.
        for k, (begin, end) in ((1, (1, 4)), (2, (3, 5))):
            name, value = rng.choice(sorted(rng.choice(self.pool).items()))
            batches[k].silences.append(
                {
                    "matchers": [{"name": name, "value": value, "isRegex": False}],
                    "startsAt": at(begin),
                    "endsAt": at(end),
                    "createdBy": "parity",
                    "comment": f"silence {k}",
                }
            )
        return batches

    def groups(self) -> list[frozenset[tuple[str, frozenset[tuple[str, str]]]]]:
        """Each pool alert's aggregation groups: (route path, group labels) per route."""
        root = build_route(RouteSpec.model_validate(self.routing["route"]))
        return [
            frozenset(
                (route.path, frozenset(route.group_labels(labels).items()))
                for route in root.match(labels)
            )
            for labels in self.pool
        ]


def _pool(labels: list[dict[str, str]]) -> list[dict[str, str]]:
    """The scenario's alerts, each in two replicas (more alerts per group)."""
    return [{**a, "replica": r} for a in labels for r in ("r1", "r2")]


NOTIFY_SCENARIOS = [
    NotifyScenario(s.name, s.routing, _pool(s.alerts), seed=n)
    for n, s in enumerate(GROUPING)
    if s.name in ROUTINGS
]


def utc_now() -> datetime:
    return datetime.now(UTC)
