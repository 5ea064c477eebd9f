"""Whether a group's flush has anything new to say, and why (Alertmanager's
``notify.DedupStage``); the notification log's entries and the reasons notifications
are sent for. The groups and their timers are ``alerting/aggregation.py``.

A look sends a notification only if something changed since the last one
(``notify_reason``), or ``repeat_interval`` passed.
"""

from __future__ import annotations

from collections.abc import Set
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from alerting.timeutil import from_epoch


class NotifyReason(StrEnum):
    """Why a flush sends a notification."""

    FIRST = "first"  # the group's first notification
    NEW_FIRING = "new_firing"  # an alert fires that the last notification did not list
    ALL_RESOLVED = "all_resolved"  # everything that was notified firing has resolved
    NEWLY_RESOLVED = "newly_resolved"  # some notified alerts resolved (send_resolved)
    REPEAT = "repeat"  # nothing changed, but repeat_interval has passed
    RISK = "risk"  # a risk route's page (the model's score met its threshold)
    # Not flushes: the incident changed, and its escalation must know now.
    ACKNOWLEDGED = "acknowledged"
    RESOLVED_BY_HAND = "resolved_by_hand"
    INCIDENT_RESOLVED = "incident_resolved"  # every alert of the incident resolved
    MUTED = "muted"  # every open alert of the incident is silenced or inhibited
    UNMUTED = "unmuted"  # one is not any more


FLUSH_REASONS = frozenset(
    {
        NotifyReason.FIRST,
        NotifyReason.NEW_FIRING,
        NotifyReason.ALL_RESOLVED,
        NotifyReason.NEWLY_RESOLVED,
        NotifyReason.REPEAT,
    }
)
"""The reasons a group's flush notifies for (the others are Vigil's own)."""


@dataclass(frozen=True)
class Notified:
    """What the last notification of a group said, and when."""

    at: datetime
    firing: frozenset[str]
    resolved: frozenset[str]


def notified_to_record(entry: Notified) -> dict[str, Any]:
    """A notification log entry as JSON values (times as epoch seconds)."""
    return {
        "at": entry.at.timestamp(),
        "firing": sorted(entry.firing),
        "resolved": sorted(entry.resolved),
    }


def notified_from_record(record: dict[str, Any]) -> Notified:
    """The inverse of ``notified_to_record`` (an incident's record keeps only ``at``)."""
    return Notified(
        from_epoch(float(record["at"])),
        frozenset(record.get("firing", ())),
        frozenset(record.get("resolved", ())),
    )


def notify_reason(
    last: Notified | None,
    firing: Set[str],
    resolved: Set[str],
    *,
    send_resolved: bool,
    repeat_interval: timedelta,
    now: datetime,
) -> NotifyReason | None:
    """Whether a flush of a group with these alerts notifies, and why (``None``: it does not).

    ``firing`` and ``resolved`` hold the fingerprints of the group's unsuppressed
    alerts; ``last`` is the previous notification.
    """
    if last is None:
        # Never notified: only firing alerts are worth a first message.
        return NotifyReason.FIRST if firing else None
    if not firing <= last.firing:
        return NotifyReason.NEW_FIRING
    if not firing:
        # Alerts that fired and resolved between two flushes were never announced,
        # so only a group that had announced something firing sends the all-clear.
        return NotifyReason.ALL_RESOLVED if last.firing else None
    if send_resolved and not resolved <= last.resolved:
        return NotifyReason.NEWLY_RESOLVED
    if last.at + repeat_interval < now:
        return NotifyReason.REPEAT
    return None
