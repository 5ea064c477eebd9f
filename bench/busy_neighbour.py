"""Vigil beside a busy neighbour: start-up and the first alerts while other processes
keep the CPUs busy, with Ray's worker priority (nice 15) and with Vigil's (nice 0).

Every Vigil actor is a Ray worker, and Ray starts its workers at nice 15 unless
``RAY_worker_niceness`` says otherwise; ``vigil up`` sets it to 0 (``LEAN_RAY_ENV`` in
``cluster/runtime.py``). For each priority and each number of CPU-bound neighbours
(plain ``while True`` Python processes at the shell's priority), this starts Vigil as a
newcomer does (``vigil up --detach``, demo configuration, fresh data directory), times
it, sends five alerts of new groups (``bench/first_incident.py``'s measurement: the
``POST`` and the time from receipt to incident), then ``vigil down``. The real
Alertmanager gets the same neighbours: its start-up and the same five posts.

    python bench/busy_neighbour.py            # neighbours 0, 1, 3 (~10 min)
    python bench/busy_neighbour.py --quick    # neighbours 0 and 3
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from statistics import median
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.first_incident import alertmanager_posts, measure_vigil
from bench.harness import write_json
from bench.real_services import Alertmanager
from cluster.redis_server import free_port

ROOT = Path(__file__).resolve().parents[1]
UP_TIMEOUT = 600.0  # Ray's priority beside three neighbours took 261 s when measured
PRIORITIES = {"Ray's default (nice 15)": "15", "Vigil's (nice 0)": "0"}


@contextmanager
def neighbours(count: int) -> Iterator[None]:
    """``count`` CPU-bound processes at this process's priority, stopped on leaving."""
    procs = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(count)]
    try:
        yield
    finally:
        for proc in procs:
            proc.kill()
        for proc in procs:
            proc.wait()


def vigil_beside(count: int, niceness: str) -> dict[str, Any]:
    """Start Vigil with its workers at ``niceness`` beside ``count`` neighbours."""
    data = Path(tempfile.mkdtemp(prefix="vigil-busy-"))
    port = free_port()
    env = {
        **os.environ,
        "VIGIL_DATA_DIR": str(data),
        "VIGIL_HTTP_PORT": str(port),
        "RAY_worker_niceness": niceness,  # kept by `vigil up`: a value already set wins
    }
    vigil = [sys.executable, "-m", "cli"]
    with neighbours(count):
        started = time.monotonic()
        try:
            up = subprocess.run(
                [*vigil, "up", "--detach"],
                env=env,
                cwd=ROOT,
                capture_output=True,
                text=True,
                timeout=UP_TIMEOUT,
            )
            up_s = time.monotonic() - started
            if up.returncode != 0:
                print(up.stdout[-2000:] + up.stderr[-2000:], flush=True)
                return {"up_s": round(up_s, 1), "failed": True}
            print(f"  vigil up took {up_s:.1f} s", flush=True)
            alerts = measure_vigil(f"http://127.0.0.1:{port}")
        except subprocess.TimeoutExpired:
            print(f"  vigil up did not finish in {UP_TIMEOUT:.0f} s", flush=True)
            return {"up_s": None, "failed": True}
        finally:
            subprocess.run([*vigil, "down"], env=env, cwd=ROOT, capture_output=True, text=True)
    return {"up_s": round(up_s, 1), "alerts": alerts}


def alertmanager_beside(count: int) -> dict[str, Any]:
    """The real Alertmanager's start-up and the same five posts beside ``count``."""
    with neighbours(count):
        started = time.monotonic()
        with Alertmanager(free_port()) as am:
            up_s = time.monotonic() - started
            posts = alertmanager_posts(am.url)
    return {"up_s": round(up_s, 1), "post_ms": posts}


def _cell(value: float | None, fmt: str) -> str:
    return "-" if value is None else format(value, fmt)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="neighbours 0 and 3 only")
    args = parser.parse_args()
    counts = [0, 3] if args.quick else [0, 1, 3]
    results: dict[str, Any] = {"neighbours": counts, "vigil": {}, "alertmanager": {}}
    for count in counts:
        for label, niceness in PRIORITIES.items():
            print(f"Vigil, workers at {label}, {count} neighbour(s) ...", flush=True)
            results["vigil"].setdefault(label, {})[str(count)] = vigil_beside(count, niceness)
        if Alertmanager.binary():
            print(f"Alertmanager, {count} neighbour(s) ...", flush=True)
            results["alertmanager"][str(count)] = alertmanager_beside(count)

    print(
        "\n| neighbours | who | start-up s | POST ms, median (max) "
        "| receipt→incident ms, median (max) |"
    )
    print("|---:|---|---:|---:|---:|")
    for count in counts:
        for label in PRIORITIES:
            row = results["vigil"][label][str(count)]
            alerts = row.get("alerts") or []
            post = [a["post_ms"] for a in alerts]
            formed = [a["formed_ms"] for a in alerts]
            print(
                f"| {count} | Vigil, workers at {label} | {_cell(row['up_s'], '.1f')}"
                + (" (failed)" if row.get("failed") else "")
                + (
                    f" | {median(post):.1f} ({max(post):.1f}) "
                    f"| {median(formed):.1f} ({max(formed):.1f}) |"
                    if alerts
                    else " | - | - |"
                )
            )
        am = results["alertmanager"].get(str(count))
        if am:
            print(
                f"| {count} | Alertmanager | {am['up_s']:.1f} "
                f"| {median(am['post_ms']):.1f} ({max(am['post_ms']):.1f}) | - |"
            )
    path = write_json("busy_neighbour", results)
    print(f"\nwritten {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
