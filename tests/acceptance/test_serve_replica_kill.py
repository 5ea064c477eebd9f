"""Serve replicas killed with ``kill -9`` (issue 14).

* **An ingress replica.** Alerts are posted without pause while the only replica is
  killed: a request may be refused while Serve replaces it (a clear 5xx or a dropped
  connection, never a 202 for what was not stored), and every alert that got a 202
  is stored. A new replica answers.
* **The predictor.** Paging does not wait for risk scores: an alert sent right after
  the kill pages level 1, and once Serve has replaced the replica, new incidents are
  scored again.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time

import psutil
import pytest
import requests

from tests.acceptance.test_escalation_timeline import escalating
from tests.integration.test_incidents_api import post_v2
from tests.recording_server import RecordingServer
from tests.system import Vigil, unique_labels, wait_for

pytestmark = pytest.mark.integration


def replica_pids(deployment: str) -> set[int]:
    """The processes of the deployment's replicas (Ray names them after it)."""
    found = set()
    for process in psutil.process_iter(["pid", "cmdline"]):
        if f"ServeReplica:vigil:{deployment}" in " ".join(process.info.get("cmdline") or []):
            found.add(int(process.info["pid"]))
    return found


def test_an_ingress_replica_killed_under_load_loses_nothing_it_acknowledged(
    vigil: Vigil,
) -> None:
    before = wait_for(lambda: replica_pids("Ingress"), timeout=30)
    s = vigil.session("globex")
    acked: list[str] = []
    refused: list[int] = []
    for pid in before:
        os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 120
    replaced = False
    while time.monotonic() < deadline and not (replaced and len(acked) >= 20):
        try:
            r = s.post(vigil.api(), json={"labels": unique_labels()}, timeout=30)
            status = r.status_code
        except requests.RequestException:
            status = 0  # the connection dropped with the replica
        if status == 202:
            acked.append(r.json()["id"])
        else:
            refused.append(status)
            assert status in (0, 500, 502, 503, 504), r.text
        replaced = bool(replica_pids("Ingress") - before)
        time.sleep(0.05)
    assert replaced, "Serve did not start a new ingress replica"
    assert len(acked) >= 20
    for alert_id in acked:  # every 202 was stored
        assert s.get(vigil.api(f"/{alert_id}"), timeout=30).status_code == 200


async def test_a_killed_predictor_delays_no_page_and_scoring_resumes(
    vigil: Vigil, levels: tuple[RecordingServer, RecordingServer]
) -> None:
    before = wait_for(lambda: replica_pids("Predictor"), timeout=30)
    for pid in before:
        os.kill(pid, signal.SIGKILL)
    first, _ = levels
    incident_id, _, _, level1 = await escalating(vigil, first)
    assert level1["incident_id"] == incident_id  # paged while no predictor ran
    await asyncio.to_thread(wait_for, lambda: replica_pids("Predictor") - before, 120)

    def scored() -> bool:
        labels = unique_labels()
        post_v2(vigil, "acme", [{"labels": labels}])
        try:
            found = wait_for(
                lambda: [i for i in vigil.incidents("acme", labels["alertname"]) if i["risk"]],
                timeout=10,
            )
        except pytest.fail.Exception:
            return False
        return bool(found)

    assert await asyncio.to_thread(wait_for, scored, 120, 1.0)
