"""A tenant's ``escalation:`` section in ``vigil.yaml``: policies, SLA tiers, and
which incidents use which policy.

    escalation:
      sla_tier: enterprise               # this tenant's tier (optional)
      sla_tiers:
        enterprise:
          critical: {acknowledge: 5m, resolve: 1h}
          high: {acknowledge: 15m, resolve: 4h}
      policies:
        critical-path:
          repeat: 2                      # run the levels 1 + 2 times
          levels:
            - targets: [{channel: slack-oncall}, {schedule: primary}]
              escalate_after: 5m         # wait before the next level
              fallback: [teams-oncall, ops-webhook]
            - targets: [{schedule: secondary}]
              escalate_after: 10m
      receivers:                         # a route's receiver → its incidents' policy
        pager: critical-path
      default_policy: critical-path      # for every other receiver (optional)

Unknown keys are refused, every name is checked against what it names, and a policy
may have at most ``CRITICAL_ALERT_MAX_ESCALATION_LEVELS`` levels (passed as the
validation context ``max_levels``; 5 when none is given).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from alerting.duration import parse_duration, positive_duration
from alerting.escalation import (
    EscalationPolicy,
    Level,
    SlaDeadlines,
    SlaTier,
    Target,
    TargetKind,
)
from alerting.severity import Severity

DEFAULT_MAX_LEVELS = 5
NAME = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"


class TargetSpec(BaseModel):
    """``{channel: NAME}`` or ``{schedule: NAME}``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    channel: str | None = Field(default=None, pattern=NAME)
    schedule: str | None = Field(default=None, pattern=NAME)

    @model_validator(mode="after")
    def _exactly_one(self) -> TargetSpec:
        if (self.channel is None) == (self.schedule is None):
            raise ValueError("a target names exactly one of channel or schedule")
        return self

    def target(self) -> Target:
        if self.channel is not None:
            return Target(TargetKind.CHANNEL, self.channel)
        assert self.schedule is not None
        return Target(TargetKind.SCHEDULE, self.schedule)


class LevelSpec(BaseModel):
    """One level as written."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    targets: list[TargetSpec] = Field(min_length=1)
    escalate_after: str = "30m"
    fallback: list[str] = Field(default_factory=list)

    _after = field_validator("escalate_after")(positive_duration)

    def level(self) -> Level:
        return Level(
            tuple(t.target() for t in self.targets),
            parse_duration(self.escalate_after),
            tuple(self.fallback),
        )


class PolicySpec(BaseModel):
    """One policy as written: its levels (at most the configured maximum) and repeats."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    levels: list[LevelSpec] = Field(min_length=1)
    repeat: int = Field(default=0, ge=0, le=10)

    @field_validator("levels")
    @classmethod
    def _at_most(cls, value: list[LevelSpec], info: ValidationInfo) -> list[LevelSpec]:
        context: dict[str, Any] = info.context or {}
        most = int(context.get("max_levels", DEFAULT_MAX_LEVELS))
        if len(value) > most:
            raise ValueError(
                f"{len(value)} levels, more than CRITICAL_ALERT_MAX_ESCALATION_LEVELS ({most})"
            )
        return value

    def policy(self, name: str) -> EscalationPolicy:
        return EscalationPolicy(name, tuple(level.level() for level in self.levels), self.repeat)


class DeadlinesSpec(BaseModel):
    """One severity's deadlines as written."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    acknowledge: str | None = None
    resolve: str | None = None

    @field_validator("acknowledge", "resolve")
    @classmethod
    def _durations(cls, value: str | None) -> str | None:
        return None if value is None else positive_duration(value)

    @model_validator(mode="after")
    def _order(self) -> DeadlinesSpec:
        both = self.acknowledge is not None and self.resolve is not None
        if both and parse_duration(self.resolve or "") < parse_duration(self.acknowledge or ""):
            raise ValueError("the resolve deadline comes before the acknowledge deadline")
        return self

    def deadlines(self) -> SlaDeadlines:
        return SlaDeadlines(
            parse_duration(self.acknowledge) if self.acknowledge else None,
            parse_duration(self.resolve) if self.resolve else None,
        )


class EscalationSpec(BaseModel):
    """The whole ``escalation:`` section as written (unknown keys refused)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    sla_tier: str | None = None
    sla_tiers: dict[str, dict[Severity, DeadlinesSpec]] = Field(default_factory=dict)
    policies: dict[str, PolicySpec] = Field(default_factory=dict)
    receivers: dict[str, str] = Field(default_factory=dict)
    default_policy: str | None = None

    @model_validator(mode="after")
    def _references(self) -> EscalationSpec:
        if self.sla_tier is not None and self.sla_tier not in self.sla_tiers:
            raise ValueError(f"sla_tier {self.sla_tier!r} is not one of sla_tiers")
        for receiver, policy in self.receivers.items():
            if policy not in self.policies:
                raise ValueError(f"receivers.{receiver}: no policy named {policy!r}")
        if self.default_policy is not None and self.default_policy not in self.policies:
            raise ValueError(f"default_policy: no policy named {self.default_policy!r}")
        return self

    def policy_name_for(self, receiver: str) -> str | None:
        """The name of the policy an incident routed to ``receiver`` escalates by
        (``None``: it is notified as Alertmanager would, without escalation)."""
        return self.receivers.get(receiver, self.default_policy)

    def policy_for(self, receiver: str) -> EscalationPolicy | None:
        """The policy an incident routed to ``receiver`` escalates by, if any."""
        name = self.policy_name_for(receiver)
        return None if name is None else self.policies[name].policy(name)

    def tier(self) -> SlaTier | None:
        """The tenant's SLA tier, if it has one."""
        if self.sla_tier is None:
            return None
        written = self.sla_tiers[self.sla_tier]
        return SlaTier(self.sla_tier, {s: d.deadlines() for s, d in written.items()})

    def channels(self) -> set[str]:
        """Every channel the section names (targets and fallbacks), to check they exist."""
        named: set[str] = set()
        for policy in self.policies.values():
            for level in policy.levels:
                named.update(t.channel for t in level.targets if t.channel)
                named.update(level.fallback)
        return named

    def schedules(self) -> set[str]:
        """Every on-call schedule the section names."""
        return {
            t.schedule
            for policy in self.policies.values()
            for level in policy.levels
            for t in level.targets
            if t.schedule
        }
