"""``AlertBook``: one tenant's alerts as the tenant actor keeps them in memory, and the
rule that says which alert a delivery refers to.

It holds every stored occurrence by id, the newest occurrence of each fingerprint, the
fingerprints each ``dedup_key`` label names, and two ``DueQueue``s: open alerts by
their ``ends_at`` (resolve timeout) and resolved ones by when they may be purged. It
does no I/O: the actor stores a change first and only then remembers it here, so the
book never holds what Redis does not.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import datetime, timedelta

from alerting.alert import Alert, IncomingAlert, share_fields_set
from alerting.due_queue import DueQueue
from alerting.errors import NotFound
from alerting.lifecycle import (
    ChangeKind,
    IngestResult,
    Transition,
    expire,
    ingest_result,
    purge_time,
    receive,
)

DEDUP_KEY_LABEL = "dedup_key"
"""A label that, when present, names the alert as PagerDuty's ``dedup_key`` does: a later
event with the same key refers to the same alert even if its other labels differ."""


class AlertBook:
    """One tenant's alerts, indexed for deduplication and for their timers."""

    def __init__(self, tenant: str, resolved_retention: timedelta) -> None:
        self.tenant = tenant
        self.resolved_retention = resolved_retention
        self.alerts: dict[str, Alert] = {}
        self.latest: dict[str, str] = {}  # fingerprint → id of its newest occurrence
        self.dedup_keys: dict[str, set[str]] = {}  # dedup_key label → fingerprints
        self.deadlines: DueQueue[str] = DueQueue()  # open alert id → its ends_at
        self.purges: DueQueue[str] = DueQueue()  # resolved alert id → its purge time

    def __len__(self) -> int:
        return len(self.alerts)

    def __iter__(self) -> Iterator[Alert]:
        return iter(self.alerts.values())

    # -- remembering ------------------------------------------------------------------

    def remember(self, alert: Alert) -> None:
        """Take in a stored occurrence (new, or a new version of one already here)."""
        self.alerts[alert.id] = share_fields_set(alert)  # ~1.2 KB less per kept alert
        newest = self.alerts.get(self.latest.get(alert.fingerprint, ""))
        if newest is None or alert.occurrence >= newest.occurrence:
            self.latest[alert.fingerprint] = alert.id
        if alert.status.is_open:
            self.deadlines.schedule(alert.id, alert.ends_at)
        else:
            self.deadlines.cancel(alert.id)
        purge_at = purge_time(alert, self.resolved_retention)
        if purge_at is not None:
            self.purges.schedule(alert.id, purge_at)
        else:
            self.purges.cancel(alert.id)
        dedup_key = alert.labels.get(DEDUP_KEY_LABEL)
        if dedup_key is not None:
            self.dedup_keys.setdefault(dedup_key, set()).add(alert.fingerprint)

    def remember_all(self, alerts: Iterable[Alert]) -> None:
        for alert in alerts:
            self.remember(alert)

    def forget(self, alert_ids: Sequence[str]) -> None:
        """Drop purged occurrences (and the indexes that pointed at them)."""
        for alert_id in alert_ids:
            alert = self.alerts.pop(alert_id)
            self.deadlines.cancel(alert_id)
            self.purges.cancel(alert_id)
            if self.latest.get(alert.fingerprint) != alert_id:
                continue
            del self.latest[alert.fingerprint]
            dedup_key = alert.labels.get(DEDUP_KEY_LABEL)
            if dedup_key is not None:
                fingerprints = self.dedup_keys.get(dedup_key, set())
                fingerprints.discard(alert.fingerprint)
                if not fingerprints:
                    self.dedup_keys.pop(dedup_key, None)

    # -- reading ----------------------------------------------------------------------

    def find(self, alert_id: str) -> Alert:
        """One occurrence by id (``NotFound``)."""
        alert = self.alerts.get(alert_id)
        if alert is None:
            raise NotFound(f"no alert {alert_id!r} for tenant {self.tenant!r}")
        return alert

    def get(self, alert_id: str) -> Alert | None:
        return self.alerts.get(alert_id)

    def current(self, fingerprint: str) -> Alert | None:
        """The newest occurrence of a fingerprint, if any is kept."""
        return self.alerts.get(self.latest.get(fingerprint, ""))

    def open_count(self) -> int:
        """How many alerts are open (each has its resolve deadline scheduled)."""
        return len(self.deadlines)

    def open_count_after(self, steps: Sequence[Transition]) -> int:
        """How many alerts would be open once ``steps`` are stored."""
        final = {step.alert.id: step.alert for step in steps}
        change = 0
        for alert_id, alert in final.items():
            before = self.alerts.get(alert_id)
            was_open = before is not None and before.status.is_open
            change += int(alert.status.is_open) - int(was_open)
        return self.open_count() + change

    def has_open(self) -> bool:
        """Whether any alert is open (its resolve timeout must fire on time)."""
        return any(a.status.is_open for a in self.alerts.values())

    def named_by_dedup_key(self, dedup_key: str) -> list[Alert]:
        """The newest occurrence of every fingerprint carrying this ``dedup_key``, open
        ones first, then the most recently seen."""
        found = [
            self.alerts[self.latest[fp]]
            for fp in self.dedup_keys.get(dedup_key, ())
            if fp in self.latest
        ]
        return sorted(found, key=lambda a: (not a.status.is_open, -a.last_seen.timestamp()))

    def identity(self, item: IncomingAlert, opened_keys: Mapping[str, str]) -> str:
        """The fingerprint a delivery refers to: its own, unless its ``dedup_key`` label
        names an alert already known (then that alert, as PagerDuty dedups by key).
        ``opened_keys`` holds the keys opened earlier in the same batch."""
        dedup_key = item.labels.get(DEDUP_KEY_LABEL)
        if dedup_key is None:
            return item.fingerprint
        if dedup_key in opened_keys:
            return opened_keys[dedup_key]
        known = self.named_by_dedup_key(dedup_key)
        return known[0].fingerprint if known else item.fingerprint

    # -- deliveries -------------------------------------------------------------------

    def receive_batch(
        self,
        batch: Sequence[IncomingAlert],
        now: datetime,
        resolve_timeout: timedelta,
        new_id: Callable[[], str],
    ) -> tuple[list[Transition], list[IngestResult]]:
        """What a batch of deliveries does: the steps to store (the expiries due first,
        so an alert past its ``ends_at`` is received as the resolved alert it is), and
        one result per delivery, in order. Nothing here changes until the caller has
        stored the steps and remembers them.

        Deliveries later in the batch see what earlier ones made: two deliveries of one
        fingerprint make one alert and a duplicate, and a ``dedup_key`` opened earlier
        in the batch names the alert it opened.
        """
        steps = self.due_expiries(now)
        pending: dict[str, Alert] = {s.alert.id: s.alert for s in steps}
        latest: dict[str, str] = {}  # fingerprint → its newest id in this batch
        opened_keys: dict[str, str] = {}  # dedup_key → fingerprint opened in this batch
        results: list[IngestResult] = []
        for item in batch:
            fp = self.identity(item, opened_keys)
            current_id = latest.get(fp) or self.latest.get(fp)
            current = pending.get(current_id or "") or self.alerts.get(current_id or "")
            made = receive(
                current,
                item,
                tenant=self.tenant,
                new_id=new_id(),
                now=now,
                resolve_timeout=resolve_timeout,
            )
            for step in made:
                pending[step.alert.id] = step.alert
            result = made[-1].alert
            latest[fp] = result.id
            dedup_key = result.labels.get(DEDUP_KEY_LABEL)
            if dedup_key is not None and result.status.is_open:
                opened_keys[dedup_key] = result.fingerprint
            steps.extend(made)
            results.append(ingest_result(made[-1], current.id if current else None))
        return steps, results

    # -- timers -----------------------------------------------------------------------

    def due_expiries(self, now: datetime) -> list[Transition]:
        """Resolve the open alerts whose ``ends_at`` passed; the steps to store.

        The deadlines are taken out of the queue: after a failed write the caller puts
        them back (``restore_deadlines``)."""
        due: list[Transition] = []
        for _, alert_id in self.deadlines.pop_due(now):
            step = expire(self.alerts[alert_id], now)
            if step.change is not None:
                due.append(step)
        return due

    def restore_deadlines(self, steps: Sequence[Transition]) -> None:
        """After a failed write, put back the expiries that were taken for it."""
        for step in steps:
            if step.change is ChangeKind.EXPIRED:
                original = self.alerts[step.alert.id]
                self.deadlines.schedule(original.id, original.ends_at)

    def due_purges(self, now: datetime) -> list[tuple[datetime, str]]:
        """Resolved alerts past their retention, taken out of the queue."""
        return self.purges.pop_due(now)

    def restore_purges(self, entries: Sequence[tuple[datetime, str]]) -> None:
        """After a failed delete, queue the purges again."""
        for purge_at, alert_id in entries:
            self.purges.schedule(alert_id, purge_at)
