"""Muting never resolves: a silenced or inhibited incident whose alerts still fire
sends no "resolved", pages no further level, and picks up where it stopped when the
mute ends. (Tenant hooli, receiver ``muted-team`` in tests/system.py: a webhook from
its ``alertmanager.yml`` and the ``mutable`` policy, level 2 six seconds after 1.)

A test cannot watch for something *not* happening without a clock; these wait for
proof that time passed in the same tenant's loops instead: a control group notified
twice after the mute began, and a control incident's level 2 paged.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest

from tests.acceptance.test_escalation_timeline import bodies, wait_until
from tests.integration.test_incidents_api import one_incident, post_v2
from tests.recording_server import RecordingServer
from tests.system import MUTE_HOOK, Vigil, silence_for_an_hour, unique_labels

pytestmark = pytest.mark.integration

TENANT = "hooli"


@pytest.fixture
async def hook() -> AsyncIterator[RecordingServer]:
    """The recorder ``muted-team``'s webhook posts to (Alertmanager's JSON)."""
    server = RecordingServer()
    await server.start(MUTE_HOOK.take())
    yield server
    await server.stop()


def group_bodies(server: RecordingServer, alertname: str) -> list[dict[str, Any]]:
    """The webhook notifications of the group of ``alertname``."""
    found = [json.loads(r.body) for r in server.received]
    return [b for b in found if b["groupLabels"].get("alertname") == alertname]


def incident(vigil: Vigil, incident_id: str) -> dict[str, Any]:
    r = vigil.session(TENANT).get(vigil.incidents_url(f"/{incident_id}"), timeout=30)
    assert r.status_code == 200, r.text
    found: dict[str, Any] = r.json()
    return found


async def fire(vigil: Vigil, labels: dict[str, str], ends: bool = False) -> None:
    alert: dict[str, Any] = {"labels": labels}
    if ends:
        alert["endsAt"] = datetime.now(UTC).isoformat()
    await asyncio.to_thread(post_v2, vigil, TENANT, [alert])


async def started(vigil: Vigil, labels: dict[str, str], l1: RecordingServer) -> str:
    """Fire an alert; once level 1 has its incident, the incident's id."""
    await fire(vigil, labels)
    found = await asyncio.to_thread(one_incident, vigil, TENANT, labels["alertname"], 1)
    await wait_until(lambda: bodies(l1, found["id"]), 15)
    return str(found["id"])


async def ticks_pass(vigil: Vigil, hook: RecordingServer, control: dict[str, str]) -> None:
    """Proof that the tenant's groups flushed twice more: a control group is told of
    a new alert, twice (its flushes run on the same loop, every second)."""
    for n in (2, 3):
        await fire(vigil, {**control, "host": f"h{n}"})
        await wait_until(lambda n=n: len(group_bodies(hook, control["alertname"])) >= n, 20)


async def test_a_silenced_incident_never_resolves_and_its_escalation_waits(
    vigil: Vigil, hook: RecordingServer, levels: tuple[RecordingServer, RecordingServer]
) -> None:
    l1, l2 = levels
    muted = unique_labels(escalation_test="mute", host="h1")
    control = unique_labels(escalation_test="mute", host="h1")
    muted_id = await started(vigil, muted, l1)
    control_id = await started(vigil, control, l1)
    await wait_until(lambda: group_bodies(hook, muted["alertname"]), 15)
    silence = await asyncio.to_thread(silence_for_an_hour, vigil, TENANT, muted["alertname"])
    silenced_at = time.time()
    view = await wait_until(lambda: (i := incident(vigil, muted_id))["muted"] and i, 15)
    assert view["state"] == "triggered" and view["muted_by"] == [f"silence {silence}"]

    await ticks_pass(vigil, hook, control)
    await wait_until(lambda: bodies(l2, control_id), 20)  # level 2 was due for both
    assert [b["status"] for b in group_bodies(hook, muted["alertname"])] == ["firing"]
    assert bodies(l2, muted_id) == []
    events = [e["event"] for e in incident(vigil, muted_id)["timeline"]]
    assert "muted" in events and "escalation_paused" in events and "resolved" not in events

    r = vigil.session(TENANT).delete(f"{vigil.url}/api/v2/silence/{silence}", timeout=30)
    assert r.status_code == 200, r.text
    unmuted_at = time.time()
    ((l2_at, notice),) = await wait_until(lambda: bodies(l2, muted_id), 30)
    # Level 2 was due 6 s after level 1; the mute stopped that clock, which goes on
    # with what was left (a loaded machine may add a little).
    left = 6.0 - (silenced_at - bodies(l1, muted_id)[0][0])
    assert l2_at - unmuted_at >= left - 1.0
    assert notice["status"] == "firing" and notice["escalation"]["level"] == 2
    # Unmuted and unchanged, the group has nothing new to say (as in Alertmanager).
    assert [b["status"] for b in group_bodies(hook, muted["alertname"])] == ["firing"]

    await fire(vigil, muted, ends=True)  # now it is really over
    await wait_until(lambda: group_bodies(hook, muted["alertname"])[-1]["status"] == "resolved", 20)


async def test_an_inhibited_incident_never_resolves_while_its_alert_fires(
    vigil: Vigil, hook: RecordingServer, levels: tuple[RecordingServer, RecordingServer]
) -> None:
    l1, l2 = levels
    target = unique_labels(escalation_test="mute", mute_target="yes", cluster="c1")
    source = unique_labels(escalation_test="mute", mute_source="yes", cluster="c1")
    target_id = await started(vigil, target, l1)
    await wait_until(lambda: group_bodies(hook, target["alertname"]), 15)
    source_id = await started(vigil, source, l1)  # mutes target from now on
    view = await wait_until(lambda: (i := incident(vigil, target_id))["muted"] and i, 15)
    assert view["muted_by"][0].startswith("inhibited by ")

    await ticks_pass(vigil, hook, source)
    await wait_until(lambda: bodies(l2, source_id), 20)
    assert [b["status"] for b in group_bodies(hook, target["alertname"])] == ["firing"]
    assert bodies(l2, target_id) == []
    assert incident(vigil, target_id)["state"] == "triggered"

    for n in (1, 2, 3):  # the inhibiting alerts resolve: target is heard again
        labels = source if n == 1 else {**source, "host": f"h{n}"}
        await fire(vigil, labels, ends=True)
    await wait_until(lambda: not incident(vigil, target_id)["muted"], 20)
    await wait_until(lambda: bodies(l2, target_id), 30)
    assert [b["status"] for b in group_bodies(hook, target["alertname"])] == ["firing"]
