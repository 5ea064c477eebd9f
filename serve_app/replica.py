"""``Replica``: what the HTTP routers may use of the serving ingress replica.

The compatible APIs (Alertmanager, PagerDuty, webhooks, incidents, schedules, Slack,
links) are plain FastAPI routes that reach the replica through ``app.state``; this
protocol is the typed boundary between them and ``serve_app.ingress.Ingress``, which
satisfies it (mypy checks that where the replica hands itself over).
"""

from __future__ import annotations

from typing import Any, Protocol

from fastapi import Request
from redis import asyncio as aioredis

from actors.correlator_client import CorrelatorClient
from actors.escalator_client import EscalatorClient
from actors.tenant_client import TenantClient
from actors.tenant_operations import TenantOperations
from alerting.alert import IncomingAlert
from alerting.amconfig import RoutingConfig
from alerting.audit import AuditAction
from alerting.lifecycle import IngestResult
from cluster.audit_store import AuditTrail
from cluster.config import VigilConfig
from cluster.settings import Settings
from cluster.tenants import Principal, TenantResolver


class Replica(Protocol):
    """The serving replica as the routers see it."""

    settings: Settings
    config: VigilConfig
    redis: aioredis.Redis
    integrations: TenantResolver  # PagerDuty integration keys → tenants
    started: float  # epoch seconds the replica started
    audit_trail: AuditTrail  # every tenant's audit entries
    metrics_token: str  # the Bearer token GET /metrics takes
    process_name: str  # this replica's ``process`` label in /metrics

    async def principal(self, request: Request) -> Principal:
        """Who the request's API key is: tenant, key id and label (401 / 503)."""
        ...

    async def audit(
        self,
        tenant: str,
        actor: str,
        action: AuditAction,
        target: str,
        detail: dict[str, Any] | None = None,
    ) -> None:
        """Add a change that was made to the tenant's audit trail."""
        ...

    def admit(self, tenant: str) -> None:
        """Spend one of the tenant's requests (429 with ``Retry-After`` past its rate)."""
        ...

    async def authenticate(self, request: Request) -> str:
        """The tenant the request's API key belongs to (401, or 503 if unknowable)."""
        ...

    async def principal_of_key(self, key: str, claimed_tenant: str | None = None) -> Principal:
        """Who an API key is, however it came (401 / 503 / 429)."""
        ...

    async def channel_outcomes(self, tenant: str) -> dict[str, dict[str, float]]:
        """The tenant's notices by channel type and outcome, from every process."""
        ...

    async def principal_for_key(self, resolver: TenantResolver, key: str) -> Principal | None:
        """Who a key is (``None``: unknown or revoked; 503 when Redis is down)."""
        ...

    def routing(self, tenant: str) -> RoutingConfig:
        """The tenant's routing tree and receivers."""
        ...

    def operations(self, principal: Principal) -> TenantOperations:
        """What the principal's tenant may read and change, attributed to it."""
        ...

    def tenant(self, tenant: str) -> TenantClient:
        """The tenant's actor."""
        ...

    def correlator(self, tenant: str) -> CorrelatorClient:
        """The correlator shard that owns the tenant."""
        ...

    def escalator(self, tenant: str) -> EscalatorClient:
        """The escalator shard that owns the tenant."""
        ...

    async def ingest(self, tenant: str, alerts: list[IncomingAlert]) -> list[IngestResult]:
        """Store alerts through the tenant's actor (merged with concurrent requests)."""
        ...

    async def tenant_secret(self, tenant: str, name: str) -> str | None:
        """One of the tenant's stored secrets, if it has it."""
        ...
