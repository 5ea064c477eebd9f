"""The TenantActor against real Ray and a real Redis server: dedup, lifecycle, paging,
isolation and durability (actor killed, Redis killed and restarted from its AOF)."""

from __future__ import annotations

import asyncio
import contextlib
import time
from datetime import UTC, datetime

import pytest
import ray
import redis as redis_lib

from actors.tenant_client import TenantClient, tenant_client
from alerting.alert import Alert, AlertStatus, IncomingAlert
from alerting.errors import InvalidTransition, NotFound
from alerting.matchers import parse_matchers
from alerting.query import AlertQuery
from alerting.severity import Severity
from cluster import keys
from cluster.records import AlertChangeRecord, ChangeEntry
from cluster.runtime import NAMESPACE, tenant_actor_name
from cluster.settings import Settings
from tests.system import Vigil, unique_labels, wait_for, wait_until

pytestmark = pytest.mark.integration


def actor(tenant: str, settings: Settings) -> TenantClient:
    return tenant_client(tenant, settings)


def alert(labels: dict[str, str], **fields: object) -> IncomingAlert:
    return IncomingAlert.model_validate({"labels": labels, **fields})


def kill_actor(tenant: str) -> None:
    """Kill the tenant's actor for good (no restart) and wait until its name is free."""
    handle = ray.get_actor(tenant_actor_name(tenant), namespace=NAMESPACE)
    ray.kill(handle, no_restart=True)

    def gone() -> bool:
        try:
            ray.get_actor(tenant_actor_name(tenant), namespace=NAMESPACE)
            return False
        except ValueError:
            return True

    wait_for(gone, timeout=20)


async def test_duplicates_update_one_alert(vigil: Vigil) -> None:
    a = actor("acme", vigil.settings)
    labels = unique_labels(service="db")
    r1, r2 = await a.ingest([alert(labels), alert(labels, annotations={"x": "2"})])
    assert r1["id"] == r2["id"]  # the second delivery in one batch is a duplicate of the first
    assert (r1["duplicate"], r2["duplicate"]) == (False, True)
    (r3,) = await a.ingest([alert(labels)])
    assert r3["duplicate"] and r3["id"] == r1["id"]  # and so is one in a later batch
    stored = await a.get(r1["id"])
    assert stored.count == 3 and stored.annotations == {}  # newest annotations win


async def test_lifecycle_through_the_actor(vigil: Vigil) -> None:
    a = actor("acme", vigil.settings)
    labels = unique_labels()
    (r,) = await a.ingest([alert(labels, severity="critical")])
    acked = await a.acknowledge(r["id"], "ann")
    assert acked.status is AlertStatus.ACKNOWLEDGED and acked.acknowledged_by == "ann"
    assert (await a.escalate(r["id"], "ann", "no response")).escalation_level == 1
    resolved = await a.resolve(r["id"], "ann")
    assert resolved.status is AlertStatus.RESOLVED
    with pytest.raises(InvalidTransition):
        await a.escalate(r["id"])
    # Firing again after resolution is a new occurrence with a new id.
    (again,) = await a.ingest([alert(labels, severity="critical")])
    assert again["id"] != r["id"] and again["occurrence"] == 2 and not again["duplicate"]


async def test_escalation_is_capped_by_settings(vigil: Vigil) -> None:
    a = actor("acme", vigil.settings)
    (r,) = await a.ingest([alert(unique_labels())])
    for _ in range(vigil.settings.max_escalation_levels):
        await a.escalate(r["id"])
    with pytest.raises(InvalidTransition, match="highest escalation level"):
        await a.escalate(r["id"])


async def test_resolve_timeout_resolves_without_any_request(vigil: Vigil) -> None:
    # Timeline: fire with ends_at = t+1s; the first read after t+1s already shows it
    # resolved, and by t+3s the sweeper has stored that (it is on the alert in Redis).
    a = actor("acme", vigil.settings)
    ends = time.time() + 1
    (r,) = await a.ingest([alert(unique_labels(), ends_at=datetime.fromtimestamp(ends, UTC))])
    assert r["status"] == "firing"
    await asyncio.sleep(max(0.0, ends - time.time()) + 0.05)
    seen = await a.get(r["id"])
    assert seen.status is AlertStatus.RESOLVED and seen.resolved_by == "timeout"

    client = redis_lib.Redis.from_url(vigil.redis.url)

    def stored_resolved() -> bool:
        doc = client.hget(keys.alerts("acme"), r["id"])
        return doc is not None and Alert.model_validate_json(doc).status is AlertStatus.RESOLVED

    wait_for(stored_resolved, timeout=5)
    client.close()


