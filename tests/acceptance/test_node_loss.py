"""Losing a worker node (issue 14): on a three-node Ray cluster (``ray.cluster_utils``:
a head and two workers, one machine), Vigil's actors run on worker A; in the middle of
an escalation, worker A is removed. The actors restart on worker B from Redis: the
alert acknowledged before stays, level 2 (due while nothing ran) is paged once, level
1 not again, and a new alert pages.

It starts a cluster of its own, so it runs before the shared session cluster exists
(marked ``lifecycle``, like the CLI test).
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
import ray
import requests
import yaml
from ray import serve
from ray.cluster_utils import Cluster

from cluster.config import hash_api_key
from cluster.redis_client import sync_client
from cluster.redis_server import EmbeddedRedis, free_port
from cluster.runtime import NAMESPACE, apply_lean_env, escalator_name, tenant_actor_name
from cluster.secrets import SecretStore, box_for
from cluster.settings import Settings
from serve_app.app import APP_NAME, build
from tests.recording_server import RecordingThread
from tests.system import TEST_RECEIVERS, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.lifecycle]

ROOT = Path(__file__).resolve().parents[2]
TENANT = "nodes"
KEY = "nodes-key-for-the-node-loss-test"
VIGIL_NODES = {"vigil": 1000.0}  # the custom resource Vigil's actors ask for


def config(path: Path) -> Path:
    tenant: dict[str, Any] = {
        "id": TENANT,
        "api_keys": [{"sha256": hash_api_key(KEY)}],
        "alertmanager": {
            "route": {"receiver": "pager", "group_by": ["alertname"], "group_wait": "0s"},
            "receivers": [{"name": "pager"}],
        },
        "escalation": {
            "policies": {
                "two": {
                    "levels": [
                        {"targets": [{"channel": "l1"}], "escalate_after": "3s"},
                        {"targets": [{"channel": "l2"}]},
                    ]
                }
            },
            "default_policy": "two",
        },
        "channels": {
            "l1": {"type": "webhook", "url_secret": "l1-url"},
            "l2": {"type": "webhook", "url_secret": "l2-url"},
        },
    }
    path.write_text(yaml.safe_dump({"tenants": [tenant]}))
    return path


def node_of(name: str) -> str:
    actor = ray.get_actor(name, namespace=NAMESPACE)
    node: str = ray.get(actor.node_id.remote(), timeout=60)
    return node


def notices(server: RecordingThread, alertname: str) -> list[dict[str, Any]]:
    found = [json.loads(r.body) for r in server.received]
    return [n for n in found if n["labels"].get("alertname") == alertname]


def test_losing_the_node_of_the_tenant_and_escalator_actors_loses_no_page(
    tmp_path: Path,
) -> None:
    apply_lean_env()
    redis_server = EmbeddedRedis(tmp_path / "data")
    redis_server.start()
    settings = Settings(
        REDIS_URL=redis_server.url,
        VIGIL_DATA_DIR=tmp_path / "data",
        VIGIL_CONFIG=config(tmp_path / "vigil.yaml"),
        VIGIL_SERVE_CONFIG=ROOT / "configs" / "serve.yaml",
        CRITICAL_ALERT_ML_ENABLED=False,
        VIGIL_ACTOR_RESOURCES=json.dumps({"vigil": 0.001}),
        VIGIL_OUTBOUND_ALLOW=TEST_RECEIVERS,
    )
    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1})
    worker_a = cluster.add_node(num_cpus=1, resources=VIGIL_NODES)
    with RecordingThread() as level1, RecordingThread() as level2:
        store = SecretStore(sync_client(redis_server.url), TENANT, box_for(settings))
        store.set("l1-url", level1.url + "/l1")
        store.set("l2-url", level2.url + "/l2")
        try:
            ray.init(address=cluster.address, namespace=NAMESPACE, log_to_driver=False)
            port = free_port()
            serve.start(
                proxy_location="HeadOnly",
                http_options={"host": "127.0.0.1", "port": port},
                logging_config={"enable_access_log": False, "log_level": "WARNING"},
            )
            serve.run(build(settings), name=APP_NAME, route_prefix="/", blocking=False)
            url = f"http://127.0.0.1:{port}"
            wait_for(lambda: _ready(url), timeout=180, interval=0.5)
            session = requests.Session()
            session.headers["Authorization"] = f"Bearer {KEY}"
            api = f"{url}/api/v1/critical-alerts"
            kept = session.post(api, json={"labels": {"alertname": "Kept"}}, timeout=30)
            assert kept.status_code == 202, kept.text
            # Every Vigil actor is on worker A (the only node with the resource so far).
            assert node_of(tenant_actor_name(TENANT)) == worker_a.node_id
            assert node_of(escalator_name(0)) == worker_a.node_id
            cluster.add_node(num_cpus=1, resources=VIGIL_NODES)  # worker B, empty
            fired = session.post(
                api, json={"labels": {"alertname": "NodeLoss"}, "severity": "critical"}
            )
            assert fired.status_code == 202, fired.text
            wait_for(lambda: notices(level1, "NodeLoss"), timeout=60)
            removed_at = time.monotonic()
            cluster.remove_node(worker_a)  # level 2 is due 3 s after level 1
            (second,) = wait_for(lambda: notices(level2, "NodeLoss"), timeout=180)
            assert second["escalation"]["level"] == 2
            assert time.monotonic() - removed_at > 0  # paged after the loss, by worker B
            assert node_of(escalator_name(0)) != worker_a.node_id
            got = wait_for(
                lambda: (
                    (r := session.get(f"{api}/{kept.json()['id']}", timeout=30)).status_code == 200
                    and r
                ),
                timeout=120,
            )
            assert got.json()["labels"]["alertname"] == "Kept"
            after = session.post(api, json={"labels": {"alertname": "AfterLoss"}}, timeout=60)
            assert after.status_code == 202, after.text
            wait_for(lambda: notices(level1, "AfterLoss"), timeout=60)
            time.sleep(2)  # a repeated notice would arrive by now
            assert len(notices(level1, "NodeLoss")) == 1
            assert len(notices(level2, "NodeLoss")) == 1
        finally:
            serve.shutdown()
            ray.shutdown()
            cluster.shutdown()
            redis_server.stop()


def _ready(url: str) -> bool:
    try:
        return requests.get(f"{url}/readyz", timeout=5).status_code == 200
    except requests.RequestException:
        return False
