"""Assembling the Serve application: the ingress with the options in ``configs/serve.yaml``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from ray.serve import Application

from cluster.settings import Settings
from serve_app.ingress import Ingress

APP_NAME = "vigil"


def deployment_options(serve_config: Path, deployment: str) -> dict[str, Any]:
    """The options (replicas, autoscaling, resources) ``serve.yaml`` gives one deployment."""
    data = yaml.safe_load(serve_config.read_text()) or {}
    for application in data.get("applications", []):
        for entry in application.get("deployments", []):
            if entry.get("name") == deployment:
                return {k: v for k, v in entry.items() if k != "name"}
    return {}


def build(settings: Settings) -> Application:
    """The Vigil application for ``serve.run``, with ``settings.redis_url`` already known."""
    options = deployment_options(settings.serve_config_path, "Ingress")
    return Ingress.options(**options).bind(settings)


def build_app(args: dict[str, Any]) -> Application:
    """Entry point for ``serve deploy configs/serve.yaml`` (settings from the environment).

    ``serve deploy`` applies the deployment options from the YAML itself; it needs an
    external Redis (``REDIS_URL``) because it does not start the embedded one.
    """
    settings = Settings.from_env().resolved()
    if settings.redis_url is None:
        raise ValueError("serve deploy needs REDIS_URL; 'vigil up' starts an embedded Redis")
    return Ingress.bind(settings)
