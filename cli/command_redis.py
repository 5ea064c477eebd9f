"""The Redis a one-off command (``vigil tenant``, ``secret``, ``train``, ``models``)
works on."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import redis

from cluster.redis_client import sync_client
from cluster.redis_server import redis_for_command
from cluster.settings import Settings


@contextlib.contextmanager
def command_client(settings: Settings) -> Iterator[redis.Redis]:
    """A blocking client of the configured Redis for one command (the embedded server is
    started for it, and stopped after it if Vigil was not up)."""
    with redis_for_command(
        settings.redis_url, settings.data_dir, settings.embedded_redis_port
    ) as url:
        client = sync_client(url)
        try:
            yield client
        finally:
            client.close()
