"""The Quick start path end to end: ``vigil up --detach``, ``status``, ``send``, ``down``,
then ``up`` again on the same data dir and the alert is still there (a whole-system
restart, Redis replaying its append-only file), and ``down`` leaves nothing running.

It runs before every other integration test (see ``conftest.pytest_collection_modifyitems``)
because it starts and stops a machine-wide Ray head of its own.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import requests

from cluster.redis_server import EmbeddedRedis, free_port
from tests.system import wait_for

pytestmark = [pytest.mark.integration, pytest.mark.lifecycle]

ROOT = Path(__file__).resolve().parents[2]
VIGIL = str(Path(sys.executable).parent / "vigil")


def vigil(
    env: dict[str, str], *args: str, timeout: float = 180
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [VIGIL, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
    )


def test_up_send_down_up_keeps_the_alert(tmp_path: Path) -> None:
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "RAY_ADDRESS")},
        "VIGIL_DATA_DIR": str(tmp_path / "data"),
        "VIGIL_HTTP_PORT": str(port),
    }
    api = f"http://127.0.0.1:{port}/api/v1/critical-alerts"
    headers = {"Authorization": "Bearer demo-key-change-me"}
    try:
        up = vigil(env, "up", "--detach")
        assert up.returncode == 0, up.stdout + up.stderr
        for what in ("data dir", f"http://127.0.0.1:{port}", "ray dashboard", "redis"):
            assert what in up.stdout  # the CLI says where everything is
        assert "training a starter model" in up.stdout and "v0001 serves" in up.stdout
        models = requests.get(f"http://127.0.0.1:{port}/api/v1/models", headers=headers)
        assert models.json()["serving"]["model"] == "v0001"
        assert vigil(env, "status").returncode == 0
        sent = vigil(env, "send", "--severity", "critical", "--label", "team=sre")
        assert sent.returncode == 0, sent.stdout
        alert_id = json.loads(sent.stdout.split(" ", 1)[1])["id"]

        down = vigil(env, "down")
        assert down.returncode == 0 and "redis         stopped" in down.stdout
        assert EmbeddedRedis(tmp_path / "data").pid() is None
        assert vigil(env, "status").returncode == 1  # nothing answers now

        # The second start runs with ML off: no predictor, and everything else works.
        ml_off = {**env, "CRITICAL_ALERT_ML_ENABLED": "false"}
        up = vigil(ml_off, "up", "--detach")
        assert up.returncode == 0 and "ML off" in up.stdout, up.stdout + up.stderr
        got = requests.get(f"{api}/{alert_id}", headers=headers, timeout=60)
        assert got.status_code == 200, got.text
        assert got.json()["labels"]["team"] == "sre" and got.json()["severity"] == "critical"
        models = requests.get(f"http://127.0.0.1:{port}/api/v1/models", headers=headers)
        assert models.json()["enabled"] is False
        # Another service, so the alert forms its own incident rather than joining the
        # first run's (already scored) incident of service "demo" by topology.
        sent = vigil(ml_off, "send", "--alertname", "MlOffCheck", "--service", "ml-off")
        assert sent.returncode == 0, sent.stdout
        incidents = f"http://127.0.0.1:{port}/api/v1/incidents"

        def incident() -> dict[str, Any] | None:
            params = {"filter": 'alertname="MlOffCheck"'}
            items = requests.get(incidents, params=params, headers=headers, timeout=30).json()
            return items["items"][0] if items["items"] else None

        formed = wait_for(incident, timeout=30)
        assert formed["risk"] is None and formed["state"] == "triggered", formed
    finally:
        vigil(env, "down")
    assert EmbeddedRedis(tmp_path / "data").pid() is None
    ray_left = subprocess.run(["pgrep", "-f", "raylet"], capture_output=True, text=True)
    assert ray_left.stdout.strip() == ""


def test_up_refuses_a_bad_setting(tmp_path: Path) -> None:
    env = {**os.environ, "VIGIL_DATA_DIR": str(tmp_path), "VIGIL_HTTP_PORT": "not-a-port"}
    result = vigil(env, "up", "--detach", timeout=60)
    assert result.returncode == 2 and "VIGIL_HTTP_PORT" in result.stderr
    assert not (tmp_path / "redis").exists()  # nothing was started
