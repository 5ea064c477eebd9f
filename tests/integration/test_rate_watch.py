"""Storm detection in the running system: a burst after a quiet stretch raises
AlertStorm alerts into the tenant's own stream, where they are stored, listed and
correlated like any other alert."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import ray

from actors.actor_call import ActorUnavailable
from actors.correlator_client import correlator_client
from cluster.runtime import NAMESPACE, correlator_name
from models.rate_memory import MAX_KEPT_BUCKETS
from tests.integration.test_incidents_api import post_v2
from tests.system import Vigil, unique_labels, wait_for, wait_until

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


async def test_a_restarted_correlator_resumes_its_rate_watch_from_the_stored_counts(
    vigil: Vigil,
) -> None:
    """Without the stored counts, a restarted correlator's watch starts from nothing:
    30 buckets before a surprise alarms, 150 before a new level does, 4,000 before a
    recent extreme does (hours to days of one-minute buckets)."""
    watch = correlator_client(TENANT, vigil.settings)
    post_v2(vigil, TENANT, [{"labels": unique_labels(service="checkout")}])

    async def remembered() -> dict[str, Any] | None:
        # 40 buckets more than it resumed from, if an earlier test's kill resumed it:
        # so an answer of the correlator about to die cannot pass for the new one's.
        state = await watch.rate_watch()
        return state if state["remembered"] >= state["resumed_from"] + 40 else None

    before: Any = await wait_until(remembered, within=60)
    ray.kill(ray.get_actor(correlator_name(0), namespace=NAMESPACE), no_restart=False)
    # Every bucket it had seen when it was killed was stored with the commit that
    # closed it (up to the most kept), and the new correlator's watch goes on from them.
    expected = min(before["remembered"], MAX_KEPT_BUCKETS)

    async def replayed() -> dict[str, Any] | None:
        try:
            state = await watch.rate_watch()
        except ActorUnavailable:  # still restarting
            return None
        resumed = state["resumed_from"] >= expected and not state["replaying"]
        return state if resumed else None

    after: Any = await wait_until(replayed, within=90)
    assert after["remembered"] >= after["resumed_from"]