async def test_paging_and_filters(vigil: Vigil) -> None:
    a = actor("globex", vigil.settings)
    name = unique_labels()["alertname"]
    batch = [
        alert({"alertname": name, "n": str(i)}, severity="info" if i % 3 else "critical")
        for i in range(25)
    ]
    await a.ingest(batch)
    only_mine = (parse_matchers(f'alertname="{name}"')[0],)
    seen, cursor = [], None
    while True:
        page = await a.list_alerts(AlertQuery(matchers=only_mine, limit=10, cursor=cursor))
        assert page.total == 25
        seen += [x.labels["n"] for x in page.items]
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert sorted(seen, key=int) == [str(i) for i in range(25)]  # every alert once
    critical = frozenset({Severity.CRITICAL})
    crit = await a.list_alerts(AlertQuery(matchers=only_mine, severities=critical))
    assert crit.total == 9


async def test_tenants_are_isolated(vigil: Vigil) -> None:
    acme, globex = actor("acme", vigil.settings), actor("globex", vigil.settings)
    labels = unique_labels()
    (r,) = await acme.ingest([alert(labels)])
    with pytest.raises(NotFound):
        await globex.get(r["id"])
    (g,) = await globex.ingest([alert(labels)])
    assert g["id"] != r["id"] and not g["duplicate"]  # same labels, other tenant: its own alert


async def test_killed_actor_loses_nothing(vigil: Vigil) -> None:
    a = actor("initech", vigil.settings)
    labels = unique_labels()
    (r,) = await a.ingest([alert(labels)])
    await a.acknowledge(r["id"], "ann")
    kill_actor("initech")
    b = actor("initech", vigil.settings)  # a new actor rebuilds from Redis
    got = await b.get(r["id"])
    assert got.status is AlertStatus.ACKNOWLEDGED and got.acknowledged_by == "ann"
    (again,) = await b.ingest([alert(labels)])
    assert again["duplicate"] and again["id"] == r["id"]  # dedup state survived too


async def test_redis_crash_and_restart_from_aof_loses_nothing(vigil: Vigil) -> None:
    a = actor("initech", vigil.settings)
    labels = [unique_labels(i=str(i)) for i in range(50)]
    results = await a.ingest([alert(x) for x in labels])
    vigil.redis.kill()  # SIGKILL: no clean shutdown, no final save
    vigil.redis.start()  # replays the append-only file
    kill_actor("initech")
    b = actor("initech", vigil.settings)
    for r in results:
        assert (await b.get(r["id"])).fingerprint == r["fingerprint"]


async def test_redis_down_means_an_error_and_nothing_stored(vigil: Vigil) -> None:
    a = actor("initech", vigil.settings)
    labels = unique_labels()
    vigil.redis.stop()
    try:
        with pytest.raises(Exception, match=r"(?i)connect|redis|closed"):
            await a.ingest([alert(labels)])
    finally:
        vigil.redis.start()
    # Nothing of the failed call is in memory or in Redis: the next delivery is new.
    (r,) = await a.ingest([alert(labels)])
    assert not r["duplicate"] and r["occurrence"] == 1
    kill_actor("initech")
    b = actor("initech", vigil.settings)
    page = await b.list_alerts(
        AlertQuery(matchers=tuple(parse_matchers(f'alertname="{labels["alertname"]}"')))
    )
    assert page.total == 1 and page.items[0].count == 1


async def test_every_change_is_on_the_change_stream(vigil: Vigil) -> None:
    a = actor("globex", vigil.settings)
    client = redis_lib.Redis.from_url(vigil.redis.url)
    last = client.xrevrange(keys.changes("globex"), count=1)
    after = last[0][0] if last else b"0"
    labels = unique_labels()
    (r,) = await a.ingest([alert(labels)])
    await a.acknowledge(r["id"], "ann", "looking into it")
    entries = client.xrange(keys.changes("globex"), min=b"(" + after)
    changes = [c for _, fields in entries for c in ChangeEntry.from_fields(fields).changes]
    mine = [c for c in changes if isinstance(c, AlertChangeRecord) and c.alert_id == r["id"]]
    assert [c.kind for c in mine] == ["created", "acknowledged"]
    assert (mine[1].by, mine[1].reason) == ("ann", "looking into it")
    client.close()


