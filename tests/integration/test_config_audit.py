"""Each tenant's audit trail says from when its configuration was in force."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import redis

from cluster.audit_store import AuditTrail
from cluster.config import parse_config
from cluster.config_audit import record_applied
from cluster.redis_client import sync_client
from cluster.redis_server import EmbeddedRedis
from tests.system import other_database

pytestmark = pytest.mark.integration

DB = 10  # a database of the session's Redis no other test uses
CONFIG = "tenants: [{id: a, tier: free}, {id: b}]"


@pytest.fixture
def client(redis_server: EmbeddedRedis) -> Iterator[redis.Redis]:
    found = sync_client(other_database(redis_server.url, DB))  # emptied
    yield found
    found.close()


def test_a_changed_section_is_audited_once(client: redis.Redis) -> None:
    trail = AuditTrail(client, b"k" * 32)
    assert record_applied(client, trail, parse_config(CONFIG), "v.yaml", "operator:x") == ["a", "b"]
    assert record_applied(client, trail, parse_config(CONFIG), "v.yaml", "operator:x") == []
    changed = parse_config("tenants: [{id: a, tier: enterprise}, {id: b}]")
    assert record_applied(client, trail, changed, "v.yaml", "operator:x") == ["a"]
    entries = trail.entries("a")
    assert [e.action.value for e in entries] == ["config.apply", "config.apply"]
    assert entries[0].detail["sha256"] != entries[1].detail["sha256"]
    assert trail.verify("a").intact and trail.verify("b").checked == 1
