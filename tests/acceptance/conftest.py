"""Fixtures of the escalation acceptance tests."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import pytest
import redis

from cluster.secrets import SecretStore, box_for
from tests.recording_server import RecordingServer
from tests.system import Vigil

TENANT = "hooli"


@contextlib.asynccontextmanager
async def recording_channels(
    vigil: Vigil, tenant: str, names: tuple[str, ...]
) -> AsyncIterator[dict[str, RecordingServer]]:
    """A recording server per channel name, its URL stored as the tenant's secret
    ``<name>-url`` (the channels of tests/system.py read their URLs from there)."""
    servers = {name: RecordingServer() for name in names}
    client = redis.Redis.from_url(vigil.redis.url)
    store = SecretStore(client, tenant, box_for(vigil.settings))
    try:
        for name, server in servers.items():
            store.set(f"{name}-url", await server.start() + f"/{name}")
        yield servers
    finally:
        client.close()
        for server in servers.values():
            await server.stop()


@pytest.fixture
async def levels(vigil: Vigil) -> AsyncIterator[tuple[RecordingServer, RecordingServer]]:
    async with recording_channels(vigil, TENANT, ("l1", "l2")) as servers:
        yield servers["l1"], servers["l2"]
