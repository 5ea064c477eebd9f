"""Redis clients with the timeouts and retries every Vigil component uses.

Connection errors are retried with a short exponential backoff, so a Redis restart
costs a request some latency instead of an error. A retried transaction re-sends the
same commands: change-stream entries carry a ``change_id`` that consumers dedupe on,
so a transaction whose reply was lost and that then ran twice does no harm.
"""

from __future__ import annotations

import redis
import redis.asyncio as aioredis
from redis.asyncio.retry import Retry as AsyncRetry
from redis.backoff import ExponentialBackoff
from redis.retry import Retry

RETRIES = 4
_RETRY_ON = [redis.ConnectionError, redis.TimeoutError]


def _options(socket_timeout: float, connect_timeout: float) -> dict[str, object]:
    """Timeouts and the errors worth retrying, the same for both kinds of client."""
    return {
        "socket_timeout": socket_timeout,
        "socket_connect_timeout": connect_timeout,
        "retry_on_error": _RETRY_ON,
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

    def __init__(self, tenant: str, redis_url: str, stream_maxlen: int) -> None:
        self.tenant = tenant
        self.redis_url = redis_url
        self.stream_maxlen = stream_maxlen
        self._client: aioredis.Redis | None = None

    @property
    def client(self) -> aioredis.Redis:
        """The asyncio client, created on first use inside the caller's event loop."""
        if self._client is None:
            self._client = async_client(self.redis_url)
        return self._client
