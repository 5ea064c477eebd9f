"""Escalator shards: every tenant with a policy is run by exactly one shard, the one
whose number its correlator shard has; tenants without a policy by none."""

from __future__ import annotations

from actors.escalator import escalating_tenants
from cluster.config import parse_config
from cluster.runtime import shard_of

POLICY = "    escalation: {policies: {p: {levels: [{targets: [{channel: c}]}]}}}\n"
CHANNEL = "    channels: {c: {type: webhook, url_secret: u}}\n"


def config_text(escalating: list[str], quiet: list[str]) -> str:
    text = "tenants:\n"
    for tenant in escalating:
        text += f"  - id: {tenant}\n" + POLICY + CHANNEL
    for tenant in quiet:
        text += f"  - id: {tenant}\n"
    return text


def test_each_escalating_tenant_runs_on_exactly_its_own_shard() -> None:
    escalating = [f"tenant-{n}" for n in range(12)]
    config = parse_config(config_text(escalating, ["quiet-1", "quiet-2"]))
    shards = 3
    taken = {s: [t.id for t in escalating_tenants(config, s, shards)] for s in range(shards)}
    assert sorted(t for ids in taken.values() for t in ids) == sorted(escalating)
    for shard, ids in taken.items():
        assert all(shard_of(t, shards) == shard for t in ids)
    assert sum(1 for ids in taken.values() if ids) >= 2  # they really are spread
    single = escalating_tenants(config, 0, 1)
    assert [t.id for t in single] == escalating  # one shard runs them all
