"""Debian's Prometheus 2.42, unchanged, scraping Vigil's ``/metrics``.

One Prometheus for the module: it scrapes Vigil every second with the metrics token
(``credentials_file``, as an operator would configure it) and evaluates
``configs/prometheus/vigil-rules.yml``. A known load goes to the ``metered`` tenant,
which no other test uses, and PromQL must return exactly its counts; then every
panel of ``configs/grafana/vigil.json`` must return a series.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import ray
import requests
import yaml
from prometheus_client.parser import text_string_to_metric_families

from bench.real_services import Prometheus
from cluster.metrics_token import metrics_token, metrics_token_path
from cluster.redis_server import free_port
from cluster.runtime import NAMESPACE
from tests.acceptance.clients import need
from tests.acceptance.conftest import recording_channels
from tests.system import ROOT, Vigil, wait_for, wait_until

pytestmark = pytest.mark.integration

TENANT = "metered"
RULES = ROOT / "configs" / "prometheus" / "vigil-rules.yml"
DASHBOARD = ROOT / "configs" / "grafana" / "vigil.json"
# What Grafana puts in the panels' queries, for a query at one instant.
GRAFANA_VARIABLES = {"$tenant": TENANT, "$__rate_interval": "1m", "$__range": "10m"}


class PromQL:
    """Prometheus's HTTP query API."""

    def __init__(self, url: str) -> None:
        self.url = url

    def query(self, expr: str) -> list[dict[str, Any]]:
        answer = requests.get(f"{self.url}/api/v1/query", params={"query": expr}, timeout=10)
        body = answer.json()
        assert body["status"] == "success", (expr, body)
        result: list[dict[str, Any]] = body["data"]["result"]
        return result

    def value(self, expr: str) -> float | None:
        """The single series' value (``None`` when there is none)."""
        result = self.query(expr)
        assert len(result) <= 1, (expr, result)
        return float(result[0]["value"][1]) if result else None

    async def values(self, exprs: dict[str, str]) -> dict[str, float | None]:
        found = {}
        for name, expr in exprs.items():
            found[name] = await asyncio.to_thread(self.value, expr)
        return found


@pytest.fixture(scope="module")
def prometheus(vigil: Vigil) -> Iterator[PromQL]:
    need("prometheus")
    metrics_token(vigil.settings)  # the file exists once the ingress started; made if not
    config = {
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
        "rule_files": [str(RULES)],
        "scrape_configs": [
            {
                "job_name": "vigil",
                "static_configs": [{"targets": [vigil.url.removeprefix("http://")]}],
                "authorization": {
                    "type": "Bearer",
                    "credentials_file": str(metrics_token_path(vigil.settings)),
                },
            }
        ],
    }
    with Prometheus(free_port(), yaml.safe_dump(config)) as server:
        yield PromQL(server.url)


