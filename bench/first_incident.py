"""The first alerts after start-up: is the first as fast as the next?

Starts Vigil as a newcomer does (``vigil up --detach``, the demo configuration, a
fresh data directory, its own port), then sends five alerts of new groups one after
another and measures, for each, how long ``POST /api/v2/alerts`` took and how long
after the alert was received its incident was formed (the incident's ``created_at``
minus its member's ``received_at``, both stamped by Vigil). The real Alertmanager,
started the same way, gets the same five alerts (its answer time is the comparable
part: it forms no incidents). Then ``vigil down``.

    python bench/first_incident.py
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.harness import write_json
from bench.real_services import Alertmanager
from cluster.redis_server import free_port

ROOT = Path(__file__).resolve().parents[1]
KEY = "demo-key-change-me"
ALERTS = 5


def _time(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def measure_vigil(url: str) -> list[dict[str, Any]]:
    headers = {"Authorization": f"Bearer {KEY}"}
    rows = []
    for n in range(ALERTS):
        name = f"FirstIncident{n}x{int(time.time())}"
        sent = time.monotonic()
        r = requests.post(
            f"{url}/api/v2/alerts",
            json=[{"labels": {"alertname": name, "severity": "critical", "service": f"s{n}"}}],
            headers=headers,
            timeout=60,
        )
        r.raise_for_status()
        post_ms = (time.monotonic() - sent) * 1000
        while True:
            found = requests.get(
                f"{url}/api/v1/incidents",
                params={"filter": f'alertname="{name}"'},
                headers=headers,
                timeout=60,
            ).json()["items"]
            if found:
                break
            time.sleep(0.02)
        incident = requests.get(
            f"{url}/api/v1/incidents/{found[0]['id']}", headers=headers, timeout=60
        ).json()
        formed_ms = _time(incident["created_at"]) - _time(incident["members"][0]["received_at"])
        rows.append(
            {"alert": n + 1, "post_ms": round(post_ms, 1), "formed_ms": round(formed_ms * 1000, 1)}
        )
        print(
            f"  vigil alert {n + 1}: POST {post_ms:7.1f} ms, "
            f"incident {formed_ms * 1000:6.1f} ms after it was received",
            flush=True,
        )
    return rows


def alertmanager_posts(url: str) -> list[float]:
    """Milliseconds each of ``ALERTS`` posts of new groups took at the Alertmanager at ``url``."""
    took = []
    for n in range(ALERTS):
        sent = time.monotonic()
        r = requests.post(
            f"{url}/api/v2/alerts",
            json=[{"labels": {"alertname": f"FirstIncident{n}", "service": f"s{n}"}}],
            timeout=60,
        )
        r.raise_for_status()
        took.append(round((time.monotonic() - sent) * 1000, 1))
    return took


def measure_alertmanager() -> list[dict[str, Any]]:
    with Alertmanager(free_port()) as am:
        return [{"alert": n + 1, "post_ms": ms} for n, ms in enumerate(alertmanager_posts(am.url))]


def main() -> int:
    data = Path(tempfile.mkdtemp(prefix="vigil-first-"))
    port = free_port()
    env = {**os.environ, "VIGIL_DATA_DIR": str(data), "VIGIL_HTTP_PORT": str(port)}
    vigil = [sys.executable, "-m", "cli"]
    print(f"starting Vigil (vigil up --detach, data in {data}) ...", flush=True)
    up = subprocess.run(
        [*vigil, "up", "--detach"], env=env, cwd=ROOT, capture_output=True, text=True
    )
    if up.returncode != 0:
        print(up.stdout + up.stderr)
        return 1
    try:
        ours = measure_vigil(f"http://127.0.0.1:{port}")
    finally:
        subprocess.run([*vigil, "down"], env=env, cwd=ROOT, capture_output=True, text=True)
    theirs = measure_alertmanager() if Alertmanager.binary() else []
    print("\n| alert | Vigil POST ms | Vigil ingest→incident ms | Alertmanager POST ms |")
    print("|------:|--------------:|-------------------------:|---------------------:|")
    for n, row in enumerate(ours):
        am = f"{theirs[n]['post_ms']:.1f}" if theirs else "-"
        print(
            f"| {row['alert']:>5} | {row['post_ms']:>13.1f} "
            f"| {row['formed_ms']:>24.1f} | {am:>20} |"
        )
    path = write_json("first_incident", {"vigil": ours, "alertmanager": theirs})
    print(f"\nwritten {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
