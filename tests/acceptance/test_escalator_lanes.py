"""One tenant's escalations spread over two escalator processes (the test session
runs ``VIGIL_ESCALATOR_LANES=2``; tenant hooli, policy "fast": level 1 at once, level 2
two seconds later).

Twenty incidents of one tenant are escalated by both lanes at once. Lane 1 is killed
once its level-1 notices are logged: after Ray restarts it, each of its incidents gets
level 2 once, on time, and level 1 is not sent again; lane 0's incidents never notice.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
import uuid

import pytest
import redis

from alerting.lanes import lane_of
from alerting.liveness import LoopId, LoopKind
from cluster import keys
from cluster.loop_beats import beats_from_hash
from tests.acceptance.test_escalation_timeline import TENANT, bodies, due_of, wait_until
from tests.integration.test_incidents_api import post_v2
from tests.recording_server import RecordingServer
from tests.system import Vigil

pytestmark = pytest.mark.integration

INCIDENTS = 20


def incident_ids(vigil: Vigil, run: str, names: set[str]) -> dict[str, str] | None:
    """alertname → incident id, once every one of ``names`` has its incident."""
    found: dict[str, str] = {}
    for incident in vigil.incidents(TENANT, filter=f'alertname=~"Lane{run}x.*"'):
        name = incident["group_labels"].get("alertname")
        if name in names:
            found[name] = incident["id"]
    return found if found.keys() == names else None


def lane_pid(vigil: Vigil, lane: int) -> int | None:
    """The pid of the process running the tenant's escalations of ``lane``."""
    with redis.Redis.from_url(vigil.redis.url) as client:
        beats = beats_from_hash(client.hgetall(keys.loop_beats()))
    beat = beats.get(LoopId(LoopKind.ESCALATOR, TENANT, lane))
    return beat.pid if beat is not None else None


async def test_a_killed_lane_sends_each_of_its_levels_once_and_the_other_lane_goes_on(
    vigil: Vigil, levels: tuple[RecordingServer, RecordingServer]
) -> None:
    lanes = vigil.settings.escalator_lanes
    assert lanes == 2
    first, second = levels
    run = uuid.uuid4().hex[:8]
    names = {f"Lane{run}x{n}" for n in range(INCIDENTS)}
    batch = [{"labels": {"alertname": name, "severity": "critical"}} for name in sorted(names)]
    await asyncio.to_thread(post_v2, vigil, TENANT, batch)
    ids = await wait_until(lambda: incident_ids(vigil, run, names), 30)
    by_lane = {lane: [i for i in ids.values() if lane_of(i, lanes) == lane] for lane in (0, 1)}
    assert by_lane[0] and by_lane[1]  # one tenant's incidents, on both lanes
    # Lane 1 is killed once its level-1 notices are in the notification log (a kill
    # between a webhook's answer and that record would send that level again: the
    # documented crash window).
    notified = redis.Redis.from_url(vigil.redis.url)
    logged = [f"{TENANT}/{i}/0/l1/firing" for i in by_lane[1]]
    await wait_until(lambda: all(notified.hexists(keys.notified(TENANT), f) for f in logged), 20)
    notified.close()
    pid = lane_pid(vigil, 1)
    assert pid is not None
    killed_at = time.time()
    os.kill(pid, signal.SIGKILL)  # Ray restarts the actor; it rebuilds from Redis
    every = list(ids.values())
    await wait_until(lambda: all(bodies(second, i) for i in every), 60)
    await asyncio.sleep(2.5)  # anything sent twice would have come by now
    for incident_id in every:
        ((_, level1),) = bodies(first, incident_id)  # once, never again after the kill
        ((level2_at, level2),) = bodies(second, incident_id)  # once
        assert level2["escalation"]["level"] == 2
        assert due_of(level2) - due_of(level1) == pytest.approx(2.0, abs=0.01)
        assert level2_at >= due_of(level2)  # never early because of the restart
    restarted = lane_pid(vigil, 1)
    assert restarted is not None and restarted != pid
    # The lane that was not killed kept its process, and its pages went on meanwhile.
    assert lane_pid(vigil, 0) not in (None, pid)
    lane0_level2 = [bodies(second, i)[0][0] for i in by_lane[0]]
    assert all(at < killed_at + 30 for at in lane0_level2)
