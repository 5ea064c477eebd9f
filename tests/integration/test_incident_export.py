"""Vigil's own export as training history: ``vigil export-incidents`` writes a
tenant's incidents through its API, and ``vigil train --from-alerts`` reads their
members back with the outcomes people gave them."""

from __future__ import annotations

from pathlib import Path

import pytest

from cli.main import main
from models.alert_history import read_alert_history
from tests.integration.test_incidents_api import post_v2
from tests.system import TENANTS, Vigil, unique_labels, wait_for

pytestmark = pytest.mark.integration


def test_exported_incidents_read_back_with_the_outcomes_people_gave(
    vigil: Vigil, tmp_path: Path
) -> None:
    run = unique_labels()["alertname"]  # one label for this test's alerts
    acted = {"alertname": f"{run}A", "run": run, "severity": "critical"}
    alone = {"alertname": f"{run}B", "run": run}
    told = {"alertname": f"{run}C", "run": run}
    waiting = {"alertname": f"{run}D", "run": run}
    post_v2(vigil, "acme", [{"labels": x} for x in (acted, alone, told, waiting)])
    s = vigil.session("acme")

    def incidents() -> dict[str, dict[str, str]] | None:
        found = vigil.incidents("acme", filter=f'run="{run}"')
        if len(found) != 4:
            return None
        return {i["members"][0]["labels"]["alertname"]: i for i in found}

    by_name = wait_for(incidents, timeout=20)
    url = vigil.incidents_url
    # Acknowledged by a person, then resolved: actionable.
    assert s.post(url(f"/{by_name[acted['alertname']]['id']}/acknowledge"), json={}, timeout=30).ok
    # Resolved by its source with nobody touching it: noise.
    post_v2(vigil, "acme", [{"labels": alone, "endsAt": "2020-01-01T00:00:00Z"}])
    # A person's verdict decides, whatever else happened.
    verdict = {"verdict": "noise"}
    assert s.post(url(f"/{by_name[told['alertname']]['id']}/feedback"), json=verdict, timeout=30).ok
    post_v2(vigil, "acme", [{"labels": acted, "endsAt": "2020-01-01T00:00:00Z"}])

    def settled() -> bool:
        now = {
            i["members"][0]["labels"]["alertname"]: i
            for i in vigil.incidents("acme", filter=f'run="{run}"')
        }
        return (
            now[acted["alertname"]]["state"] == "resolved"
            and now[alone["alertname"]]["state"] == "resolved"
        )

    wait_for(settled, timeout=20)
    out = tmp_path / "incidents.jsonl"
    argv = ["export-incidents", str(out), "--api-key", TENANTS["acme"], "--url", vigil.url]
    assert main([*argv, "--filter", f'run="{run}"']) == 0
    events = read_alert_history(out)
    outcomes = {(e.labels["alertname"], e.firing): e.outcome for e in events}
    assert outcomes == {
        (acted["alertname"], True): 1,
        (acted["alertname"], False): 1,
        (alone["alertname"], True): 0,
        (alone["alertname"], False): 0,
        (told["alertname"], True): 0,  # still firing: no end, but a verdict
        (waiting["alertname"], True): None,  # open, nobody said anything: no label yet
    }
