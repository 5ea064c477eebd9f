"""Calling one of Vigil's named actors: the handle found (or the actor created) once and
kept, a call answered within a bound, and Ray's failures turned into typed errors.

The typed clients (``TenantClient``, ``CorrelatorClient``, ``EscalatorClient``) are
built on ``ActorCall``; nothing else calls an actor method by name.

    ActorCallError
     ├── ActorUnavailable  - the actor is gone or did not answer in time (HTTP 503)
     ├── StoreUnavailable  - the actor could not reach Redis; nothing changed (HTTP 503)
     └── ActorFailed       - the actor raised something unexpected (HTTP 500)

A refusal the actor raised on purpose (``alerting.errors.VigilError``: not found, an
invalid transition, an invalid silence) comes out as that same error, unwrapped from
Ray's ``RayTaskError``. Each error takes one message, so it pickles unchanged when an
actor passes it on to its own caller.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import redis
from ray.exceptions import ActorDiedError, ActorUnavailableError, GetTimeoutError, RayTaskError

from alerting.errors import VigilError

log = logging.getLogger("vigil.actor_call")

T = TypeVar("T")

CALL_TIMEOUT_SECONDS = 30.0
ATTEMPTS = 3  # an actor found dead is looked up (so restarted) this many times


class ActorCallError(Exception):
    """Base of the errors of calling an actor; ``message`` says which and why."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ActorUnavailable(ActorCallError):
    """The actor is gone (killed, its node lost) and did not come back, or did not
    answer within the bound."""


class StoreUnavailable(ActorCallError):
    """The actor could not reach Redis, so it stored nothing."""


class ActorFailed(ActorCallError):
    """The actor raised an error that is not one of the domain's refusals (a bug)."""


Handle = Any
"""A Ray actor handle: Ray's own type says nothing of the methods, which is why the
typed clients exist."""


class ActorCall:
    """Calls one named actor through a kept handle.

    ``create`` returns the handle, creating the actor if it is not running (Ray's
    ``get_if_exists``); it blocks on the GCS, so it runs in a thread. A handle whose
    actor is found dead is dropped and looked up again, which makes Ray restart it
    (it rebuilds from Redis).
    """

    def __init__(
        self, name: str, create: Callable[[], Handle], timeout: float = CALL_TIMEOUT_SECONDS
    ) -> None:
        self.name = name
        self.create = create
        self.timeout = timeout
        self.handle: Handle | None = None

    async def __call__(self, invoke: Callable[[Handle], Awaitable[T]]) -> T:
        """``invoke(handle)`` (one ``.remote`` call), awaited within the bound."""
        for attempt in range(ATTEMPTS):
            handle = self.handle
            if handle is None:
                handle = self.handle = await asyncio.to_thread(self.create)
            try:
                return await asyncio.wait_for(invoke(handle), self.timeout)
            except (ActorDiedError, ActorUnavailableError):
                self.handle = None
                if attempt < ATTEMPTS - 1:
                    await asyncio.sleep(0.2 * (attempt + 1))
            except (TimeoutError, GetTimeoutError):
                raise ActorUnavailable(f"the actor {self.name!r} did not answer") from None
            except RayTaskError as exc:
                raise refusal_of(self.name, exc) from None
        raise ActorUnavailable(f"the actor {self.name!r} is unavailable; retry later")

    def start(self) -> ActorCall:
        """Find or create the actor now (blocking), rather than at the first call."""
        self.handle = self.create()
        return self

    def forget(self) -> None:
        """Drop the kept handle (its actor was seen gone): the next call looks it up."""
        self.handle = None


def refusal_of(name: str, exc: RayTaskError) -> Exception:
    """The error a failed actor call stands for, from what the actor raised."""
    cause = exc.cause
    if isinstance(cause, VigilError | ActorCallError):
        return cause
    if isinstance(cause, redis.RedisError | OSError):
        log.warning("actor %s: the store is unavailable: %r", name, cause)
        if isinstance(cause, redis.OutOfMemoryError):  # maxmemory: the transaction refused whole
            return StoreUnavailable("the alert store (Redis) is full; nothing stored")
        return StoreUnavailable("the alert store (Redis) is unavailable; nothing stored")
    if isinstance(cause, ActorDiedError | ActorUnavailableError):
        return ActorUnavailable("an actor the request needs is unavailable; retry later")
    log.error("actor %s failed: %s", name, exc)
    return ActorFailed(f"internal error: {type(cause).__name__}")
