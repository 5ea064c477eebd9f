"""What a tenant's storm detector should count: new alerts only, or every report.

``correlation.anomaly.count`` chooses (``models/rate_watch.py``). Senders differ in
what a repeat means, and this benchmark makes two kinds of sender with known storm
episodes, feeds each through the production ``RateWatch`` both ways, and counts what
a person on call would see:

* **Prometheus-like**: an alert is resent every minute while it fires, and most
  background alerts fire for a while. An outage is a burst of *new* alerts (a
  hundred or more within a few minutes) that then keep firing.
* **IDS-like**: every hit is a report under the same labels (a rule on a host), and
  an alert stays open until five minutes pass without a hit (Alertmanager's
  ``resolve_timeout``). An attack is a burst of *hits* of a few rules on one or two
  hosts; benign jobs (a backup, a scan by the admins) burst one rule too.

An episode is detected when an ``AlertStorm`` is raised within 15 minutes of its
start; every other storm is a false one. Synthetic traffic: it shows the trade-off's
shape, not the rates of any real sender.

    python bench/storm_counting.py
"""

from __future__ import annotations

import random
import statistics
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from alerting.correlation_config import AnomalySpec
from alerting.lifecycle import ChangeKind
from bench.harness import write_json
from models.rate_watch import RateWatch, counts_toward_rate

START = datetime(2026, 1, 5, tzinfo=UTC)
DAYS = 7.0
SEEDS = (1, 2, 3)
DETECTED_WITHIN = timedelta(minutes=15)
RESOLVE_TIMEOUT = timedelta(minutes=5)


@dataclass(frozen=True)
class Report:
    """One report of a firing alert by the sender."""

    at: datetime
    labels: tuple[tuple[str, str], ...]
    lasts: timedelta  # how long this report keeps the alert open


def _poisson(rng: random.Random, per_minute: float, days: float) -> Iterator[datetime]:
    t = 0.0
    while True:
        t += rng.expovariate(per_minute)
        if t >= days * 1440:
            return
        yield START + timedelta(minutes=t)


