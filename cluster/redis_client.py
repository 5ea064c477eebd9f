"""Redis clients with the timeouts and retries every Vigil component uses.

Connection errors are retried with a short exponential backoff, so a Redis restart
costs a request some latency instead of an error. A retried transaction re-sends the
same commands: change-stream entries carry a ``change_id`` that consumers dedupe on,
so a transaction whose reply was lost and that then ran twice does no harm.
"""

from __future__ import annotations

from typing import Any, TypedDict

import redis
import redis.asyncio as aioredis
from redis.asyncio.retry import Retry as AsyncRetry
from redis.backoff import ExponentialBackoff
from redis.retry import Retry

RETRIES = 4


class _Options(TypedDict):
    """What both kinds of client are given besides their ``Retry``."""

    socket_timeout: float
    socket_connect_timeout: float
    retry_on_error: list[type[Exception]]


def _options(socket_timeout: float, connect_timeout: float) -> _Options:
    """Timeouts, and the errors worth retrying."""
    return {
        "socket_timeout": socket_timeout,
        "socket_connect_timeout": connect_timeout,
        "retry_on_error": [redis.ConnectionError, redis.TimeoutError],
    }


def async_client(url: str, socket_timeout: float = 5.0) -> aioredis.Redis:
    """An asyncio client for ``url`` (created inside the event loop that will use it)."""
    retry = AsyncRetry(ExponentialBackoff(cap=0.5, base=0.05), RETRIES)
    return aioredis.Redis.from_url(url, retry=retry, **_options(socket_timeout, 2))


def sync_client(url: str, socket_timeout: float = 30.0) -> redis.Redis:
    """A blocking client, for start-up and the CLI."""
    retry = Retry(ExponentialBackoff(cap=0.5, base=0.05), RETRIES)
    return redis.Redis.from_url(url, retry=retry, **_options(socket_timeout, 5))


class TenantRedis:
    """Base of the per-tenant stores: the tenant, its Redis, and a lazily made client."""

    def __init__(self, tenant: str, redis_url: str) -> None:
        self.tenant = tenant
        self.redis_url = redis_url
        self._client: aioredis.Redis | None = None

    @property
    def client(self) -> aioredis.Redis:
        """The asyncio client, created on first use inside the caller's event loop."""
        if self._client is None:
            self._client = async_client(self.redis_url)
        return self._client

    async def aclose(self) -> None:
        """Close the client's connections (a store that outlives its caller's event
        loop would otherwise leave them to the garbage collector)."""
        if self._client is not None:
            await self._client.aclose()
            self._client = None


def text(value: bytes | str) -> str:
    """A Redis reply as text: Vigil's clients answer bytes (``decode_responses`` off),
    which redis-py's stubs type as ``bytes | str``."""
    return value.decode() if isinstance(value, bytes) else value


StreamEntry = tuple[str, dict[bytes, bytes]]
"""One stream entry as Vigil reads it: its id, and its fields as stored."""


def stream_entries(found: Any) -> list[StreamEntry]:
    """The entries of an ``XRANGE`` / ``XREVRANGE`` reply (none for an empty one)."""
    return [(text(entry_id), fields) for entry_id, fields in found or []]
