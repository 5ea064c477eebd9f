"""The Quick start path end to end: ``vigil up --detach``, ``status``, ``send``, ``down``,
then ``up`` again on the same data dir and the alert is still there (a whole-system
restart, Redis replaying its append-only file), and ``down`` leaves nothing running.

The demo configuration gets an escalation policy for the test (level 1 at once, level 2
after 30 s, both webhooks to recording servers): the system goes down after level 1
and before level 2 is due, and after the restart level 2 is sent once, level 1 not again.

It runs before every other integration test (see ``conftest.pytest_collection_modifyitems``)
because it starts and stops a machine-wide Ray head of its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import psutil
import pytest
import requests
import yaml
from gql import Client, gql
from gql.transport.websockets import WebsocketsTransport

from cluster.redis_server import EmbeddedRedis, free_port
from cluster.runtime import LEAN_RAY_ENV, head_processes
from tests.recording_server import RecordingThread
from tests.system import TEST_RECEIVERS, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.lifecycle]

ROOT = Path(__file__).resolve().parents[2]
VIGIL = str(Path(sys.executable).parent / "vigil")


def fresh_shell_env(**settings: str) -> dict[str, str]:
    """A fresh shell's environment with ``settings``: no Redis, no Ray address, none of
    this test run's Ray token or Ray tuning (what `vigil up` must set for itself)."""
    kept = {
        k: v
        for k, v in os.environ.items()
        if k not in ("REDIS_URL", "RAY_ADDRESS", *LEAN_RAY_ENV)
        and not k.startswith(("RAY_AUTH", "RAY_SERVE"))
    }
    return {**kept, **settings}


