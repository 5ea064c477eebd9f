"""Settings from the environment, validated once at start-up.

Every variable Vigil reads is listed in ``Settings`` with its default; a bad value
stops start-up with one message naming each variable that is wrong.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator

from alerting.lanes import MAX_LANES
from alerting.liveness import LivenessBounds
from cluster.errors import SettingsError
from cluster.outbound import OutboundPolicy, parse_networks

DEFAULT_REDIS_MAXMEMORY = "4gb"
"""The embedded Redis's memory bound (``VIGIL_REDIS_MAXMEMORY``, ``cluster/redis_server.py``)."""


class Settings(BaseModel):
    """Vigil's configuration, each field read from the environment variable of its alias."""

    model_config = ConfigDict(frozen=True, extra="ignore", populate_by_name=True)

    redis_url: str | None = Field(default=None, alias="REDIS_URL")
    ray_address: str | None = Field(default=None, alias="RAY_ADDRESS")
    data_dir: Path = Field(default=Path(".vigil"), alias="VIGIL_DATA_DIR")
    config_path: Path = Field(default=Path("configs/vigil.yaml"), alias="VIGIL_CONFIG")
    serve_config_path: Path = Field(default=Path("configs/serve.yaml"), alias="VIGIL_SERVE_CONFIG")
    http_host: str = Field(default="127.0.0.1", alias="VIGIL_HTTP_HOST")
    http_port: int = Field(default=8000, ge=1, le=65535, alias="VIGIL_HTTP_PORT")
    # How long `vigil up` waits for /readyz (a slow machine may need longer).
    up_ready_timeout: float = Field(default=180.0, gt=0, alias="VIGIL_UP_READY_TIMEOUT")
    embedded_redis_port: int = Field(default=0, ge=0, le=65535, alias="VIGIL_REDIS_PORT")
    # The embedded Redis's memory bound; past it writes are refused (503), never evicted.
    redis_maxmemory: str = Field(
        default=DEFAULT_REDIS_MAXMEMORY,
        pattern=r"^[0-9]+(b|kb|mb|gb)?$",
        alias="VIGIL_REDIS_MAXMEMORY",
    )
    max_body_bytes: int = Field(default=1024 * 1024, ge=1024, alias="VIGIL_MAX_BODY_BYTES")
    max_bulk_body_bytes: int = Field(
        default=16 * 1024 * 1024, ge=1024, alias="VIGIL_MAX_BULK_BODY_BYTES"
    )
    max_bulk_alerts: int = Field(default=10_000, ge=1, le=100_000, alias="VIGIL_MAX_BULK_ALERTS")
    resolve_timeout_seconds: float = Field(default=300.0, gt=0, alias="VIGIL_RESOLVE_TIMEOUT")
    # Alertmanager re-sends firing alerts to a webhook only every repeat_interval (4 h by
    # default; teams use up to 1 d), so webhook alerts must outlive that between refreshes.
    webhook_resolve_timeout_seconds: float = Field(
        default=25 * 3600, gt=0, alias="VIGIL_WEBHOOK_RESOLVE_TIMEOUT"
    )
    resolved_retention_seconds: float = Field(
        default=72 * 3600, gt=0, alias="VIGIL_RESOLVED_RETENTION"
    )
    tenant_idle_seconds: float = Field(default=900.0, gt=0, alias="VIGIL_TENANT_IDLE_TIMEOUT")
    correlator_shards: int = Field(default=1, ge=1, le=64, alias="VIGIL_CORRELATOR_SHARDS")
    # Escalator processes per shard: one tenant's notifications and escalations are
    # spread over them by group key and incident (``alerting/lanes.py``), so a busy
    # tenant is not capped at what one Python process delivers.
    escalator_lanes: int = Field(default=1, ge=1, le=MAX_LANES, alias="VIGIL_ESCALATOR_LANES")
    ml_enabled: bool = Field(default=True, alias="CRITICAL_ALERT_ML_ENABLED")
    prediction_model: str | None = Field(default=None, alias="CRITICAL_ALERT_PREDICTION_MODEL")
    retrain_interval_seconds: float = Field(
        default=24 * 3600, ge=0, alias="VIGIL_RETRAIN_INTERVAL"
    )  # 0: no scheduled retraining
    cache_ttl_seconds: float = Field(default=30.0, ge=0, alias="CRITICAL_ALERT_CACHE_TTL")
    max_escalation_levels: int = Field(
        default=5, ge=1, le=20, alias="CRITICAL_ALERT_MAX_ESCALATION_LEVELS"
    )
    # Liveness (alerting/liveness.py): a loop with no round for this long is stalled; a
    # correlator whose oldest unapplied change, or an escalator whose most overdue step,
    # is older than its bound is lagging. Either makes /readyz 503 and Vigil page itself.
    loop_stall_seconds: float = Field(default=30.0, gt=0, alias="VIGIL_LOOP_STALL_SECONDS")
    max_correlation_lag_seconds: float = Field(
        default=60.0, gt=0, alias="VIGIL_MAX_CORRELATION_LAG"
    )
    max_escalation_lag_seconds: float = Field(default=60.0, gt=0, alias="VIGIL_MAX_ESCALATION_LAG")
    # Custom Ray resources every Vigil actor asks for (JSON), to place them on chosen
    # nodes of a cluster: {"vigil": 0.001} with `ray start --resources='{"vigil": 1000}'`.
    actor_resources: dict[str, float] = Field(default_factory=dict, alias="VIGIL_ACTOR_RESOURCES")
    # Fernet keys for channel secrets, primary first (cluster/secrets.py); unset: a key
    # file in the data dir. A SecretStr, so no repr or error shows it.
    encryption_keys: SecretStr | None = Field(default=None, alias="VIGIL_ENCRYPTION_KEYS")
    # The key that seals audit entries (cluster/audit_store.py); unset: a 0600 file in
    # the data dir. Every node of a cluster needs the same one.
    audit_key: SecretStr | None = Field(default=None, alias="VIGIL_AUDIT_KEY")
    # The Bearer token Prometheus presents to GET /metrics; unset: a 0600 file in the
    # data dir (``metrics-token``), made once. /metrics names every tenant, so it is not
    # served to tenants' keys nor to nobody.
    metrics_token: SecretStr | None = Field(default=None, alias="VIGIL_METRICS_TOKEN")
    # How often each process publishes its metrics for /metrics (cluster/metrics_relay.py).
    metrics_interval_seconds: float = Field(
        default=5.0, gt=0, le=60, alias="VIGIL_METRICS_INTERVAL"
    )
    # How long a live view's read (the console, GraphQL's incidentUpdates, the Python
    # client's watch) waits in the correlator for news: the correlator's changes are
    # seen at once, the escalator's timeline entries within this.
    live_poll_seconds: float = Field(default=0.5, gt=0, le=10, alias="VIGIL_LIVE_POLL_SECONDS")
    # What receives HTTP for a Ray head `vigil up` starts: HAProxy in front of replicas
    # that serve HTTP themselves (cluster/haproxy_ingress.py; single alerts ~4x faster,
    # bench/README.md), or Ray Serve's Python proxy, the fallback.
    ingress: Literal["python", "haproxy"] = Field(default="haproxy", alias="VIGIL_INGRESS")
    # Ray's own metrics (its dashboard's metrics views), off by default: they cost
    # throughput (bench/README.md). Only for a head `vigil up` starts itself.
    ray_metrics: bool = Field(default=False, alias="VIGIL_RAY_METRICS")
    # Logs: JSON lines on stderr and in <data dir>/logs (cluster/logs.py).
    log_level: str = Field(
        default="info", pattern="(?i)^(debug|info|warning|error)$", alias="VIGIL_LOG_LEVEL"
    )
    # Each process's log file rotates past this many bytes; 3 older ones are kept.
    log_max_bytes: int = Field(default=20 * 1024 * 1024, ge=64 * 1024, alias="VIGIL_LOG_MAX_BYTES")
    # Traces (cluster/tracing.py): exported over OTLP/HTTP when the endpoint is set.
    otel_endpoint: str | None = Field(
        default=None, pattern="^https?://", alias="OTEL_EXPORTER_OTLP_ENDPOINT"
    )
    trace_sample_ratio: float = Field(default=1.0, ge=0, le=1, alias="VIGIL_TRACE_SAMPLE_RATIO")
    # Where people reach Vigil (links in Slack and Teams messages); default: the API.
    public_url: str | None = Field(default=None, pattern="^https?://", alias="VIGIL_PUBLIC_URL")
    # Networks notifiers may reach beyond the public internet (cluster/outbound.py), as
    # comma-separated CIDRs, e.g. "10.20.0.0/16" for an internal webhook. Empty: none.
    outbound_allow: str = Field(default="", alias="VIGIL_OUTBOUND_ALLOW")
    # Start even on an external Redis that would lose confirmed writes (a throwaway
    # test server); `vigil up` refuses one otherwise (cluster/redis_durability.py).
    redis_allow_volatile: bool = Field(default=False, alias="VIGIL_REDIS_ALLOW_VOLATILE")
    # Where a Slack click's response_url may point (comma-separated URL prefixes).
    slack_response_url_prefixes: str = Field(
        default="https://hooks.slack.com/", alias="VIGIL_SLACK_RESPONSE_URL_PREFIXES"
    )

    @field_validator(
        "redis_url",
        "ray_address",
        "prediction_model",
        "encryption_keys",
        "audit_key",
        "metrics_token",
        "otel_endpoint",
        "public_url",
        mode="before",
    )
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        """``REDIS_URL=`` in a shell means "not set", not "connect to the empty string"."""
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("actor_resources", mode="before")
    @classmethod
    def _json_object(cls, value: object) -> object:
        """The environment gives a JSON string; a dict (from code) passes as it is."""
        if isinstance(value, str):
            try:
                return json.loads(value) if value.strip() else {}
            except ValueError:
                raise ValueError('must be a JSON object such as {"vigil": 0.001}') from None
        return value

    @field_validator("outbound_allow")
    @classmethod
    def _networks(cls, value: str) -> str:
        try:
            parse_networks(value)
        except ValueError as exc:
            raise ValueError(
                f"must be comma-separated networks such as 10.0.0.0/8: {exc}"
            ) from None
        return value

    @property
    def outbound_policy(self) -> OutboundPolicy:
        """Where notifiers may connect: public addresses plus ``VIGIL_OUTBOUND_ALLOW``."""
        return OutboundPolicy(parse_networks(self.outbound_allow))

    @property
    def slack_response_prefixes(self) -> tuple[str, ...]:
        """The URL prefixes a Slack click's ``response_url`` must start with."""
        return tuple(p.strip() for p in self.slack_response_url_prefixes.split(",") if p.strip())

    @field_validator("redis_url")
    @classmethod
    def _redis_scheme(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("must start with redis://, rediss:// or unix://")
        return value

    @property
    def public_base_url(self) -> str:
        """The base of links to Vigil in messages."""
        return self.public_url or f"http://{self.http_host}:{self.http_port}"

    @property
    def liveness_bounds(self) -> LivenessBounds:
        """The liveness bounds of every loop."""
        return LivenessBounds(
            timedelta(seconds=self.loop_stall_seconds),
            timedelta(seconds=self.max_correlation_lag_seconds),
            timedelta(seconds=self.max_escalation_lag_seconds),
        )

    @property
    def resolve_timeout(self) -> timedelta:
        """The resolve timeout as a duration."""
        return timedelta(seconds=self.resolve_timeout_seconds)

    @property
    def resolved_retention(self) -> timedelta:
        """How long a resolved alert stays stored before it is purged."""
        return timedelta(seconds=self.resolved_retention_seconds)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Read and validate the settings; raise ``SettingsError`` naming every bad variable."""
        source = os.environ if env is None else env
        names = {f.alias for f in cls.model_fields.values() if f.alias}
        try:
            return cls.model_validate({k: v for k, v in source.items() if k in names})
        except ValidationError as exc:
            problems = [f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()]
            raise SettingsError("invalid settings: " + "; ".join(problems)) from None

    def resolved(self) -> Settings:
        """A copy with absolute paths, safe to hand to processes with another working dir."""
        return self.model_copy(
            update={
                "data_dir": self.data_dir.resolve(),
                "config_path": self.config_path.resolve(),
                "serve_config_path": self.serve_config_path.resolve(),
            }
        )
