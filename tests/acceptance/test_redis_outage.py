"""A Redis crash in the middle of an escalation (issue 14).

Redis is SIGKILLed after level 1 was paged and before level 2 is due, and stays away
until level 2 is overdue. While it is away, ingest answers 503, never 202. When it is
back (restarted from its append-only file): level 2 is paged once, level 1 not again,
the alert acknowledged before the crash is still there, and the correlator and the
escalator carried on in the same processes (they reconnect, nobody restarts them).
"""

from __future__ import annotations

import asyncio
import time

import pytest
import ray
import requests

from cluster.runtime import NAMESPACE, correlator_name, escalator_name
from tests.acceptance.test_escalation_timeline import TENANT, bodies, escalating, wait_until
from tests.recording_server import RecordingServer
from tests.system import Vigil, unique_labels

pytestmark = pytest.mark.integration


def pids() -> dict[str, int]:
    found = {}
    for name in (correlator_name(0), escalator_name(0)):
        actor = ray.get_actor(name, namespace=NAMESPACE)
        found[name] = ray.get(actor.process_id.remote(), timeout=30)
    return found


async def test_a_step_due_while_redis_is_down_fires_once_when_it_is_back(
    vigil: Vigil, levels: tuple[RecordingServer, RecordingServer]
) -> None:
    first, second = levels
    before = await asyncio.to_thread(pids)
    s = vigil.session(TENANT)
    kept = s.post(vigil.api(), json={"labels": unique_labels()}, timeout=30)
    assert kept.status_code == 202
    incident_id, started, _, _ = await escalating(vigil, first)
    killed_at = time.time()
    vigil.redis.kill()  # kill -9, as a crash would
    try:
        refused = await asyncio.to_thread(
            s.post, vigil.api(), json={"labels": unique_labels()}, timeout=60
        )
        assert refused.status_code == 503, refused.text
        assert refused.json()["error"] == "unavailable"
        # Stay away until level 2 (due 2 s after the incident started) is overdue.
        await asyncio.sleep(max(0.0, started + 3.5 - time.time()))
        if killed_at < started + 2:  # it fell due during the outage: nobody could page it
            assert bodies(second, incident_id) == []
    finally:
        vigil.redis.start()
    ((_, level2),) = await wait_until(lambda: bodies(second, incident_id), 60)
    assert level2["escalation"]["level"] == 2  # levels count from 1
    await wait_until(lambda: requests.get(f"{vigil.url}/readyz", timeout=30).status_code == 200, 60)
    assert len(bodies(first, incident_id)) == 1
    assert len(bodies(second, incident_id)) == 1
    got = s.get(vigil.api(f"/{kept.json()['id']}"), timeout=30)
    assert got.status_code == 200  # acknowledged before the crash: kept
    assert await asyncio.to_thread(pids) == before  # reconnected, not restarted
