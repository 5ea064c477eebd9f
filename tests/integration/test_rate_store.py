"""The rate watch's counts in a real Redis: saved with the correlator's commit (new
counts appended, a stream sent whole when new), read back into a watch that judges as
the saving one did, and forgotten so a fresh watch never resumes an older one's."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import redis

from alerting.correlation import Outbox
from alerting.correlation_config import AnomalyPolicy
from alerting.rate_counts import unpack_counts
from cluster import keys
from cluster.incident_store import IncidentStore
from cluster.rate_store import forget_rates, load_rates
from cluster.redis_server import EmbeddedRedis
from models.rate_watch import RateWatch
from tests.system import incident_store_in
from tests.unit.models.test_rate_watch import MINUTE, T0, feed, steady

pytestmark = pytest.mark.integration

TENANT = "rates"


@pytest.fixture
async def store(redis_server: EmbeddedRedis) -> AsyncIterator[tuple[IncidentStore, redis.Redis]]:
    async with incident_store_in(redis_server.url, 9, TENANT) as found:
        yield found


async def save(store: IncidentStore, watch: RateWatch) -> None:
    """As the correlator commits: the counts ride with the (here empty) outbox."""
    counts = watch.unsaved_counts()
    await store.commit(Outbox(), None, counts)
    if counts is not None:
        watch.saved(counts)


async def test_saved_counts_resume_a_watch_that_judges_as_the_one_that_saved(
    store: tuple[IncidentStore, redis.Redis],
) -> None:
    incident_store, client = store
    watch = RateWatch(AnomalyPolicy(), T0)
    counts = steady(200, 10)
    for minute, count in enumerate(counts):
        feed(watch, minute, count, service="checkout")
        await save(incident_store, watch)
    # Each save after the first appended one count per stream (two bytes).
    assert len(client.get(keys.rate_counts(TENANT, 0)) or b"") == 2 * 199
    assert list(unpack_counts(client.get(keys.rate_counts(TENANT, 1)) or b"")) == counts[:-1]

    stored = await load_rates(incident_store.client, TENANT)
    assert stored is not None
    assert stored.names == {0: None, 1: "checkout"}
    assert stored.open_counts == {0: counts[-1], 1: counts[-1]}
    again = RateWatch(AnomalyPolicy(), T0 + 200 * MINUTE)
    assert again.resume(stored, T0 + 200 * MINUTE)
    for _ in again.replay():
        pass
    burst = [*steady(10, 10, seed=4), 250, 10]  # the last closes the storm's bucket
    expected = [feed(watch, 200 + m, c, service="checkout") for m, c in enumerate(burst)]
    got = [feed(again, 200 + m, c, service="checkout") for m, c in enumerate(burst)]
    assert got == expected
    assert {(a.kind, a.service) for found in got for a in found} == {
        ("AlertStorm", None),
        ("AlertStorm", "checkout"),
    }


async def test_forgotten_counts_are_gone_and_nothing_resumes(
    store: tuple[IncidentStore, redis.Redis],
) -> None:
    incident_store, client = store
    watch = RateWatch(AnomalyPolicy(), T0)
    for minute in range(5):
        feed(watch, minute, 3, service=f"s{minute}")
        await save(incident_store, watch)
    assert client.exists(keys.rate_counts(TENANT, 5))
    await forget_rates(incident_store.client, TENANT)
    assert await load_rates(incident_store.client, TENANT) is None
    assert not client.keys(f"{TENANT}:rate*")


async def test_unreadable_bookkeeping_is_not_resumed(
    store: tuple[IncidentStore, redis.Redis],
) -> None:
    incident_store, client = store
    client.hset(keys.rate_watch(TENANT), mapping={"bucket": "soon", "name:0": "null"})
    assert await load_rates(incident_store.client, TENANT) is None
    client.hset(keys.rate_watch(TENANT), mapping={"bucket": "60", "counted": "new"})
    client.hset(keys.rate_watch(TENANT), mapping={"bucket_start": "0", "name:1": "7"})
    assert await load_rates(incident_store.client, TENANT) is None  # a service must be text
