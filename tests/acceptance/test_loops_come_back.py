"""Every loop comes back after its actor is killed, however often (issue 14).

Each actor kind (the correlator, the escalator, the supervisor) is SIGKILLed five
times in a row, the last two times before the restarted process had beaten once; each
time its loops must beat again from a new process. Then the work is checked: a new
alert of hooli forms an incident and pages level 1.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time

import pytest
import redis

from alerting.liveness import LoopBeat, LoopId, LoopKind
from cluster import keys
from cluster.loop_beats import beats_from_hash
from tests.acceptance.test_escalation_timeline import TENANT, escalating
from tests.recording_server import RecordingServer
from tests.system import Vigil

pytestmark = pytest.mark.integration

KILLS = 5
WATCHED = {
    "correlator": LoopId(LoopKind.CORRELATOR, TENANT),
    "escalator": LoopId(LoopKind.ESCALATOR, TENANT),
    "supervisor": LoopId(LoopKind.SUPERVISOR, "vigil"),
}


def beat_of(vigil: Vigil, loop: LoopId) -> LoopBeat | None:
    with redis.Redis.from_url(vigil.redis.url) as client:
        raw = client.hgetall(keys.loop_beats())
    return beats_from_hash(raw).get(loop)


async def fresh_beat(vigil: Vigil, loop: LoopId, not_pid: int, after: float) -> LoopBeat:
    """The loop's first beat from a process other than ``not_pid``, after ``after``."""
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        beat = await asyncio.to_thread(beat_of, vigil, loop)
        if beat is not None and beat.pid != not_pid and beat.beat_at.timestamp() > after:
            return beat
        await asyncio.sleep(0.05)
    pytest.fail(f"{loop} did not beat again from a new process within 90s")


@pytest.mark.parametrize("kind", list(WATCHED))
async def test_an_actor_killed_again_and_again_runs_its_loops_every_time(
    vigil: Vigil, levels: tuple[RecordingServer, RecordingServer], kind: str
) -> None:
    loop = WATCHED[kind]
    # A beat from now on: an older one may name a process an earlier test killed.
    beat = await fresh_beat(vigil, loop, not_pid=-1, after=time.time())
    for n in range(KILLS):
        killed_at = time.time()
        os.kill(beat.pid, signal.SIGKILL)  # kill -9: Ray restarts the actor
        if n >= KILLS - 2:
            # Kill the restarted process again as soon as it exists, before its loops
            # could beat: the restart after that must still run every loop.
            restarted = await wait_for_new_process(vigil, loop, beat.pid)
            os.kill(restarted, signal.SIGKILL)
            beat = await fresh_beat(vigil, loop, not_pid=restarted, after=time.time())
        else:
            beat = await fresh_beat(vigil, loop, not_pid=beat.pid, after=killed_at)
    first, _ = levels
    incident_id, _, _, level1 = await escalating(vigil, first)
    assert level1["incident_id"] == incident_id and level1["status"] == "firing"


async def wait_for_new_process(vigil: Vigil, loop: LoopId, old_pid: int) -> int:
    """The pid of the actor's next process, as soon as Ray started it."""
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        pid = await asyncio.to_thread(actor_pid, loop, old_pid)
        if pid is not None:
            return pid
        await asyncio.sleep(0.02)
    pytest.fail(f"the actor of {loop} was not restarted within 90s")


def actor_pid(loop: LoopId, old_pid: int) -> int | None:
    """The pid Ray reports for the loop's actor once it runs in a new process."""
    import ray

    from actors.supervisor import SUPERVISOR_NAME
    from cluster.runtime import NAMESPACE, correlator_name, escalator_name

    names = {
        LoopKind.CORRELATOR: correlator_name(0),
        LoopKind.ESCALATOR: escalator_name(0),
        LoopKind.SUPERVISOR: SUPERVISOR_NAME,
    }
    try:
        actor = ray.get_actor(names[loop.kind], namespace=NAMESPACE)
        pid: int = ray.get(actor.process_id.remote(), timeout=1)
    except Exception:
        return None
    return pid if pid != old_pid else None
