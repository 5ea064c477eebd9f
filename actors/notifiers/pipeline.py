"""The delivery pipeline: one small interface, a few combinators, one builder.

A ``Stage`` takes a ``Delivery`` (the message, and what happened to it so far) and
returns it, having done its part. ``build_pipeline`` shows the whole order in one
place, as Alertmanager's ``notify.Stage`` chain does:

    Logged(                             # skip what the notification log has
        Fallback(                       # the target's channel, then the fallbacks
            Retrying(Send(channel))     # each: tries with backoff and jitter
            for channel in chain
        )
    )

Every step lands in ``Delivery.steps`` (for the incident's timeline): each failed
try, each retry's wait, each fallback taken, and who delivered. A channel that
delivered is never tried again because another failed.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from opentelemetry.trace import SpanKind

from alerting.delivery import Attempt, AttemptKind, RetryPolicy
from cluster import tracing


class Notice(Protocol):
    """Something to deliver: an escalation's ``Message``, or a group's notification
    to an ``alertmanager.yml`` integration. ``key`` names it in the notification log."""

    def key(self, channel: str) -> str: ...


Sender = Callable[[Any], Awaitable[Attempt]]  # takes the Notice it delivers
Sleep = Callable[[float], Awaitable[None]]
Clock = Callable[[], datetime]


@dataclass
class Delivery:
    """One message on its way: the current channel's last attempt and every step."""

    message: Notice
    channel: str | None = None
    attempt: Attempt | None = None
    tries: int = 0  # tries on the current channel
    delivered_by: str | None = None
    steps: list[str] = field(default_factory=list)
    # For the metrics: every try as (channel, result), and what the stages did.
    attempts: list[tuple[str, str]] = field(default_factory=list)
    retries: int = 0
    fallbacks: int = 0
    from_log: bool = False  # the notification log had it: nothing was sent

    @property
    def delivered(self) -> bool:
        return self.delivered_by is not None

    @property
    def outcome(self) -> str:
        """``already_delivered``, ``delivered``, ``delivered_by_fallback`` or ``failed``."""
        if self.from_log:
            return "already_delivered"
        if not self.delivered:
            return "failed"
        return "delivered_by_fallback" if self.fallbacks else "delivered"


DELIVERY_OUTCOMES = ("delivered", "delivered_by_fallback", "failed", "already_delivered")
"""Every ``Delivery.outcome``."""


class Stage(Protocol):
    """One part of the pipeline."""

    async def run(self, delivery: Delivery) -> Delivery: ...


class Send:
    """One try on one channel."""

    def __init__(self, channel: str, sender: Sender) -> None:
        self.channel = channel
        self.sender = sender

    async def run(self, delivery: Delivery) -> Delivery:
        delivery.channel = self.channel
        delivery.tries += 1
        attributes = {"vigil.channel": self.channel, "vigil.try": delivery.tries}
        with tracing.span("notify", kind=SpanKind.CLIENT, attributes=attributes) as span:
            try:
                delivery.attempt = await self.sender(delivery.message)
            except Exception as exc:  # a sender bug must not stop the fallback chain
                delivery.attempt = Attempt(AttemptKind.CONNECTION_ERROR)
                delivery.steps.append(f"{self.channel}: send failed ({type(exc).__name__})")
            if span is not None:
                span.set_attribute("vigil.result", delivery.attempt.kind.value)
        delivery.attempts.append((self.channel, delivery.attempt.kind.value))
        if delivery.attempt.kind is AttemptKind.DELIVERED:
            delivery.delivered_by = self.channel
        return delivery


class Retrying:
    """Runs a stage again while the policy says a retry may help."""

    def __init__(
        self,
        inner: Stage,
        policy: RetryPolicy,
        sleep: Sleep = asyncio.sleep,
        rng: random.Random | None = None,
        clock: Clock = lambda: datetime.now(UTC),
    ) -> None:
        self.inner = inner
        self.policy = policy
        self.sleep = sleep
        self.rng = rng or random.Random()
        self.clock = clock

    async def run(self, delivery: Delivery) -> Delivery:
        delivery.tries = 0
        while True:
            delivery = await self.inner.run(delivery)
            attempt = delivery.attempt
            if delivery.delivered or attempt is None:
                return delivery
            wait = self.policy.delay_before(delivery.tries, attempt, self.clock(), self.rng)
            channel = delivery.channel
            if wait is None:
                delivery.steps.append(
                    f"{channel}: {attempt.describe()} on try {delivery.tries}, giving up"
                )
                return delivery
            delivery.steps.append(
                f"{channel}: {attempt.describe()} on try {delivery.tries}, "
                f"retrying in {wait.total_seconds():.1f}s"
            )
            delivery.retries += 1
            await self.sleep(wait.total_seconds())


class Fallback:
    """Tries each channel's stage in order until one delivers."""

    def __init__(self, chain: Sequence[tuple[str, Stage]]) -> None:
        self.chain = list(chain)

    async def run(self, delivery: Delivery) -> Delivery:
        for n, (channel, stage) in enumerate(self.chain):
            if n > 0:
                delivery.steps.append(f"falling back to {channel}")
                delivery.fallbacks += 1
            delivery = await stage.run(delivery)
            if delivery.delivered:
                delivery.steps.append(f"delivered by {channel}")
                return delivery
        delivery.steps.append("every channel failed")
        return delivery


class DeliveryLog(Protocol):
    """Where delivered notices are remembered (``cluster.notification_log``)."""

    async def delivered(self, notice: str) -> dict[str, Any] | None: ...

    async def record(self, notice: str, channel: str, steps: list[str]) -> None: ...


class Logged:
    """Skips a notice the log says was delivered; records one that now is. The key is
    the target's (its first channel), so a fallback's success counts for the target."""

    def __init__(self, target: str, inner: Stage, log: DeliveryLog) -> None:
        self.target = target
        self.inner = inner
        self.log = log

    async def run(self, delivery: Delivery) -> Delivery:
        notice = delivery.message.key(self.target)
        earlier = await self.log.delivered(notice)
        if earlier is not None:
            delivery.delivered_by = str(earlier["channel"])
            delivery.from_log = True
            delivery.steps.append(f"already delivered by {delivery.delivered_by}")
            return delivery
        delivery = await self.inner.run(delivery)
        if delivery.delivered_by is not None:
            await self.log.record(notice, delivery.delivered_by, delivery.steps)
        return delivery


def build_pipeline(
    chain: Sequence[tuple[str, Sender]],
    policy: RetryPolicy,
    sleep: Sleep = asyncio.sleep,
    rng: random.Random | None = None,
    log: DeliveryLog | None = None,
) -> Stage:
    """One target's delivery: unless the log has it, its channel and then the
    fallbacks in order, each with retries; recorded in the log once delivered."""
    fallback = Fallback(
        [(name, Retrying(Send(name, sender), policy, sleep, rng)) for name, sender in chain]
    )
    return fallback if log is None else Logged(chain[0][0], fallback, log)
