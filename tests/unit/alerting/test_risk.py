"""Risk scores on incidents, risk routes that page at once, and people's feedback."""

import pytest
from pydantic import ValidationError

from alerting.correlation_config import CorrelationSpec
from alerting.incident import incident_from_record, incident_to_record
from alerting.matchers import parse_matchers
from alerting.risk import RiskRoute, RiskScore, routes_to_page
from alerting.severity import Severity
from tests.unit.alerting.helpers import at
from tests.unit.alerting.test_correlation import Story

PAGE_CRITICAL = {
    "risk_routes": [
        {"receiver": "pager", "min_risk": 0.9, "matchers": ['severity="critical"']},
    ]
}


@pytest.mark.parametrize(
    ("min_risk", "matchers", "risk", "labels", "selected"),
    [
        (0.9, "", 0.95, [{"a": "1"}], True),
        (0.9, "", 0.9, [{"a": "1"}], True),  # at the threshold pages
        (0.9, "", 0.89, [{"a": "1"}], False),
        (0.5, 'team="db"', 0.7, [{"team": "web"}, {"team": "db"}], True),  # any firing alert
        (0.5, 'team="db"', 0.7, [{"team": "web"}], False),
        (0.5, "", 0.7, [], False),  # nothing firing: nobody to page about
    ],
)
def test_a_risk_route_selects_by_threshold_and_labels(
    min_risk: float, matchers: str, risk: float, labels: list[dict[str, str]], selected: bool
) -> None:
    route = RiskRoute("pager", min_risk, tuple(parse_matchers(matchers)) if matchers else ())
    assert route.selects(RiskScore(risk, "v1", at(0)), labels) is selected


def test_a_route_pages_an_incident_once() -> None:
    route = RiskRoute("pager", 0.5)
    high = RiskScore(0.9, "v1", at(0))
    assert routes_to_page([route], high, [{"a": "1"}], ()) == [route]
    assert routes_to_page([route], high, [{"a": "1"}], (route.name,)) == []


def test_a_provisional_score_pages_only_a_route_that_accepts_it() -> None:
    provisional = RiskScore(0.99, "v1", at(0), "model v1 learnt from simulated history")
    trusting = RiskRoute("pager", 0.5)
    accepting = RiskRoute("lab", 0.5, provisional=True)
    assert routes_to_page([trusting, accepting], provisional, [{"a": "1"}], ()) == [accepting]
    spec = CorrelationSpec.model_validate(
        {"risk_routes": [{"receiver": "lab", "min_risk": 0.5, "provisional": True}]}
    )
    assert spec.policy().risk_routes == (accepting,)


def test_a_provisional_score_is_shown_but_does_not_page() -> None:
    s = Story(**PAGE_CRITICAL)
    s.fire(0, Severity.CRITICAL, alertname="DBDown", severity="critical")
    s.engine.tick(at(0))
    s.engine.take_outbox()
    (incident,) = s.engine.take_to_score()
    reason = "model v1 was never evaluated on held-out incidents"
    s.engine.set_risk(incident.id, RiskScore(0.99, "v1", at(1), reason))
    assert s.engine.take_outbox().notifications == []
    assert incident.risk is not None and incident.risk.provisional == reason
    again = incident_from_record(incident_to_record(incident), list(incident.members.values()))
    assert again.risk == incident.risk


def test_a_high_risk_pages_the_risk_route_at_once_and_only_once() -> None:
    s = Story(**PAGE_CRITICAL)
    s.fire(0, Severity.CRITICAL, alertname="DBDown", severity="critical")
    s.engine.tick(at(0))
    s.engine.take_outbox()
    (incident,) = s.engine.take_to_score()
    s.engine.set_risk(incident.id, RiskScore(0.95, "v0001", at(1)))
    out = s.engine.take_outbox()
    (page,) = out.notifications
    assert (page.receiver, page.reason, page.incident_id) == ("pager", "risk", incident.id)
    assert page.firing == tuple(incident.members)
    assert incident.risk == RiskScore(0.95, "v0001", at(1))
    events = [e.event for e in out.timeline[incident.id]]
    assert events == ["notified"]  # the first score is on the incident, not the timeline
    assert incident.id in out.incidents
    s.engine.set_risk(incident.id, RiskScore(0.97, "v0001", at(2)))
    out = s.engine.take_outbox()
    assert out.notifications == []
    assert incident.id not in out.timeline  # a small move is stored, not put on the timeline
    assert incident.risk.value == 0.97
    s.engine.set_risk(incident.id, RiskScore(0.62, "v0002", at(3)))
    (moved,) = s.engine.take_outbox().timeline[incident.id]
    assert (moved.event, moved.detail) == ("risk_changed", "0.970 -> 0.620 by model v0002")
    assert s.engine.counts["risk_pages"] == 1


