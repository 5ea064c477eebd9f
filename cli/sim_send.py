"""Sending simulated traffic to a running Vigil (``vigil simulate --send``).

The simulator's alert changes are posted to ``POST /api/v2/alerts`` (what Prometheus
sends) in their order, with simulated time compressed by ``speed`` (600: an hour in
six seconds). Vigil keeps real time, so each alert starts (or ends) when it is sent.
Every simulated tenant goes to the one Vigil tenant the key opens, told apart by a
``sim_tenant`` label; the cause the simulator knows is an annotation, never a label,
so it cannot steer grouping or the model.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from models.simulate import SimAlert

BATCH_WINDOW_SECONDS = 0.05
"""Alerts due within this much wall time of each other go in one request."""

MAX_BATCH = 500


def v2_alert(alert: SimAlert, now: datetime) -> dict[str, Any]:
    """One simulated change as an Alertmanager v2 alert, happening ``now``."""
    stamp = now.isoformat().replace("+00:00", "Z")
    body: dict[str, Any] = {
        "labels": {
            "severity": alert.severity.value,
            **alert.labels,
            "sim_tenant": alert.tenant,
        },
        "annotations": {"simulated_cause": alert.cause},
        "startsAt": stamp,
    }
    if not alert.firing:
        body["endsAt"] = stamp
    return body


def paced(alerts: Sequence[SimAlert], speed: float) -> Iterator[tuple[float, list[SimAlert]]]:
    """The alerts in requests: (seconds after the first is due, the request's alerts)."""
    if not alerts:
        return
    first = alerts[0].at
    batch: list[SimAlert] = []
    due = 0.0
    for alert in alerts:
        offset = (alert.at - first).total_seconds() / speed
        if batch and (offset - due > BATCH_WINDOW_SECONDS or len(batch) >= MAX_BATCH):
            yield due, batch
            batch = []
        if not batch:
            due = offset
        batch.append(alert)
    yield due, batch


@dataclass
class Sent:
    """What a send did."""

    alerts: int = 0
    requests: int = 0
    refused: int = 0  # requests Vigil did not answer 200
    seconds: float = 0.0


def post_json(url: str, key: str, body: Any) -> int:
    """POST ``body``; the HTTP status (an error status is returned, not raised)."""
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST")
    request.add_header("Content-Type", "application/json")
    request.add_header("Authorization", f"Bearer {key}")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


def send_simulation(
    alerts: Sequence[SimAlert],
    url: str,
    key: str,
    speed: float,
    progress: Callable[[int, int], None] | None = None,
    post: Callable[[str, str, Any], int] = post_json,
) -> Sent:
    """Post the alerts at their compressed times; return what was sent."""
    sent = Sent()
    start = time.monotonic()
    endpoint = f"{url.rstrip('/')}/api/v2/alerts"
    for due, batch in paced(alerts, speed):
        wait = start + due - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        now = datetime.now(UTC)
        status = post(endpoint, key, [v2_alert(a, now) for a in batch])
        sent.requests += 1
        sent.alerts += len(batch)
        if status != 200:
            sent.refused += 1
        if progress is not None:
            progress(sent.alerts, len(alerts))
    sent.seconds = time.monotonic() - start
    return sent
