"""Fixtures of the escalation acceptance tests."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import redis

from cluster.secrets import SecretStore, box_for
from tests.recording_server import RecordingServer
from tests.system import Vigil

TENANT = "hooli"


@pytest.fixture
async def levels(vigil: Vigil) -> AsyncIterator[tuple[RecordingServer, RecordingServer]]:
    first, second = RecordingServer(), RecordingServer()
    store = SecretStore(redis.Redis.from_url(vigil.redis.url), TENANT, box_for(vigil.settings))
    store.set("l1-url", await first.start() + "/l1")
    store.set("l2-url", await second.start() + "/l2")
    yield first, second
    await first.stop()
    await second.stop()