async def test_resolved_alerts_are_purged_after_the_retention(vigil: Vigil) -> None:
    # Timeline: resolve at t=0 with a 1 s retention; by t=4 it is gone from memory and Redis.
    settings = vigil.settings.model_copy(update={"resolved_retention_seconds": 1.0})
    a = actor("purgeco", settings)
    try:
        (r,) = await a.ingest([alert(unique_labels())])
        (kept,) = await a.ingest([alert(unique_labels())])
        await a.resolve(r["id"])

        async def purged() -> bool:
            try:
                await a.get(r["id"])
                return False
            except NotFound:
                return True

        await wait_until(purged, within=4)
        client = redis_lib.Redis.from_url(vigil.redis.url)
        assert not client.hexists(keys.alerts("purgeco"), r["id"])
        assert client.hexists(keys.alerts("purgeco"), kept["id"])  # open alerts stay
        client.close()
    finally:
        kill_actor("purgeco")


def actor_exists(tenant: str) -> bool:
    try:
        ray.get_actor(tenant_actor_name(tenant), namespace=NAMESPACE)
        return True
    except ValueError:
        return False


async def test_idle_actor_with_nothing_open_leaves_and_comes_back(vigil: Vigil) -> None:
    # Timeline: everything resolved at t=0, idle timeout 1 s; the actor has left by t~6
    # (it checks every 5 s); the next call recreates it with all its data.
    settings = vigil.settings.model_copy(update={"tenant_idle_seconds": 1.0})
    a = actor("idleco", settings)
    (r,) = await a.ingest([alert(unique_labels())])
    await a.resolve(r["id"])
    wait_for(lambda: not actor_exists("idleco"), timeout=15)
    b = actor("idleco", settings)
    try:
        assert (await b.get(r["id"])).status is AlertStatus.RESOLVED
    finally:
        kill_actor("idleco")


async def test_idle_actor_with_open_alerts_stays(vigil: Vigil) -> None:
    # An open alert's resolve timeout must fire on time, so its actor must not leave.
    settings = vigil.settings.model_copy(update={"tenant_idle_seconds": 1.0})
    a = actor("busyco", settings)
    try:
        await a.ingest([alert(unique_labels())])
        await asyncio.sleep(7)
        assert actor_exists("busyco") and await a.ping()
    finally:
        kill_actor("busyco")


async def test_acting_on_an_alert_past_its_end_sees_it_resolved(vigil: Vigil) -> None:
    # Timeline: ends_at = t+0.5s; at t+0.6s (maybe before the sweeper ran) an
    # acknowledgement is refused because the alert is already resolved by timeout.
    a = actor("acme", vigil.settings)
    ends = time.time() + 0.5
    (r,) = await a.ingest([alert(unique_labels(), ends_at=datetime.fromtimestamp(ends, UTC))])
    await asyncio.sleep(max(0.0, ends - time.time()) + 0.1)
    with pytest.raises(InvalidTransition, match="resolved"):
        await a.acknowledge(r["id"], "ann")
    assert (await a.get(r["id"])).resolved_by == "timeout"


async def test_a_configured_tenant_keeps_its_actor_when_idle(vigil: Vigil) -> None:
    # Both idle with nothing open and a 1 s idle timeout: the run-time tenant leaves,
    # the configured one (its first alert after a quiet night must be fast) stays.
    settings = vigil.settings.model_copy(update={"tenant_idle_seconds": 1.0})
    with contextlib.suppress(ValueError):  # recreated below with the short idle timeout
        kill_actor("globex")
    configured, passing = actor("globex", settings), actor("idleco-twin", settings)
    try:
        assert await configured.warm()  # finds and calls the correlator
        await passing.ping()
        wait_for(lambda: not actor_exists("idleco-twin"), timeout=20)
        assert actor_exists("globex") and await configured.ping()
    finally:
        kill_actor("globex")
        with contextlib.suppress(ValueError):
            kill_actor("idleco-twin")
