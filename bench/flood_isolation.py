"""One tenant's flood of requests against another tenant's ingest latency.

Three tenants share one Vigil: a victim that sends single alerts one at a time and
measures each POST to its 202; a tenant on the free tier (5 requests/s) and one on
the enterprise tier (2,000 requests/s), each of which floods in turn with ``--clients``
concurrent clients sending single alerts as fast as they are answered. The rows say
what the victim saw alone, under each flood, and how much of each flood got in: a
free tenant's flood is turned away with 429 before any body is read, so the victim
should barely notice it, while an enterprise tenant's is what the machine allows.

    python -m bench.flood_isolation [--alerts 200] [--clients 8]

Prints a table and writes ``bench/results/flood_isolation.json``.
"""

from __future__ import annotations

import argparse
import secrets
import threading
import time
import uuid
from typing import Any

import requests

from bench.harness import (
    Measurement,
    api_session,
    print_table,
    start_vigil,
    wait_ready,
    write_results,
)


def victim_latency(url: str, key: str, count: int, name: str) -> Measurement:
    """POST ``count`` alerts one at a time; each: ms until its 202."""
    s = api_session(key)
    m = Measurement("vigil", name, 1, 1)
    started = time.monotonic()
    for _ in range(count):
        t0 = time.monotonic()
        r = s.post(
            f"{url}/api/v1/critical-alerts",
            json={"labels": {"alertname": f"Victim{uuid.uuid4().hex[:8]}"}},
            timeout=60,
        )
        m.record((time.monotonic() - t0) * 1000, r.status_code == 202)
    m.seconds = time.monotonic() - started
    return m


class Flood:
    """``clients`` threads posting single alerts for one tenant until stopped; counts
    each answer by status."""

    def __init__(self, url: str, key: str, clients: int) -> None:
        self.url, self.key, self.clients = url, key, clients
        self.stop = threading.Event()
        self.statuses: dict[int, int] = {}
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self._run, daemon=True) for _ in range(clients)]

    def _run(self) -> None:
        s = api_session(self.key)
        deadline = time.monotonic() + 600  # bounded whatever happens
        while not self.stop.is_set() and time.monotonic() < deadline:
            body = {"labels": {"alertname": f"Flood{uuid.uuid4().hex[:8]}"}}
            try:
                status = s.post(f"{self.url}/api/v1/critical-alerts", json=body, timeout=60)
                code = status.status_code
            except requests.RequestException:
                code = 0
            with self.lock:
                self.statuses[code] = self.statuses.get(code, 0) + 1

    def __enter__(self) -> Flood:
        self.started = time.monotonic()
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop.set()
        for t in self.threads:
            t.join(timeout=120)
        self.seconds = time.monotonic() - self.started

    def summary(self) -> dict[str, Any]:
        total = sum(self.statuses.values())
        return {
            "requests": total,
            "per_s": round(total / self.seconds, 1),
            "accepted_per_s": round(self.statuses.get(202, 0) / self.seconds, 1),
            "statuses": {str(k): v for k, v in sorted(self.statuses.items())},
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--alerts", type=int, default=200, help="victim alerts per phase")
    parser.add_argument("--clients", type=int, default=8, help="flooding clients")
    args = parser.parse_args()
    victim, big = "victim-" + secrets.token_hex(16), "big-" + secrets.token_hex(16)
    url, free_key, stop = start_vigil(
        ml=False, tenant_extra={"tier": "free"}, other_tenants={"victim": victim, "big": big}
    )
    floods: dict[str, dict[str, Any]] = {}
    try:
        wait_ready(url)
        victim_latency(url, victim, 20, "warm-up")
        rows = [victim_latency(url, victim, args.alerts, "victim alone")]
        for name, key in (("free", free_key), ("enterprise", big)):
            print(f"flood by the {name} tenant, {args.clients} clients ...", flush=True)
            with Flood(url, key, args.clients) as flood:
                rows.append(victim_latency(url, victim, args.alerts, f"victim, {name} flood"))
            floods[name] = flood.summary()
            print(f"  {name} flood: {floods[name]}", flush=True)
        rows.append(victim_latency(url, victim, args.alerts, "victim alone, after"))
    finally:
        stop()
    print_table("another tenant's POST -> 202 (ms)", rows)
    print(f"wrote {write_results('flood_isolation', rows, {'floods': floods})}")


if __name__ == "__main__":
    main()
