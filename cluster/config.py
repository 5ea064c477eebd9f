"""The Vigil configuration file (``configs/vigil.yaml``): tenants, their keys and routing.

Strict: unknown keys are refused, ids and key hashes must be unique, and every error
names the path of the field that is wrong. API keys and PagerDuty-style integration
keys are stored only as SHA-256 hex digests; ``vigil tenant create`` makes a key and
prints it once.

A tenant's ``correlation:`` section (topology, similarity, flapping) is described in
``alerting/correlation_config.py``, its ``escalation:`` section (policies, SLA tiers)
in ``alerting/escalation_config.py``.

A tenant's routing is an Alertmanager configuration, read natively: either a path to
an existing ``alertmanager.yml`` (``alertmanager_config_file``, relative to this file)
or the same document inline (``alertmanager``). Both are validated at load time.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)

from alerting.amconfig import RoutingConfig, default_routing
from alerting.correlation_config import CorrelationSpec
from alerting.escalation_config import DEFAULT_MAX_LEVELS, NAME, EscalationSpec
from alerting.monitoring_config import MonitoringSpec
from alerting.oncall import Schedule
from alerting.oncall_config import PersonSpec, ScheduleSpec
from alerting.tiers import LimitOverrides, TierLimits, TierName, limits_for
from cluster.errors import ConfigError
from cluster.keys import check_tenant_id
from cluster.routing_file import load_alertmanager_config, routing_from


def hash_api_key(key: str) -> str:
    """The SHA-256 hex digest under which an API key is stored.

    Keys are 256-bit random tokens, so a fast hash is enough: there is nothing to
    brute-force that a slow password hash would protect.
    """
    return hashlib.sha256(key.encode()).hexdigest()


class ApiKeyConfig(BaseModel):
    """One API key of a tenant, known only by its hash."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    label: str = ""


class TenantConfig(BaseModel):
    """One tenant: its id (the prefix of all its Redis keys), name, keys and routing."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    name: str = ""
    api_keys: list[ApiKeyConfig] = Field(default_factory=list)
    integration_keys: list[ApiKeyConfig] = Field(default_factory=list)
    alertmanager_config_file: str | None = None
    alertmanager: dict[str, Any] | None = None
    correlation: CorrelationSpec = Field(default_factory=CorrelationSpec)
    escalation: EscalationSpec = Field(default_factory=EscalationSpec)
    schedules: dict[str, ScheduleSpec] = Field(default_factory=dict)
    people: dict[str, PersonSpec] = Field(default_factory=dict)
    # Checked by actors.notifiers.channels.check_channels (the channel types live with
    # their notifiers); here only each entry's shape.
    channels: dict[str, dict[str, Any]] = Field(default_factory=dict)
    # The service tier and any limits changed for this tenant (alerting/tiers.py).
    tier: TierName = TierName.STANDARD
    limits: LimitOverrides | None = None

    @field_validator("id")
    @classmethod
    def _valid_id(cls, value: str) -> str:
        return check_tenant_id(value)

    @field_validator("schedules")
    @classmethod
    def _schedule_names(cls, value: dict[str, ScheduleSpec]) -> dict[str, ScheduleSpec]:
        for name in value:
            if not re.fullmatch(NAME, name):
                raise ValueError(f"{name!r} is not a schedule name (letters, digits, _ . -)")
        return value

    @model_validator(mode="after")
    def _one_routing(self) -> TenantConfig:
        if self.alertmanager_config_file is not None and self.alertmanager is not None:
            raise ValueError("give either alertmanager_config_file or alertmanager, not both")
        return self

    @model_validator(mode="after")
    def _one_tier(self) -> TenantConfig:
        """The service tier names the escalation SLA tier too: ``escalation.sla_tier``
        defaults to ``tier`` when ``sla_tiers`` defines it, and may not contradict it."""
        sla = self.escalation.sla_tier
        if sla is None and self.tier.value in self.escalation.sla_tiers:
            escalation = self.escalation.model_copy(update={"sla_tier": self.tier.value})
            object.__setattr__(self, "escalation", escalation)
        elif sla is not None and "tier" in self.model_fields_set and sla != self.tier.value:
            raise ValueError(f"escalation.sla_tier {sla!r} contradicts tier {self.tier.value!r}")
        return self

    def tier_limits(self) -> TierLimits:
        """What this tenant may use: its tier's limits with its own overrides."""
        return limits_for(self.tier, self.limits)

    @model_validator(mode="after")
    def _schedules_exist(self) -> TenantConfig:
        for name in sorted(self.escalation.schedules() - set(self.schedules)):
            raise ValueError(f"escalation targets schedule {name!r}, which schedules lacks")
        return self

    def contact_channels(self) -> set[str]:
        """Every channel the people section names (checked against ``channels``)."""
        return {c for person in self.people.values() for c in person.channels}

    def schedule(self, name: str) -> Schedule | None:
        """One of the tenant's on-call schedules, if it has one of that name."""
        spec = self.schedules.get(name)
        return None if spec is None else spec.schedule(name)