def test_a_low_risk_or_unmatched_incident_is_not_paged_and_keeps_its_own_notifications() -> None:
    s = Story(**PAGE_CRITICAL)
    s.fire(0, Severity.WARNING, alertname="Slow", severity="warning")
    (incident,) = s.engine.take_to_score()
    s.engine.set_risk(incident.id, RiskScore(0.99, "v0001", at(0)))  # not critical
    s.engine.tick(at(0))
    out = s.engine.take_outbox()
    assert [(n.receiver, n.reason) for n in out.notifications] == [("default", "first")]


def test_new_and_changed_incidents_are_queued_for_scoring_once() -> None:
    s = Story()
    s.fire(0, alertname="Disk", host="a")
    s.fire(1, alertname="Disk", host="b")
    s.fire(1, alertname="Cpu", host="a")
    assert len(s.engine.take_to_score()) == 2
    assert s.engine.take_to_score() == []
    s.resolve(3, alertname="Cpu", host="a")
    assert s.engine.take_to_score() == []  # resolved incidents are not scored


def test_scores_for_closed_or_unknown_incidents_are_ignored() -> None:
    s = Story()
    s.fire(0, alertname="Cpu", host="a")
    (incident,) = s.engine.take_to_score()
    s.resolve(1, alertname="Cpu", host="a")
    s.engine.take_outbox()
    s.engine.set_risk(incident.id, RiskScore(0.5, "v1", at(2)))
    s.engine.set_risk("nope", RiskScore(0.5, "v1", at(2)))
    assert incident.risk is None
    assert not s.engine.take_outbox()


def test_restored_unscored_open_incidents_are_queued_for_scoring() -> None:
    s = Story()
    s.fire(0, alertname="Cpu", host="a")
    s.fire(0, alertname="Disk", host="a")
    scored, unscored = s.incidents()
    s.engine.set_risk(scored.id, RiskScore(0.2, "v1", at(1)))
    fresh = Story()
    fresh.engine.restore(s.incidents(), {}, {})
    assert [i.id for i in fresh.engine.take_to_score()] == [unscored.id]


def test_feedback_is_recorded_on_any_incident_and_checked() -> None:
    s = Story()
    s.fire(0, alertname="Cpu", host="a")
    s.resolve(1, alertname="Cpu", host="a")
    (incident,) = s.incidents()
    s.engine.take_outbox()
    s.engine.set_feedback(incident.id, "noise", at(2), "ana")
    assert (incident.feedback, incident.feedback_by) == ("noise", "ana")
    assert [e.event for e in s.engine.take_outbox().timeline[incident.id]] == ["feedback"]
    with pytest.raises(ValueError, match="actionable, noise"):
        s.engine.set_feedback(incident.id, "meh", at(2), "ana")
    assert incident.feedback == "noise"


def test_risk_and_feedback_survive_the_record_round_trip() -> None:
    s = Story(**PAGE_CRITICAL)
    s.fire(0, Severity.CRITICAL, alertname="DBDown", severity="critical")
    (incident,) = s.engine.take_to_score()
    s.engine.set_risk(incident.id, RiskScore(0.93, "v0002", at(1)))
    s.engine.set_feedback(incident.id, "actionable", at(2), None)
    again = incident_from_record(incident_to_record(incident), list(incident.members.values()))
    assert again.risk == incident.risk
    assert again.risk_paged == incident.risk_paged != ()
    assert again.feedback == "actionable"


@pytest.mark.parametrize(
    "route",
    [
        {"receiver": "pager", "min_risk": 1.5},
        {"receiver": "pager", "min_risk": -0.1},
        {"receiver": "", "min_risk": 0.5},
        {"receiver": "pager", "min_risk": 0.5, "matchers": ['severity=~"(']},
        {"receiver": "pager", "min_risk": 0.5, "page": True},
    ],
)
def test_bad_risk_routes_are_refused(route: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        CorrelationSpec.model_validate({"risk_routes": [route]})
