"""Tiers bound what one tenant may ask: requests per second on every path, open
alerts and silences. A tenant over its limits gets a 429 and nothing changes; the
others are not slowed.

Before: 200 rapid requests all got 202 whatever the tenant, and nothing bounded a
tenant's open alerts or silences. ``tiny`` is on the free tier with
``tests.system.TINY_LIMITS`` (1 request/s, 5 at once, 5 open alerts, 2 silences).
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests

from tests.integration.test_pagerduty_api import enqueue, trigger
from tests.security.helpers import silence, v2
from tests.system import TINY_LIMITS, Vigil, unique_labels, wait_for

pytestmark = pytest.mark.integration

TENANT = "tiny"


def politely(send: Any, deadline_seconds: float = 60.0) -> requests.Response:
    """Send until the answer is not a 429 for the rate, waiting as ``Retry-After`` says
    (what a well-behaved client does)."""
    deadline = time.monotonic() + deadline_seconds
    while True:
        r: requests.Response = send()
        if r.status_code != 429 or "requests/s" not in r.text:  # a quota is not waited out
            return r
        assert time.monotonic() < deadline, "still rate-limited after a minute"
        time.sleep(float(r.headers["Retry-After"]))


def total(vigil: Vigil, name: str) -> int:
    """How many alerts of this alertname tiny has (asked politely)."""
    s = vigil.session(TENANT)
    r = politely(lambda: s.get(vigil.api(), params={"filter": f'alertname="{name}"'}, timeout=30))
    assert r.status_code == 200, r.text
    found: int = r.json()["total"]
    return found


def silence_set(vigil: Vigil) -> set[str]:
    s = vigil.session(TENANT)
    r = politely(lambda: s.get(v2(vigil, "/silences"), timeout=30))
    return {x["id"] for x in r.json()}


def clear_open_alerts_and_silences(vigil: Vigil) -> None:
    """Resolve every open alert of tiny (one bulk request) and expire its silences."""
    s = vigil.session(TENANT)
    listing = politely(
        lambda: s.get(vigil.api(), params={"status": ["firing", "acknowledged"], "limit": 1000})
    )
    resolved = [{"labels": a["labels"], "status": "resolved"} for a in listing.json()["items"]]
    if resolved:
        r = politely(lambda: s.post(vigil.api("/bulk"), json={"alerts": resolved}, timeout=30))
        assert r.status_code == 202, r.text
    for silence_id in politely(lambda: s.get(v2(vigil, "/silences"))).json():
        if silence_id["status"]["state"] != "expired":
            politely(lambda i=silence_id["id"]: s.delete(v2(vigil, f"/silence/{i}")))


def test_a_flood_is_refused_with_retry_after_and_other_tenants_are_not_slowed(
    vigil: Vigil,
) -> None:
    tiny, acme = vigil.session(TENANT), vigil.session("acme")
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda _: tiny.get(vigil.api(), timeout=30), range(60)))
    refused = [r for r in answers if r.status_code == 429]
    # 5 at once and 1 a second: whatever the machine's speed, most of 60 are refused.
    assert len(refused) >= 30, [r.status_code for r in answers]
    assert all(r.status_code in (200, 429) for r in answers)
    body = refused[0].json()
    assert body["error"] == "rate_limited" and "requests/s" in body["message"]
    assert int(refused[0].headers["Retry-After"]) >= 1
    # Another tenant is answered at once meanwhile.
    assert all(acme.get(vigil.api(), timeout=30).status_code == 200 for _ in range(20))
    # After the wait it names, the tenant is served again.
    assert politely(lambda: tiny.get(vigil.api(), timeout=30)).status_code == 200


def test_every_ingest_path_draws_from_the_same_budget(vigil: Vigil) -> None:
    name = f"flood-{time.monotonic_ns()}"
    alert = {"labels": {"alertname": name}}
    paths = [
        lambda: vigil.session(TENANT).post(vigil.api(), json=alert, timeout=30),
        lambda: vigil.session(TENANT).post(v2(vigil, "/alerts"), json=[alert], timeout=30),
        lambda: enqueue(vigil, trigger(tenant=TENANT)),
    ]
    for send in paths:
        statuses = [send().status_code for _ in range(int(TINY_LIMITS["burst"]) + 5)]
        assert 429 in statuses, statuses
        politely(lambda: vigil.session(TENANT).get(vigil.api(), timeout=30))  # wait it out


def test_open_alerts_past_the_quota_are_refused_whole(vigil: Vigil) -> None:
    clear_open_alerts_and_silences(vigil)
    s, name = vigil.session(TENANT), f"quota-{time.monotonic_ns()}"
    limit = int(TINY_LIMITS["max_open_alerts"])

    def bulk(count: int, start: int = 0) -> requests.Response:
        alerts = [{"labels": {"alertname": name, "n": str(start + i)}} for i in range(count)]
        return politely(lambda: s.post(vigil.api("/bulk"), json={"alerts": alerts}, timeout=30))

    r = bulk(limit + 1)
    assert r.status_code == 429 and r.json()["error"] == "quota_exceeded", r.text
    assert f"{limit} open alerts" in r.json()["message"]
    assert total(vigil, name) == 0  # all or none
    assert bulk(limit).status_code == 202
    assert bulk(1, start=limit).status_code == 429
    assert bulk(limit).status_code == 202  # the same alerts again: refreshes, not new
    assert total(vigil, name) == limit
    first = politely(lambda: s.get(vigil.api(), params={"filter": f'alertname="{name}"'}))
    alert_id = first.json()["items"][0]["id"]
    assert politely(lambda: s.post(vigil.api(f"/{alert_id}/resolve"))).status_code == 200
    assert bulk(1, start=limit).status_code == 202  # room again
    clear_open_alerts_and_silences(vigil)


def test_silences_past_the_quota_are_refused(vigil: Vigil) -> None:
    clear_open_alerts_and_silences(vigil)
    s = vigil.session(TENANT)
    limit = int(TINY_LIMITS["max_silences"])

    def create() -> requests.Response:
        body = silence(
            [{"name": "alertname", "value": f"s{time.monotonic_ns()}", "isRegex": False}]
        )
        return politely(lambda: s.post(v2(vigil, "/silences"), json=body, timeout=30))

    made = [create() for _ in range(limit)]
    assert all(r.status_code == 200 for r in made)
    before = silence_set(vigil)
    r = create()  # Alertmanager's API answers errors as a JSON string
    assert r.status_code == 429 and "silences" in r.json(), r.text
    assert silence_set(vigil) == before
    first = made[0].json()["silenceID"]
    assert politely(lambda: s.delete(v2(vigil, f"/silence/{first}"))).status_code == 200
    assert create().status_code == 200
    clear_open_alerts_and_silences(vigil)


def test_a_tenant_on_the_default_tier_keeps_its_headroom(vigil: Vigil) -> None:
    s = vigil.session("globex")
    labels = unique_labels()
    statuses = {
        s.post(vigil.api(), json={"labels": labels}, timeout=30).status_code for _ in range(50)
    }
    assert statuses == {202}


def test_a_timeline_past_the_tiers_length_says_what_it_dropped(vigil: Vigil) -> None:
    clear_open_alerts_and_silences(vigil)
    s, name = vigil.session(TENANT), f"timeline-{time.monotonic_ns()}"
    cap = int(TINY_LIMITS["timeline_entries"])
    alerts = [{"labels": {"alertname": name, "n": str(i)}} for i in range(cap + 5)]
    r = politely(lambda: s.post(vigil.api("/bulk"), json={"alerts": alerts}, timeout=30))
    assert r.status_code == 202, r.text

    def incident() -> dict[str, Any] | None:
        found = politely(
            lambda: s.get(vigil.incidents_url(), params={"filter": f'alertname="{name}"'})
        ).json()["items"]
        if not found:
            return None
        detail = politely(lambda: s.get(vigil.incidents_url(f"/{found[0]['id']}"))).json()
        members = len(detail["members"])
        return detail if members == cap + 5 and detail["timeline_dropped"] > 0 else None

    detail = wait_for(incident, timeout=60)
    assert len(detail["timeline"]) == cap  # the newest, as the tier allows
    assert detail["timeline_dropped"] >= 5  # one "joined" per member at least: not silent
    clear_open_alerts_and_silences(vigil)
