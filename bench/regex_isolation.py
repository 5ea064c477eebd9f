"""One tenant's pathological regex against another tenant's incident latency.

Two tenants share a correlator shard. The victim sends alerts one at a time and
measures, for each, the time from its POST to its incident being listed. Then the
attacker adds a silence ``probe=~"(a+)+b"`` and alerts whose ``probe`` is 30 ``a``
(exponential for a backtracking engine: about 2^30 steps per check), and the victim
measures again; then the attack ends and the victim measures once more (its own
incidents grow throughout, so the last row is the fair comparison). With RE2 the
attacked row should sit between the two quiet ones.

    python -m bench.regex_isolation [--alerts 100]

Prints a table and writes ``bench/results/regex_isolation.json``.
"""

from __future__ import annotations

import argparse
import secrets
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from bench.harness import (
    Measurement,
    api_session,
    print_table,
    start_vigil,
    wait_ready,
    write_results,
)

EVIL = "(a+)+b"
POISON = "a" * 30


def incident_latency(url: str, key: str, count: int, name: str) -> Measurement:
    """POST ``count`` alerts one at a time; each: ms until its incident is listed."""
    s = api_session(key)
    m = Measurement("vigil", name, 1, 1)
    started = time.monotonic()
    for _ in range(count):
        alertname = f"Victim{uuid.uuid4().hex[:8]}"
        t0 = time.monotonic()
        r = s.post(
            f"{url}/api/v1/critical-alerts",
            json={"labels": {"alertname": alertname}, "severity": "critical"},
            timeout=60,
        )
        ok = r.status_code == 202
        deadline = t0 + 60
        while ok:
            listed = s.get(
                f"{url}/api/v1/incidents",
                params={"filter": f'alertname="{alertname}"'},
                timeout=60,
            )
            if listed.status_code == 200 and listed.json()["items"]:
                break
            if time.monotonic() > deadline:
                ok = False
                break
            time.sleep(0.005)
        m.record((time.monotonic() - t0) * 1000, ok)
    m.seconds = time.monotonic() - started
    return m


def poison(url: str, key: str, alerts: int) -> None:
    """The attacker's silence and alerts that a backtracking engine chokes on."""
    s = api_session(key)
    now = datetime.now(UTC)
    silence = {
        "matchers": [{"name": "probe", "value": EVIL, "isRegex": True, "isEqual": True}],
        "startsAt": now.isoformat(),
        "endsAt": (now + timedelta(hours=1)).isoformat(),
        "createdBy": "attacker",
        "comment": "catastrophic backtracking",
    }
    assert s.post(f"{url}/api/v2/silences", json=silence, timeout=60).status_code == 200
    batch = [{"labels": {"alertname": f"Poison{i}", "probe": POISON}} for i in range(alerts)]
    assert s.post(f"{url}/api/v2/alerts", json=batch, timeout=60).status_code == 200


def unpoison(url: str, key: str) -> None:
    """Expire the attacker's silences and resolve its alerts."""
    s = api_session(key)
    for found in s.get(f"{url}/api/v2/silences", timeout=60).json():
        s.delete(f"{url}/api/v2/silence/{found['id']}", timeout=60)
    past = (datetime.now(UTC) - timedelta(seconds=1)).isoformat()
    batch = [
        {"labels": {"alertname": f"Poison{i}", "probe": POISON}, "endsAt": past} for i in range(20)
    ]
    assert s.post(f"{url}/api/v2/alerts", json=batch, timeout=60).status_code == 200


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--alerts", type=int, default=100, help="victim alerts per phase")
    args = parser.parse_args()
    victim_key = "victim-" + secrets.token_hex(16)
    url, attacker_key, stop = start_vigil(ml=False, other_tenants={"victim": victim_key})
    try:
        wait_ready(url)
        incident_latency(url, victim_key, 10, "warm-up")
        quiet = incident_latency(url, victim_key, args.alerts, "victim alone")
        poison(url, attacker_key, 20)
        attacked = incident_latency(url, victim_key, args.alerts, "victim, attacker's regex")
        unpoison(url, attacker_key)
        # Alone again: the victim's own incidents grew meanwhile (listing scans them),
        # so this row, not only the first, is what the attacked row compares with.
        after = incident_latency(url, victim_key, args.alerts, "victim alone, after")
    finally:
        stop()
    rows = [quiet, attacked, after]
    print_table("another tenant's POST -> incident listed (ms)", rows)
    extra: dict[str, Any] = {"evil": EVIL, "poison_length": len(POISON)}
    print(f"wrote {write_results('regex_isolation', rows, extra)}")


if __name__ == "__main__":
    main()
