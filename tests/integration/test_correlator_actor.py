"""The CorrelatorActor against real Ray and Redis: exactly-once effect across re-appended
stream entries and a restart of the actor."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
import ray
import redis as redis_lib

from actors.actor_call import ActorUnavailable
from actors.correlator import detached
from actors.correlator_client import correlator_client
from actors.tenant_client import tenant_client
from alerting.alert import IncomingAlert
from alerting.fingerprint import fingerprint
from alerting.incident import Incident
from alerting.incident_query import IncidentQuery
from alerting.lifecycle import receive
from alerting.matchers import parse_matchers
from cluster import keys
from cluster.runtime import NAMESPACE, correlator_name
from cluster.store import AlertStore
from tests.system import Vigil, unique_labels, wait_for, wait_until

pytestmark = pytest.mark.integration


async def incidents_of(vigil: Vigil, tenant: str, alertname: str) -> list[Incident]:
    query = IncidentQuery(matchers=tuple(parse_matchers(f'alertname="{alertname}"')), limit=1000)
    page = await correlator_client(tenant, vigil.settings).list_incidents(query)
    return list(page.items)


async def test_a_batch_appended_twice_is_applied_once(vigil: Vigil) -> None:
    tenant = "acme"
    labels = unique_labels()
    await tenant_client(tenant, vigil.settings).ingest(
        [IncomingAlert.model_validate({"labels": labels})]
    )
    c = correlator_client(tenant, vigil.settings)
    await c.caught_up()
    before = await c.noise()
    # A retried transaction appends the same entry (same change ids) a second time.
    client = redis_lib.Redis.from_url(vigil.settings.redis_url or "")
    ((_, fields),) = client.xrevrange(keys.changes(tenant), count=1)
    client.xadd(keys.changes(tenant), fields)
    await c.caught_up()
    after = await c.noise()
    # What applying the entry counts; notifications are left out, since other tests'
    # groups of this tenant flush on their own timers meanwhile.
    counted = ("received", "duplicates", "alerts", "incidents", "memberships")
    assert {k: after[k] for k in counted} == {k: before[k] for k in counted}
    (incident,) = await incidents_of(vigil, tenant, labels["alertname"])
    assert len(incident.members) == 1


async def test_a_restarted_correlator_resumes_where_it_stopped(vigil: Vigil) -> None:
    tenant = "acme"
    first, second = unique_labels(), unique_labels()
    actor = tenant_client(tenant, vigil.settings)
    await actor.ingest([IncomingAlert.model_validate({"labels": first})])
    await correlator_client(tenant, vigil.settings).caught_up()
    (kept,) = await incidents_of(vigil, tenant, first["alertname"])
    ray.kill(ray.get_actor(correlator_name(0), namespace=NAMESPACE), no_restart=False)
    # Stored while the correlator is down or restarting: picked up when it is back.
    await actor.ingest([IncomingAlert.model_validate({"labels": second})])

    async def resumed() -> bool:
        try:
            return bool(await incidents_of(vigil, tenant, second["alertname"]))
        except ActorUnavailable:  # still restarting
            return False

    await wait_until(resumed, within=60)
    (again,) = await incidents_of(vigil, tenant, first["alertname"])
    assert again.id == kept.id
    assert set(again.members) == set(kept.members), (again.members, kept.members)


async def test_a_restarted_correlator_finds_pending_work_without_a_wake_up(vigil: Vigil) -> None:
    """Changes stored while the correlator restarts, with no wake-up call, are found by
    its start-up scan of the tenants' streams."""
    labels = unique_labels()
    incoming = IncomingAlert.model_validate({"labels": labels}).with_fingerprint(
        fingerprint(labels)
    )
    now = datetime.now(UTC)
    steps = receive(None, incoming, tenant="acme", new_id=uuid.uuid4().hex, now=now)
    ray.kill(ray.get_actor(correlator_name(0), namespace=NAMESPACE), no_restart=False)
    store = AlertStore("acme", vigil.settings.redis_url or "")
    await store.save(steps, now)  # straight to Redis: nobody wakes the correlator
    await store.aclose()

    client = redis_lib.Redis.from_url(vigil.settings.redis_url or "")
    ((written, _),) = client.xrevrange(keys.changes("acme"), count=1)

    def stream_id(raw: bytes) -> tuple[int, int]:
        ms, seq = raw.decode().split("-")
        return int(ms), int(seq)

    def consumed() -> bool:
        # Read from Redis, not through the correlator: any call for the tenant would
        # start its worker and hide a start-up scan that does not work.
        position = client.hget(keys.correlator("acme"), "position")
        return position is not None and stream_id(position) >= stream_id(written)

    wait_for(consumed, timeout=60)
    (incident,) = await incidents_of(vigil, "acme", labels["alertname"])
    assert set(incident.members) == {fingerprint(labels)}


def test_the_correlator_answers_with_copies_taken_at_the_call() -> None:
    # Ray pickles an async actor's answer on another thread after the method returns,
    # while the loop goes on changing the engine's incidents; the answer must be a
    # private copy (bench/correlation.py once listed incidents mid-storm and got
    # "dictionary changed size during iteration").
    live = {"members": {"a": [1]}, "risk": None}
    answer = detached(live)
    live["members"]["b"] = [2]
    assert answer == {"members": {"a": [1]}, "risk": None}
