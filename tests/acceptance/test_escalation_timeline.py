"""Escalation as a timeline against recording webhooks: with nobody acknowledging,
level 1 is notified at once and level 2 two seconds later; acknowledged at one second,
level 2 is never notified and level 1 is told at once, and told again when the incident
is resolved. (Policy in tests/system.py, tenant hooli.)"""

from __future__ import annotations

import asyncio
import json
import time
from datetime import datetime
from typing import Any

import pytest
import requests

from tests.integration.test_incidents_api import one_incident, post_v2
from tests.recording_server import RecordingServer
from tests.system import Vigil, unique_labels

JSON = {"Content-Type": "application/json"}

pytestmark = pytest.mark.integration

TENANT = "hooli"


def bodies(server: RecordingServer, incident_id: str) -> list[tuple[float, dict[str, Any]]]:
    """What the server got about one incident, with when (wall-clock seconds)."""
    found = [(r.wall, json.loads(r.body)) for r in server.received]
    return [(at, b) for at, b in found if b["incident_id"] == incident_id]


def due_of(body: dict[str, Any]) -> float:
    """When a notice's escalation step was due (wall-clock seconds). Steps are timed
    from when the escalation started: its first notification, as of when that was due,
    which is earlier than the incident's ``created_at`` when the correlator is behind."""
    return datetime.fromisoformat(body["escalation"]["due"].replace("Z", "+00:00")).timestamp()


async def wait_until(check: Any, within: float) -> Any:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        await asyncio.sleep(0.05)
    pytest.fail(f"not within {within}s")


async def escalating(
    vigil: Vigil, first: RecordingServer
) -> tuple[str, float, float, dict[str, Any]]:
    """Fire a new alert; once level 1 has it: the incident id, when the incident
    started, when level 1 got it (wall-clock seconds), and what it got."""
    labels = unique_labels(severity="critical")
    await asyncio.to_thread(post_v2, vigil, TENANT, [{"labels": labels}])
    incident = await asyncio.to_thread(one_incident, vigil, TENANT, labels["alertname"], 1)
    incident_id: str = incident["id"]
    started = datetime.fromisoformat(incident["created_at"].replace("Z", "+00:00")).timestamp()
    ((level1_at, level1),) = await wait_until(lambda: bodies(first, incident_id), 10)
    return incident_id, started, level1_at, level1


async def test_nobody_acknowledges_so_both_levels_are_notified_on_time(
    vigil: Vigil, levels: tuple[RecordingServer, RecordingServer]
) -> None:
    first, second = levels
    incident_id, started, level1_at, level1 = await escalating(vigil, first)
    assert level1_at - started <= 1.5  # due at once (a cold escalator takes ~0.8 s)
    assert level1["status"] == "firing" and level1["escalation"]["level"] == 1
    ((level2_at, level2),) = await wait_until(lambda: bodies(second, incident_id), 10)
    assert (level2["escalation"]["step"], level2["escalation"]["level"]) == (1, 2)
    # Due 2 s after the escalation started (steps are timed from the start, not from
    # when the previous one went out), sent then; the window allows for a busy machine.
    assert due_of(level2) - due_of(level1) == pytest.approx(2.0, abs=0.01)
    assert due_of(level2) <= level2_at <= due_of(level2) + 1.5
    await asyncio.sleep(2.5)
    assert len(bodies(first, incident_id)) == len(bodies(second, incident_id)) == 1


