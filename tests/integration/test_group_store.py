"""Aggregation groups in a real Redis: a group's header and each of its alerts are
stored apart, so a round writes only the alerts that changed, and groups stored the
old way (alerts inline in the header) load whole and are stored anew.

Before, every round that touched a group wrote the whole group: a group of 50,000
alerts rewrote megabytes per commit, which grew Redis's append-only file fast enough
to trigger a rewrite every few seconds (each one stalling the fsync of every reply).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
import redis

from alerting.aggregation import group_alert_to_record, group_to_record
from alerting.correlation import group_id
from alerting.fingerprint import fingerprint
from cluster import keys
from cluster.incident_store import IncidentStore
from cluster.redis_server import EmbeddedRedis
from tests.system import incident_store_in
from tests.unit.alerting.helpers import at
from tests.unit.alerting.test_correlation import Story
from tests.unit.alerting.test_group_notifications import config

pytestmark = pytest.mark.integration

TENANT = "groups"


@pytest.fixture
async def store(redis_server: EmbeddedRedis) -> AsyncIterator[tuple[IncidentStore, redis.Redis]]:
    async with incident_store_in(redis_server.url, 8, TENANT) as found:
        yield found


def fire(story: Story, t: float, hosts: range) -> None:
    for host in hosts:
        story.fire(t, alertname="Disk", host=f"h{host}")


def one_group(alerts: int) -> tuple[Story, str]:
    """A story whose ``alerts`` alerts fire into one group, and that group's id."""
    story = Story(config())
    fire(story, 0, range(alerts))
    (gid,) = story.engine.groups
    return story, gid


async def test_a_round_writes_only_the_alerts_that_changed(
    store: tuple[IncidentStore, redis.Redis],
) -> None:
    incidents, client = store
    story, gid = one_group(200)
    await incidents.commit(story.engine.take_outbox(), None)
    header = json.loads(client.hget(keys.groups(TENANT), gid) or b"{}")
    assert "alerts" not in header and header["group_key"] == story.engine.groups[gid].group_key
    assert client.hlen(keys.group_alerts(TENANT)) == 200

    fire(story, 1, range(200, 201))  # one more alert: one field, not the group again
    new = fingerprint({"alertname": "Disk", "host": "h200"})
    outbox = story.engine.take_outbox()
    assert outbox.group_alerts == {gid: {new: story.engine.groups[gid].alerts[new]}}
    await incidents.commit(outbox, None)
    assert client.hlen(keys.group_alerts(TENANT)) == 201

    story.resolve(2, alertname="Disk", host="h7")
    story.engine.tick(at(40))  # the flush drops the resolved alert from the group...
    await incidents.commit(story.engine.take_outbox(), None)
    assert client.hlen(keys.group_alerts(TENANT)) == 200  # ...and from Redis

    stored = await incidents.load()  # a restart finds the group as the engine has it
    assert {group_id(g.route, g.group_key): g for g in stored.groups} == story.engine.groups


async def test_groups_stored_with_their_alerts_inline_load_whole_and_are_stored_anew(
    store: tuple[IncidentStore, redis.Redis],
) -> None:
    incidents, client = store
    story, gid = one_group(3)
    group = story.engine.groups[gid]
    old: dict[str, Any] = group_to_record(group)
    old["alerts"] = {fp: group_alert_to_record(a) for fp, a in group.alerts.items()}
    client.hset(keys.groups(TENANT), gid, json.dumps(old))  # as Vigil 0.2 stored it

    (loaded,) = (await incidents.load()).groups
    assert loaded == group
    header = json.loads(client.hget(keys.groups(TENANT), gid) or b"{}")
    assert "alerts" not in header  # stored anew: a later header write drops nothing
    assert client.hlen(keys.group_alerts(TENANT)) == 3
    (again,) = (await incidents.load()).groups
    assert again == group
