"""A big incident's risk is not re-read on every change (``models/rescoring.py``): it
waits until it grew by a tenth, changed in kind, or ``RESCORE_AFTER`` passed; small
incidents are scored on every change, and nothing waits forever."""

from __future__ import annotations

from alerting.severity import Severity
from models.learning import Learning
from models.rescoring import BIG_INCIDENT_MEMBERS, RESCORE_AFTER
from tests.unit.alerting.helpers import at
from tests.unit.alerting.test_correlation import Story


def storm(members: int) -> tuple[Story, str]:
    """One incident of ``members`` alerts of one group."""
    s = Story()
    for n in range(members):
        s.fire(0, alertname="Disk", host=f"h{n}")
    (incident,) = s.incidents()
    return s, incident.id


def scored(learning: Learning, s: Story, t: float) -> list[str]:
    rows, _ = learning.to_score(s.engine.take_to_score(), s.engine.incidents.get, True, at(t))
    return list(rows)


def test_a_big_incident_waits_until_it_grew_by_a_tenth() -> None:
    s, incident_id = storm(BIG_INCIDENT_MEMBERS)
    learning = Learning()
    assert scored(learning, s, 1) == [incident_id]  # its first features: at once
    for n in range(BIG_INCIDENT_MEMBERS // 10 - 1):  # 99 more: under a tenth
        s.fire(2, alertname="Disk", host=f"more{n}")
        assert scored(learning, s, 2) == []
    s.fire(3, alertname="Disk", host="the-tenth")
    assert scored(learning, s, 3) == [incident_id]


def test_a_waiting_incident_is_scored_when_its_wait_is_over_even_if_quiet() -> None:
    s, incident_id = storm(BIG_INCIDENT_MEMBERS)
    learning = Learning()
    assert scored(learning, s, 1) == [incident_id]
    s.fire(2, alertname="Disk", host="one-more")
    assert scored(learning, s, 2) == []
    assert scored(learning, s, 1 + RESCORE_AFTER.total_seconds() - 1) == []  # not yet
    assert scored(learning, s, 1 + RESCORE_AFTER.total_seconds()) == [incident_id]
    assert scored(learning, s, 100) == []  # nothing changed since: nothing to do


def test_a_change_in_kind_is_scored_at_once() -> None:
    s, incident_id = storm(BIG_INCIDENT_MEMBERS)
    learning = Learning()
    assert scored(learning, s, 1) == [incident_id]
    s.fire(2, Severity.CRITICAL, alertname="Disk", host="worse")  # one more, but critical
    assert scored(learning, s, 2) == [incident_id]


def test_small_incidents_are_scored_on_every_change() -> None:
    s, incident_id = storm(3)
    learning = Learning()
    for t in range(1, 5):
        s.fire(t, alertname="Disk", host=f"late{t}")
        assert scored(learning, s, t) == [incident_id]


def test_a_purged_incident_is_forgotten() -> None:
    s, incident_id = storm(BIG_INCIDENT_MEMBERS)
    learning = Learning()
    scored(learning, s, 1)
    s.fire(2, alertname="Disk", host="one-more")
    scored(learning, s, 2)
    assert incident_id in learning.throttle.waiting
    learning.forget(iter([incident_id]))  # a generator, as purges come
    assert incident_id not in learning.throttle.waiting
    assert incident_id not in learning.throttle.last
