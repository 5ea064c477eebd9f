"""The supervisor: Vigil watching itself, and paging when it stops working.

One actor (``supervisor``, ``num_cpus=0``) judges every loop's heartbeat each second
(``cluster.health``), like ``/readyz`` does, and

* **pages about Vigil itself** when a loop is stalled or lagging, or Redis has been
  unreachable for longer than the stall bound: a *firing* notice to the
  ``monitoring.page`` channels (the first, then the rest as fallbacks), again every
  ``repeat_interval`` while it lasts, and a *resolved* notice when it is over
  (``alerting/self_page.py``). The page goes out from here, through the notifier
  pipeline with secrets this actor decrypted earlier (kept in memory, so a Redis
  outage can be paged about): it does not need the correlator or the escalator, which
  may be what failed;
* **keeps a dead man's switch** while everything is healthy (``monitoring.watchdog``):
  *push*, a heartbeat notice to the watchdog channel every interval, which an external
  switch (Dead Man's Snitch, healthchecks.io, a cron monitor) expects; *pull*, an
  always-firing ``Watchdog`` alert in the monitoring tenant, refreshed every interval
  with ``ends_at`` three intervals ahead, which an external monitor reads with
  ``GET /api/v2/alerts?filter=alertname="Watchdog"`` (or amtool). Both stop when a
  loop fails or the supervisor itself stops, and that silence is the alarm;
* **publishes its own heartbeat** as the loop ``supervisor/vigil``, so ``/readyz``
  and ``vigil status`` show a supervisor that stopped.

Like the correlator and escalator, it starts its loop in ``async __init__`` (see
``actors/loop_keeper.py``): a restarted supervisor watches again at once. Its
episode state is kept in Redis, so a restart does not page twice for one failure.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import random
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import ray

from actors.notifiers.channels import build_sender, tenant_channels
from actors.notifiers.pipeline import Delivery, Sender, build_pipeline
from actors.tenant_client import TenantClient, tenant_call
from actors.whereabouts import Whereabouts
from alerting.alert import IncomingAlert
from alerting.delivery import RetryPolicy
from alerting.liveness import SUPERVISOR_LOOP, LoopBeat, failures
from alerting.message import Message, MessageKind
from alerting.self_page import SelfPageAction, SelfPageState, decide, paged
from alerting.severity import Severity
from alerting.timeutil import from_epoch
from cluster import keys
from cluster.config import load_config
from cluster.errors import SecretError
from cluster.health import loop_health
from cluster.loop_beats import publish_beats
from cluster.metrics import SELF_PAGES
from cluster.observability import observe_process
from cluster.redis_client import async_client
from cluster.runtime import long_lived_actor_options
from cluster.secret_cache import SecretCache, SecretSnapshot
from cluster.settings import Settings

log = logging.getLogger("vigil.supervisor")

ROUND_SECONDS = 1.0
SUPERVISOR_NAME = "supervisor"
SELF_INCIDENT = "vigil-self-monitoring"  # PagerDuty's dedup_key: resolved closes it
WATCHDOG_INCIDENT = "vigil-watchdog"
WATCHDOG_LABELS = {"alertname": "Watchdog", "vigil": "self-monitoring"}


class SupervisorActor(Whereabouts):
    """Judges Vigil's loops every second; pages about failures; keeps the watchdog."""

    async def __init__(self, settings: Settings) -> None:  # type: ignore[misc]
        self.settings = settings
        observe_process(SUPERVISOR_NAME, settings)
        self.config = load_config(settings.config_path, settings.max_escalation_levels)
        self.monitoring = self.config.monitoring
        self.client = async_client(settings.redis_url or "", socket_timeout=2)
        self.started_at = datetime.now(UTC)
        self.state = SelfPageState()
        self.state_loaded = False
        self.redis_down_since: datetime | None = None
        self.last_watchdog: datetime | None = None
        self.sending: asyncio.Task[None] | None = None
        self.pages_sent = 0
        self.rng = random.Random()
        self.secrets: SecretSnapshot | None = None
        self.secret_cache: SecretCache | None = None
        self.channels: dict[str, Any] = {}
        if self.monitoring is not None:
            owner = self.config.tenant(self.monitoring.tenant)
            assert owner is not None  # checked when the file loaded
            self.channels = dict(tenant_channels(owner))
            self.secret_cache = SecretCache(self.client, owner.id, settings)
        self._loop = asyncio.get_running_loop().create_task(self._watch_forever())

    async def _watch_forever(self) -> None:
        async with self.settings.outbound_policy.session(16) as session:
            while True:
                try:
                    await self.watch_once(session)
                except Exception as exc:  # never let the watcher end
                    log.warning("supervisor round failed: %r", exc)
                await asyncio.sleep(ROUND_SECONDS)

    async def watch_once(self, session: aiohttp.ClientSession) -> list[str]:
        """One round: judge, page or recover, keep the watchdog, beat; what fails now."""
        now = datetime.now(UTC)
        problems = await self._problems(now)
        previous = self.state
        self.state, action = decide(self.state, problems, now, self._repeat())
        if self.state != previous:
            await self._save_state()
        if action is not SelfPageAction.NOTHING:
            self._send_self_page(session, action, self.state, now)
        if not problems:
            await self._watchdog(session, now)
        await self._beat(now)
        return problems

    async def _problems(self, now: datetime) -> list[str]:
        """What is failing now: stalled or lagging loops, or a Redis away for longer
        than the stall bound (a blip of a second pages nobody)."""
        try:
            if not self.state_loaded:
                await self._load_state()
            health = await loop_health(self.client, self.config, self.settings, self.started_at)
            if self.secret_cache is not None:
                self.secrets = await self.secret_cache.snapshot()
        except Exception as exc:  # Redis away: judged on how long it has been
            if self.redis_down_since is None:
                self.redis_down_since = now
            down = (now - self.redis_down_since).total_seconds()
            if down > self.settings.loop_stall_seconds:
                return [f"Redis unreachable for {down:.0f}s ({type(exc).__name__})"]
            return list(self.state.failures)  # unknown: neither page nor recover yet
        self.redis_down_since = None
        return [h.describe() for h in failures(health) if h.loop != SUPERVISOR_LOOP]

    def _repeat(self) -> timedelta | None:
        return self.monitoring.repeat if self.monitoring is not None else None

    # -- the self-page -------------------------------------------------------------------

    def _send_self_page(
        self,
        session: aiohttp.ClientSession,
        action: SelfPageAction,
        state: SelfPageState,
        now: datetime,
    ) -> None:
        """Deliver the page (or its resolution) in the background, one at a time, so
        a slow channel never stops the supervisor judging and beating."""
        if self.monitoring is None:
            if action is SelfPageAction.PAGE and state.paged_at is None:
                log.error("Vigil is failing (no monitoring.page configured): %s", state.failures)
                self.state = paged(self.state, now)  # logged once per episode
            return
        if self.sending is not None and not self.sending.done():
            return  # decided again next round
        self.sending = asyncio.get_running_loop().create_task(
            self._deliver_self_page(session, action, state, now)
        )

    async def _deliver_self_page(
        self,
        session: aiohttp.ClientSession,
        action: SelfPageAction,
        state: SelfPageState,
        now: datetime,
    ) -> None:
        assert self.monitoring is not None
        firing = action is SelfPageAction.PAGE
        failures = state.failures if firing else ()
        summary = (
            f"Vigil is failing: {'; '.join(failures)}"
            if firing
            else f"Vigil recovered (failure episode {state.episode})"
        )
        message = Message(
            tenant=self.monitoring.tenant,
            incident_id=SELF_INCIDENT,
            kind=MessageKind.FIRING if firing else MessageKind.RESOLVED,
            severity=Severity.CRITICAL,
            summary=summary[:1000],
            at=now,
            step=state.episode,
            labels={"alertname": "VigilUnhealthy", "vigil": "self-monitoring"},
        )
        delivered = await self._deliver(session, self.monitoring.page, message)
        SELF_PAGES.labels(
            ("firing" if firing else "resolved") if delivered else "undelivered"
        ).inc()
        if delivered:
            self.pages_sent += 1
        if firing and delivered and self.state.episode == state.episode and self.state.failing:
            self.state = paged(self.state, now)
            await self._save_state()
        level = logging.ERROR if firing else logging.WARNING
        log.log(level, "%s (%s)", summary, "delivered" if delivered else "NOT delivered")

    async def _deliver(
        self, session: aiohttp.ClientSession, chain: list[str], message: Message
    ) -> bool:
        senders: list[tuple[str, Sender]] = []
        for name in chain:
            try:
                secrets = self.secrets or SecretSnapshot(message.tenant, {}, {})
                url = self.settings.public_base_url
                senders.append(
                    (name, build_sender(session, self.channels[name], secrets, url, name))
                )
            except SecretError as exc:
                log.warning("self-monitoring channel %s unusable: %s", name, exc)
        if not senders:
            return False
        pipeline = build_pipeline(senders, RetryPolicy(), rng=self.rng)
        delivery = await pipeline.run(Delivery(message))
        return delivery.delivered

    # -- the watchdog --------------------------------------------------------------------

    async def _watchdog(self, session: aiohttp.ClientSession, now: datetime) -> None:
        """While healthy, every interval: the push heartbeat and the pull alert."""
        watchdog = self.monitoring.watchdog if self.monitoring is not None else None
        if watchdog is None:
            return
        if self.last_watchdog is not None and now - self.last_watchdog < watchdog.every:
            return
        self.last_watchdog = now
        assert self.monitoring is not None
        tenant = self.monitoring.tenant
        if watchdog.alert:
            alert = IncomingAlert(
                labels=WATCHDOG_LABELS,
                annotations={"summary": "Vigil is working; this alert stops when it is not"},
                severity=Severity.INFO,
                starts_at=self.started_at,
                ends_at=now + 3 * watchdog.every,
                source="vigil-supervisor",
            )
            try:
                client = TenantClient(tenant, tenant_call(tenant, self.settings, timeout=10))
                await client.ingest([alert])
            except Exception as exc:  # refreshed next interval; the alert outlives three
                log.warning("watchdog alert not refreshed: %r", exc)
        if watchdog.channel is not None:
            message = Message(
                tenant=tenant,
                incident_id=WATCHDOG_INCIDENT,
                kind=MessageKind.FIRING,
                severity=Severity.INFO,
                summary="Vigil watchdog: every loop is healthy",
                at=now,
                labels=WATCHDOG_LABELS,
            )
            task = self._deliver(session, [watchdog.channel], message)
            asyncio.get_running_loop().create_task(task)

    # -- its own state and heartbeat -------------------------------------------------------

    async def _beat(self, now: datetime) -> None:
        """The supervisor's own heartbeat, judged like any loop's (Redis away: it ages)."""
        try:
            await publish_beats(self.client, [LoopBeat(SUPERVISOR_LOOP, now, 0.0, 0, os.getpid())])
        except Exception as exc:
            log.debug("supervisor heartbeat not stored: %r", exc)

    async def _load_state(self) -> None:
        """The episode as a previous life of the supervisor left it."""
        raw: bytes | None = await self.client.hget(keys.supervisor(), "episode")  # type: ignore[assignment]
        if raw is not None:
            data = json.loads(raw)
            self.state = SelfPageState(
                int(data["episode"]),
                _time(data.get("failing_since")),
                _time(data.get("paged_at")),
                tuple(data.get("failures", ())),
            )
        self.state_loaded = True

    async def _save_state(self) -> None:
        record = {
            "episode": self.state.episode,
            "failing_since": _epoch(self.state.failing_since),
            "paged_at": _epoch(self.state.paged_at),
            "failures": list(self.state.failures),
        }
        try:
            await self.client.hset(keys.supervisor(), "episode", json.dumps(record))
        except Exception as exc:  # kept in memory; a restart may page this episode again
            log.warning("supervisor state not stored: %r", exc)

    # -- the actor's API -----------------------------------------------------------------

    async def status(self) -> dict[str, Any]:
        """The current episode, and how many self-pages were delivered (tests, status)."""
        return {
            "episode": self.state.episode,
            "failing": self.state.failing,
            "failures": list(self.state.failures),
            "paged_at": _epoch(self.state.paged_at),
            "pages_sent": self.pages_sent,
        }

    async def settings_in_force(self) -> Settings:
        """The settings Vigil's actors run with: what the Python client needs to create
        a tenant's actor as the ingress would (the trust model: whoever reaches Ray may
        do anything in it anyway)."""
        return self.settings

    async def ping(self) -> bool:
        return True


def _epoch(at: datetime | None) -> float | None:
    return None if at is None else at.timestamp()


def _time(seconds: float | None) -> datetime | None:
    return None if seconds is None else from_epoch(seconds)


RemoteSupervisorActor = ray.remote(SupervisorActor)


def ensure_supervisor(settings: Settings) -> Any:
    """The supervisor's handle, creating it on first use."""
    options = long_lived_actor_options(SUPERVISOR_NAME, settings.actor_resources)
    return RemoteSupervisorActor.options(**options).remote(settings)
