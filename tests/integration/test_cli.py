"""The ``vigil`` CLI commands that talk to a running Vigil and its Redis."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
import requests

from cli import main as cli
from cli.sim_send import send_simulation
from models.simulate import TRAINING, simulate
from tests.system import TENANTS, Vigil, unique_labels

pytestmark = pytest.mark.integration


def test_tenant_create_prints_a_key_that_works(
    vigil: Vigil, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("REDIS_URL", vigil.redis.url)
    # The system's data dir: the key's audit entry is sealed with the system's audit key.
    monkeypatch.setenv("VIGIL_DATA_DIR", str(vigil.settings.data_dir))
    assert cli.main(["tenant", "create", "newco"]) == 0
    key = capsys.readouterr().out.strip().splitlines()[-1]
    assert key.startswith("vgl_")
    headers = {"Authorization": f"Bearer {key}"}
    labels = unique_labels()
    r = requests.post(vigil.api(), json={"labels": labels}, headers=headers, timeout=60)
    assert r.status_code == 202, r.text
    # The key opens its own tenant only.
    assert requests.get(vigil.api(f"/{r.json()['id']}"), headers=headers, timeout=30).ok
    other = vigil.session("acme").get(vigil.api(f"/{r.json()['id']}"), timeout=30)
    assert other.status_code == 404


def test_tenant_create_refuses_a_bad_id(
    vigil: Vigil, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("REDIS_URL", vigil.redis.url)
    assert cli.main(["tenant", "create", "Not Valid"]) == 2
    assert "invalid tenant id" in capsys.readouterr().out


def test_send_and_status_against_the_running_api(
    vigil: Vigil, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path
) -> None:  # type: ignore[no-untyped-def]
    host, port = vigil.url.removeprefix("http://").split(":")
    monkeypatch.setenv("VIGIL_HTTP_HOST", host)
    monkeypatch.setenv("VIGIL_HTTP_PORT", port)
    monkeypatch.setenv("VIGIL_DATA_DIR", str(tmp_path))
    from tests.system import TENANTS

    assert cli.main(["send", "--api-key", TENANTS["acme"], "--severity", "critical"]) == 0
    assert '"status": "firing"' in capsys.readouterr().out
    assert cli.main(["send", "--api-key", "wrong"]) == 1
    assert "401" in capsys.readouterr().out
    assert cli.main(["status"]) == 0
    assert "ready" in capsys.readouterr().out


def test_tenant_create_without_vigil_up_leaves_no_server_running(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path
) -> None:  # type: ignore[no-untyped-def]
    from cluster import keys
    from cluster.config import hash_api_key
    from cluster.redis_client import sync_client
    from cluster.redis_server import EmbeddedRedis

    monkeypatch.delenv("REDIS_URL", raising=False)
    monkeypatch.setenv("VIGIL_DATA_DIR", str(tmp_path))
    assert cli.main(["tenant", "create", "offline"]) == 0
    key = capsys.readouterr().out.strip().splitlines()[-1]
    server = EmbeddedRedis(tmp_path)
    assert server.pid() is None  # it started the embedded Redis only to store the key
    server.start()  # ...and the key is durable in its append-only file
    try:
        client = sync_client(server.url)
        record = client.hget(keys.api_keys(), hash_api_key(key))
        assert record is not None and json.loads(record)["tenant"] == "offline"
        client.close()
    finally:
        server.stop()


def test_simulate_send_posts_simulated_traffic_to_a_running_vigil(vigil: Vigil) -> None:
    alerts = simulate(replace(TRAINING, days=0.1), seed=11, tenants=1).alerts[:45]
    still_firing: dict[tuple[tuple[str, str], ...], bool] = {}
    for alert in alerts:  # the last change of each alert says whether it still fires
        still_firing[tuple(sorted(alert.labels.items()))] = alert.firing
    expected = {labels for labels, firing in still_firing.items() if firing}
    assert expected  # the first 45 changes leave some alerts firing

    sent = send_simulation(alerts, vigil.url, TENANTS["globex"], speed=1e9)
    assert sent.alerts == 45 and sent.refused == 0
    r = vigil.session("globex").get(
        f"{vigil.url}/api/v2/alerts", params={"filter": 'sim_tenant="sim-0"'}, timeout=30
    )
    assert r.status_code == 200, r.text
    stored = {
        tuple(sorted((k, v) for k, v in a["labels"].items() if k not in ("sim_tenant", "severity")))
        for a in r.json()
    }
    # The firing ones are open in Vigil, labelled with their simulated tenant.
    assert stored == {tuple((k, v) for k, v in labels if k != "severity") for labels in expected}

    wrong_key = send_simulation(alerts[:3], vigil.url, "not-a-key", speed=1e9)
    assert wrong_key.refused == wrong_key.requests > 0
