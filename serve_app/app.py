"""Assembling the Serve application: the ingress and (unless ML is off) the predictor,
with the options in ``configs/serve.yaml``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from ray.serve import Application, Deployment

from cluster.runtime import SERVE_APP
from cluster.settings import Settings
from serve_app.ingress import Ingress
from serve_app.predictor import DEPLOYMENT, Predictor

APP_NAME = SERVE_APP


def deployment_options(serve_config: Path, deployment: str) -> dict[str, Any]:
    """The options (replicas, autoscaling, resources) ``serve.yaml`` gives one deployment."""
    data = yaml.safe_load(serve_config.read_text()) or {}
    for application in data.get("applications", []):
        for entry in application.get("deployments", []):
            if entry.get("name") == deployment:
                return {k: v for k, v in entry.items() if k != "name"}
    return {}


def deployment(decorated: object) -> Deployment:
    """A class under ``@serve.deployment`` as the ``Deployment`` it is at run time (the
    decorator's stubs say it returns the class)."""
    assert isinstance(decorated, Deployment), decorated
    return decorated


def _predictor(settings: Settings, options: dict[str, Any] | None = None) -> Application | None:
    """The predictor deployment, or ``None`` when ``CRITICAL_ALERT_ML_ENABLED=false``."""
    if not settings.ml_enabled:
        return None
    if options is None:
        options = deployment_options(settings.serve_config_path, DEPLOYMENT)
    return deployment(Predictor).options(**options).bind(settings)


def build(settings: Settings) -> Application:
    """The Vigil application for ``serve.run``, with ``settings.redis_url`` already known."""
    options = deployment_options(settings.serve_config_path, "Ingress")
    return deployment(Ingress).options(**options).bind(settings, _predictor(settings))


def build_app(args: dict[str, Any]) -> Application:
    """Entry point for ``serve deploy configs/serve.yaml`` (settings from the environment).

    ``serve deploy`` applies the deployment options from the YAML itself; it needs an
    external Redis (``REDIS_URL``) because it does not start the embedded one.
    """
    settings = Settings.from_env().resolved()
    if settings.redis_url is None:
        raise ValueError("serve deploy needs REDIS_URL; 'vigil up' starts an embedded Redis")
    return deployment(Ingress).bind(settings, _predictor(settings, {}))
