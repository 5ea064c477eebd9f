"""Where the CPU goes while Vigil ingests: CPU time of every process under one load.

Starts its own Vigil, warms it up, then sends ``--batch``-sized posts to
``/api/v2/alerts`` from ``--clients`` concurrent clients for ``--duration`` seconds,
and prints the CPU each process used (from ``/proc``), busiest last, with the
throughput. Use it to see which stage limits ingest before optimising one.

    python bench/cpu_split.py --batch 1000 --clients 2
    python bench/cpu_split.py --batch 1 --clients 8
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.compare_alertmanager import v2_sender
from bench.harness import Measurement, closed_loop, print_progress, start_vigil
from bench.process_memory import processes

TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds() -> dict[int, tuple[str, float]]:
    """Every process's command line (shortened) and CPU seconds used so far."""
    found = {}
    for entry, cmdline in processes():
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:  # ended meanwhile
            continue
        name = cmdline.split(" ")[0].rsplit("/", 1)[-1] if "/" in cmdline.split(" ")[0] else cmdline
        found[int(entry.name)] = (name[:48], (int(fields[11]) + int(fields[12])) / TICKS)
    return found


async def measure(url: str, key: str, args: argparse.Namespace) -> None:
    auth = {"Authorization": f"Bearer {key}"}
    warm = Measurement("vigil", "warm-up", args.batch, args.clients)
    await closed_loop(warm, v2_sender(url, args.batch, auth, 10**9), 3, lambda m: None)
    before, started = cpu_seconds(), time.monotonic()
    m = Measurement("vigil", f"batch {args.batch}", args.batch, args.clients)
    await closed_loop(m, v2_sender(url, args.batch, auth, 2 * 10**9), args.duration, print_progress)
    after, elapsed = cpu_seconds(), time.monotonic() - started
    print(
        f"\n\n{m.alerts_per_s:,.0f} alerts/s, p50 {m.percentile(0.5):.1f} ms, "
        f"p99 {m.percentile(0.99):.1f} ms ({args.batch} per post, {args.clients} clients)"
    )
    used = sorted(
        ((after[pid][1] - before.get(pid, ("", 0.0))[1]) / elapsed, after[pid][0]) for pid in after
    )
    print(f"\n{'CPU %':>6}  {'µs per alert':>12}  process")
    for share, name in used[-args.top :]:
        per_alert = share / m.alerts_per_s * 1e6 if m.alerts_per_s else 0.0
        print(f"{share * 100:6.1f}  {per_alert:12.1f}  {name}")


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--batch", type=int, default=1000, help="alerts per post")
    p.add_argument("--clients", type=int, default=2, help="concurrent clients")
    p.add_argument("--duration", type=float, default=10.0, help="seconds of load")
    p.add_argument("--top", type=int, default=8, help="processes to list")
    args = p.parse_args()
    url, key, stop = start_vigil()
    try:
        asyncio.run(measure(url, key, args))
    finally:
        stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
