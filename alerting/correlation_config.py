"""A tenant's ``correlation:`` section in ``vigil.yaml``: topology, similarity, flapping.

    correlation:
      window: 5m                 # how long an incident stays joinable by relation
      topology:                  # alerts of dependent services join one incident
        label: service
        max_hops: 1
        depends_on: {web: [api], api: [db, cache]}
      similarity:                # alerts with nearly the same labels join one incident
        threshold: 0.8
        ignore_labels: [instance, pod]
      flapping:                  # more than 4 toggles in 10m: hold resolutions 5m
        max_transitions: 4
        window: 10m
        hold: 5m
      risk_routes:               # page at once when the model's risk is high
        - receiver: oncall-pager
          min_risk: 0.9
          matchers: ['severity="critical"']
      anomaly:                   # watch the alert rate; raise AlertStorm / AlertSilence
        bucket: 1m               # the rate is new alerts per bucket
        count: new               # new alerts only, or all: every resend counts too
        storm_min_alerts: 20     # fewer new alerts in a bucket is never a storm
        silence_min_typical: 10  # only a stream usually this busy can go silent
        per_service: true        # each service's rate too (by the topology label)
        max_services: 200
        resolve_after: 15m       # the synthetic alert's lifetime

Everything is optional. Without ``topology`` and ``similarity`` incidents are
exactly Alertmanager's groups; flapping detection is on unless ``max_transitions``
is 0; rate watching is on unless ``anomaly.enabled`` is false.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from alerting.duration import parse_duration, positive_duration
from alerting.errors import InvalidMatcher
from alerting.flapping import FlapPolicy
from alerting.matchers import LABEL_NAME, parse_matchers
from alerting.relatedness import RelatednessPolicy, Topology
from alerting.risk import RiskRoute
from alerting.severity import Severity


class TopologySpec(BaseModel):
    """The service dependency graph, and the label naming an alert's service."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    label: str = "service"
    max_hops: int = Field(default=1, ge=1, le=5)
    depends_on: dict[str, list[str]] = Field(default_factory=dict)

    @field_validator("label")
    @classmethod
    def _label(cls, value: str) -> str:
        if not LABEL_NAME.fullmatch(value):
            raise ValueError(f"invalid label name {value!r}")
        return value


class SimilaritySpec(BaseModel):
    """The Jaccard similarity at or above which alerts join, and labels it ignores."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    threshold: float = Field(gt=0, le=1)
    ignore_labels: list[str] = Field(default_factory=list)


class FlappingSpec(BaseModel):
    """How flapping is detected and how long a flapping alert's resolution is held."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    max_transitions: int = Field(default=4, ge=0)
    window: str = "10m"
    hold: str = "5m"

    _durations = field_validator("window", "hold")(positive_duration)


class RiskRouteSpec(BaseModel):
    """A risk route as written: receiver, threshold and optional label matchers."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    receiver: str = Field(min_length=1)
    min_risk: float = Field(ge=0, le=1)
    matchers: list[str] = Field(default_factory=list)
    provisional: bool = False  # page on a provisional score too (alerting/risk.py)

    @field_validator("matchers")
    @classmethod
    def _matchers(cls, value: list[str]) -> list[str]:
        for text in value:
            try:
                parse_matchers(text)
            except InvalidMatcher as exc:
                raise ValueError(str(exc)) from None
        return value

    def route(self) -> RiskRoute:
        """The rule the correlator applies."""
        matchers = tuple(m for text in self.matchers for m in parse_matchers(text))
        return RiskRoute(self.receiver, self.min_risk, matchers, self.provisional)


class AnomalySpec(BaseModel):
    """How the tenant's alert rate is watched for storms and silences."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = True
    bucket: str = "1m"
    # What a bucket counts. "new" (the default): alerts that start firing (and start
    # again), so a sender that repeats a firing alert every minute is counted once;
    # "all": every report, resends too, for senders whose repeats mean something
    # (each IDS hit is its own alert under the same labels). bench/storm_counting.py
    # measures the trade-off.
    count: Literal["new", "all"] = "new"
    storm_min_alerts: int = Field(default=20, ge=1)
    silence_min_typical: float = Field(default=10.0, gt=0)
    per_service: bool = True
    max_services: int = Field(default=200, ge=0, le=10_000)
    resolve_after: str = "15m"
    severity: Severity = Severity.WARNING

    _durations = field_validator("bucket", "resolve_after")(positive_duration)

    def policy(self, service_label: str) -> AnomalyPolicy:
        """The resolved rules (``service_label`` names an alert's service)."""
        return AnomalyPolicy(
            enabled=self.enabled,
            bucket=parse_duration(self.bucket),
            count_repeats=self.count == "all",
            storm_min_alerts=self.storm_min_alerts,
            silence_min_typical=self.silence_min_typical,
            per_service=self.per_service,
            max_services=self.max_services,
            resolve_after=parse_duration(self.resolve_after),
            severity=self.severity,
            service_label=service_label,
        )


class CorrelationSpec(BaseModel):
    """The whole ``correlation:`` section as written (unknown keys refused)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    window: str = "5m"
    topology: TopologySpec | None = None
    similarity: SimilaritySpec | None = None
    flapping: FlappingSpec = Field(default_factory=FlappingSpec)
    risk_routes: list[RiskRouteSpec] = Field(default_factory=list)
    anomaly: AnomalySpec = Field(default_factory=AnomalySpec)

    _durations = field_validator("window")(positive_duration)

    def policy(self) -> CorrelationPolicy:
        """The resolved rules the correlator applies."""
        topology = None
        if self.topology is not None:
            topology = Topology(
                depends_on={k: tuple(v) for k, v in self.topology.depends_on.items()},
                label=self.topology.label,
                max_hops=self.topology.max_hops,
            )
        similarity = self.similarity
        return CorrelationPolicy(
            relatedness=RelatednessPolicy(
                window=parse_duration(self.window),
                topology=topology,
                similarity_threshold=similarity.threshold if similarity else None,
                ignore_labels=frozenset(similarity.ignore_labels) if similarity else frozenset(),
            ),
            flapping=FlapPolicy(
                max_transitions=self.flapping.max_transitions,
                window=parse_duration(self.flapping.window),
                hold=parse_duration(self.flapping.hold),
            ),
            risk_routes=tuple(r.route() for r in self.risk_routes),
            anomaly=self.anomaly.policy(topology.label if topology else "service"),
        )


@dataclass(frozen=True)
class AnomalyPolicy:
    """Rate watching as the correlator applies it (see ``models.rate_watch``)."""

    enabled: bool = True
    bucket: timedelta = timedelta(minutes=1)
    count_repeats: bool = False  # resends of a firing alert count as well (count: all)
    storm_min_alerts: int = 20
    silence_min_typical: float = 10.0
    per_service: bool = True
    max_services: int = 200
    resolve_after: timedelta = timedelta(minutes=15)
    severity: Severity = Severity.WARNING
    service_label: str = "service"


@dataclass(frozen=True)
class CorrelationPolicy:
    """Everything the correlator needs to know about a tenant beyond its routing."""

    relatedness: RelatednessPolicy = field(default_factory=RelatednessPolicy)
    flapping: FlapPolicy = field(default_factory=FlapPolicy)
    risk_routes: tuple[RiskRoute, ...] = ()
    anomaly: AnomalyPolicy = field(default_factory=AnomalyPolicy)
