"""What the engine's groups notify, as Alertmanager 0.25 would (no Ray, no clock).

Each story is a sequence of alerts, silences and flushes; each flush's notifications
are checked against what Alertmanager sends for the same sequence (its ``dispatch``
and ``notify`` packages: the mute stages, ``DedupStage`` and ``DeleteIfNotModified``).
"""

from datetime import timedelta
from typing import Any

from alerting.aggregation import (
    AggregationGroup,
    GroupAlert,
    group_alert_from_record,
    group_alert_to_record,
    group_from_record,
    group_to_record,
)
from alerting.amconfig import parse_alertmanager_config
from alerting.correlation import Notification
from alerting.flush import FLUSH_REASONS, Notified, NotifyReason, notified_to_record
from alerting.incident import incident_from_record, incident_to_record
from tests.unit.alerting.helpers import at
from tests.unit.alerting.test_correlation import Story, silence

INTERVAL = 300  # group_interval: 5m


def config(receiver: dict[str, Any] | None = None, **extra: Any) -> Any:
    route = {"receiver": "team", "group_by": ["alertname"], "group_wait": "30s", **extra}
    inhibit = route.pop("inhibit_rules", None)
    data: dict[str, Any] = {"route": route, "receivers": [receiver or {"name": "team"}]}
    if inhibit:
        data["inhibit_rules"] = inhibit
    return parse_alertmanager_config(data)


def flushes(s: Story, t: float) -> list[Notification]:
    """Tick at ``t``: the flush notifications made (for send_resolved integrations)."""
    s.engine.tick(at(t))
    out = s.engine.take_outbox().notifications
    return [n for n in out if n.reason in FLUSH_REASONS and n.send_resolved]


def news(s: Story) -> list[str]:
    """The incident news queued for escalations since the last look."""
    out = s.engine.take_outbox().notifications
    return [n.reason for n in out if n.reason not in FLUSH_REASONS]


def stored(group: AggregationGroup) -> AggregationGroup:
    """A group as it comes back from its stored header and alerts."""
    alerts = {
        fp: group_alert_from_record(group_alert_to_record(a)) for fp, a in group.alerts.items()
    }
    return group_from_record(group_to_record(group), alerts)


def listed(n: Notification) -> tuple[set[str], set[str]]:
    return set(n.firing), set(n.resolved)


def test_a_silenced_firing_group_never_notifies_resolved() -> None:
    """The defect of issue 15: silencing a firing incident paged "resolved"."""
    s = Story(config())
    x = s.fire(0, alertname="Disk", host="a")
    (first,) = flushes(s, 30)
    assert first.reason == "first" and listed(first) == ({x}, set())
    s.engine.set_silences([silence('{alertname="Disk"}', 31, 10_000)], at(31))
    assert news(s) == ["muted"]
    for n in range(1, 6):  # the alert still fires, silenced: nothing is sent, ever
        assert flushes(s, 30 + n * INTERVAL) == []
    (incident,) = s.incidents()
    assert incident.is_open and incident.muted_at == at(31)
    assert incident.muted_by() == ["silence s1"]


def test_an_inhibited_firing_group_never_notifies_resolved() -> None:
    rule = {"source_matchers": ['alertname="Down"'], "target_matchers": ['alertname="Slow"']}
    s = Story(config(inhibit_rules=[rule]))
    slow = s.fire(0, alertname="Slow")
    (first,) = flushes(s, 30)
    assert listed(first) == ({slow}, set())
    s.fire(40, alertname="Down")
    assert "muted" in news(s)
    notes = flushes(s, 70)  # Down's group: its first flush; Slow's group says nothing
    assert [n.group_key for n in notes] == ['{}:{alertname="Down"}']
    assert [n.group_key for n in flushes(s, 30 + INTERVAL)] == []
    slow_incident = next(i for i in s.incidents() if slow in i.members)
    assert slow_incident.is_open and slow_incident.muted_by()[0].startswith("inhibited by")


def test_the_mute_ending_resumes_notifications_where_alertmanager_would() -> None:
    s = Story(config())
    x = s.fire(0, alertname="Disk", host="a")
    flushes(s, 30)
    s.engine.set_silences([silence('{alertname="Disk"}', 31, 400)], at(31))
    y = s.fire(100, alertname="Disk", host="b")  # joins muted: nothing to say
    assert flushes(s, 330) == []
    news(s)
    # The silence ends at 400: the next flush finds y new (x was announced before).
    (resumed,) = flushes(s, 630)
    assert resumed.reason == "new_firing" and listed(resumed) == ({x, y}, set())
    assert s.incidents()[0].muted_at is None


