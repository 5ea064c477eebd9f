"""Issue 20's targets, Vigil beside Alertmanager, from one run of every benchmark that
measures them:

* ``compare_alertmanager.py``: single alerts (8 clients, and a fixed 200 req/s),
  batches of 100 and of 1,000, memory per active alert;
* ``active_alerts.py``: send → webhook at 200 and 1,000 alerts/s with 100,000 alerts
  active (in 1,000 groups), and memory of every process;
* ``notices.py``: one tenant's notices per second (one escalator lane, and two).

Each runs in its own process, one after the other (never two at once: they would share
the two cores), and writes its own JSON; this script then prints the targets table from
those files and writes ``bench/results/targets.json``.

    python bench/targets.py             # the full runs (~25 min on 2 cores)
    python bench/targets.py --quick     # each benchmark's --quick (~8 min)
    python bench/targets.py --table     # only the table, from the last results
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.harness import RESULTS, write_json

BENCH = Path(__file__).resolve().parent
RUNS: tuple[tuple[str, list[str]], ...] = (
    ("compare_alertmanager.py", []),
    ("active_alerts.py", []),
    ("notices.py", ["--lanes", "1,2"]),
)


def run_all(quick: bool) -> float:
    """Every benchmark, one after the other; seconds it all took."""
    started = time.monotonic()
    for script, extra in RUNS:
        command = [sys.executable, str(BENCH / script), *extra, *(["--quick"] if quick else [])]
        print(f"== {' '.join(command[1:])}", file=sys.stderr, flush=True)
        subprocess.run(command, check=True)
    return time.monotonic() - started


def load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((RESULTS / f"{name}.json").read_text())
    return data


def ratio(vigil: float, alertmanager: float) -> str:
    return f"{vigil / alertmanager:.2f}x" if alertmanager else "n/a"


def throughput(vigil: dict[str, Any], alertmanager: dict[str, Any]) -> str:
    """Vigil's alerts/s and p99, and its ratio to Alertmanager's alerts/s."""
    share = ratio(vigil["alerts_per_s"], alertmanager["alerts_per_s"])
    return f"{vigil['alerts_per_s']:,.0f}/s, p99 {vigil['p99_ms']} ms ({share})"


def rows() -> list[dict[str, Any]]:
    """The targets table: figure, target, Vigil, Alertmanager, met or not."""
    compare = load("compare_alertmanager")
    medians = {(m["target"], m["scenario"]): m for m in compare["medians"]}
    active = load("active_alerts")
    by_system = {r["system"]: r for r in active["results"]}
    notices = load("notices")
    out = []

    def add(figure: str, target: str, vigil: str, am: str, met: bool) -> None:
        out.append({"figure": figure, "target": target, "vigil": vigil, "alertmanager": am,
                    "met": met})  # fmt: skip

    v, a = medians[("vigil", "batch 1")], medians[("alertmanager", "batch 1")]
    add(
        "single alerts, 8 clients",
        "≥ 0.5x Alertmanager's req/s",
        throughput(v, a),
        f"{a['alerts_per_s']:,.0f}/s, p99 {a['p99_ms']} ms",
        v["alerts_per_s"] >= 0.5 * a["alerts_per_s"],
    )
    fixed = [k for k in medians if k[1].startswith("single @")]
    if fixed:
        scenario = fixed[0][1]
        v, a = medians[("vigil", scenario)], medians[("alertmanager", scenario)]
        add(
            scenario,
            "p99 < 20 ms",
            f"p50 {v['p50_ms']} ms, p99 {v['p99_ms']} ms",
            f"p50 {a['p50_ms']} ms, p99 {a['p99_ms']} ms",
            v["p99_ms"] < 20,
        )
    for batch in (100, 1000):
        v, a = medians[("vigil", f"batch {batch}")], medians[("alertmanager", f"batch {batch}")]
        add(
            f"batches of {batch:,}",
            "≥ 1.0x Alertmanager" if batch == 1000 else "",
            throughput(v, a),
            f"{a['alerts_per_s']:,.0f}/s, p99 {a['p99_ms']} ms",
            v["alerts_per_s"] >= a["alerts_per_s"] if batch == 1000 else True,
        )
    vigil, am = by_system.get("vigil"), by_system.get("alertmanager")
    if vigil and am:
        count = f"{vigil['active']:,} active in {vigil['groups']:,} groups"
        for n, rate in enumerate(e["alerts_per_s"] for e in vigil["end_to_end"]):
            ve, ae = vigil["end_to_end"][n], am["end_to_end"][n]
            backlog = ve["notified"] < ve["sent"]
            if rate <= 200:
                target, met = "≤ 2x Alertmanager's", ve["p99_ms"] <= 2 * ae["p99_ms"]
            else:
                target, met = "< 1 s, no backlog", ve["p99_ms"] < 1000 and not backlog
            add(
                f"send → webhook p99 at {rate:,}/s, {count}",
                target,
                f"{ve['p99_ms']} ms ({ve['notified']:,} / {ve['sent']:,} notified)",
                f"{ae['p99_ms']} ms",
                met,
            )
        add(
            "memory per 10,000 active alerts, every process",
            "≤ Alertmanager's",
            f"{vigil['mib_per_10k_active']} MiB",
            f"{am['mib_per_10k_active']} MiB",
            vigil["mib_per_10k_active"] <= am["mib_per_10k_active"],
        )
        add(
            "100,000 active alerts",
            "Vigil's p99 below Alertmanager's",
            ", ".join(f"{e['p99_ms']} ms" for e in vigil["end_to_end"]),
            ", ".join(f"{e['p99_ms']} ms" for e in am["end_to_end"]),
            all(
                ve["p99_ms"] < ae["p99_ms"]
                for ve, ae in zip(vigil["end_to_end"], am["end_to_end"], strict=True)
            ),
        )
    tenant = {r["system"]: r for r in notices["results"]}
    best = max((r for r in notices["results"] if "lanes" in r), key=lambda r: r["notices_per_s"])
    am_notices = tenant.get("alertmanager")
    add(
        "one tenant's notices",
        "≥ 3,000/s",
        ", ".join(
            f"{r['notices_per_s']:,}/s ({r['system'].removeprefix('vigil, ')})"
            for r in notices["results"]
            if "lanes" in r
        ),
        f"{am_notices['notices_per_s']:,}/s" if am_notices else "",
        best["notices_per_s"] >= 3000,
    )
    return out


def print_rows(table: list[dict[str, Any]]) -> None:
    print()
    print("| figure | target | Vigil | Alertmanager | met |")
    print("|---|---|--:|--:|---|")
    for r in table:
        met = "" if not r["target"] else ("yes" if r["met"] else "no")
        print(f"| {r['figure']} | {r['target']} | {r['vigil']} | {r['alertmanager']} | {met} |")


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--quick", action="store_true", help="each benchmark's --quick")
    p.add_argument("--table", action="store_true", help="only the table, from the last results")
    args = p.parse_args()
    wall = None if args.table else run_all(args.quick)
    table = rows()
    print_rows(table)
    sources = {n: load(n)["date"] for n in ("compare_alertmanager", "active_alerts", "notices")}
    path = write_json(
        "targets",
        {"quick": args.quick, "wall_s": wall and round(wall), "sources": sources, "rows": table},
    )
    print(f"\nwrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
