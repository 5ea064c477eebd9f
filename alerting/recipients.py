"""Who an escalation level notifies, and through which channels: a pure function of the
level, the tenant's people and schedules, and the time.

A channel target is its channel, then the level's fallback channels. A schedule target
is whoever is on call for it at ``now``, reached through their own channels in order,
then the fallback. For the notices that follow a page (resolved, acknowledged) the same
level is told again, but a schedule's people are those paged then, not whoever is on
call now: the person woken at 3 a.m. is the one who must hear it is over.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from alerting.escalation import Target, TargetKind
from alerting.incident import TimelineEvent
from alerting.oncall import Schedule, on_call
from alerting.oncall_config import PersonSpec

Chain = tuple[str, ...]
"""Channel names tried in order until one delivers (``actors.notifiers.pipeline``)."""


@dataclass(frozen=True)
class Recipients:
    """What one level's notification goes out to."""

    chains: list[Chain] = field(default_factory=list)
    people: list[str] = field(default_factory=list)  # reached through a schedule
    notes: list[tuple[TimelineEvent, str]] = field(default_factory=list)  # for the timeline


class LevelTargets(Protocol):
    """Whom a level notifies: a policy's ``Level``, or the ``Notify`` step made of it."""

    @property
    def targets(self) -> Sequence[Target]: ...

    @property
    def fallback(self) -> Sequence[str]: ...


def recipients(
    level: LevelTargets,
    people: Mapping[str, PersonSpec],
    schedules: Callable[[str], Schedule | None],
    now: datetime,
    paged: Sequence[str] | None = None,
) -> Recipients:
    """The chains a level's notification goes through.

    ``paged``: the people the level paged earlier, for a notice that follows the page;
    ``None`` for the page itself, whose schedule targets are asked who is on call now.
    """
    fallback = tuple(level.fallback)
    found = Recipients()
    for target in level.targets:
        if target.kind is TargetKind.CHANNEL:
            found.chains.append((target.name, *fallback))
        elif paged is None:
            schedule = schedules(target.name)
            shift = on_call(schedule, now) if schedule is not None else None
            who = shift.user if shift is not None else None
            found.notes.append(
                (TimelineEvent.ON_CALL, f"schedule {target.name}: {who or 'nobody'} is on call")
            )
            if who is not None:
                _reach(who, people, fallback, found)
    for who in paged or ():
        _reach(who, people, fallback, found, note_missing=False)
    return found


def _reach(
    who: str,
    people: Mapping[str, PersonSpec],
    fallback: Chain,
    found: Recipients,
    note_missing: bool = True,
) -> None:
    contact = people.get(who)
    if contact is None:
        if note_missing:
            reason = f"{who} has no contact channels (people.{who} in the config)"
            found.notes.append((TimelineEvent.DELIVERY_FAILED, reason))
        return
    found.people.append(who)
    found.chains.append((*contact.channels, *fallback))