def test_a_resolution_announced_leaves_the_group() -> None:
    """X and Y fire, Y resolves (announced), Z fires: the next notification is X and Z."""
    s = Story(config())
    x = s.fire(0, alertname="Disk", host="x")
    y = s.fire(0, alertname="Disk", host="y")
    flushes(s, 30)
    s.resolve(100, alertname="Disk", host="y")
    (announced,) = flushes(s, 330)
    assert announced.reason == "newly_resolved" and listed(announced) == ({x}, {y})
    z = s.fire(400, alertname="Disk", host="z")
    (later,) = flushes(s, 630)
    assert later.reason == "new_firing" and listed(later) == ({x, z}, set())


def test_a_resolution_while_everything_is_muted_is_dropped_without_a_word() -> None:
    """Alertmanager deletes a muted group's resolved alerts all the same: after the
    silence, nothing about them is sent."""
    s = Story(config())
    x = s.fire(0, alertname="Disk", host="x")
    s.fire(0, alertname="Disk", host="y")
    flushes(s, 30)
    s.engine.set_silences([silence('{alertname="Disk"}', 31, 400)], at(31))
    s.resolve(100, alertname="Disk", host="y")
    assert flushes(s, 330) == []  # muted: y is dropped unannounced
    assert flushes(s, 630) == []  # x was announced firing, y is gone: nothing new
    assert set(s.engine.groups['\x00{}:{alertname="Disk"}'].alerts) == {x}


def test_a_group_that_stays_quiet_repeats_after_repeat_interval() -> None:
    s = Story(config(repeat_interval="1h"))
    x = s.fire(0, alertname="Disk")
    flushes(s, 30)
    quiet = [t for t in range(330, 3630, INTERVAL) if flushes(s, t)]
    assert quiet == []
    (again,) = flushes(s, 3630 + INTERVAL)  # the first look more than 1h after
    assert again.reason == "repeat" and listed(again) == ({x}, set())


def test_send_resolved_false_integrations_get_their_own_decision() -> None:
    slack = {"name": "team", "slack_configs": [{"api_url": "http://x", "channel": "#a"}]}
    s = Story(config(receiver=slack))
    assert s.engine.modes["team"] == (True, False)
    s.fire(0, alertname="Disk", host="x")
    y = s.fire(0, alertname="Disk", host="y")
    s.engine.tick(at(30))
    first = s.engine.take_outbox().notifications
    assert sorted(n.send_resolved for n in first) == [False, True]
    s.resolve(100, alertname="Disk", host="y")
    s.engine.tick(at(330))
    out = [n for n in s.engine.take_outbox().notifications if n.reason in FLUSH_REASONS]
    # Only the send_resolved integrations are told y resolved.
    assert [(n.send_resolved, n.resolved) for n in out] == [(True, (y,))]


def test_the_incident_resolves_at_once_and_tells_its_escalation() -> None:
    s = Story(config())
    s.fire(0, alertname="Disk")
    flushes(s, 30)
    s.resolve(40, alertname="Disk")
    assert news(s) == ["incident_resolved"]
    (bye,) = flushes(s, 330)
    assert bye.reason == NotifyReason.ALL_RESOLVED.value
    assert s.engine.groups == {}


def test_a_new_alert_joins_a_group_that_waits_to_announce_resolutions() -> None:
    """The incident is over, but the group is not until it says so: a new alert of the
    group forms a new incident and is announced with the old one's resolution."""
    s = Story(config())
    x = s.fire(0, alertname="Disk", host="x")
    flushes(s, 30)
    s.resolve(40, alertname="Disk", host="x")
    z = s.fire(50, alertname="Disk", host="z")
    assert len(s.incidents()) == 2
    (both,) = flushes(s, 330)
    assert both.reason == "new_firing" and listed(both) == ({z}, {x})
    assert both.incident_id == s.incidents()[1].id


