"""The on-call API over real HTTP: who is on call at a time, and every refusal."""

from __future__ import annotations

import pytest
import requests

from tests.system import Vigil

pytestmark = pytest.mark.integration


def oncall_url(vigil: Vigil, schedule: str) -> str:
    return f"{vigil.url}/api/v1/schedules/{schedule}/oncall"


@pytest.mark.parametrize(
    ("at", "user", "source", "until"),
    [
        # 2026-01-01 is ana's first day; the 327th day after is ben's (odd index).
        ("2026-11-24T10:00:00Z", "ben", "daily", "2026-11-25T08:00:00.000Z"),
        ("2026-11-25T08:30:00+01:00", "ben", "daily", "2026-11-25T08:00:00.000Z"),
        ("2026-11-25T09:00:00+01:00", "ana", "daily", "2026-11-26T08:00:00.000Z"),
        # The override: dee from 18:00 Berlin to 09:00 the next morning.
        ("2026-11-26T20:00:00Z", "dee", "override", "2026-11-27T08:00:00.000Z"),
    ],
)
def test_who_is_on_call_at_a_time(
    vigil: Vigil, at: str, user: str, source: str, until: str
) -> None:
    r = vigil.session("acme").get(oncall_url(vigil, "primary"), params={"at": at}, timeout=30)
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["user"], body["source"], body["until"]) == (user, source, until)
    assert body["schedule"] == "primary" and body["time_zone"] == "Europe/Berlin"


def test_without_a_time_the_answer_is_for_now(vigil: Vigil) -> None:
    r = vigil.session("acme").get(oncall_url(vigil, "primary"), timeout=30)
    assert r.status_code == 200, r.text
    assert r.json()["user"] in {"ana", "ben", "dee"}


def test_the_schedules_are_listed(vigil: Vigil) -> None:
    r = vigil.session("acme").get(f"{vigil.url}/api/v1/schedules", timeout=30)
    assert r.status_code == 200, r.text
    assert r.json() == {
        "items": [
            {
                "id": "primary",
                "time_zone": "Europe/Berlin",
                "layers": [{"name": "daily", "rotation": "daily"}],
            }
        ]
    }
    other = vigil.session("globex").get(f"{vigil.url}/api/v1/schedules", timeout=30)
    assert other.json() == {"items": []}


@pytest.mark.parametrize(
    ("at", "message"),
    [
        ("yesterday", "must be an RFC 3339 time"),
        ("2026-11-26T09:00:00", "needs a time zone"),
        ("2026-11-26T09:00:00Z" + "0" * 100, "longer than 64 characters"),
    ],
)
def test_a_bad_time_is_422_naming_the_parameter(vigil: Vigil, at: str, message: str) -> None:
    r = vigil.session("acme").get(oncall_url(vigil, "primary"), params={"at": at}, timeout=30)
    assert r.status_code == 422, r.text
    assert message in r.text and '"field":"at"' in r.text.replace(" ", "")


def test_unknown_or_another_tenants_schedule_is_not_found(vigil: Vigil) -> None:
    assert vigil.session("acme").get(oncall_url(vigil, "nope"), timeout=30).status_code == 404
    # globex has no schedule "primary"; acme's is not visible to it.
    assert vigil.session("globex").get(oncall_url(vigil, "primary"), timeout=30).status_code == 404


def test_unauthenticated_requests_are_refused(vigil: Vigil) -> None:
    assert requests.get(oncall_url(vigil, "primary"), timeout=30).status_code == 401
    bad = requests.get(oncall_url(vigil, "primary"), auth=("acme", "wrong"), timeout=30)
    assert bad.status_code == 401
    assert requests.get(f"{vigil.url}/api/v1/schedules", timeout=30).status_code == 401
