"""One alert, followed across processes: its trace (every hop's spans, exported over
OTLP to a local receiver) and its story in the JSON logs (``vigil logs --incident``).

The session's Vigil exports traces to ``tests/otlp_receiver.py`` with a sample ratio
of 0: only a request whose ``traceparent`` asks to be sampled is traced, as a client
that traces its own calls would ask.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import secrets
from typing import Any

import pytest

from cli.logs import cmd_logs
from tests.acceptance.conftest import recording_channels
from tests.otlp_receiver import OtlpReceiver, ReceivedSpan
from tests.system import Vigil, unique_labels, wait_until

pytestmark = pytest.mark.integration

TENANT = "hooli"  # its default policy pages channel l1 at once
HOPS = {"POST /api/v1/critical-alerts", "tenant.ingest", "correlate", "escalate", "notify"}


def story(vigil: Vigil, incident_id: str) -> list[dict[str, Any]]:
    """``vigil logs --incident ID --json``, as its lines."""
    out = io.StringIO()
    args = argparse.Namespace(tenant=None, incident=incident_id, follow=False, last=0, json=True)
    cmd_logs(args, vigil.settings.data_dir, out)
    return [json.loads(line) for line in out.getvalue().splitlines()]


async def test_one_alert_makes_one_trace_through_every_hop_and_one_story_in_the_logs(
    vigil: Vigil, otlp_receiver: OtlpReceiver
) -> None:
    trace_id, client_span = secrets.token_hex(16), secrets.token_hex(8)
    labels = unique_labels()
    session = vigil.session(TENANT)
    async with recording_channels(vigil, TENANT, ("l1", "l2")) as servers:
        answer = await asyncio.to_thread(
            session.post,
            vigil.api(),
            json={"labels": labels, "severity": "critical"},
            headers={"traceparent": f"00-{trace_id}-{client_span}-01"},
            timeout=30,
        )
        assert answer.status_code == 202, answer.text
        alert_id = answer.json()["id"]

        async def paged() -> bool:
            return any(labels["alertname"].encode() in r.body for r in servers["l1"].received)

        await wait_until(paged, within=60)

        async def every_hop() -> list[ReceivedSpan] | None:
            spans = otlp_receiver.trace(trace_id)
            return spans if {s.name for s in spans} >= HOPS else None

        try:
            await wait_until(every_hop, within=60, interval=0.5)
        except BaseException:
            print("spans:", [(s.name, s.service) for s in otlp_receiver.trace(trace_id)])
            raise
        spans = otlp_receiver.trace(trace_id)
        # One trace, connected: every span's parent is in it, or is the client's span.
        ids = {s.span_id for s in spans}
        assert all(s.parent_span_id in ids | {client_span} for s in spans), spans
        (server,) = [s for s in spans if s.name == "POST /api/v1/critical-alerts"]
        assert server.parent_span_id == client_span
        assert server.attributes["http.response.status_code"] == 202
        services = {s.service for s in spans}
        assert {"vigil-ingress", "vigil-tenant", "vigil-correlator", "vigil-escalator"} <= services
        notified = [s for s in spans if s.name == "notify"]
        assert any(s.attributes.get("vigil.result") == "delivered" for s in notified)

        # The incident's story, from every process that had a part in it.
        incident = (await asyncio.to_thread(vigil.incidents, TENANT, labels["alertname"]))[0]
        acked = await asyncio.to_thread(
            session.post,
            vigil.incidents_url(f"/{incident['id']}/acknowledge"),
            json={"reason": "looking"},
            timeout=30,
        )
        assert acked.status_code == 200, acked.text

        async def told() -> list[dict[str, Any]] | None:
            lines = await asyncio.to_thread(story, vigil, incident["id"])
            # A round's timeline entries share a line: incident.created+alert_joined.
            events = {
                f"{line['event'].split('.')[0]}.{kind}"
                for line in lines
                for kind in line["event"].split(".", 1)[1].split("+")
            }
            wanted = {"alerts.stored", "incident.created", "incident.escalated", "api.acknowledge"}
            return lines if wanted <= events else None

        try:
            lines = await wait_until(told, within=60, interval=0.5)
        except BaseException:
            print(*story(vigil, incident["id"]), sep="\n")
            raise
    assert isinstance(lines, list)
    processes = {line["process"].split(":")[0] for line in lines}
    assert {"tenant", "correlator", "escalator", "ingress"} <= processes
    stored = [line for line in lines if line["event"] == "alerts.stored"]
    assert any(alert_id in line["alert_ids"] for line in stored)
    # The lines written while the alert's trace was current carry its id.
    assert any(line.get("trace_id") == trace_id for line in lines)
    assert all(line["tenant"] == TENANT for line in lines if "tenant" in line)
    assert [line["time"] for line in lines] == sorted(line["time"] for line in lines)