def test_metrics_take_their_own_token_not_a_tenants_key(vigil: Vigil) -> None:
    url = f"{vigil.url}/metrics"
    assert requests.get(url, timeout=10).status_code == 401
    assert vigil.session("acme").get(url, timeout=10).status_code == 401
    token = metrics_token(vigil.settings)
    answer = requests.get(url, headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain")
    assert "vigil_http_requests_total{" in answer.text


def targets_up(prometheus: PromQL) -> bool:
    return prometheus.value('up{job="vigil"}') == 1.0


async def test_prometheus_scrapes_exact_counts_of_a_known_load(
    vigil: Vigil, prometheus: PromQL
) -> None:
    await wait_until(lambda: asyncio.to_thread(targets_up, prometheus), within=60, interval=0.5)
    session = vigil.session(TENANT)
    name = f"Metered{uuid.uuid4().hex[:8]}"
    alerts = [
        {"labels": {"alertname": name, "n": str(n)}, "severity": "critical"} for n in range(5)
    ]

    def post(path: str, body: Any, **headers: str) -> int:
        data = json.dumps(body) if not isinstance(body, str) else body
        kind = {"Content-Type": "application/json", **headers}
        return session.post(vigil.api(path), data=data, headers=kind, timeout=30).status_code

    async with recording_channels(vigil, TENANT, ("page",)) as servers:
        # 5 alerts (3 alone, 2 in a bulk request), 3 repeats, 2 refusals.
        for alert in alerts[:3]:
            assert await asyncio.to_thread(post, "", alert) == 202
        assert await asyncio.to_thread(post, "/bulk", {"alerts": alerts[3:]}) == 202
        for alert in alerts[:3]:
            assert await asyncio.to_thread(post, "", alert) == 202
        assert await asyncio.to_thread(post, "", {"severity": "critical"}) == 422
        assert await asyncio.to_thread(post, "", "x", **{"Content-Type": "text/plain"}) == 415
        # One incident (one group), one escalation step: one page.
        page = servers["page"]

        async def paged() -> bool:
            return len(page.received) >= 1

        await wait_until(paged, within=60)

        on = f'tenant="{TENANT}"'
        expected = {
            f"sum(vigil_alerts_received_total{{{on}}})": 8.0,
            f'vigil_alerts_received_total{{{on},endpoint="/api/v1/critical-alerts"}}': 6.0,
            f'vigil_alerts_received_total{{{on},endpoint="/api/v1/critical-alerts/bulk"}}': 2.0,
            f"sum(vigil_alerts_stored_total{{{on}}})": 5.0,
            f"sum(vigil_alerts_duplicates_total{{{on}}})": 3.0,
            # 7 accepted requests, one after another: 7 calls of the actor, none merged.
            f"sum(vigil_ingest_requests_per_call_sum{{{on}}})": 7.0,
            f"sum(vigil_ingest_requests_per_call_count{{{on}}})": 7.0,
            f"sum(vigil_requests_rejected_total{{{on}}})": 2.0,
            f'sum(vigil_requests_rejected_total{{{on},reason="invalid_request"}})': 1.0,
            f'sum(vigil_requests_rejected_total{{{on},reason="unsupported_media_type"}})': 1.0,
            f"sum(vigil_correlator_changes_total{{{on}}})": 8.0,
            f"sum(vigil_incidents_created_total{{{on}}})": 1.0,
            f"sum(vigil_incidents_open{{{on}}})": 1.0,
            f'sum(vigil_incident_memberships_total{{{on},reason="group_key"}})': 5.0,
            f"sum(vigil_escalation_steps_due_total{{{on}}})": 1.0,
            f"sum(vigil_escalation_steps_delivered_total{{{on}}})": 1.0,
            f"sum(vigil_escalation_delay_seconds_count{{{on}}})": 1.0,
            f'sum(vigil_notifications_total{{{on},outcome="delivered"}})': 1.0,
            f'sum(vigil_notifications_total{{{on},channel_type="webhook"}})': 1.0,
            f'sum(vigil_notifications_total{{{on},outcome="failed"}})': 0.0,
            f'vigil_loop_healthy{{{on},kind="escalator"}}': 1.0,
            f'vigil_loop_healthy{{{on},kind="correlator"}}': 1.0,
        }

        async def counted() -> bool:
            return await prometheus.values({e: e for e in expected}) == expected

        try:
            await wait_until(counted, within=60, interval=1.0)
        except BaseException:
            print("got", await prometheus.values({e: e for e in expected}))
            raise
        # The page was exactly one, and nothing more is still on its way.
        assert len(page.received) == 1

    # Once the incident's outcome is known (here by feedback), its risk is counted
    # again under that outcome: the served model's live check. The starter model's
    # score is provisional.
    def scored() -> dict[str, Any] | None:
        found = vigil.incidents(TENANT, name)
        return found[0] if len(found) == 1 and found[0]["risk"] is not None else None

    incident = await asyncio.to_thread(wait_for, scored, 60)
    verdict = {"verdict": "actionable", "by": "ana"}
    url = vigil.incidents_url(f"/{incident['id']}/feedback")
    said = await asyncio.to_thread(session.post, url, json=verdict, timeout=30)
    assert said.status_code == 200, said.text
    at_outcome = f'{{tenant="{TENANT}",outcome="actionable",standing="provisional"}}'
    expected_outcome = {
        f"vigil_risk_score_at_outcome_count{at_outcome}": 1.0,
        f'sum(vigil_risk_score_at_outcome_count{{tenant="{TENANT}",outcome="noise"}})': 0.0,
    }

    async def outcome_counted() -> bool:
        got = await prometheus.values({e: e for e in expected_outcome})
        return got == expected_outcome

    await wait_until(outcome_counted, within=60, interval=1.0)
    # The score counted is the incident's (the API rounds it to 4 places).
    counted_score = await asyncio.to_thread(
        prometheus.value, f"vigil_risk_score_at_outcome_sum{at_outcome}"
    )
    assert counted_score is not None and abs(counted_score - incident["risk"]) < 1e-3


async def test_every_dashboard_panel_returns_a_series(vigil: Vigil, prometheus: PromQL) -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    variables = [v["name"] for v in dashboard["templating"]["list"]]
    assert variables == ["datasource", "tenant"]
    panels = [p for p in dashboard["panels"] if p["type"] != "row"]
    assert len(panels) >= 20
    queries = {}
    for panel in panels:
        assert panel["targets"], panel["title"]
        for target in panel["targets"]:
            expr = target["expr"]
            for variable, value in GRAFANA_VARIABLES.items():
                expr = expr.replace(variable, value)
            assert "$" not in expr, (panel["title"], expr)
            queries[f"{panel['title']} / {target['refId']}"] = expr

    async def empty() -> list[str]:
        found = []
        for title, expr in queries.items():
            if not await asyncio.to_thread(prometheus.query, expr):
                found.append(f"{title}: {expr}")
        return found

    # The tenant's series exist from its actors' start (at 0); the histograms' quantiles
    # need the load test's observations (it runs first).
    await wait_until(lambda: asyncio.to_thread(targets_up, prometheus), within=60, interval=0.5)
    missing: list[str] = []

    async def none_empty() -> bool:
        nonlocal missing
        missing = await empty()
        return not missing

    try:
        await wait_until(none_empty, within=60, interval=1.0)
    except BaseException:
        print("panels without a series:", *missing, sep="\n  ")
        raise


def test_vigils_rules_load_and_evaluate_in_prometheus(prometheus: PromQL) -> None:
    def evaluated() -> list[dict[str, Any]] | None:
        answer = requests.get(f"{prometheus.url}/api/v1/rules", timeout=10).json()
        rules = [r for g in answer["data"]["groups"] for r in g["rules"]]
        done = all(r.get("lastEvaluation", "").startswith("20") for r in rules)
        return rules if rules and done else None

    rules = wait_for(evaluated, timeout=60, interval=0.5)
    assert len(rules) == len(yaml.safe_load(RULES.read_text())["groups"][0]["rules"])
    assert all(r["health"] == "ok" for r in rules), [(r["name"], r.get("lastError")) for r in rules]
    stalled = prometheus.query(f'ALERTS{{alertname="VigilLoopStalled",tenant="{TENANT}"}}')
    assert stalled == []


def scraped(vigil: Vigil) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """One scrape of ``/metrics``: (sample name, labels) → value."""
    token = metrics_token(vigil.settings)
    answer = requests.get(
        f"{vigil.url}/metrics", headers={"Authorization": f"Bearer {token}"}, timeout=10
    )
    assert answer.status_code == 200, answer.text
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(answer.text)
        for s in family.samples
    }


def test_a_killed_actor_counts_one_more_start_and_publishes_again(vigil: Vigil) -> None:
    actor = f"tenant:{TENANT}"
    started = ("vigil_actor_starts_total", frozenset({("actor", actor)}))

    def send() -> None:  # also makes the actor, if nothing has yet
        alert = {"labels": {"alertname": f"Kill{uuid.uuid4().hex[:8]}"}, "severity": "info"}
        answer = vigil.session(TENANT).post(vigil.api(), json=alert, timeout=30)
        assert answer.status_code == 202, answer.text

    send()
    before = wait_for(lambda: scraped(vigil).get(started), timeout=60, interval=0.5)
    ray.kill(ray.get_actor(actor, namespace=NAMESPACE), no_restart=False)
    # Ray restarts it; the new process's publisher counts the start in its first
    # publication, so the count going up is the new process publishing.
    wait_for(lambda: scraped(vigil).get(started) == before + 1, timeout=60, interval=0.5)
    send()