def test_groups_survive_a_restart() -> None:
    s = Story(config())
    x = s.fire(0, alertname="Disk", host="x")
    flushes(s, 30)
    stored_groups = [stored(g) for g in s.engine.groups.values()]
    fresh = Story(config())
    fresh.engine.restore(
        list(s.engine.incidents.values()), {}, {}, stored_groups, s.engine.notification_log
    )
    fresh.current = s.current
    fresh.alert_ids = s.alert_ids
    fresh.resolve(40, alertname="Disk", host="x")
    (bye,) = flushes(fresh, 330)
    assert bye.reason == "all_resolved" and listed(bye) == (set(), {x})


def test_group_insert_and_records() -> None:
    group = AggregationGroup("", "{}:{}", "team", {}, at(30))
    assert not group.insert(
        "f", GroupAlert("a1", {"a": "1"}, True), at(0), timedelta(seconds=30), at(0)
    )
    assert group.insert(
        "g", GroupAlert("a2", {"a": "2"}, True), at(-60), timedelta(seconds=30), at(1)
    )
    assert group.next_flush_at == at(1)
    assert stored(group) == group
    assert "alerts" not in group_to_record(group)  # stored apart, one field each


def test_state_stored_before_groups_existed_rebuilds_them() -> None:
    """An upgrade mid-incident: the stored incidents have no groups; their open
    alerts are grouped again and go on being notified as before."""
    s = Story(config())
    x = s.fire(0, alertname="Disk", host="x")
    flushes(s, 30)
    fresh = Story(config())
    fresh.engine.restore(list(s.engine.incidents.values()), {}, {})  # no groups stored
    assert set(fresh.engine.groups['\x00{}:{alertname="Disk"}'].alerts) == {x}
    fresh.current, fresh.alert_ids = s.current, s.alert_ids
    y = fresh.fire(100, alertname="Disk", host="y")
    (news_,) = flushes(fresh, 330)  # x was notified before the upgrade: only y is new
    assert news_.reason == "new_firing" and listed(news_) == ({x, y}, set())


def test_a_late_correlator_sends_what_it_would_have_sent_on_time() -> None:
    """Changes received after a flush was due are not in that flush, however late the
    engine gets to them: the output depends on when things arrived, not on load."""
    on_time, late = Story(config()), Story(config())
    for s in (on_time, late):
        s.fire(0, alertname="Disk", host="x")
        flushes(s, 30)
    on_time.fire(100, alertname="Disk", host="y")
    expected = flushes(on_time, 330)
    on_time.fire(340, alertname="Disk", host="z")
    expected += flushes(on_time, 630)
    # The late engine gets both alerts only at 700, long after the flush due at 330.
    changes = [late.firing(t, alertname="Disk", host=h) for t, h in ((100, "y"), (340, "z"))]
    late.engine.apply(changes, at(700))
    out = [n for n in late.engine.take_outbox().notifications if n.reason in FLUSH_REASONS]
    out += flushes(late, 700)
    assert [(listed(n), n.at) for n in out] == [(listed(n), n.at) for n in expected]


def test_a_resolution_sent_again_is_listed_again_as_alertmanager_does() -> None:
    """Prometheus sends a resolved alert again for 15 minutes. Alertmanager puts it
    back into its group each time, so the group's next notification lists it again."""
    s = Story(config())
    x = s.fire(0, alertname="Disk", host="x")
    s.fire(0, alertname="Disk", host="y")
    flushes(s, 30)
    y = s.resolve(100, alertname="Disk", host="y")
    flushes(s, 330)  # y announced resolved, and dropped
    s.resolve(400, alertname="Disk", host="y")  # sent again
    z = s.fire(410, alertname="Disk", host="z")
    (later,) = flushes(s, 630)
    assert listed(later) == ({x, z}, {y})


def test_an_incident_record_keeps_when_it_was_notified_not_whom() -> None:
    """What a group was told lives in the notification log; the incident's record keeps
    only when, so a round that touches an incident of 10,000 alerts does not encode
    10,000 fingerprints again. A record written before the log existed still reads."""
    s = Story(config())
    for host in range(3):
        s.fire(0, alertname="Disk", host=f"h{host}")
    flushes(s, 30)
    (incident,) = s.incidents()
    record = incident_to_record(incident)
    assert record["last_notified"] == {"at": at(30).timestamp()}
    members = list(incident.members.values())
    assert incident_from_record(record, members).last_notified == Notified(
        at(30), frozenset(), frozenset()
    )
    assert incident.last_notified is not None
    old = {**record, "last_notified": notified_to_record(incident.last_notified)}
    assert incident_from_record(old, members).last_notified == incident.last_notified
