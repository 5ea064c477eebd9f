"""Silences: label matchers that mute alerts for a time window (Alertmanager's semantics).

A silence is *pending* before ``starts_at``, *active* until ``ends_at`` and *expired*
after it. An active silence whose matchers all hold for an alert's labels mutes it:
the alert stays visible, reported as suppressed with the silence's id, and is not
notified. Silences are never deleted by a user, only expired; expired ones are kept
for a retention period so they can be looked at and re-created.

Changing a silence follows Alertmanager's ``Silences.Set``: a pending silence may be
changed freely, an active one in place only if its matchers and start stay the same
(otherwise it is expired and a new silence with a new id replaces it), and an
expired one is never changed (a new one is created).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from alerting.errors import InvalidSilence
from alerting.matchers import MAX_MATCHERS, Matcher, MatchOp, matches_all

DEFAULT_SILENCE_RETENTION = timedelta(hours=120)
"""As Alertmanager's ``--data.retention``: how long an expired silence is kept."""

MAX_COMMENT = 4096


class SilenceState(StrEnum):
    """Where a silence is in time."""

    PENDING = "pending"
    ACTIVE = "active"
    EXPIRED = "expired"


@dataclass(frozen=True)
class Silence:
    """One stored silence."""

    id: str
    matchers: tuple[Matcher, ...]
    starts_at: datetime
    ends_at: datetime
    created_by: str
    comment: str
    updated_at: datetime

    def state(self, now: datetime) -> SilenceState:
        """Pending before it starts, expired once it ended, active in between."""
        if self.starts_at > now:
            return SilenceState.PENDING
        if self.ends_at <= now:
            return SilenceState.EXPIRED
        return SilenceState.ACTIVE

    def mutes(self, labels: Mapping[str, str], now: datetime) -> bool:
        """Whether this silence mutes an alert with these labels at ``now``."""
        return self.state(now) is SilenceState.ACTIVE and matches_all(self.matchers, labels)


@dataclass(frozen=True)
class SilenceDraft:
    """A silence as a client asks for it: new when ``id`` is ``None``, else a change."""

    matchers: tuple[Matcher, ...]
    starts_at: datetime
    ends_at: datetime
    created_by: str
    comment: str
    id: str | None = None


def silenced_by(silences: Iterable[Silence], labels: Mapping[str, str], now: datetime) -> list[str]:
    """The ids of the active silences that mute an alert with these labels, sorted."""
    return sorted(s.id for s in silences if s.mutes(labels, now))


def matches_filter(silence: Silence, filters: Iterable[Matcher]) -> bool:
    """Whether a silence passes ``GET /api/v2/silences?filter=...``.

    As in Alertmanager, the silence's matchers are read as a label set (name → value)
    and the filter matchers are applied to it.
    """
    as_labels = {m.name: m.value for m in silence.matchers}
    return matches_all(filters, as_labels)


def check_draft(draft: SilenceDraft, now: datetime) -> None:
    """Refuse what Alertmanager refuses, with its wording (``InvalidSilence``)."""
    if not draft.matchers:
        raise InvalidSilence("at least one matcher is required")
    if len(draft.matchers) > MAX_MATCHERS:
        raise InvalidSilence(f"at most {MAX_MATCHERS} matchers are allowed")
    if all(m.matches({}) for m in draft.matchers):
        # A silence whose matchers all match "" would mute alerts that lack the labels,
        # which is almost never meant and can silence a whole tenant.
        raise InvalidSilence("at least one matcher must not match the empty string")
    if draft.starts_at >= draft.ends_at:
        raise InvalidSilence("start time must be before end time")
    if draft.ends_at <= now:
        raise InvalidSilence("end time can't be in the past")
    if not draft.created_by.strip():
        raise InvalidSilence("creator information missing (createdBy)")
    if len(draft.comment) > MAX_COMMENT:
        raise InvalidSilence(f"comment is longer than {MAX_COMMENT} characters")


