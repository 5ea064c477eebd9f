"""A tenant's ``schedules:`` section in ``vigil.yaml``: on-call rotations.

    schedules:
      primary:
        time_zone: Europe/Berlin
        layers:                          # later layers win where they have someone
          - name: weekly
            rotation: weekly             # or daily
            handoff: "09:00"             # local time
            handoff_day: monday          # weekly only
            start: 2026-01-05            # local date of the first shift
            users: [ana, ben, cai]
          - name: holiday-cover
            rotation: daily
            start: 2026-12-24
            end: 2026-12-27              # no shift starts on or after this date
            users: [hal]
        overrides:                       # above every layer; the last written wins
          - {user: dee, start: "2026-11-26T18:00:00+01:00", end: "2026-11-27T09:00:00+01:00"}

An escalation level targets a schedule as ``{schedule: primary}``: whoever is on call
then is notified, through the channels the tenant's ``people:`` section gives them
(the first, then the others as their fallbacks):

    people:
      ana: {channels: [ana-pagerduty, ana-slack]}

Strict: unknown keys, unknown time zones, times without a zone and overrides that end
before they start are refused.
"""

from __future__ import annotations

from datetime import date, time
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator, model_validator

from alerting.oncall import Layer, Override, Rotation, Schedule

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
Weekday = Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
USER = r"^[^\s]{1,128}$"


class LayerSpec(BaseModel):
    """One rotation layer as written."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str | None = Field(default=None, min_length=1, max_length=64)
    rotation: Rotation
    users: list[str] = Field(min_length=1)
    start: date
    handoff: str = "09:00"
    handoff_day: Weekday = "monday"
    end: date | None = None

    @field_validator("users")
    @classmethod
    def _users(cls, value: list[str]) -> list[str]:
        for user in value:
            if not user or any(c.isspace() for c in user) or len(user) > 128:
                raise ValueError(f"{user!r} is not a user name (no spaces, 1-128 characters)")
        return value

    @field_validator("handoff")
    @classmethod
    def _handoff(cls, value: str) -> str:
        try:
            time.fromisoformat(value)
        except ValueError:
            raise ValueError(f"{value!r} is not a time of day like 09:00") from None
        return value

    @model_validator(mode="after")
    def _dates(self) -> LayerSpec:
        if self.end is not None and self.end <= self.start:
            raise ValueError("end must come after start")
        return self

    def layer(self, position: int) -> Layer:
        return Layer(
            self.name or f"layer-{position + 1}",
            tuple(self.users),
            self.rotation,
            self.start,
            time.fromisoformat(self.handoff),
            WEEKDAYS.index(self.handoff_day),
            self.end,
        )


class OverrideSpec(BaseModel):
    """One override as written."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    user: str = Field(pattern=USER)
    start: AwareDatetime
    end: AwareDatetime

    @model_validator(mode="after")
    def _order(self) -> OverrideSpec:
        if self.end <= self.start:
            raise ValueError("an override must end after it starts")
        return self


class ScheduleSpec(BaseModel):
    """One schedule as written."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    time_zone: str = "UTC"
    layers: list[LayerSpec] = Field(min_length=1)
    overrides: list[OverrideSpec] = Field(default_factory=list)

    @field_validator("time_zone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r} (e.g. Europe/Berlin, UTC)") from None
        return value

    def schedule(self, name: str) -> Schedule:
        return Schedule(
            name,
            self.time_zone,
            tuple(spec.layer(n) for n, spec in enumerate(self.layers)),
            tuple(Override(o.user, o.start, o.end) for o in self.overrides),
        )


class PersonSpec(BaseModel):
    """How to reach one person who can be on call: their channels, first one first."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = ""
    channels: list[str] = Field(min_length=1)
