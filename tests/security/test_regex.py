"""A tenant's regexes cannot stall anyone: RE2 matches in linear time, and patterns
and matcher lists are bounded.

Before RE2, ``(a+)+b`` against 40 ``a`` took Python's backtracking engine about 2^40
steps: the listing below never answered and the shared correlator stalled for every
tenant of its shard. Each probe here would hang until the test's timeout (a failure),
or answer 500; now each answers at once, and a refused one stores nothing.
"""

from __future__ import annotations

import pytest
import requests

from tests.security.helpers import alert_total, regex_matcher, silence, silence_ids, v2
from tests.system import Vigil, unique_labels, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]

EVIL = "(a+)+b"  # exponential on a backtracking engine when the input lacks the "b"
VICTIM_INPUT = "a" * 40


def test_pathological_silence_leaves_every_tenant_working(vigil: Vigil) -> None:
    acme, globex = vigil.session("acme"), vigil.session("globex")
    labels = unique_labels(probe=VICTIM_INPUT)
    created = acme.post(
        v2(vigil, "/silences"), json=silence([regex_matcher("probe", EVIL)]), timeout=30
    )
    assert created.status_code == 200, created.text
    sid = created.json()["silenceID"]
    try:
        r = acme.post(vigil.api(), json={"labels": labels, "severity": "critical"}, timeout=30)
        assert r.status_code == 202, r.text
        # acme's own alert forms an incident, unmuted: the regex does not match "aaa…".
        (incident,) = wait_for(lambda: vigil.incidents("acme", labels["alertname"]), timeout=60)
        (member,) = incident["members"]
        assert member["silenced_by"] == []
        # Another tenant on the same correlator shard still gets its incidents.
        other = unique_labels()
        r = globex.post(vigil.api(), json={"labels": other, "severity": "critical"}, timeout=30)
        assert r.status_code == 202, r.text
        wait_for(lambda: vigil.incidents("globex", other["alertname"]), timeout=60)
        listing = globex.get(vigil.incidents_url(), params={"limit": 10}, timeout=30)
        assert listing.status_code == 200
    finally:
        acme.delete(v2(vigil, f"/silence/{sid}"), timeout=30)


@pytest.mark.parametrize("path", ["/alerts", "/alerts/groups", "/silences"])
def test_pathological_filter_answers_at_once(vigil: Vigil, path: str) -> None:
    labels = unique_labels(probe=VICTIM_INPUT)
    s = vigil.session("acme")
    assert s.post(v2(vigil, "/alerts"), json=[{"labels": labels}], timeout=30).status_code == 200
    r = s.get(v2(vigil, path), params={"filter": f'probe=~"{EVIL}"'}, timeout=30)
    assert r.status_code == 200, r.text
    assert requests.get(f"{vigil.url}/healthz", timeout=30).status_code == 200


def test_pathological_native_filter_answers_at_once(vigil: Vigil) -> None:
    s = vigil.session("acme")
    for url in (vigil.api(), vigil.incidents_url()):
        r = s.get(url, params={"filter": f'probe=~"{EVIL}"'}, timeout=30)
        assert r.status_code == 200, r.text


@pytest.mark.parametrize(
    "pattern, reason",
    [
        ("(" * 2000 + ")" * 2000, "at most 1024"),  # nested 2,000 deep: was a 500
        ("x" * 1025, "at most 1024"),
        ("(a{1000}){1000}", "invalid regex"),  # past RE2's repetition bound
        ("(?=a)a", "invalid regex"),  # lookahead: Go's regexp refuses it too
        (r"(a)\1", "invalid regex"),  # backreference: likewise
    ],
)
def test_unbounded_regex_is_a_400_and_stores_nothing(
    vigil: Vigil, pattern: str, reason: str
) -> None:
    s = vigil.session("acme")
    before = silence_ids(vigil, "acme")
    r = s.post(v2(vigil, "/silences"), json=silence([regex_matcher("probe", pattern)]), timeout=30)
    assert r.status_code == 400, r.text
    assert reason in r.json()
    assert silence_ids(vigil, "acme") == before
    for url in (vigil.api(), vigil.incidents_url(), v2(vigil, "/alerts")):
        r = s.get(url, params={"filter": f'probe=~"{pattern}"'}, timeout=30)
        assert r.status_code in (400, 422) and reason in r.text, (url, r.text)


def test_matcher_lists_are_bounded(vigil: Vigil) -> None:
    s = vigil.session("acme")
    many = ",".join(f'l{i}=~"x{i}"' for i in range(65))
    for url in (vigil.api(), vigil.incidents_url(), v2(vigil, "/alerts")):
        r = s.get(url, params={"filter": "{" + many + "}"}, timeout=30)
        assert r.status_code in (400, 422) and "at most 64" in r.text, (url, r.text)
    before = silence_ids(vigil, "acme")
    matchers = [regex_matcher(f"l{i}", "x") for i in range(65)]
    r = s.post(v2(vigil, "/silences"), json=silence(matchers), timeout=30)
    assert r.status_code == 400, r.text
    assert silence_ids(vigil, "acme") == before


@pytest.mark.parametrize(
    "labels, annotations, reason",
    [
        ({"n" * 10_000: "v"}, {}, "at most 256"),
        ({"ok": "v"}, {f"a{i}": "x" for i in range(5_000)}, "at most 64 annotations"),
        ({"ok": "v"}, {"n" * 10_000: "x"}, "at most 256"),
    ],
)
def test_oversize_labels_and_annotations_are_refused(
    vigil: Vigil, labels: dict[str, str], annotations: dict[str, str], reason: str
) -> None:
    alertname = unique_labels()["alertname"]
    body = {"labels": {"alertname": alertname, **labels}, "annotations": annotations}
    s = vigil.session("acme")
    native = s.post(vigil.api(), json={**body, "severity": "warning"}, timeout=30)
    assert native.status_code == 422 and reason in native.text, native.text
    am = s.post(v2(vigil, "/alerts"), json=[body], timeout=30)
    assert am.status_code in (400, 422) and reason in am.text, am.text
    assert alert_total(vigil, "acme", alertname) == 0
