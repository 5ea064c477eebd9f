"""On-call schedules: who is on call for a schedule at a given moment.

A schedule has a time zone, rotation layers and overrides:

* a **layer** hands over from one person to the next at a local wall-clock time,
  every day (``daily``) or every week on a given weekday (``weekly``), starting on a
  local date. Shifts are counted in local calendar days, so a hand-off stays at
  09:00 through daylight-saving changes (the shift that crosses one is an hour
  shorter or longer, as people expect);
* **layers stack**: a later layer that has someone on call at that moment wins (a
  weekend layer over the weekly one), an earlier one fills the gaps;
* an **override** puts one person on call from one instant to another, above every
  layer (the latest override written wins where two overlap).

``on_call(schedule, at)`` says who, from which layer or override, and until when that
holds. Pure: no clock is read.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo


class Rotation(StrEnum):
    """How often a layer hands over."""

    DAILY = "daily"
    WEEKLY = "weekly"


@dataclass(frozen=True)
class Layer:
    """People taking turns, handing over at ``handoff`` local time."""

    name: str
    users: tuple[str, ...]
    rotation: Rotation
    # The first shift starts on this local date (weekly: the first handoff day on or
    # after it).
    start: date
    handoff: time = time(9, 0)
    handoff_weekday: int = 0  # weekly: 0 Monday ... 6 Sunday
    end: date | None = None  # no shift starts on or after this local date


@dataclass(frozen=True)
class Override:
    """One person on call from ``start`` to ``end`` (aware datetimes), above the layers."""

    user: str
    start: datetime
    end: datetime


@dataclass(frozen=True)
class Schedule:
    """A named schedule in a time zone."""

    name: str
    time_zone: str
    layers: tuple[Layer, ...]
    overrides: tuple[Override, ...] = ()

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)


@dataclass(frozen=True)
class OnCall:
    """Who is on call, by which layer or override, and the next moment the answer may
    change (a hand-off, or an override's start or end)."""

    user: str
    source: str  # the layer's name, or "override"
    until: datetime | None  # None: nothing in the schedule changes it


def on_call(schedule: Schedule, at: datetime) -> OnCall | None:
    """Whoever is on call for ``schedule`` at ``at`` (an aware datetime); ``None`` when
    nobody is (no layer has started, or every layer has ended)."""
    if at.tzinfo is None:
        raise ValueError("'at' must carry a time zone")
    boundaries = [t for o in schedule.overrides for t in (o.start, o.end) if t > at]
    for override in reversed(schedule.overrides):
        if override.start <= at < override.end:
            return OnCall(override.user, "override", min(boundaries))
    local = at.astimezone(schedule.zone)
    handoffs = [t for t in (_next_handoff(layer, local) for layer in schedule.layers) if t]
    until = min([*boundaries, *handoffs], default=None)
    for layer in reversed(schedule.layers):
        shift = _shift(layer, local)
        if shift is not None:
            index, _ = shift
            return OnCall(layer.users[index % len(layer.users)], layer.name, until)
    return None


def _shift(layer: Layer, local: datetime) -> tuple[int, datetime] | None:
    """The shift number ``local`` falls in and when that shift ends (``None``: the
    layer has no shift then)."""
    if not layer.users:
        return None
    zone = local.tzinfo
    # The local date whose handoff opened the current shift.
    opened = (
        local.date()
        if local.timetz().replace(tzinfo=None) >= layer.handoff
        else (local.date() - timedelta(days=1))
    )
    first = _first_shift_date(layer)
    if layer.rotation is Rotation.DAILY:
        index = (opened - first).days
        next_open = opened + timedelta(days=1)
    else:
        back = (opened.weekday() - layer.handoff_weekday) % 7
        opened -= timedelta(days=back)
        index = (opened - first).days // 7
        next_open = opened + timedelta(days=7)
    if index < 0 or (layer.end is not None and opened >= layer.end):
        return None
    ends = datetime.combine(next_open, layer.handoff, tzinfo=zone)
    if layer.end is not None:
        ends = min(ends, datetime.combine(layer.end, layer.handoff, tzinfo=zone))
    return index, ends


def _first_shift_date(layer: Layer) -> date:
    if layer.rotation is Rotation.DAILY:
        return layer.start
    return layer.start + timedelta(days=(layer.handoff_weekday - layer.start.weekday()) % 7)


def _next_handoff(layer: Layer, local: datetime) -> datetime | None:
    """The next moment after ``local`` at which this layer changes hands, starts or
    stops (``None``: it never will)."""
    shift = _shift(layer, local)
    if shift is not None:
        return shift[1]
    first = _first_shift_date(layer)
    opens = datetime.combine(first, layer.handoff, tzinfo=local.tzinfo)
    if local < opens and (layer.end is None or first < layer.end) and layer.users:
        return opens
    return None
