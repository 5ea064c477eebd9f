"""Fixtures of the security tests that run ``vigil`` commands on the system under test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import redis

from cluster.redis_client import sync_client
from tests.system import Vigil


@pytest.fixture()
def command_env(vigil: Vigil, monkeypatch: pytest.MonkeyPatch) -> None:
    """``vigil`` commands on the system under test's Redis, config and data dir."""
    monkeypatch.setenv("REDIS_URL", vigil.redis.url)
    monkeypatch.setenv("VIGIL_DATA_DIR", str(vigil.settings.data_dir))
    monkeypatch.setenv("VIGIL_CONFIG", str(vigil.settings.config_path))


@pytest.fixture()
def store(vigil: Vigil) -> Iterator[redis.Redis]:
    """A blocking client of the system under test's Redis."""
    client = sync_client(vigil.redis.url)
    yield client
    client.close()
