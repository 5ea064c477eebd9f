"""The Vigil configuration file (``configs/vigil.yaml``): tenants and their API keys.

Strict: unknown keys are refused, ids and key hashes must be unique, and every error
names the path of the field that is wrong. API keys are stored only as SHA-256 hex
digests; ``vigil tenant create`` makes a key and prints it once.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from cluster.keys import check_tenant_id


class ConfigError(ValueError):
    """The configuration file is missing, not YAML, or does not fit the schema."""


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
    """One tenant: its id (the prefix of all its Redis keys), name and API keys."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    name: str = ""
    api_keys: list[ApiKeyConfig] = Field(default_factory=list)

    @field_validator("id")
    @classmethod
    def _valid_id(cls, value: str) -> str:
        return check_tenant_id(value)


class VigilConfig(BaseModel):
    """The whole configuration file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    tenants: list[TenantConfig] = Field(default_factory=list)

    @model_validator(mode="after")
    def _unique(self) -> VigilConfig:
        seen_ids: set[str] = set()
        seen_keys: set[str] = set()
        for i, tenant in enumerate(self.tenants):
            if tenant.id in seen_ids:
                raise ValueError(f"tenants.{i}.id: duplicate tenant id {tenant.id!r}")
            seen_ids.add(tenant.id)
            for j, key in enumerate(tenant.api_keys):
                if key.sha256 in seen_keys:
                    raise ValueError(f"tenants.{i}.api_keys.{j}: key hash used twice")
                seen_keys.add(key.sha256)
        return self

    def key_hashes(self) -> dict[str, str]:
        """API-key hash → tenant id for every configured key."""
        return {k.sha256: t.id for t in self.tenants for k in t.api_keys}


def parse_config(text: str, origin: str = "<config>") -> VigilConfig:
    """Parse and validate configuration text; ``ConfigError`` says where it is wrong."""
    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{origin}: not valid YAML: {exc}") from None
    try:
        return VigilConfig.model_validate(data)
    except ValidationError as exc:
        problems = [
            f"{'.'.join(map(str, e['loc'])) or '(top level)'}: {e['msg']}" for e in exc.errors()
        ]
        raise ConfigError(f"{origin}: " + "; ".join(problems)) from None


def load_config(path: Path) -> VigilConfig:
    """Read and validate the configuration file at ``path``."""
    try:
        text = path.read_text()
    except OSError as exc:
        raise ConfigError(f"cannot read configuration {path}: {exc.strerror}") from None
    return parse_config(text, str(path))
