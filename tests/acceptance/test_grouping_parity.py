"""Grouping parity with a real Alertmanager 0.25.

Each scenario (``grouping/scenario.*.yml``) is loaded into a real Alertmanager whose
receivers are webhooks to a local recorder, and into its own Vigil tenant. The same
alerts go to both. The groups the Alertmanager notifies (group key, receiver, the
alerts it lists) must equal the incidents Vigil forms (group key, receiver, the
members neither silenced nor inhibited).
"""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Iterator
from contextlib import ExitStack, suppress

import pytest
import ray
import requests
import yaml

from alerting.amconfig import parse_alertmanager_config
from bench.real_services import Alertmanager
from cluster.redis_server import free_port
from cluster.runtime import NAMESPACE, tenant_actor_name
from tests.acceptance.clients import need
from tests.acceptance.grouping_scenarios import SCENARIOS, Scenario
from tests.acceptance.webhook_recorder import WebhookRecorder
from tests.system import Vigil, wait_for

pytestmark = pytest.mark.integration

Groups = dict[str, tuple[str, frozenset[str]]]  # group key → (receiver, alert fingerprints)


class Recorder(WebhookRecorder):
    """Notifications by scenario (the first part of the path)."""

    def groups(self, scenario: str) -> Groups:
        """The latest notification of each group the Alertmanager of ``scenario`` sent."""
        found: Groups = {}
        for path, raw in self.bodies():
            if path.strip("/").split("/")[0] == scenario:
                body = json.loads(raw)
                firing = frozenset(
                    a["fingerprint"] for a in body["alerts"] if a["status"] == "firing"
                )
                found[body["groupKey"]] = (body["receiver"], firing)
        return found


def am_config(scenario: Scenario, recorder: Recorder) -> str:
    """The scenario's routing with every receiver a webhook to the recorder."""
    config = copy.deepcopy(scenario.routing)
    for receiver in config["receivers"]:
        url = f"{recorder.url}/{scenario.name}/{receiver['name']}"
        receiver["webhook_configs"] = [{"url": url, "send_resolved": True}]
    return yaml.safe_dump(config, allow_unicode=True)


def vigil_groups(vigil: Vigil, scenario: Scenario) -> Groups | None:
    """Vigil's incidents for the scenario, once every expected membership is there."""
    root = parse_alertmanager_config(scenario.routing).root
    expected = sum(len(root.match(a)) for a in scenario.alerts)
    details = vigil.incidents(scenario.tenant)
    if sum(len(d["members"]) for d in details) < expected:
        return None
    groups: Groups = {}
    for d in details:
        loud = frozenset(m["fingerprint"] for m in d["members"] if not m["suppressed"])
        if loud:  # a group with every alert muted notifies nothing in Alertmanager either
            groups[d["group_key"]] = (d["receiver"], loud)
    return groups


@pytest.fixture(scope="module")
def parity(vigil: Vigil) -> Iterator[dict[str, tuple[Groups, Groups]]]:
    """Run every scenario on both systems at once; (Alertmanager's, Vigil's) groups by name."""
    need("prometheus-alertmanager", "alertmanager")
    recorder = Recorder()
    results: dict[str, tuple[Groups, Groups]] = {}
    with ExitStack() as stack:
        managers = {}
        for scenario in SCENARIOS:
            am = Alertmanager(free_port(), am_config(scenario, recorder))
            stack.enter_context(am)
            managers[scenario.name] = am
        for scenario in SCENARIOS:
            body = [{"labels": labels} for labels in scenario.alerts]
            url = f"{managers[scenario.name].url}/api/v2/alerts"
            assert requests.post(url, json=body, timeout=10).status_code == 200
            r = vigil.session(scenario.tenant).post(
                f"{vigil.url}/api/v2/alerts", json=body, timeout=30
            )
            assert r.status_code == 200, r.text
        time.sleep(3)  # group_wait is 1s; the next flush is 5m away
        for scenario in SCENARIOS:
            found = wait_for(lambda s=scenario: vigil_groups(vigil, s), timeout=30)
            results[scenario.name] = (recorder.groups(scenario.name), found)
    recorder.close()
    yield results
    for scenario in SCENARIOS:  # each tenant's actor is a process; free them
        with suppress(ValueError):
            ray.kill(ray.get_actor(tenant_actor_name(scenario.tenant), namespace=NAMESPACE))


def test_there_are_at_least_fifteen_scenarios() -> None:
    assert len(SCENARIOS) >= 15


@pytest.mark.parametrize("name", [s.name for s in SCENARIOS])
def test_incidents_equal_alertmanager_groups(
    parity: dict[str, tuple[Groups, Groups]], name: str
) -> None:
    alertmanager, vigil = parity[name]
    assert alertmanager, f"{name}: the Alertmanager notified nothing"
    assert vigil == alertmanager, (sorted(vigil), sorted(alertmanager))
