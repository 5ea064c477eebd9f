"""``TenantActor``: one tenant's live alerts, kept in memory over Redis.

The actor is a cache: ``__init__`` rebuilds it from Redis, so a killed or restarted
actor loses nothing. Every change is written (alert + change-stream entry, one
transaction per call) before the call returns, and only then applied in memory, so
a failed write changes nothing anywhere. Calls that change state run one at a time
(an ``asyncio.Lock``): two requests refreshing one fingerprint must not both create it.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import os
import time
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

import ray

from actors.correlator_wakeup import CorrelatorWakeup
from actors.whereabouts import Whereabouts
from alerting.alert import Alert, IncomingAlert
from alerting.alert_book import AlertBook
from alerting.errors import QuotaExceeded, SilenceNotFound
from alerting.lifecycle import (
    Action,
    ChangeKind,
    IngestResult,
    Transition,
    acknowledge,
    act,
    escalate,
    expire,
    resolve,
)
from alerting.matchers import Matcher, matches_all
from alerting.query import AlertQuery, Page, select
from alerting.silence import (
    DEFAULT_SILENCE_RETENTION,
    Silence,
    SilenceDraft,
    SilenceState,
    check_draft,
    expire_silence,
    matches_filter,
    purge_due,
    set_silence,
    silenced_by,
    sort_for_listing,
)
from cluster import tracing
from cluster.clock import Clock, utc_now
from cluster.config import load_config
from cluster.logs import log_event
from cluster.metrics import expect_loop, loop_failed
from cluster.observability import observe_process
from cluster.person_erasure import erase_alerts_and_silences
from cluster.runtime import (
    long_lived_actor_options,
    tenant_actor_name,
)
from cluster.settings import Settings
from cluster.store import AlertStore
from cluster.tenant_removal import refuse_if_deleted

log = logging.getLogger("vigil.tenant")

SWEEP_INTERVAL_SECONDS = 1.0
FREEZE_EVERY_SWEEPS = 5


def freeze_long_lived() -> None:
    """Move every object alive now out of the garbage collector's reach.

    A tenant holds ~3 objects per alert; a full collection over 100,000 alerts pauses
    the actor for ~110 ms (measured), and full collections recur as the heap churns.
    Alerts have no reference cycles, so reference counting still frees replaced ones;
    young cycles are collected first so none is frozen. Freezing is a list splice, so
    doing it every few seconds costs nothing measurable.
    """
    gc.collect(1)
    gc.freeze()


YOUNG_GC_THRESHOLD = 50_000


def relax_young_collections() -> None:
    """Collect the youngest generation every 50,000 allocations instead of every 700.

    Ingesting a batch allocates ~10 objects per alert, nearly none in reference cycles
    (reference counting frees them), so the default threshold ran a collection every
    ~70 alerts for nothing. Measured with ``bench/cpu_split.py`` (batch 1,000): the
    tenant actor's CPU per alert from 64-66 to 54-59 µs, ingest ~+8 %.
    """
    _, middle, oldest = gc.get_threshold()
    gc.set_threshold(YOUNG_GC_THRESHOLD, middle, oldest)


def log_stored(tenant: str, steps: Sequence[Transition]) -> None:
    """One line per stored batch that changed something besides refreshes: how many of
    each kind, and the alerts (so ``vigil logs --incident`` finds them)."""
    kinds: Counter[str] = Counter()
    news: list[str] = []
    for step in steps:
        if step.change is None:
            continue
        kinds[step.change.value] += 1
        if step.change is not ChangeKind.DUPLICATE:
            news.append(step.alert.id)
    if news:
        summary = ", ".join(f"{kind} {count}" for kind, count in sorted(kinds.items()))
        log_event(log, "alerts.stored", f"stored: {summary}", tenant=tenant, alert_ids=news)


def new_alert_id() -> str:
    """A random alert occurrence id: 32 hex digits."""
    return os.urandom(16).hex()


class TenantActor(Whereabouts):
    """Deduplicates, stores and changes the alerts of one tenant."""

    def __init__(self, tenant: str, settings: Settings, clock: Clock = utc_now) -> None:
        if settings.redis_url is None:
            raise ValueError("TenantActor needs settings.redis_url")
        self.clock = clock  # the one source of "now"
        self.tenant = tenant
        self.settings = settings
        refuse_if_deleted(tenant, settings.redis_url)
        name = tenant_actor_name(tenant)
        observe_process(name, settings)
        expect_loop("tenant_sweep")
        # Read once per batch on the hot path; the settings make a new timedelta each time.
        self.resolve_timeout = settings.resolve_timeout
        self.store = AlertStore(tenant, settings.redis_url)
        configured = load_config(settings.config_path, settings.max_escalation_levels)
        self.limits = configured.limits_for(tenant)  # its tier's quotas and retention
        self.retention = self.limits.retention(settings.resolved_retention)
        self.book: AlertBook
        self.silences: dict[str, Silence]
        self._load()
        freeze_long_lived()
        relax_young_collections()
        self._lock = asyncio.Lock()
        # A tenant of the configuration file keeps its actor: its first alert after a
        # quiet night must not wait seconds for a process (``vigil up`` starts them).
        # Tenants made at run time leave when idle, as below.
        self.keep_warm = any(t.id == tenant for t in configured.tenants)
        self.correlator = CorrelatorWakeup(tenant, settings.correlator_shards)
        self._sweeper: asyncio.Task[None] | None = None
        self._last_call = time.monotonic()

    async def _commit(self, steps: Sequence[Transition], now: datetime) -> None:
        """Persist, then apply in memory: memory never holds what Redis does not.

        If the write fails, the expiries popped for it go back on the deadline heap so
        the next sweep retries them; nothing else changed.
        """
        try:
            await self.store.save(steps, now)
        except Exception:
            self.book.restore_deadlines(steps)
            raise
        changed = False
        for step in steps:
            if step.change is not None:
                self.book.remember(step.alert)
                changed = True
        if changed:
            self.correlator.wake()
            log_stored(self.tenant, steps)

    def _begin(self) -> None:
        """Every call: note the activity, and make sure the background sweeper runs.

        The sweeper is started lazily because an actor's ``__init__`` runs before its
        event loop exists.
        """
        self._last_call = time.monotonic()
        if self._sweeper is None or self._sweeper.done():
            self._sweeper = asyncio.get_running_loop().create_task(self._sweep_forever())

    def _view(self, alert: Alert, now: datetime) -> Alert:
        """The alert as a reader must see it: past its ``ends_at`` it is resolved, even in
        the second before the sweeper stores that."""
        return expire(alert, now).alert

    def _idle_with_nothing_open(self) -> bool:
        """Whether the actor may leave: no calls for a while and no timer of its own running."""
        idle = time.monotonic() - self._last_call
        if self.keep_warm or idle < self.settings.tenant_idle_seconds:
            return False
        return not self.book.has_open()

    async def _sweep_forever(self) -> None:
        """Resolve alerts past their ``ends_at`` and purge old resolved ones, every second."""
        sweeps = 0
        failing = False
        while True:
            await asyncio.sleep(SWEEP_INTERVAL_SECONDS)
            sweeps += 1
            try:
                async with self._lock:
                    await self._sweep(self.clock())
                failing = False
            except Exception as exc:  # Redis briefly down: what was due is retried next time
                loop_failed("tenant_sweep", exc)
                if not failing:  # once per outage, not once per second
                    log.warning("tenant %s: sweep failed, will retry: %r", self.tenant, exc)
                failing = True
            if sweeps % FREEZE_EVERY_SWEEPS == 0:
                freeze_long_lived()
                with contextlib.suppress(Exception):  # Redis down: retried next time
                    async with self._lock:
                        await self._purge_silences(self.clock())
                async with self._lock:  # never leave in the middle of a write
                    if self._idle_with_nothing_open():
                        # An idle tenant costs a process; Redis has everything, and the
                        # next request recreates the actor. Tenants with open alerts stay,
                        # since their resolve timeouts must fire on time.
                        ray.kill(ray.get_runtime_context().current_actor, no_restart=True)

    async def _sweep(self, now: datetime) -> None:
        await self._commit(self.book.due_expiries(now), now)
        purge = self.book.due_purges(now)
        try:
            await self.store.delete([alert_id for _, alert_id in purge])
        except Exception:
            self.book.restore_purges(purge)  # retried on the next sweep
            raise
        self.book.forget([alert_id for _, alert_id in purge])

    # -- the actor's API --------------------------------------------------------------

    async def ingest(self, batch: list[IncomingAlert]) -> list[IngestResult]:
        """Apply a batch of deliveries; return one result per alert, in order."""
        self._begin()
        traces = [a.trace for a in batch] if tracing.enabled() else []
        attributes = {"vigil.tenant": self.tenant, "vigil.alerts": len(batch)}
        with tracing.span("tenant.ingest", traces, attributes=attributes):
            async with self._lock:
                now = self.clock()
                steps, results = self.book.receive_batch(
                    batch, now, self.resolve_timeout, new_alert_id
                )
                self._check_open_quota(steps)
                await self._commit(steps, now)
                return results

    def _check_open_quota(self, steps: Sequence[Transition]) -> None:
        """Refuse a batch, whole, that would open more alerts than the tier allows (one
        that resolves or refreshes alerts always passes). The expiries ``receive_batch``
        took out of the deadline heap go back, so the sweep still stores them."""
        limit = self.limits.max_open_alerts
        after = self.book.open_count_after(steps)
        if after > limit and after > self.book.open_count():
            self.book.restore_deadlines(steps)
            raise QuotaExceeded(
                f"tenant {self.tenant!r} may have {limit} open alerts; this batch would make "
                f"{after}. Nothing was stored: resolve alerts, or raise the tier's limit"
            )

    async def get(self, alert_id: str) -> Alert:
        """One alert by id (``NotFound`` if the tenant has no such alert)."""
        self._begin()
        return self._view(self.book.find(alert_id), self.clock())

    async def list_alerts(self, query: AlertQuery) -> Page[Alert]:
        """A page of the tenant's alerts matching ``query``."""
        self._begin()
        now = self.clock()
        return select((self._view(a, now) for a in self.book), query)

    async def _change_one(
        self, alert_id: str, change: Callable[[Alert, datetime], Transition]
    ) -> Alert:
        """Apply one lifecycle step to one alert, store it, and return the alert."""
        self._begin()
        async with self._lock:
            now = self.clock()
            # Expire what is due first, so an alert past its ends_at is acted on as
            # the resolved alert it is (acknowledging it is then refused).
            steps = self.book.due_expiries(now)
            current = next((s.alert for s in steps if s.alert.id == alert_id), None)
            step = change(current or self.book.find(alert_id), now)
            await self._commit([*steps, step], now)
            return step.alert

    async def acknowledge(
        self, alert_id: str, by: str | None = None, reason: str | None = None
    ) -> Alert:
        """Acknowledge an open alert (idempotent)."""
        return await self._change_one(
            alert_id, lambda alert, now: acknowledge(alert, now=now, by=by, reason=reason)
        )

    async def resolve(
        self, alert_id: str, by: str | None = None, reason: str | None = None
    ) -> Alert:
        """Resolve an open alert by hand (idempotent)."""
        return await self._change_one(
            alert_id, lambda alert, now: resolve(alert, now=now, by=by, reason=reason)
        )

    async def escalate(
        self, alert_id: str, by: str | None = None, reason: str | None = None
    ) -> Alert:
        """Raise an open alert one escalation level (capped by the settings)."""
        max_level = self.settings.max_escalation_levels
        return await self._change_one(
            alert_id,
            lambda alert, now: escalate(alert, now=now, max_level=max_level, by=by, reason=reason),
        )

    async def act_on_dedup_key(
        self, dedup_key: str, action: Action, by: str | None = None
    ) -> list[str]:
        """Acknowledge or resolve the open alert(s) a ``dedup_key`` names.

        Returns the ids changed; a key with no open alert changes nothing (PagerDuty
        accepts such events too).
        """
        return await self._act_on(
            lambda: [a.id for a in self.book.named_by_dedup_key(dedup_key)], action, by, None
        )

    async def act_on_alerts(
        self,
        alert_ids: list[str],
        action: Action,
        by: str | None = None,
        reason: str | None = None,
    ) -> list[str]:
        """Acknowledge or resolve these alerts (an incident's); return the ids changed.

        Alerts already resolved, or purged, are skipped: the incident decided, and
        there is nothing left to do for them.
        """
        return await self._act_on(lambda: alert_ids, action, by, reason)

    async def _act_on(
        self,
        chosen: Callable[[], list[str]],
        action: Action,
        by: str | None,
        reason: str | None,
    ) -> list[str]:
        """Apply ``action`` to every open alert among ``chosen()``, in one stored batch."""
        action = Action(action)  # refuses a name that is no action
        self._begin()
        async with self._lock:
            now = self.clock()
            steps = self.book.due_expiries(now)
            expired = {s.alert.id: s.alert for s in steps}
            changed: list[str] = []
            for alert_id in chosen():
                alert = expired.get(alert_id) or self.book.get(alert_id)
                if alert is None or not alert.status.is_open:
                    continue
                step = act(alert, action, now, by, reason)
                if step.change is not None:
                    steps.append(step)
                    changed.append(alert_id)
            await self._commit(steps, now)
            return changed

    async def open_alerts(self, matchers: Sequence[Matcher]) -> list[tuple[Alert, list[str]]]:
        """Open alerts matching ``matchers``, each with the ids of the silences muting it.

        This is what Alertmanager's ``GET /api/v2/alerts`` lists: resolved alerts are
        left out, and an alert is suppressed while any active silence matches it.
        """
        self._begin()
        now = self.clock()
        silences = list(self.silences.values())
        found = []
        for alert in self.book:
            view = self._view(alert, now)
            if view.status.is_open and matches_all(matchers, view.labels):
                found.append((view, silenced_by(silences, view.labels, now)))
        return found

    # -- silences ---------------------------------------------------------------------

    def _find_silence(self, silence_id: str) -> Silence:
        silence = self.silences.get(silence_id)
        if silence is None:
            raise SilenceNotFound(f"no silence {silence_id!r} for tenant {self.tenant!r}")
        return silence

    async def _store_silences(self, silences: list[Silence], now: datetime) -> None:
        await self.store.save_silences(silences, now)
        for silence in silences:
            self.silences[silence.id] = silence
        self.correlator.wake()

    async def set_silence(self, draft: SilenceDraft) -> str:
        """Create a silence, or change the one ``draft.id`` names; return the resulting id.

        Raises ``InvalidSilence`` for what Alertmanager refuses and ``NotFound`` for an
        unknown id.
        """
        self._begin()
        async with self._lock:
            now = self.clock()
            check_draft(draft, now)
            current = self._find_silence(draft.id) if draft.id is not None else None
            self._check_silence_quota(current, now)
            stored = set_silence(current, draft, now=now, new_id=str(uuid.uuid4()))
            await self._store_silences(stored, now)
            return stored[-1].id

    def _check_silence_quota(self, current: Silence | None, now: datetime) -> None:
        """Refuse a new silence past the tier's count of active and pending ones (changing
        a live one replaces it, so it never adds)."""
        if current is not None and current.state(now) is not SilenceState.EXPIRED:
            return
        live = sum(1 for s in self.silences.values() if s.state(now) is not SilenceState.EXPIRED)
        if live >= self.limits.max_silences:
            raise QuotaExceeded(
                f"tenant {self.tenant!r} may have {self.limits.max_silences} active or "
                "pending silences; expire one first"
            )

    async def erase_person(self, names: list[str], pseudonym: str) -> int:
        """Replace a person's names in the tenant's alerts and silences, stored and in
        memory (``vigil person erase``); how many mentions. Under the lock: nothing of
        this actor writes meanwhile, and memory is rebuilt from what was stored."""
        self._begin()
        async with self._lock:
            count = await erase_alerts_and_silences(
                self.store.client, self.tenant, names, pseudonym
            )
            if count:
                await asyncio.to_thread(self._load)  # a blocking read, off the event loop
            return count

    def _load(self) -> None:
        """Memory rebuilt from what is stored: every alert and silence of the tenant
        (the book is swapped whole, so a reader meanwhile sees the old one or the new)."""
        book = AlertBook(self.tenant, self.retention)
        book.remember_all(self.store.load())
        self.book = book
        self.silences = {s.id: s for s in self.store.load_silences()}

    async def get_silence(self, silence_id: str) -> Silence:
        """One silence by id (``NotFound`` if the tenant has no such silence)."""
        self._begin()
        return self._find_silence(silence_id)

    async def list_silences(self, filters: Sequence[Matcher]) -> list[Silence]:
        """The tenant's silences that pass the filter, in Alertmanager's order."""
        self._begin()
        chosen = (s for s in self.silences.values() if matches_filter(s, filters))
        return sort_for_listing(chosen, self.clock())

    async def expire_silence(self, silence_id: str) -> Silence:
        """End a silence now; expiring an expired silence changes nothing."""
        self._begin()
        async with self._lock:
            now = self.clock()
            current = self._find_silence(silence_id)
            expired = expire_silence(current, now)
            if expired is not current:
                await self._store_silences([expired], now)
            return expired

    async def _purge_silences(self, now: datetime) -> None:
        due = [s.id for s in self.silences.values() if purge_due(s, now, DEFAULT_SILENCE_RETENTION)]
        await self.store.delete_silences(due)
        for silence_id in due:
            del self.silences[silence_id]

    async def ping(self) -> bool:
        """Liveness probe, answered only once the actor has rebuilt its state.

        Not counted as activity, so readiness probes do not keep an idle actor alive.
        """
        last_call = self._last_call
        self._begin()
        self._last_call = last_call
        return True

    async def warm(self) -> bool:
        """Make the first alert as fast as the next: find the correlator and call it
        once, so the first wake-up does not wait for the lookup and the connection."""
        await self.ping()
        return await self.correlator.warm()


RemoteTenantActor = ray.remote(TenantActor)


def tenant_actor(tenant: str, settings: Settings) -> Any:
    """The handle of the tenant's actor, creating it on first use."""
    options = long_lived_actor_options(tenant_actor_name(tenant), settings.actor_resources)
    return RemoteTenantActor.options(**options).remote(tenant, settings)