class VigilConfig(BaseModel):
    """The whole configuration file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    tenants: list[TenantConfig] = Field(default_factory=list)
    monitoring: MonitoringSpec | None = None
    _routing: dict[str, RoutingConfig] = PrivateAttr(default_factory=dict)

    @model_validator(mode="after")
    def _unique(self) -> VigilConfig:
        seen_ids: set[str] = set()
        seen_keys: set[str] = set()
        for i, tenant in enumerate(self.tenants):
            if tenant.id in seen_ids:
                raise ValueError(f"tenants.{i}.id: duplicate tenant id {tenant.id!r}")
            seen_ids.add(tenant.id)
            for kind in ("api_keys", "integration_keys"):
                for j, key in enumerate(getattr(tenant, kind)):
                    if key.sha256 in seen_keys:
                        raise ValueError(f"tenants.{i}.{kind}.{j}: key hash used twice")
                    seen_keys.add(key.sha256)
        return self

    @model_validator(mode="after")
    def _monitoring_names_exist(self) -> VigilConfig:
        if self.monitoring is None:
            return self
        owner = self.tenant(self.monitoring.tenant)
        if owner is None:
            raise ValueError(f"monitoring.tenant: no tenant {self.monitoring.tenant!r}")
        missing = sorted(self.monitoring.channels() - set(owner.channels))
        if missing:
            raise ValueError(
                f"monitoring names channels that tenant {owner.id!r} lacks: {', '.join(missing)}"
            )
        return self

    def key_hashes(self) -> dict[str, str]:
        """API-key hash → tenant id for every configured key."""
        return {k.sha256: t.id for t in self.tenants for k in t.api_keys}

    def integration_key_hashes(self) -> dict[str, str]:
        """Integration-key hash → tenant id (PagerDuty ``routing_key`` / ``service_key``)."""
        return {k.sha256: t.id for t in self.tenants for k in t.integration_keys}

    def tenant(self, tenant: str) -> TenantConfig | None:
        """A tenant's section of the file (``None`` for a tenant not in it)."""
        return next((t for t in self.tenants if t.id == tenant), None)

    def limits_for(self, tenant: str) -> TierLimits:
        """A tenant's limits (a tenant made at run time is on the default tier)."""
        found = self.tenant(tenant)
        return found.tier_limits() if found is not None else limits_for(TierName.STANDARD)

    def correlation_for(self, tenant: str) -> CorrelationSpec:
        """The tenant's ``correlation:`` section (defaults for a tenant not in the file)."""
        found = self.tenant(tenant)
        return found.correlation if found is not None else CorrelationSpec()

    def schedule_names(self, tenant: str) -> list[str]:
        """The names of a tenant's on-call schedules."""
        found = self.tenant(tenant)
        return [] if found is None else list(found.schedules)

    def schedule_for(self, tenant: str, name: str) -> Schedule | None:
        """A tenant's on-call schedule by name (``None``: no such tenant or schedule)."""
        found = self.tenant(tenant)
        return None if found is None else found.schedule(name)

    def routing_for(self, tenant: str) -> RoutingConfig:
        """The tenant's routing; a tenant without one sends everything to ``default``."""
        return self._routing.get(tenant) or default_routing()

    def escalates(self, tenant: TenantConfig) -> bool:
        """Whether the escalator runs for a tenant: it has escalation policies, or a
        receiver of its ``alertmanager.yml`` has an integration to deliver to."""
        if tenant.escalation.policies:
            return True
        return any(r.integrations() for r in self.routing_for(tenant.id).receivers)

    def load_routing(self, base_dir: Path) -> VigilConfig:
        """Read and validate every tenant's Alertmanager configuration (``ConfigError``)."""
        for i, tenant in enumerate(self.tenants):
            where = f"tenants.{i}"
            if tenant.alertmanager is not None:
                text = yaml.safe_dump(tenant.alertmanager, sort_keys=False)
                self._routing[tenant.id] = routing_from(
                    tenant.alertmanager, text, f"{where}.alertmanager"
                )
            elif tenant.alertmanager_config_file is not None:
                path = base_dir / tenant.alertmanager_config_file
                self._routing[tenant.id] = load_alertmanager_config(path, where)
            known = set(self.routing_for(tenant.id).receiver_names())
            for receiver in tenant.escalation.receivers:
                if receiver not in known:
                    raise ConfigError(
                        f"{where}.escalation.receivers.{receiver}: no such receiver in the "
                        f"tenant's routing (receivers: {', '.join(sorted(known))})"
                    )
        return self


def parse_config(
    text: str,
    origin: str = "<config>",
    base_dir: Path | None = None,
    max_escalation_levels: int = DEFAULT_MAX_LEVELS,
) -> VigilConfig:
    """Parse and validate configuration text; ``ConfigError`` says where it is wrong.

    Routing files named in it are read relative to ``base_dir`` (default: the cwd); an
    escalation policy may have at most ``max_escalation_levels`` levels.
    """
    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{origin}: not valid YAML: {exc}") from None
    try:
        config = VigilConfig.model_validate(data, context={"max_levels": max_escalation_levels})
    except ValidationError as exc:
        problems = [
            f"{'.'.join(map(str, e['loc'])) or '(top level)'}: {e['msg']}" for e in exc.errors()
        ]
        raise ConfigError(f"{origin}: " + "; ".join(problems)) from None
    return config.load_routing(base_dir or Path.cwd())


def load_config(path: Path, max_escalation_levels: int = DEFAULT_MAX_LEVELS) -> VigilConfig:
    """Read and validate the configuration file at ``path``."""
    try:
        text = path.read_text()
    except OSError as exc:
        raise ConfigError(f"cannot read configuration {path}: {exc.strerror}") from None
    return parse_config(text, str(path), path.parent, max_escalation_levels)
