"""Vigil watches itself (issue 14): a frozen escalator turns /readyz to 503 and pages
the operator through the monitoring channels (the first one down, so its fallback
delivers), the dead man's switch stops while it is frozen, and everything says so when
it thaws. (Monitoring in tests/system.py: tenant ops; stall bound LOOP_STALL_SECONDS.)

The escalator is frozen with SIGSTOP, as a hung process or a deadlocked loop would
be: it stays alive to Ray, answers nothing and beats no more.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
import ray
import requests

from cluster.runtime import NAMESPACE, escalator_name
from tests.acceptance.conftest import recording_channels
from tests.acceptance.test_escalation_timeline import wait_until
from tests.recording_server import RecordingServer
from tests.system import LOOP_STALL_SECONDS, Vigil

pytestmark = pytest.mark.integration

OPS = "ops"


@pytest.fixture
async def ops_channels(vigil: Vigil) -> AsyncIterator[dict[str, RecordingServer]]:
    names = ("self-page", "self-page-backup", "deadman")
    async with recording_channels(vigil, OPS, names) as servers:
        yield servers


def readyz(vigil: Vigil) -> tuple[int, dict[str, Any]]:
    r = requests.get(f"{vigil.url}/readyz", timeout=30)
    return r.status_code, r.json()


def notices(server: RecordingServer, status: str) -> list[dict[str, Any]]:
    found = [json.loads(r.body) for r in server.received]
    return [b for b in found if b["status"] == status]


def watchdog_alert_active(vigil: Vigil) -> bool:
    r = vigil.basic(OPS).get(
        f"{vigil.url}/api/v2/alerts", params={"filter": 'alertname="Watchdog"'}, timeout=30
    )
    assert r.status_code == 200, r.text
    return any(a["status"]["state"] == "active" for a in r.json())


async def test_a_frozen_escalator_is_caught_paged_and_announced_over(
    vigil: Vigil, ops_channels: dict[str, RecordingServer]
) -> None:
    primary, backup, deadman = (
        ops_channels["self-page"],
        ops_channels["self-page-backup"],
        ops_channels["deadman"],
    )
    primary.default = "status:500"  # the first self-page channel is down
    # Healthy: the dead man's switch gets its heartbeats; the Watchdog alert fires.
    await wait_until(lambda: len(deadman.received) >= 2, 30)
    assert await asyncio.to_thread(watchdog_alert_active, vigil)
    await wait_until(lambda: readyz(vigil)[0] == 200, 60)

    escalator = ray.get_actor(escalator_name(0), namespace=NAMESPACE)
    pid = ray.get(escalator.process_id.remote(), timeout=30)
    frozen_at = time.monotonic()
    os.kill(pid, signal.SIGSTOP)
    try:
        # /readyz turns 503 within the stall bound (and a margin for a loaded machine).
        _, body = await wait_until(
            lambda: (r := readyz(vigil))[0] == 503 and "escalator/hooli stalled" in str(r[1]) and r,
            LOOP_STALL_SECONDS + 30,
        )
        caught_after = time.monotonic() - frozen_at
        assert caught_after >= LOOP_STALL_SECONDS - 1  # judged by the bound, not sooner
        loop = next(x for x in body["loops"] if x["loop"] == "escalator/hooli")
        assert loop["status"] == "stalled" and loop["pid"] == pid
        # The supervisor pages: the primary fails its four tries, the backup delivers.
        # It names the frozen process. Which of its loops crossed the bound first (shard
        # 0 also serves other tenants) is up to the clock, so the page is judged on the
        # process it names, not on one tenant's loop.
        (page,) = await wait_until(lambda: notices(backup, "firing"), 60)
        assert "stalled" in page["summary"] and f"(shard 0, pid {pid})" in page["summary"]
        assert page["severity"] == "critical" and page["tenant"] == OPS
        assert len(notices(primary, "firing")) == 4
        # Nothing healthy to report: the dead man's switch hears nothing more.
        heard = len(deadman.received)
        await asyncio.sleep(5)  # more than two watchdog intervals
        assert len(deadman.received) == heard
        assert len(notices(backup, "firing")) == 1  # paged once (repeat_interval 0s)
    finally:
        os.kill(pid, signal.SIGCONT)
    # Thawed: ready again, the page is resolved, the heartbeats resume.
    await wait_until(lambda: readyz(vigil)[0] == 200, 60)
    (over,) = await wait_until(lambda: notices(backup, "resolved"), 60)
    assert over["incident_id"] == page["incident_id"]
    await wait_until(lambda: len(deadman.received) > heard, 30)
    assert await asyncio.to_thread(watchdog_alert_active, vigil)
