"""The ``monitoring:`` section of ``vigil.yaml``: how Vigil pages about itself.

    monitoring:
      tenant: ops                  # whose channels (and stored secrets) are used
      page: [ops-webhook, ops-sms] # the self-page: the first, then the rest as fallbacks
      repeat_interval: 30m         # page again while the failure lasts (0s: once)
      watchdog:                    # the dead man's switch
        channel: deadman           # push: a heartbeat notice every interval while healthy
        interval: 1m
        alert: true                # pull: keep a firing Watchdog alert in the tenant

The supervisor delivers the self-page and the watchdog itself, through the notifier
pipeline (retries, fallbacks) with secrets it already decrypted: not through the
correlator or escalator, which may be what failed. The names are checked against the
tenant's ``channels`` when the file loads.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator

from alerting.duration import parse_duration, positive_duration
from alerting.escalation_config import NAME


class WatchdogSpec(BaseModel):
    """The dead man's switch: a heartbeat that stops when Vigil stops working."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    channel: str | None = Field(default=None, pattern=NAME)
    interval: str = "1m"
    alert: bool = True

    _interval = field_validator("interval")(positive_duration)

    @property
    def every(self) -> timedelta:
        """How often the heartbeat goes out."""
        return parse_duration(self.interval)


class MonitoringSpec(BaseModel):
    """Where Vigil's own failures are paged, and its watchdog."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    tenant: str
    page: list[Annotated[str, Field(pattern=NAME)]] = Field(default_factory=list, max_length=10)
    repeat_interval: str = "30m"
    watchdog: WatchdogSpec | None = None

    @field_validator("repeat_interval")
    @classmethod
    def _duration(cls, value: str) -> str:
        parse_duration(value)
        return value

    @property
    def repeat(self) -> timedelta | None:
        """How often a lasting failure pages again (``None``: once per failure)."""
        every = parse_duration(self.repeat_interval)
        return every if every.total_seconds() > 0 else None

    def channels(self) -> set[str]:
        """Every channel the section names."""
        named = set(self.page)
        if self.watchdog is not None and self.watchdog.channel is not None:
            named.add(self.watchdog.channel)
        return named
