"""Debian's Prometheus 2.42, unchanged, sending its alerts to Vigil.

Prometheus scrapes a gauge this test controls, evaluates a rule on it every second
and sends firing alerts to Vigil through ``alerting.alertmanagers`` with the tenant's
basic-auth credentials. When the gauge drops, the rule stops firing and Prometheus
sends the alert resolved.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml

from bench.real_services import Prometheus
from cluster.redis_server import free_port
from tests.acceptance.clients import need
from tests.system import TENANTS, Vigil, wait_for

pytestmark = pytest.mark.integration


class Gauge:
    """A one-metric exporter: ``vigil_test_flag <value>`` on ``/metrics``."""

    def __init__(self) -> None:
        self.value = 1
        gauge = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                body = f"# TYPE vigil_test_flag gauge\nvigil_test_flag {gauge.value}\n".encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/plain; version=0.0.4")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def gauge() -> Iterator[Gauge]:
    g = Gauge()
    yield g
    g.close()


def prometheus_config(vigil: Vigil, gauge: Gauge, rules: Path) -> str:
    host = vigil.url.removeprefix("http://")
    config = {
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
        "rule_files": [str(rules)],
        "scrape_configs": [
            {"job_name": "flag", "static_configs": [{"targets": [f"127.0.0.1:{gauge.port}"]}]}
        ],
        "alerting": {
            "alertmanagers": [
                {
                    "api_version": "v2",
                    "static_configs": [{"targets": [host]}],
                    "basic_auth": {"username": "acme", "password": TENANTS["acme"]},
                }
            ]
        },
    }
    return yaml.safe_dump(config)


def test_prometheus_alerts_fire_and_resolve_in_vigil(
    vigil: Vigil, gauge: Gauge, tmp_path: Path
) -> None:
    need("prometheus")
    name = f"PromTest{uuid.uuid4().hex[:8]}"
    rules = tmp_path / "rules.yml"
    rules.write_text(
        yaml.safe_dump(
            {
                "groups": [
                    {
                        "name": "vigil-acceptance",
                        "rules": [
                            {
                                "alert": name,
                                "expr": "vigil_test_flag > 0",
                                "labels": {"severity": "critical", "team": "db"},
                                "annotations": {"summary": "flag is {{ $value }}"},
                            }
                        ],
                    }
                ]
            }
        )
    )
    session = vigil.session("acme")

    def alerts() -> list[dict[str, Any]]:
        r = session.get(vigil.api(), params={"filter": f'alertname="{name}"'}, timeout=30)
        items: list[dict[str, Any]] = r.json()["items"]
        return items

    with Prometheus(free_port(), prometheus_config(vigil, gauge, rules)):
        (alert,) = wait_for(alerts, timeout=60, interval=0.5)
        # Prometheus's labels, the series' own (instance, job) included.
        assert alert["labels"] == {
            "alertname": name,
            "severity": "critical",
            "team": "db",
            "instance": f"127.0.0.1:{gauge.port}",
            "job": "flag",
        }
        assert alert["annotations"] == {"summary": "flag is 1"}
        assert alert["source"] == "prometheus" and alert["status"] == "firing"
        assert alert["generator_url"].startswith("http://")
        gauge.value = 0
        wait_for(lambda: alerts()[0]["status"] == "resolved", timeout=60, interval=0.5)
        (resolved,) = alerts()
        assert resolved["resolved_by"] == "source"  # Prometheus said so; not a timeout
