"""Storm detection in the running system: a burst after a quiet stretch raises
AlertStorm alerts into the tenant's own stream, where they are stored, listed and
correlated like any other alert."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.integration.test_incidents_api import post_v2
from tests.system import Vigil, unique_labels, wait_for

pytestmark = pytest.mark.integration

TENANT = "umbrella"  # watched in 250 ms buckets (tests/system.py)


def storms(vigil: Vigil) -> list[dict[str, Any]]:
    r = vigil.session(TENANT).get(
        f"{vigil.url}/api/v2/alerts", params={"filter": 'alertname="AlertStorm"'}, timeout=30
    )
    assert r.status_code == 200, r.text
    found: list[dict[str, Any]] = r.json()
    return found


def test_a_burst_after_quiet_raises_alert_storms_for_the_tenant_and_the_service(
    vigil: Vigil,
) -> None:
    post_v2(vigil, TENANT, [{"labels": unique_labels(service="checkout")}])
    time.sleep(9)  # 36 quiet buckets: past the detectors' 30-bucket warm-up
    assert storms(vigil) == []  # one alert in a bucket is no storm
    burst = [{"labels": unique_labels(service="checkout")} for _ in range(40)]
    sent = datetime.now(UTC)
    post_v2(vigil, TENANT, burst)

    raised = wait_for(lambda: (found := storms(vigil)) and len(found) >= 2 and found, timeout=20)
    by_scope = {a["labels"].get("service", "tenant"): a for a in raised}
    assert sorted(by_scope) == ["checkout", "tenant"]
    for alert in raised:
        assert alert["labels"]["vigil_anomaly"] == "storm"
        assert "40 new alerts" in alert["annotations"]["summary"]
        ends = datetime.fromisoformat(alert["endsAt"].replace("Z", "+00:00"))
        assert sent + timedelta(seconds=50) < ends < sent + timedelta(seconds=90)
    assert by_scope["checkout"]["annotations"]["summary"].startswith(
        "alert storm (service checkout)"
    )

    # The storm alerts are correlated like any alert, and do not feed another storm.
    wait_for(lambda: vigil.incidents(TENANT, "AlertStorm"), timeout=20)
    time.sleep(1)
    assert len(storms(vigil)) == 2
