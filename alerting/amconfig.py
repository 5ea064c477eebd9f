"""An ``alertmanager.yml`` read natively: its route tree, receivers and inhibition rules.

``parse_alertmanager_config(data)`` takes the YAML document as loaded (a mapping)
and returns a validated ``RoutingConfig``, or raises ``InvalidConfig`` with the path
of the first thing that is wrong, in the words Alertmanager uses where it has them.
Like Alertmanager, unknown keys are refused and every reference (a route's receiver,
a time interval's name) must exist.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from alerting.duration import parse_duration
from alerting.errors import InvalidConfig
from alerting.inhibition import InhibitRule, InhibitRuleSpec, build_inhibit_rule
from alerting.receivers import Receiver, check_receivers
from alerting.routing import Route, RouteSpec, build_route

DEFAULT_RECEIVER = "default"


class AlertmanagerConfigSpec(BaseModel):
    """The top level of ``alertmanager.yml`` (sections Vigil does not use are accepted)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)

    global_: dict[str, Any] = Field(default_factory=dict, alias="global")
    route: RouteSpec | None = None
    receivers: list[Receiver] = Field(default_factory=list)
    inhibit_rules: list[InhibitRuleSpec] = Field(default_factory=list)
    templates: list[str] = Field(default_factory=list)
    time_intervals: list[dict[str, Any]] = Field(default_factory=list)
    mute_time_intervals: list[dict[str, Any]] = Field(default_factory=list)


@dataclass(frozen=True)
class RoutingConfig:
    """A tenant's validated routing configuration."""

    root: Route
    receivers: tuple[Receiver, ...]
    inhibit_rules: tuple[InhibitRule, ...] = ()
    global_settings: Mapping[str, Any] = field(default_factory=dict)
    original: str = ""

    def receiver_names(self) -> list[str]:
        """Every receiver's name, in file order."""
        return [r.name for r in self.receivers]

    def resolve_timeout(self) -> timedelta | None:
        """``global.resolve_timeout``, if the file sets it: how long an alert posted
        without ``endsAt`` stays firing without a refresh."""
        value = self.global_settings.get("resolve_timeout")
        return parse_duration(str(value)) if value is not None else None


def default_routing() -> RoutingConfig:
    """The routing of a tenant without a configuration: everything to one ``default`` receiver."""
    return parse_alertmanager_config(
        {"route": {"receiver": DEFAULT_RECEIVER}, "receivers": [{"name": DEFAULT_RECEIVER}]},
        original=(
            f"route:\n  receiver: {DEFAULT_RECEIVER}\nreceivers:\n  - name: {DEFAULT_RECEIVER}\n"
        ),
    )


def parse_alertmanager_config(data: Any, original: str = "") -> RoutingConfig:
    """Validate a loaded ``alertmanager.yml`` document into a ``RoutingConfig``."""
    if not isinstance(data, Mapping):
        raise InvalidConfig("the configuration must be a mapping with route and receivers")
    try:
        spec = AlertmanagerConfigSpec.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "(top level)"
        more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        raise InvalidConfig(f"{where}: {first['msg']}{more}") from None
    if spec.route is None:
        raise InvalidConfig("route: no route provided in config")
    check_receivers(spec.receivers, spec.global_)
    timeout = spec.global_.get("resolve_timeout")
    if timeout is not None:
        try:
            if parse_duration(str(timeout)) <= timedelta(0):
                raise InvalidConfig("global.resolve_timeout: must be positive")
        except ValueError as exc:
            raise InvalidConfig(f"global.resolve_timeout: {exc}") from None
    root = build_route(spec.route)
    names = {r.name for r in spec.receivers}
    intervals = {str(t.get("name")) for t in (*spec.time_intervals, *spec.mute_time_intervals)}
    for node in root.walk():
        where = f"route{'.' + node.path if node.path else ''}"
        if node.receiver not in names:
            raise InvalidConfig(f"{where}: undefined receiver {node.receiver!r} used in route")
        for name in (*node.mute_time_intervals, *node.active_time_intervals):
            if name not in intervals:
                raise InvalidConfig(f"{where}: undefined time interval {name!r} used in route")
    rules = tuple(
        build_inhibit_rule(rule, f"inhibit_rules.{i}") for i, rule in enumerate(spec.inhibit_rules)
    )
    return RoutingConfig(root, tuple(spec.receivers), rules, dict(spec.global_), original)
