"""Assembling the Serve application from configs/serve.yaml and the settings."""

from pathlib import Path

import pytest

from serve_app.app import build_app, deployment_options

ROOT = Path(__file__).resolve().parents[3]


def test_ingress_options_come_from_serve_yaml() -> None:
    options = deployment_options(ROOT / "configs" / "serve.yaml", "Ingress")
    assert options["num_replicas"] == "auto"  # autoscaled, bounds below
    assert options["autoscaling_config"]["min_replicas"] >= 1
    assert (
        options["autoscaling_config"]["max_replicas"]
        >= options["autoscaling_config"]["min_replicas"]
    )
    assert options["ray_actor_options"]["num_cpus"] < 1  # fractional: fits a 2-core laptop
    assert "name" not in options


def test_unknown_deployment_has_no_options() -> None:
    assert deployment_options(ROOT / "configs" / "serve.yaml", "Nope") == {}


def test_serve_deploy_without_redis_url_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    # `serve deploy` does not start the embedded Redis, so it must be told where Redis is.
    monkeypatch.delenv("REDIS_URL", raising=False)
    with pytest.raises(ValueError, match="REDIS_URL"):
        build_app({})