def vigil(
    env: dict[str, str], *args: str, timeout: float = 180, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [VIGIL, *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        input=stdin,
    )


def escalating_demo_config(path: Path) -> Path:
    """The demo configuration, its pager receiver escalating through webhooks l1 and l2
    (level 2 30 s after the incident starts), its routing without group waits."""
    config = yaml.safe_load((ROOT / "configs" / "vigil.yaml").read_text())
    (tenant,) = config["tenants"]
    routing_file = ROOT / "configs" / tenant.pop("alertmanager_config_file")
    routing = yaml.safe_load(routing_file.read_text())
    routing["route"]["group_wait"] = "0s"
    for route in routing["route"]["routes"]:
        route.pop("group_wait", None)
    tenant["alertmanager"] = routing
    tenant["escalation"] = {
        "policies": {
            "page": {
                "levels": [
                    {"targets": [{"channel": "l1"}], "escalate_after": "30s"},
                    {"targets": [{"channel": "l2"}]},
                ]
            }
        },
        "default_policy": "page",
    }
    tenant["channels"] = {
        **tenant.get("channels", {}),  # the demo's, which its people use
        "l1": {"type": "webhook", "url_secret": "l1-url"},
        "l2": {"type": "webhook", "url_secret": "l2-url"},
    }
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def test_up_send_down_up_keeps_the_alert(tmp_path: Path) -> None:
    with RecordingThread() as level1, RecordingThread() as level2:
        up_send_down_up(tmp_path, level1, level2)


def up_send_down_up(tmp_path: Path, level1: RecordingThread, level2: RecordingThread) -> None:
    port = free_port()
    first_head: str | None = None
    env = fresh_shell_env(
        VIGIL_DATA_DIR=str(tmp_path / "data"),
        VIGIL_HTTP_PORT=str(port),
        VIGIL_CONFIG=str(escalating_demo_config(tmp_path / "vigil.yaml")),
        VIGIL_OUTBOUND_ALLOW=TEST_RECEIVERS,  # the recording webhooks' loopback
    )
    api = f"http://127.0.0.1:{port}/api/v1/critical-alerts"
    headers = {"Authorization": "Bearer demo-key-change-me"}
    try:
        up = vigil(env, "up", "--detach")
        assert up.returncode == 0, up.stdout + up.stderr
        for what in ("data dir", f"http://127.0.0.1:{port}", "ray dashboard", "redis"):
            assert what in up.stdout  # the CLI says where everything is
        # Nothing Vigil started (Ray's GCS, raylet, agents, workers, Serve, Redis)
        # listens beyond loopback, and Ray requires the token only this user can read.
        started = vigil_processes(ray_head(tmp_path), EmbeddedRedis(tmp_path / "data"))
        assert len(started) > 5  # the GCS, the raylet, agents, workers, Redis ...
        assert listening_beyond_loopback(started) == set()
        # Its workers (Vigil's actors) at this shell's priority, not Ray's nice 15: a
        # busy neighbour must not starve the escalator (cluster/runtime.py).
        assert niceness(started) == {os.nice(0)}
        token = tmp_path / "data" / "ray-auth-token"
        assert token.stat().st_mode & 0o777 == 0o600 and str(token) in up.stdout
        assert "WARNING" in up.stdout and "public demo key" in up.stdout
        assert "training a starter model" in up.stdout and "v0001 serves" in up.stdout
        assert "tenants       demo up in" in up.stdout  # warm before the first alert
        models = requests.get(f"http://127.0.0.1:{port}/api/v1/models", headers=headers)
        assert models.json()["serving"]["model"] == "v0001"
        assert vigil(env, "status").returncode == 0
        for name, server in (("l1-url", level1), ("l2-url", level2)):
            stored = vigil(env, "secret", "set", "demo", name, stdin=server.url + "/hook")
            assert stored.returncode == 0, stored.stdout + stored.stderr
        sent = vigil(env, "send", "--severity", "critical", "--label", "team=sre")
        assert sent.returncode == 0, sent.stdout
        alert_id = json.loads(sent.stdout.split(" ", 1)[1])["id"]
        wait_for(lambda: level1.received, timeout=30)

        first_head = ray_head(tmp_path)
        down = vigil(env, "down")
        assert down.returncode == 0 and "redis         stopped" in down.stdout
        assert "ray           stopped" in down.stdout
        # Down before level 2 was due: its deadline passes while nothing runs.
        assert level2.received == []
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
        # The overdue level 2 went out once after the restart; level 1 was not repeated.
        # (The MlOffCheck incident escalates too: count the first incident's notices.)
        escalated = json.loads(level1.received[0].body)["incident_id"]

        def notices(server: RecordingThread) -> list[dict[str, Any]]:
            found = (json.loads(r.body) for r in server.received)
            return [n for n in found if n["incident_id"] == escalated]

        (notice,) = wait_for(lambda: notices(level2), timeout=60)
        time.sleep(2)
        assert len(notices(level1)) == 1 and len(notices(level2)) == 1
        assert (notice["escalation"]["step"], notice["escalation"]["level"]) == (1, 2)
    finally:
        heads = [ray_head(tmp_path)]
        vigil(env, "down")
    assert EmbeddedRedis(tmp_path / "data").pid() is None
    # Every process of the heads 'vigil up' started is gone (and only those were stopped).
    assert first_head is not None and heads[0] is not None
    assert [p.pid for mark in (first_head, *heads) for p in head_processes(mark)] == []


def vigil_processes(mark: str | None, redis_server: EmbeddedRedis) -> set[int]:
    """The pids of what `vigil up` started: its Ray head's processes (they carry its
    mark) and all their descendants (workers and agents, whose environment Ray's
    process titles hide), and the embedded Redis. Another Ray on the machine is not."""
    assert mark is not None
    found: set[int] = set()
    for process in head_processes(mark):
        found.add(process.pid)
        with contextlib.suppress(psutil.Error):
            found |= {child.pid for child in process.children(recursive=True)}
    redis_pid = redis_server.pid()
    if redis_pid is not None:
        found.add(redis_pid)
    return found


def niceness(pids: set[int]) -> set[int]:
    """The niceness values of those processes (one that has exited meanwhile is left out)."""
    found = set()
    for pid in pids:
        with contextlib.suppress(psutil.Error):
            found.add(psutil.Process(pid).nice())
    return found


def listening_beyond_loopback(pids: set[int]) -> set[tuple[str, int, str]]:
    """The TCP ports those processes listen on beyond loopback: (ip, port, process)."""
    found = set()
    for conn in psutil.net_connections(kind="inet"):
        if conn.status != psutil.CONN_LISTEN or not conn.laddr or conn.pid not in pids:
            continue
        ip = conn.laddr.ip.removeprefix("::ffff:")
        if ipaddress.ip_address(ip).is_loopback:
            continue
        try:
            name = psutil.Process(conn.pid).name() if conn.pid else "?"
        except psutil.Error:
            name = "?"
        found.add((ip, conn.laddr.port, name))
    return found


def test_haproxy_ingress_serves_everything_on_loopback_only(tmp_path: Path) -> None:
    """VIGIL_INGRESS=haproxy: HAProxy in front of replicas that serve HTTP themselves,
    its stats page and exporter moved to loopback, its files in the data dir."""
    port = free_port()
    data = tmp_path / "data"
    env = fresh_shell_env(
        VIGIL_DATA_DIR=str(data),
        VIGIL_HTTP_PORT=str(port),
        VIGIL_INGRESS="haproxy",
        CRITICAL_ALERT_ML_ENABLED="false",  # not what this test is about
    )
    url = f"http://127.0.0.1:{port}"
    headers = {"Authorization": "Bearer demo-key-change-me"}
    head: str | None = None
    files: Path | None = None
    try:
        up = vigil(env, "up", "--detach")
        assert up.returncode == 0, up.stdout + up.stderr
        head = ray_head(tmp_path)
        files = Path(json.loads((data / "state.json").read_text())["haproxy_dir"])
        assert f"ingress       HAProxy (its files in {files})" in up.stdout
        started = vigil_processes(head, EmbeddedRedis(data))
        names = {psutil.Process(pid).name() for pid in started if psutil.pid_exists(pid)}
        assert "haproxy" in names, names
        assert listening_beyond_loopback(started) == set()
        assert files.stat().st_mode & 0o777 == 0o700
        assert list(files.rglob("admin.sock")), "HAProxy's socket is elsewhere"

        body = {"labels": {"alertname": "ThroughHAProxy"}, "severity": "critical"}
        sent = requests.post(f"{url}/api/v1/critical-alerts", json=body, headers=headers)
        assert sent.status_code == 202, sent.text
        # A stream passes through HAProxy as it comes (the console's live feed).
        with requests.get(
            f"{url}/api/v1/incidents/updates", headers=headers, stream=True, timeout=30
        ) as stream:
            assert stream.status_code == 200
            first = next(stream.iter_lines(decode_unicode=True))
            assert first == "event: ready"
        # So does a WebSocket (GraphQL's subscription): the upgrade reaches the replica.
        update = asyncio.run(subscription_sees_an_alert(url, headers))
        assert update["incidents"] and update["position"]
        refused = requests.get(f"{url}/api/v1/incidents", timeout=30)
        assert refused.status_code == 401
    finally:
        vigil(env, "down")
    assert head is not None and [p.pid for p in head_processes(head)] == []
    assert files is not None and not files.exists()


async def subscription_sees_an_alert(url: str, headers: dict[str, str]) -> dict[str, Any]:
    """Subscribe to incident updates over a WebSocket, send an alert, return the first
    update that names an incident."""
    transport = WebsocketsTransport(
        url=url.replace("http://", "ws://") + "/graphql", init_payload=headers
    )
    updates = gql("subscription { incidentUpdates { position incidents { id } } }")
    async with Client(transport=transport) as subscriber:
        stream = subscriber.subscribe(updates)
        body = {"labels": {"alertname": "OverWebSocket"}, "severity": "critical"}
        sent = await asyncio.to_thread(
            requests.post, f"{url}/api/v1/critical-alerts", json=body, headers=headers
        )
        assert sent.status_code == 202, sent.text
        async with asyncio.timeout(60):
            while True:  # until an update names an incident (the alert's)
                update: dict[str, Any] = (await anext(stream))["incidentUpdates"]
                if update["incidents"]:
                    break
        await stream.aclose()
    return update


def test_up_refuses_the_demo_key_beyond_loopback(tmp_path: Path) -> None:
    env = fresh_shell_env(
        VIGIL_DATA_DIR=str(tmp_path / "data"),
        VIGIL_HTTP_HOST="0.0.0.0",
        VIGIL_HTTP_PORT=str(free_port()),
    )
    result = vigil(env, "up", "--detach", timeout=180)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "public demo API key" in result.stderr
    assert not (tmp_path / "data").exists()  # nothing was started, not even its token


def ray_head(tmp_path: Path) -> str | None:
    """The mark of the Ray head the running 'vigil up' started (from its state file)."""
    state = json.loads((tmp_path / "data" / "state.json").read_text())
    mark: str | None = state.get("ray_head")
    return mark


def test_up_refuses_a_bad_setting(tmp_path: Path) -> None:
    env = {**os.environ, "VIGIL_DATA_DIR": str(tmp_path), "VIGIL_HTTP_PORT": "not-a-port"}
    result = vigil(env, "up", "--detach", timeout=60)
    assert result.returncode == 2 and "VIGIL_HTTP_PORT" in result.stderr
    assert not (tmp_path / "redis").exists()  # nothing was started


def test_up_refuses_a_port_in_use_before_starting_anything(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        # A fresh shell's: `vigil` makes the Ray token in the data dir itself, but only
        # once the start will go ahead.
        env = fresh_shell_env(VIGIL_DATA_DIR=str(tmp_path / "data"), VIGIL_HTTP_PORT=str(port))
        result = vigil(env, "up", "--detach", timeout=60)
    assert result.returncode == 2, result.stdout + result.stderr
    assert f"VIGIL_HTTP_PORT={port}: cannot listen there" in result.stderr
    assert not (tmp_path / "data").exists()  # nothing was started, not even its token


def test_ctrl_c_during_start_up_stops_what_was_started(tmp_path: Path) -> None:
    data = tmp_path / "data"
    env = fresh_shell_env(
        VIGIL_DATA_DIR=str(data),
        VIGIL_HTTP_PORT=str(free_port()),
        CRITICAL_ALERT_ML_ENABLED="false",  # not what this test is about
    )
    lines: list[str] = []
    with subprocess.Popen(
        [VIGIL, "up", "--detach"], cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True
    ) as up:
        assert up.stdout is not None
        try:
            for line in up.stdout:  # interrupted once the head runs and Serve is next
                lines.append(line)
                if line.startswith("model "):
                    up.send_signal(signal.SIGINT)
                    break
            lines.extend(up.stdout)
            up.wait(timeout=180)
        finally:
            if up.poll() is None:
                up.kill()
            output = "".join(lines)
            if "ray           stopped" not in output:
                vigil(env, "down")  # leave nothing behind whatever went wrong
    assert up.returncode != 0
    assert "vigil up      failed: stopping what it started" in output, output
    assert "ray           stopped" in output and "redis         stopped" in output
    assert EmbeddedRedis(data).pid() is None
    assert not (data / "state.json").exists()


def test_a_detached_start_not_ready_in_time_exits_1_and_leaves_it_to_vigil_down(
    tmp_path: Path,
) -> None:
    """A script running `vigil up --detach && ...` must not go on with a Vigil that is
    not serving. A readiness deadline nothing can meet makes the case."""
    data = tmp_path / "data"
    env = fresh_shell_env(
        VIGIL_DATA_DIR=str(data),
        VIGIL_HTTP_PORT=str(free_port()),
        VIGIL_UP_READY_TIMEOUT="0.001",
        CRITICAL_ALERT_ML_ENABLED="false",  # not what this test is about
    )
    try:
        up = vigil(env, "up", "--detach", timeout=300)
        assert up.returncode == 1, up.stdout + up.stderr
        assert "NOT READY after 0s" in up.stdout
        assert "left running; vigil status shows it, vigil down stops it" in up.stdout
        assert ray_head(tmp_path)  # recorded, for vigil down
    finally:
        down = vigil(env, "down")
    assert down.returncode == 0, down.stdout + down.stderr
    assert "ray           stopped" in down.stdout
    assert not (data / "state.json").exists()