async def test_an_acknowledgement_at_one_second_stops_level_two(
    vigil: Vigil, levels: tuple[RecordingServer, RecordingServer]
) -> None:
    first, second = levels
    incident_id, started, _, _ = await escalating(vigil, first)
    # At one second after the incident started (at once if level 1 came later than that).
    await asyncio.sleep(max(0.0, started + 1 - time.time()))
    url = vigil.incidents_url(f"/{incident_id}/acknowledge")
    r = await asyncio.to_thread(vigil.session(TENANT).post, url, json={"by": "ana"}, timeout=30)
    assert r.status_code == 200, r.text
    # Level 1 hears at once who took it; level 2 never hears of it.
    acknowledged = await wait_until(lambda: len(bodies(first, incident_id)) == 2, 2)
    assert acknowledged
    assert [b["status"] for _, b in bodies(first, incident_id)] == ["firing", "acknowledged"]
    await asyncio.sleep(3)
    assert bodies(second, incident_id) == []
    resolve = vigil.incidents_url(f"/{incident_id}/resolve")
    r = await asyncio.to_thread(vigil.session(TENANT).post, resolve, json={"by": "ana"})
    assert r.status_code == 200, r.text
    await wait_until(lambda: len(bodies(first, incident_id)) == 3, 5)
    assert bodies(first, incident_id)[-1][1]["status"] == "resolved"
    assert bodies(second, incident_id) == []  # never paged, never told
    detail = await asyncio.to_thread(
        vigil.session(TENANT).get, vigil.incidents_url(f"/{incident_id}"), timeout=30
    )
    events = [e["event"] for e in detail.json()["timeline"]]
    assert "escalation_started" in events and "delivered" in events
    assert events.count("escalated") == 1


async def test_escalating_by_hand_notifies_the_next_level_at_once(
    vigil: Vigil, levels: tuple[RecordingServer, RecordingServer]
) -> None:
    first, second = levels
    incident_id, started, _, _ = await escalating(vigil, first)
    url = vigil.incidents_url(f"/{incident_id}/escalate")
    r = await asyncio.to_thread(vigil.session(TENANT).put, url, json={"by": "ana"}, timeout=30)
    assert r.status_code == 200, r.text
    assert r.json() == {"id": incident_id, "escalated_to_level": 2}
    ((level2_at, level2),) = await wait_until(lambda: bodies(second, incident_id), 10)
    assert level2_at - started < 1.9  # before its timer would have sent it
    assert (level2["escalation"]["step"], level2["escalation"]["level"]) == (1, 2)
    again = await asyncio.to_thread(vigil.session(TENANT).put, url, timeout=30)
    assert again.status_code == 409  # no level after the last
    await asyncio.sleep(2.5)
    assert len(bodies(second, incident_id)) == 1  # the timer does not send it twice


async def test_escalate_refuses_bad_requests(vigil: Vigil) -> None:
    session = vigil.session(TENANT)
    missing = vigil.incidents_url("/inc-nope/escalate")
    assert (await asyncio.to_thread(session.put, missing, timeout=30)).status_code == 404
    bad = await asyncio.to_thread(session.put, missing, data=b"{not json", headers=JSON, timeout=30)
    assert bad.status_code == 400
    unauthenticated = await asyncio.to_thread(requests.put, missing, timeout=30)
    assert unauthenticated.status_code == 401
    # Another tenant's incident is not found, as if it did not exist.
    labels = unique_labels()
    await asyncio.to_thread(post_v2, vigil, TENANT, [{"labels": labels}])
    incident = await asyncio.to_thread(one_incident, vigil, TENANT, labels["alertname"], 1)
    other = vigil.incidents_url(f"/{incident['id']}/escalate")
    wrong = await asyncio.to_thread(vigil.session("acme").put, other, timeout=30)
    assert wrong.status_code == 404


async def test_escalating_an_alert_escalates_its_incident(
    vigil: Vigil, levels: tuple[RecordingServer, RecordingServer]
) -> None:
    first, second = levels
    incident_id, started, _, _ = await escalating(vigil, first)
    session = vigil.session(TENANT)
    detail = await asyncio.to_thread(session.get, vigil.incidents_url(f"/{incident_id}"))
    (member,) = detail.json()["members"]
    url = vigil.api(f"/{member['alert_id']}/escalate")
    r = await asyncio.to_thread(session.put, url, json={"by": "ana"}, timeout=30)
    assert r.status_code == 200, r.text
    assert r.json()["escalation_level"] == 1
    assert r.json()["incidents"] == [{"id": incident_id, "escalated_to_level": 2}]
    ((level2_at, _),) = await wait_until(lambda: bodies(second, incident_id), 10)
    assert level2_at - started < 1.9  # before its timer would have sent it
    # Once more: the alert goes up a level, its incident has none left.
    again = await asyncio.to_thread(session.put, url, timeout=30)
    assert again.status_code == 200, again.text
    ((refused),) = again.json()["incidents"]
    assert refused["id"] == incident_id and "no further level" in refused["not_escalated"]