def to_millis(value: datetime) -> datetime:
    """Drop sub-millisecond digits: the API shows times in milliseconds, so a client
    sending back a start time it read must find it equal to the stored one."""
    return value.replace(microsecond=value.microsecond // 1000 * 1000)


def _can_update(current: Silence, draft: SilenceDraft, now: datetime) -> bool:
    """Whether ``draft`` may change ``current`` in place (``Silences.canUpdate``)."""
    if set(current.matchers) != set(draft.matchers):
        return False
    state = current.state(now)
    if state is SilenceState.ACTIVE:
        return to_millis(draft.starts_at) == current.starts_at and draft.ends_at > now
    if state is SilenceState.PENDING:
        return draft.starts_at >= now
    return False


def set_silence(
    current: Silence | None, draft: SilenceDraft, *, now: datetime, new_id: str
) -> list[Silence]:
    """Apply a create or change; return the silences to store, the resulting one last.

    ``current`` is the silence ``draft.id`` names (``None`` for a new silence). The
    draft must already have passed ``check_draft``. Stored times are in milliseconds.
    """
    now = to_millis(now)
    draft = replace(draft, starts_at=to_millis(draft.starts_at), ends_at=to_millis(draft.ends_at))
    if current is not None and _can_update(current, draft, now):
        changed = replace(
            current,
            starts_at=draft.starts_at,
            ends_at=draft.ends_at,
            created_by=draft.created_by,
            comment=draft.comment,
            updated_at=now,
        )
        return [changed]
    stored: list[Silence] = []
    if current is not None and current.state(now) is not SilenceState.EXPIRED:
        stored.append(expire_silence(current, now))
    created = Silence(
        id=new_id,
        matchers=draft.matchers,
        starts_at=max(draft.starts_at, now),  # a silence cannot start in the past
        ends_at=draft.ends_at,
        created_by=draft.created_by,
        comment=draft.comment,
        updated_at=now,
    )
    return [*stored, created]


def expire_silence(silence: Silence, now: datetime) -> Silence:
    """End a silence now (a pending one never starts). Expired ones are returned unchanged."""
    state = silence.state(now)
    if state is SilenceState.EXPIRED:
        return silence
    starts_at = now if state is SilenceState.PENDING else silence.starts_at
    return replace(silence, starts_at=starts_at, ends_at=now, updated_at=now)


def purge_due(silence: Silence, now: datetime, retention: timedelta) -> bool:
    """Whether an expired silence has been kept long enough to be forgotten."""
    return silence.ends_at + retention <= now


def sort_for_listing(silences: Iterable[Silence], now: datetime) -> list[Silence]:
    """Alertmanager's order: active (ending soonest first), pending (starting soonest
    first), then expired (most recently ended first)."""
    order = {SilenceState.ACTIVE: 0, SilenceState.PENDING: 1, SilenceState.EXPIRED: 2}

    def key(s: Silence) -> tuple[int, float]:
        state = s.state(now)
        if state is SilenceState.ACTIVE:
            return (0, s.ends_at.timestamp())
        if state is SilenceState.PENDING:
            return (1, s.starts_at.timestamp())
        return (order[state], -s.ends_at.timestamp())

    return sorted(silences, key=key)


def silence_to_record(silence: Silence) -> dict[str, Any]:
    """The silence as stored in Redis (and read back by ``silence_from_record``)."""
    return {
        "id": silence.id,
        "matchers": [[m.name, m.op.value, m.value] for m in silence.matchers],
        "starts_at": silence.starts_at.isoformat(),
        "ends_at": silence.ends_at.isoformat(),
        "created_by": silence.created_by,
        "comment": silence.comment,
        "updated_at": silence.updated_at.isoformat(),
    }


def silence_from_record(record: Mapping[str, Any]) -> Silence:
    """Rebuild a silence from its stored record."""
    return Silence(
        id=record["id"],
        matchers=tuple(Matcher.create(n, MatchOp(op), v) for n, op, v in record["matchers"]),
        starts_at=datetime.fromisoformat(record["starts_at"]),
        ends_at=datetime.fromisoformat(record["ends_at"]),
        created_by=record["created_by"],
        comment=record["comment"],
        updated_at=datetime.fromisoformat(record["updated_at"]),
    )
