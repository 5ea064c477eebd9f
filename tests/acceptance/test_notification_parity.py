"""Notification parity with a real Alertmanager 0.25: every notification equal.

Each generated scenario (``notification_scenarios.py``) runs on its own real
Alertmanager and its own Vigil tenant, both with the same ``alertmanager.yml`` whose
receivers are webhooks to one recorder. The same batches of alerts and silences go to
both at the same moments. Then, for every webhook and every group, the notifications
each system sent are compared one by one: the raw body, byte for byte, except each
system's own address (``externalURL`` and the links made from it). The first receiver
also has a Slack and a PagerDuty integration, compared the same way.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, suppress
from datetime import timedelta
from typing import Any

import pytest
import ray
import requests
import yaml

from bench.real_services import Alertmanager
from cluster.redis_server import free_port
from cluster.runtime import NAMESPACE, tenant_actor_name
from tests.acceptance.clients import need
from tests.acceptance.notification_scenarios import (
    BATCHES,
    INTERVAL,
    NOTIFY_SCENARIOS,
    NotifyScenario,
    utc_now,
)
from tests.acceptance.webhook_recorder import WebhookRecorder
from tests.system import NOTIFY_RECORDER, NOTIFY_RECORDER_SERVER, Vigil

pytestmark = pytest.mark.integration

Sequences = dict[tuple[str, str], list[str]]  # (webhook path, group key) → bodies in order


def sequences(recorder: WebhookRecorder, system: str, scenario: str, external: str) -> Sequences:
    """Each integration's bodies per group (its ``external`` URL blanked), in arrival
    order. Webhooks name the group (``groupKey``), PagerDuty hashes it (``dedup_key``);
    a Slack message does not, so Slack's bodies are one sequence per integration,
    sorted (groups flush in either order at the same moment)."""
    found: Sequences = {}
    prefix = f"/{system}/{scenario}/"
    for path, raw in recorder.bodies():
        if not path.startswith(prefix):
            continue
        body = json.loads(raw)
        group = body.get("groupKey") or body.get("dedup_key") or "slack"
        text = raw.decode().replace(external, "EXTERNAL")
        found.setdefault((path[len(prefix) :], group), []).append(text)
    for key in found:
        if key[1] == "slack":
            found[key].sort()
    return found


def dump(path: str, results: dict[str, tuple[Sequences, Sequences]], vigil: Vigil) -> None:
    """Write both systems' bodies, and Vigil's incidents with their timelines, to a file."""
    document = {
        name: {
            "alertmanager": [[*key, bodies] for key, bodies in am.items()],
            "vigil": [[*key, bodies] for key, bodies in ours.items()],
            "incidents": vigil.incidents(f"notify-{name}"),
        }
        for name, (am, ours) in results.items()
    }
    with open(path, "w") as out:
        json.dump(document, out, indent=1)


def post(url: str, body: Any, session: requests.Session | None = None) -> None:
    r = (session or requests).post(url, json=body, timeout=30)
    assert r.status_code == 200, r.text


def send(
    base: str,
    silences: list[dict[str, Any]],
    alerts: list[dict[str, Any]],
    session: requests.Session | None,
) -> None:
    """One batch to one system: its silences, then its alerts."""
    for silence in silences:
        post(f"{base}/api/v2/silences", silence, session)
    if alerts:
        post(f"{base}/api/v2/alerts", alerts, session)


@pytest.fixture(scope="module")
def parity(vigil: Vigil) -> Iterator[dict[str, tuple[Sequences, Sequences]]]:
    """Run every scenario on both systems at once; (Alertmanager's, Vigil's) bodies."""
    need("prometheus-alertmanager", "alertmanager")
    recorder = NOTIFY_RECORDER_SERVER  # listening since the session started
    results: dict[str, tuple[Sequences, Sequences]] = {}
    with ExitStack() as stack:
        managers: dict[str, Alertmanager] = {}
        for scenario in NOTIFY_SCENARIOS:
            config = yaml.safe_dump(scenario.config(NOTIFY_RECORDER, "am"), allow_unicode=True)
            managers[scenario.name] = stack.enter_context(Alertmanager(free_port(), config))
        for scenario in NOTIFY_SCENARIOS:  # each tenant's actor up before the clock starts
            r = vigil.session(scenario.tenant).get(f"{vigil.url}/api/v2/alerts", timeout=60)
            assert r.status_code == 200, r.text
        start = utc_now() + timedelta(seconds=1)
        plans = {s.name: s.batches(start) for s in NOTIFY_SCENARIOS}

        def play(scenario: NotifyScenario) -> None:
            am = managers[scenario.name].url
            session = vigil.session(scenario.tenant)
            for batch in plans[scenario.name]:
                wait = (
                    start + timedelta(seconds=INTERVAL * batch.index) - utc_now()
                ).total_seconds()
                time.sleep(max(0.0, wait))  # the batch's moment: the test's own timeline
                # Both systems at once: neither gets the batch later than the other.
                with ThreadPoolExecutor(2) as both:
                    sent = [
                        both.submit(send, system, batch.silences, batch.alerts, client)
                        for system, client in ((am, None), (vigil.url, session))
                    ]
                    for done in sent:
                        done.result()  # a refused batch fails the test here

        with ThreadPoolExecutor(len(NOTIFY_SCENARIOS)) as pool:
            list(pool.map(play, NOTIFY_SCENARIOS))
        # The last flushes are due half an interval after the last batch; wait until
        # both systems have been quiet for two intervals (deliveries may retry).
        quiet_since, seen = time.monotonic(), -1
        deadline = time.monotonic() + 120
        while time.monotonic() - quiet_since < 2 * INTERVAL and time.monotonic() < deadline:
            count = len(recorder.bodies())
            if count != seen:
                quiet_since, seen = time.monotonic(), count
            time.sleep(0.2)
        for scenario in NOTIFY_SCENARIOS:
            results[scenario.name] = (
                sequences(recorder, "am", scenario.name, managers[scenario.name].external_url),
                sequences(recorder, "vigil", scenario.name, vigil.settings.public_base_url),
            )
    if os.environ.get("PARITY_DUMP"):  # for a person chasing a difference
        dump(os.environ["PARITY_DUMP"], results, vigil)
    yield results
    for scenario in NOTIFY_SCENARIOS:  # each tenant's actor is a process; free them
        with suppress(ValueError):
            ray.kill(ray.get_actor(tenant_actor_name(scenario.tenant), namespace=NAMESPACE))


def test_the_scenarios_cover_what_the_issue_asks() -> None:
    names = {s.name for s in NOTIFY_SCENARIOS}
    assert {"continue", "no-group-by", "all-labels", "inhibit-equal"} <= names
    assert BATCHES >= 6


@pytest.mark.parametrize("name", [s.name for s in NOTIFY_SCENARIOS])
def test_every_notification_equals_alertmanagers(
    parity: dict[str, tuple[Sequences, Sequences]], name: str
) -> None:
    alertmanager, vigil = parity[name]
    assert alertmanager, f"{name}: the Alertmanager notified nothing"
    resolved = sum('"status":"resolved"' in b for bodies in alertmanager.values() for b in bodies)
    assert resolved, f"{name}: the story never made Alertmanager announce a resolution"
    integrations = {path.rsplit("/", 1)[-1] for path, _ in alertmanager}
    assert {"0", "1", "slack", "pd"} <= integrations  # every kind was notified
    assert sorted(vigil) == sorted(alertmanager)
    for key, bodies in alertmanager.items():
        assert vigil[key] == bodies, key