def prometheus_like(rng: random.Random) -> tuple[list[Report], list[datetime]]:
    """Background alerts resent each minute while they fire; outages of new alerts."""
    reports: list[Report] = []

    def fire(at: datetime, labels: tuple[tuple[str, str], ...], lasts: timedelta) -> None:
        minutes = max(1, int(lasts.total_seconds() // 60))
        for k in range(minutes):  # first send, then a resend every minute
            reports.append(Report(at + timedelta(minutes=k), labels, timedelta(minutes=2)))

    for n, at in enumerate(_poisson(rng, 2.0, DAYS)):
        long_lived = rng.random() < 0.1
        lasts = timedelta(minutes=rng.uniform(60, 600) if long_lived else rng.uniform(2, 40))
        fire(at, (("alertname", f"Check{n % 40}"), ("instance", f"i{n}")), lasts)
    episodes = list(_poisson(rng, 1.0 / 1440, DAYS))
    for e, start in enumerate(episodes):
        for n in range(rng.randint(100, 300)):
            at = start + timedelta(seconds=rng.uniform(0, 180))
            labels = (("alertname", f"Outage{n % 5}"), ("instance", f"o{e}-{n}"))
            fire(at, labels, timedelta(minutes=rng.uniform(20, 60)))
    return sorted(reports, key=lambda r: r.at), episodes


def ids_like(rng: random.Random) -> tuple[list[Report], list[datetime]]:
    """Every hit a report (rule, host); attacks and benign jobs burst a few rules."""
    rules = [f"R{5000 + n}" for n in range(40)]
    weights = [1 / (k + 1) for k in range(len(rules))]
    hosts = [f"h{n}" for n in range(16)]
    reports: list[Report] = []

    def hit(at: datetime, rule: str, host: str) -> None:
        reports.append(Report(at, (("alertname", rule), ("host", host)), RESOLVE_TIMEOUT))

    for at in _poisson(rng, 3.0, DAYS):
        hit(at, rng.choices(rules, weights)[0], rng.choice(hosts))
    for start in _poisson(rng, 2.0 / 1440, DAYS):  # benign jobs: one rule, many hits
        rule, host = rng.choice(rules[:10]), rng.choice(hosts)
        for _ in range(rng.randint(50, 200)):
            hit(start + timedelta(seconds=rng.uniform(0, 300)), rule, host)
    episodes = list(_poisson(rng, 1.0 / 1440, DAYS))
    for start in episodes:  # attacks: a few rules on one or two hosts, many hits
        targets = rng.sample(hosts, k=rng.randint(1, 2))
        for rule in rng.sample(rules, k=3):
            for _ in range(rng.randint(30, 100)):
                hit(start + timedelta(seconds=rng.uniform(0, 600)), rule, rng.choice(targets))
    return sorted(reports, key=lambda r: r.at), episodes


def storms(reports: list[Report], count: str) -> list[datetime]:
    """The storms the production rate watch raises on these reports, counting ``count``
    (each report is a new alert unless its labels are already open: then a resend)."""
    policy = AnomalySpec.model_validate({"count": count, "per_service": False}).policy("service")
    watch = RateWatch(policy, START)
    open_until: dict[tuple[tuple[str, str], ...], datetime] = {}
    raised = []
    for report in reports:
        until = open_until.get(report.labels)
        kind = (
            ChangeKind.DUPLICATE if until is not None and until > report.at else ChangeKind.CREATED
        )
        open_until[report.labels] = report.at + report.lasts
        if counts_toward_rate(kind, policy):
            raised += [a.bucket_start for a in watch.count(report.at, dict(report.labels))]
    raised += [a.bucket_start for a in watch.close_due(START + timedelta(days=DAYS, hours=1))]
    return raised


def judge(raised: list[datetime], episodes: list[datetime]) -> dict[str, float]:
    """Episodes detected, and storms that match no episode."""
    found = {
        n
        for n, start in enumerate(episodes)
        if any(start - timedelta(minutes=1) <= at <= start + DETECTED_WITHIN for at in raised)
    }
    false = [
        at
        for at in raised
        if not any(s - timedelta(minutes=1) <= at <= s + timedelta(hours=1) for s in episodes)
    ]
    recall = len(found) / len(episodes) if episodes else 1.0
    precision = (len(raised) - len(false)) / len(raised) if raised else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "episodes": len(episodes),
        "detected": len(found),
        "recall": recall,
        "false_storms_per_day": len(false) / DAYS,
        "f1": f1,
    }


def main() -> None:
    results: dict[str, dict[str, Any]] = {}
    print(f"{DAYS:g} days per run, seeds {', '.join(map(str, SEEDS))}; mean of the runs")
    print("| sender | counts | episodes detected | recall | false storms per day | F1 |")
    print("|---|---|---|---|---|---|")
    for sender, make in (("Prometheus-like", prometheus_like), ("IDS-like", ids_like)):
        traffic = [make(random.Random(seed)) for seed in SEEDS]
        for count in ("new", "all"):
            runs = [judge(storms(reports, count), episodes) for reports, episodes in traffic]
            mean = {k: statistics.mean(r[k] for r in runs) for k in runs[0]}
            results.setdefault(sender, {})[count] = {"mean": mean, "runs": runs}
            detected = sum(r["detected"] for r in runs)
            total = sum(r["episodes"] for r in runs)
            print(
                f"| {sender} | {count} | {detected}/{total} | {mean['recall']:.2f} | "
                f"{mean['false_storms_per_day']:.2f} | {mean['f1']:.2f} |"
            )
    out = write_json("storm_counting", {"days": DAYS, "seeds": SEEDS, "results": results})
    print(f"written to {out}")


if __name__ == "__main__":
    main()
