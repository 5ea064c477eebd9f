"""The Python client over actor handles (``vigil.connect``), against the running system:
the test process is a Ray driver of the session's cluster, as a job or notebook is.

It must do what the HTTP API does and refuse what it refuses, with the same answers,
and its watch must go on through a correlator's restart.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
import ray

from cluster.incident_feed import IncidentChanges
from cluster.runtime import NAMESPACE, correlator_name, shard_of
from serve_app.problems import ApiError
from tests.system import Vigil, unique_labels, wait_until
from vigil import connect
from vigil.client import CLIENT_LABEL, VigilClient

pytestmark = pytest.mark.integration

TENANT = "initech"
OTHER = "umbrella"


@pytest.fixture
async def client(vigil: Vigil) -> VigilClient:
    return await vigil_connect(TENANT)


async def vigil_connect(tenant: str) -> VigilClient:
    return await connect(tenant)


def alert(labels: dict[str, str], severity: str = "critical") -> dict[str, Any]:
    return {"labels": labels, "severity": severity, "annotations": {"summary": "from Python"}}


async def incident_of(client: VigilClient, alertname: str) -> Any:
    async def found() -> Any:
        page = await client.incidents(filter=[f'alertname="{alertname}"'])
        return page.items[0] if page.items else None

    return await wait_until(found, within=20)


async def test_sends_single_alerts_and_batches_with_the_http_answers(
    client: VigilClient, vigil: Vigil
) -> None:
    one, two, three = unique_labels(), unique_labels(), unique_labels()
    (first,) = await client.send(alert(one))
    assert first["status"] == "firing" and first["duplicate"] is False
    batch = await client.send([alert(two), alert(three, "warning"), alert(one)])
    assert [r["duplicate"] for r in batch] == [False, False, True]
    assert batch[2]["id"] == first["id"]

    stored = await client.alert(first["id"])
    assert stored.labels == one and stored.annotations == {"summary": "from Python"}
    # The same alert over HTTP: one store, two faces.
    r = vigil.session(TENANT).get(vigil.api(f"/{first['id']}"), timeout=10)
    assert r.status_code == 200 and r.json()["labels"] == one

    page = await client.alerts(filter=[f'alertname=~"{two["alertname"]}|{three["alertname"]}"'])
    assert page.total == 2
    first_page = await client.alerts(
        status=["firing"], filter=[f'alertname="{one["alertname"]}"'], limit=1
    )
    assert [a.id for a in first_page.items] == [first["id"]]


async def test_refuses_what_http_refuses_with_the_same_answer(
    client: VigilClient, vigil: Vigil
) -> None:
    labels = unique_labels()
    bad = {"labels": labels, "severity": "apocalyptic"}
    with pytest.raises(ApiError) as refused:
        await client.send([alert(unique_labels()), bad])
    over_http = vigil.session(TENANT).post(vigil.api("/bulk"), json={"alerts": [bad]}, timeout=10)
    assert refused.value.status == over_http.status_code == 422
    assert refused.value.code == over_http.json()["error"]
    assert refused.value.details[0]["message"] == over_http.json()["details"][0]["message"]
    assert (await client.alerts(filter=[f'alertname="{labels["alertname"]}"'])).total == 0

    for call, status in (
        (client.alerts(status=["sleeping"]), 422),
        (client.incidents(filter=["not a matcher"]), 422),
        (client.incidents(cursor="garbage"), 422),
        (client.alert("no-such-alert"), 404),
        (client.incident("no-such-incident"), 404),
        (client.acknowledge("no-such-incident"), 404),
        (client.feedback("no-such-incident", "meh"), 422),
        (client.send([]), 422),
    ):
        with pytest.raises(ApiError) as refused:
            await call
        assert refused.value.status == status, (refused.value.code, refused.value.message)
    with pytest.raises(ApiError) as refused:
        await vigil_connect("nobody-here")
    assert refused.value.status == 404


async def test_acts_on_incidents_as_ray_client(client: VigilClient) -> None:
    labels = unique_labels()
    await client.send(alert(labels))
    incident = await incident_of(client, labels["alertname"])
    acknowledged = await client.acknowledge(incident.id, reason="looking")
    assert acknowledged.state.value == "acknowledged"
    assert acknowledged.acknowledged_by == CLIENT_LABEL
    noted = await client.feedback(incident.id, "actionable")
    assert noted.feedback == "actionable"
    resolved = await client.resolve(incident.id)
    assert resolved.state.value == "resolved"
    _, timeline = await client.incident(incident.id)
    events = [e["event"] for e in timeline]
    assert "acknowledged" in events and "resolved" in events

    other = await vigil_connect(OTHER)
    with pytest.raises(ApiError) as refused:
        await other.incident(incident.id)
    assert refused.value.status == 404


async def test_silences_mute_and_expire(client: VigilClient) -> None:
    labels = unique_labels()
    await client.send(alert(labels))
    incident = await incident_of(client, labels["alertname"])
    silence_id = await client.silence([f'alertname="{labels["alertname"]}"'], "maintenance")

    async def muted() -> bool:
        found, _ = await client.incident(incident.id)
        return found.muted_at is not None

    await wait_until(muted, within=20)
    assert any(s.id == silence_id for s in await client.silences())
    expired = await client.expire_silence(silence_id)
    assert expired.id == silence_id


def stream_id(position: str) -> tuple[int, ...]:
    return tuple(int(part) for part in position.split("-"))


async def changes_of(
    client: VigilClient, after: str | None = None
) -> AsyncIterator[IncidentChanges]:
    async for changes in client.watch(after, poll_seconds=0.2):
        yield changes


async def test_watch_sees_changes_and_goes_on_through_a_correlator_restart(
    client: VigilClient,
) -> None:
    seen: list[IncidentChanges] = []

    async def read() -> None:
        async for changes in changes_of(client):
            seen.append(changes)

    def states(incident_id: str) -> set[str]:
        return {i.state.value for c in seen for i in c.incidents if i.id == incident_id}

    reader = asyncio.create_task(read())
    try:
        await asyncio.sleep(0.5)  # the watch has read the feed's head
        labels = unique_labels()
        await client.send(alert(labels))
        incident = await incident_of(client, labels["alertname"])

        async def triggered() -> bool:
            return "triggered" in states(incident.id)

        await wait_until(triggered, within=20)
        # Kill the tenant's correlator; the watch keeps its position and carries on.
        shard = shard_of(TENANT, client.settings.correlator_shards)
        handle = ray.get_actor(correlator_name(shard), namespace=NAMESPACE)
        ray.kill(handle, no_restart=False)
        await client.acknowledge(incident.id)

        async def acknowledged() -> bool:
            return "acknowledged" in states(incident.id)

        await wait_until(acknowledged, within=30)
    finally:
        reader.cancel()
    positions = [stream_id(c.position) for c in seen]
    assert positions == sorted(positions)

    # Resuming from a position replays what came after it.
    resumed = changes_of(client, after=seen[0].position)
    later = await asyncio.wait_for(anext(resumed), 20)
    assert stream_id(later.position) > stream_id(seen[0].position)
    await resumed.aclose()
    with pytest.raises(ApiError) as refused:
        await anext(changes_of(client, after="nonsense"))
    assert refused.value.status == 400
