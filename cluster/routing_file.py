"""Reading one ``alertmanager.yml`` into a validated ``RoutingConfig``.

Apart from ``cluster.config`` (the whole Vigil configuration, whose schema costs a
tenth of a second to import), so that ``vigil config routes test --config FILE``
starts as fast as ``amtool config routes test``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from alerting.amconfig import RoutingConfig, parse_alertmanager_config
from alerting.errors import InvalidConfig
from cluster.errors import ConfigError


def routing_from(data: Any, text: str, origin: str) -> RoutingConfig:
    """Parsed ``alertmanager.yml`` data as a ``RoutingConfig`` (``ConfigError`` says
    where ``origin`` is wrong)."""
    try:
        return parse_alertmanager_config(data, original=text)
    except InvalidConfig as exc:
        raise ConfigError(f"{origin}: {exc.message}") from None


def load_alertmanager_config(path: Path, origin: str = "") -> RoutingConfig:
    """Read an ``alertmanager.yml`` file into a validated ``RoutingConfig`` (``ConfigError``)."""
    prefix = f"{origin}: " if origin else ""
    try:
        text = path.read_text()
    except OSError as exc:
        raise ConfigError(f"{prefix}cannot read {path}: {exc.strerror}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{prefix}{path}: not valid YAML: {exc}") from None
    return routing_from(data, text, f"{prefix}{path}")
