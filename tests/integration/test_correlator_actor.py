"""The CorrelatorActor against real Ray and Redis: exactly-once effect across re-appended
stream entries and a restart of the actor."""

from __future__ import annotations

import uuid

import pytest
import ray
import redis as redis_lib
from ray.exceptions import ActorDiedError, ActorUnavailableError

from actors.correlator import correlator_actor, detached
from actors.tenant import tenant_actor
from alerting.alert import IncomingAlert
from alerting.fingerprint import fingerprint
from alerting.incident_query import IncidentQuery
from alerting.matchers import parse_matchers
from cluster import keys
from cluster.runtime import NAMESPACE, correlator_name
from tests.system import Vigil, unique_labels, wait_for

pytestmark = pytest.mark.integration


def correlator(vigil: Vigil):  # type: ignore[no-untyped-def]
    return correlator_actor(0, vigil.settings)


def incidents_of(vigil: Vigil, tenant: str, alertname: str) -> list:  # type: ignore[type-arg]
    query = IncidentQuery(matchers=tuple(parse_matchers(f'alertname="{alertname}"')), limit=1000)
    page = ray.get(correlator(vigil).list_incidents.remote(tenant, query))
    return list(page.items)


def test_a_batch_appended_twice_is_applied_once(vigil: Vigil) -> None:
    tenant = "acme"
    labels = unique_labels()
    actor = tenant_actor(tenant, vigil.settings)
    ray.get(actor.ingest.remote([IncomingAlert.model_validate({"labels": labels})]))
    c = correlator(vigil)
    ray.get(c.caught_up.remote(tenant))
    before = ray.get(c.noise.remote(tenant))
    # A retried transaction appends the same entry (same change ids) a second time.
    client = redis_lib.Redis.from_url(vigil.settings.redis_url or "")
    ((_, fields),) = client.xrevrange(keys.changes(tenant), count=1)
    client.xadd(keys.changes(tenant), fields)
    ray.get(c.caught_up.remote(tenant))
    after = ray.get(c.noise.remote(tenant))
    # What applying the entry counts; notifications are left out, since other tests'
    # groups of this tenant flush on their own timers meanwhile.
    counted = ("received", "duplicates", "alerts", "incidents", "memberships")
    assert {k: after[k] for k in counted} == {k: before[k] for k in counted}
    (incident,) = incidents_of(vigil, tenant, labels["alertname"])
    assert len(incident.members) == 1


def test_a_restarted_correlator_resumes_where_it_stopped(vigil: Vigil) -> None:
    tenant = "acme"
    first, second = unique_labels(), unique_labels()
    actor = tenant_actor(tenant, vigil.settings)
    ray.get(actor.ingest.remote([IncomingAlert.model_validate({"labels": first})]))
    c = correlator(vigil)
    ray.get(c.caught_up.remote(tenant))
    (kept,) = incidents_of(vigil, tenant, first["alertname"])
    ray.kill(ray.get_actor(correlator_name(0), namespace=NAMESPACE), no_restart=False)
    # Stored while the correlator is down or restarting: picked up when it is back.
    ray.get(actor.ingest.remote([IncomingAlert.model_validate({"labels": second})]))

    def resumed() -> bool:
        try:
            return bool(incidents_of(vigil, tenant, second["alertname"]))
        except (ActorUnavailableError, ActorDiedError):  # still restarting
            return False

    wait_for(resumed, timeout=60)
    (again,) = incidents_of(vigil, tenant, first["alertname"])
    assert again.id == kept.id
    assert set(again.members) == set(kept.members), (again.members, kept.members)


def test_a_restarted_correlator_finds_pending_work_without_a_wake_up(vigil: Vigil) -> None:
    """Changes stored while the correlator restarts, with no wake-up call, are found by
    its start-up scan of the tenants' streams."""
    import asyncio
    from datetime import UTC, datetime

    from alerting.lifecycle import receive
    from cluster.store import AlertStore

    labels = unique_labels()
    incoming = IncomingAlert.model_validate({"labels": labels}).with_fingerprint(
        fingerprint(labels)
    )
    now = datetime.now(UTC)
    steps = receive(None, incoming, tenant="acme", new_id=uuid.uuid4().hex, now=now)
    ray.kill(ray.get_actor(correlator_name(0), namespace=NAMESPACE), no_restart=False)
    store = AlertStore("acme", vigil.settings.redis_url or "", 1_000_000)
    asyncio.run(store.save(steps, now))  # straight to Redis: nobody wakes the correlator

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
    (incident,) = incidents_of(vigil, "acme", labels["alertname"])
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
