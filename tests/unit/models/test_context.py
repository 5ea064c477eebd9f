"""The scoring context: rates, outcome histories, labels from what people did."""

from datetime import timedelta

import pytest

from alerting.relatedness import Topology
from alerting.severity import Severity
from models.context import NEIGHBOURHOOD_MAX, Outcome, TenantContext
from models.features import FEATURE_NAMES, feature_vector
from models.outcomes import label_of, outcome_of
from tests.unit.alerting.helpers import at
from tests.unit.alerting.test_correlation import Story


def test_rates_count_the_last_minute_and_the_last_hour() -> None:
    ctx = TenantContext()
    ctx.count_alerts(at(0), [{"alertname": "A"}] * 5)
    ctx.count_alerts(at(30 * 60), [{"alertname": "A"}] * 3)
    ctx.count_alerts(at(30 * 60 + 10), [{"alertname": "A"}] * 2)
    assert ctx.rates(at(30 * 60 + 20)) == (5.0, 10.0)
    assert ctx.rates(at(61 * 60)) == (0.0, 5.0)  # the first minute has left the hour
    ctx.count_alerts(at(2 * 3600), [{"alertname": "A"}])  # old minutes are dropped as time moves on
    assert ctx.rates(at(2 * 3600)) == (1.0, 1.0)
    assert len(ctx.minutes) == 1


def test_outcomes_feed_histories_and_a_changed_label_is_moved_not_doubled() -> None:
    ctx = TenantContext()
    noise = Outcome(("fp1",), ("Disk",), ("db",), 0, 60.0)
    ctx.record(noise)
    actionable = Outcome(("fp1",), ("Disk",), ("db",), 1, 60.0)
    ctx.relabel(noise, actionable)
    history = ctx.history(["fp1", "unknown"], ctx.by_fingerprint)
    assert (history.incidents, history.actionable, history.noise) == (1, 1, 0)
    assert history.mean_resolve_seconds == 60.0
    assert ctx.history(["db"], ctx.by_service).actionable == 1


def test_an_incident_in_context_reads_its_histories_and_topology() -> None:
    s = Story()
    fp = s.fire(0, Severity.CRITICAL, alertname="Down", service="db")
    (incident,) = s.incidents()
    ctx = TenantContext(Topology(depends_on={"api": ("db",), "web": ("db",)}))
    ctx.record(Outcome((fp,), ("Down",), ("db",), 1, 600.0))
    ctx.count_alerts(at(0), [{"alertname": "A"}])
    seen = ctx.context_of(incident, at(1))
    assert seen.dependents == 2
    assert seen.fingerprint_history.actionable == 1
    assert seen.alertname_history.incidents == 1
    assert seen.service_history.actionable == 1
    assert seen.tenant_alerts_last_minute == 1
    vector = feature_vector(seen)
    assert vector[FEATURE_NAMES.index("severity_rank")] == Severity.CRITICAL.rank


def _closed(s: Story) -> None:
    s.resolve(600, alertname="Cpu", service="web")


@pytest.mark.parametrize(
    ("story", "label"),
    [
        ("open", None),
        ("open_with_feedback_noise", 0),
        ("resolved_alone", 0),
        ("acknowledged_then_resolved", 1),
        ("resolved_by_a_person", 1),
        ("acknowledged_but_feedback_noise", 0),
    ],
)
def test_labels_come_from_what_people_did(story: str, label: int | None) -> None:
    s = Story()
    s.fire(0, alertname="Cpu", service="web")
    (incident,) = s.incidents()
    if "acknowledged" in story:
        s.engine.acknowledge(incident.id, at(60), "ana", None)
    if story == "resolved_by_a_person":
        s.engine.resolve(incident.id, at(120), "ana", None)
    elif story != "open" and story != "open_with_feedback_noise":
        _closed(s)
    if "feedback_noise" in story:
        s.engine.set_feedback(incident.id, "noise", at(700), "ana")
    assert label_of(incident) == label
    outcome = outcome_of(incident)
    if label is None:
        assert outcome is None
    else:
        assert outcome is not None and outcome.label == label
        assert outcome.services == ("web",)
        if incident.resolved_at is not None:
            expected = (incident.resolved_at - incident.created_at) / timedelta(seconds=1)
            assert outcome.resolve_seconds == expected


def test_neighbours_are_the_other_alertnames_on_the_same_host_in_the_last_hour() -> None:
    ctx = TenantContext()
    ctx.record(Outcome(("fp9",), ("RareRule",), (), 1, None))
    ctx.record(Outcome(("fp8",), ("RareRule",), (), 1, None))
    ctx.count_alerts(at(0), [{"alertname": "RareRule", "host": "h1"}])
    ctx.count_alerts(at(60), [{"alertname": "Noise", "host": "h2"}])
    s = Story()
    s.fire(120, alertname="FailedLogin", host="h1")
    (incident,) = s.incidents()
    ctx.count_alerts(at(120), [{"alertname": "FailedLogin", "host": "h1"}])
    near = ctx.context_of(incident, at(130))
    assert near.alertnames == 1
    assert near.neighbour_alertnames == 2  # its own and RareRule, not h2's Noise
    # RareRule was actionable twice: (2 + 1) / (2 + 2) with the even prior.
    assert near.neighbour_actionable_rate == pytest.approx(0.75)
    later = ctx.context_of(incident, at(121 + 3600))  # the hour has passed
    assert (later.neighbour_alertnames, later.neighbour_actionable_rate) == (0, 0.0)
    assert not ctx.neighbourhood.recent and not ctx.neighbourhood.names  # forgotten


def test_the_neighbourhood_is_bounded_whatever_the_rate() -> None:
    ctx = TenantContext()
    storm = [{"alertname": "A", "instance": f"i{n}"} for n in range(NEIGHBOURHOOD_MAX + 10)]
    ctx.count_alerts(at(0), storm)
    assert len(ctx.neighbourhood.recent) == NEIGHBOURHOOD_MAX
    assert "instance=i0" not in ctx.neighbourhood.names  # the oldest went first


def test_after_a_restart_the_neighbourhood_is_seeded_from_the_restored_incidents() -> None:
    s = Story()
    s.fire(0, alertname="RareRule", host="h1")
    s.fire(0, alertname="Other", host="h1")  # the same instant: order by time only
    s.fire(10, alertname="FailedLogin", host="h1")
    ctx = TenantContext()
    ctx.seed_neighbourhood(s.incidents(), at(30))
    login = next(i for i in s.incidents() if "FailedLogin" in str(i.group_labels))
    assert ctx.context_of(login, at(30)).neighbour_alertnames == 3
    stale = TenantContext()
    stale.seed_neighbourhood(s.incidents(), at(3600 + 5))  # two of them left the hour
    assert stale.context_of(login, at(3600 + 5)).neighbour_alertnames == 1
