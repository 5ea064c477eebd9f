"""A real Alertmanager 0.25 notifying Vigil through ``webhook_configs``.

Alerts posted to the Alertmanager reach Vigil with the same labels and the same
fingerprint the Alertmanager reports; resolving them there resolves them in Vigil.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
import requests
import yaml

from bench.real_services import Alertmanager
from cluster.redis_server import free_port
from tests.acceptance.clients import need
from tests.system import TENANTS, Vigil, wait_for

pytestmark = pytest.mark.integration


def am_config(vigil: Vigil) -> str:
    return yaml.safe_dump(
        {
            "route": {
                "receiver": "vigil",
                "group_by": ["alertname"],
                "group_wait": "0s",
                "group_interval": "1s",
                "repeat_interval": "1h",
            },
            "receivers": [
                {
                    "name": "vigil",
                    "webhook_configs": [
                        {
                            "url": f"{vigil.url}/api/v1/integrations/alertmanager",
                            "send_resolved": True,
                            "http_config": {
                                "basic_auth": {"username": "acme", "password": TENANTS["acme"]}
                            },
                        }
                    ],
                }
            ],
        }
    )


def test_webhook_alerts_keep_labels_and_fingerprint(vigil: Vigil) -> None:
    need("prometheus-alertmanager", "alertmanager")
    name = f"AmHook{uuid.uuid4().hex[:8]}"
    label_sets = [
        {"alertname": name, "instance": "db-1", "severity": "critical"},
        {"alertname": name, "instance": "db-2", "severity": "warning", "weird": 'ünï cödé, "q"'},
    ]
    session = vigil.session("acme")

    def in_vigil() -> list[dict[str, Any]]:
        r = session.get(vigil.api(), params={"filter": f'alertname="{name}"'}, timeout=30)
        items: list[dict[str, Any]] = r.json()["items"]
        return items

    with Alertmanager(free_port(), am_config(vigil)) as am:
        posted = [{"labels": labels, "annotations": {"summary": "s"}} for labels in label_sets]
        assert requests.post(f"{am.url}/api/v2/alerts", json=posted, timeout=10).status_code == 200
        wait_for(lambda: len(in_vigil()) == 2, timeout=30, interval=0.3)
        am_fps = {
            a["fingerprint"]: a["labels"]
            for a in requests.get(f"{am.url}/api/v2/alerts", timeout=10).json()
            if a["labels"].get("alertname") == name
        }
        vigil_fps = {a["fingerprint"]: a["labels"] for a in in_vigil()}
        # The same label sets under the same fingerprints on both sides.
        assert vigil_fps == am_fps
        assert all(a["status"] == "firing" and a["source"] == "alertmanager" for a in in_vigil())
        # Vigil's Alertmanager API reports the same fingerprints too.
        v2 = session.get(
            f"{vigil.url}/api/v2/alerts", params={"filter": f'alertname="{name}"'}, timeout=30
        )
        assert {a["fingerprint"] for a in v2.json()} == set(am_fps)
        # Resolve both in the Alertmanager: it notifies Vigil, which resolves them.
        now = datetime.now(UTC).isoformat().replace("+00:00", "Z")
        ended = [{**p, "endsAt": now} for p in posted]
        assert requests.post(f"{am.url}/api/v2/alerts", json=ended, timeout=10).status_code == 200
        wait_for(
            lambda: all(a["status"] == "resolved" for a in in_vigil()), timeout=30, interval=0.3
        )
