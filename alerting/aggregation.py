"""Alertmanager's aggregation groups: which alerts a receiver is told about, and when.

A route's alerts with the same group labels form a group (``dispatch.aggrGroup``).
A new group first flushes ``group_wait`` after it was created (at once if an alert
in it started longer than ``group_wait`` ago and the group has not flushed yet),
then every ``group_interval``. A flush:

1. leaves out the alerts that are muted (silenced or inhibited): when nothing is
   left, nothing is sent and nothing is logged (Alertmanager's ``MuteStage`` ends the
   pipeline), so **a muted group never announces a resolution**;
2. asks the notification log, once per ``send_resolved`` setting of the receiver's
   integrations, whether this set of firing and resolved alerts is news
   (``alerting.flush.notify_reason``, Alertmanager's ``DedupStage``);
3. drops every resolved alert from the group, muted ones too (``DeleteIfNotModified``
   after the pipeline): an alert announced resolved is not listed again, and a group
   whose last alert is gone is deleted.

These are the rules of Alertmanager 0.25; ``tests/acceptance/test_notification_parity.py``
compares the notifications of both systems one by one. Two differences, both
deliberate: a flush counts as sent once it is decided (Vigil's delivery retries it
until it is delivered, where Alertmanager would keep a failed flush's resolved alerts
for the next one), and an empty group is deleted at once (Alertmanager deletes it
within 30 s, so an alert that arrives in those seconds waits ``group_interval``
instead of ``group_wait``).

Everything here is pure: ``now`` is passed in, the caller stores the groups.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from alerting.flush import Notified, NotifyReason, notify_reason
from alerting.timeutil import from_epoch


@dataclass(slots=True)
class GroupAlert:
    """One alert as its group holds it: the occurrence, its labels, firing or resolved."""

    alert_id: str
    labels: Mapping[str, str]
    firing: bool


@dataclass
class AggregationGroup:
    """One group of one route: its alerts, its timer, and the incident they form now."""

    route: str
    group_key: str
    receiver: str
    labels: dict[str, str]
    next_flush_at: datetime
    incident_id: str = ""
    has_flushed: bool = False
    alerts: dict[str, GroupAlert] = field(default_factory=dict)

    def insert(
        self,
        fingerprint: str,
        alert: GroupAlert,
        starts_at: datetime,
        group_wait: timedelta,
        now: datetime,
    ) -> bool:
        """Take an alert (new, updated or resolved); True when that moved the first
        flush to ``now`` (the alert's ``group_wait`` was already over)."""
        self.alerts[fingerprint] = alert
        if not self.has_flushed and starts_at + group_wait < now and self.next_flush_at > now:
            self.next_flush_at = now
            return True
        return False

    @property
    def empty(self) -> bool:
        return not self.alerts


@dataclass(frozen=True)
class GroupNotice:
    """What one flush tells the integrations with one ``send_resolved`` setting."""

    send_resolved: bool
    reason: NotifyReason
    firing: frozenset[str]
    resolved: frozenset[str]


@dataclass(frozen=True)
class FlushResult:
    """A flush's notices, and the resolved alerts it dropped from the group."""

    notices: tuple[GroupNotice, ...]
    dropped: tuple[str, ...]
    muted: frozenset[str]  # alerts left out because a silence or inhibition mutes them


def flush_group(
    group: AggregationGroup,
    is_muted: Callable[[str, Mapping[str, str]], bool],
    last_notified: Callable[[bool], Notified | None],
    modes: Iterable[bool],
    group_interval: timedelta,
    repeat_interval: timedelta,
    now: datetime,
) -> FlushResult:
    """Flush ``group`` at ``now`` (mutating it) and say what to send.

    ``is_muted(fingerprint, labels)`` says whether a silence or inhibition mutes an
    alert now; ``last_notified(send_resolved)`` is the log's entry for this group and
    receiver; ``modes`` are the ``send_resolved`` settings to decide for.
    """
    muted = frozenset(fp for fp, a in group.alerts.items() if is_muted(fp, a.labels))
    firing = frozenset(fp for fp, a in group.alerts.items() if a.firing and fp not in muted)
    resolved = frozenset(fp for fp, a in group.alerts.items() if not a.firing and fp not in muted)
    notices: list[GroupNotice] = []
    if firing or resolved:  # everything muted: the pipeline stops, nothing is logged
        for mode in sorted(set(modes), reverse=True):
            reason = notify_reason(
                last_notified(mode),
                firing,
                resolved,
                send_resolved=mode,
                repeat_interval=repeat_interval,
                now=now,
            )
            if reason is not None:
                notices.append(GroupNotice(mode, reason, firing, resolved))
    dropped = tuple(sorted(fp for fp, a in group.alerts.items() if not a.firing))
    for fp in dropped:
        del group.alerts[fp]
    group.has_flushed = True
    group.next_flush_at = now + group_interval
    return FlushResult(tuple(notices), dropped, muted)


# -- storage ---------------------------------------------------------------------------


def group_id(route: str, group_key: str) -> str:
    """A group's storage field: its route's path and its key (the key names the route's
    matchers, not its position, so the path keeps two equal routes apart)."""
    return f"{route}\x00{group_key}"


def log_id(receiver: str, group_key: str, send_resolved: bool) -> str:
    """A notification log entry's storage field."""
    return f"{receiver}\x00{group_key}\x00{int(send_resolved)}"


def group_to_record(group: AggregationGroup) -> dict[str, Any]:
    """A group's header as JSON values (times as epoch seconds), without its alerts:
    those are stored one field each (``group_alert_to_record``), so a group of 100,000
    alerts costs one small write per alert that changes, not the whole group again."""
    return {
        "route": group.route,
        "group_key": group.group_key,
        "receiver": group.receiver,
        "labels": group.labels,
        "next_flush_at": group.next_flush_at.timestamp(),
        "incident_id": group.incident_id,
        "has_flushed": group.has_flushed,
    }


def group_alert_to_record(alert: GroupAlert) -> list[Any]:
    """One alert of a group as a JSON value."""
    return [alert.alert_id, dict(alert.labels), alert.firing]


def group_alert_from_record(record: Sequence[Any]) -> GroupAlert:
    """The inverse of ``group_alert_to_record``."""
    alert_id, labels, firing = record
    return GroupAlert(str(alert_id), dict(labels), bool(firing))


def group_from_record(
    record: Mapping[str, Any], alerts: Mapping[str, GroupAlert] | None = None
) -> AggregationGroup:
    """A group from its header and its alerts by fingerprint. A header stored before
    the alerts had fields of their own (Vigil 0.2) carries them inline."""
    inline = {fp: group_alert_from_record(value) for fp, value in record.get("alerts", {}).items()}
    return AggregationGroup(
        route=str(record["route"]),
        group_key=str(record["group_key"]),
        receiver=str(record["receiver"]),
        labels=dict(record["labels"]),
        next_flush_at=from_epoch(float(record["next_flush_at"])),
        incident_id=str(record.get("incident_id", "")),
        has_flushed=bool(record["has_flushed"]),
        alerts={**inline, **(alerts or {})},
    )
