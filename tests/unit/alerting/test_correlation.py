"""The correlation engine: alert changes in, incidents out (no Ray, no Redis, no clock).

Each test feeds a short story of changes, as the tenant's change stream would carry
them, and checks the incidents it forms.
"""

import itertools
from datetime import timedelta
from typing import Any

import pytest

from alerting.alert import AlertStatus
from alerting.amconfig import RoutingConfig, parse_alertmanager_config
from alerting.correlation import AlertChange, TenantCorrelation
from alerting.correlation_config import CorrelationPolicy, CorrelationSpec
from alerting.errors import InvalidTransition
from alerting.fingerprint import fingerprint
from alerting.incident import IncidentNotFound, IncidentState
from alerting.lifecycle import RESOLVED_BY_SOURCE, ChangeKind
from alerting.matchers import parse_matchers
from alerting.relatedness import JoinReason
from alerting.severity import Severity
from alerting.silence import Silence
from tests.unit.alerting.helpers import at


def routing(**route: Any) -> RoutingConfig:
    config: dict[str, Any] = {
        "route": {"receiver": "default", "group_by": ["alertname"], "group_wait": "0s", **route},
        "receivers": [{"name": n} for n in ("default", "db", "pager")],
    }
    inhibit = route.pop("inhibit_rules", None)
    if inhibit:
        config["inhibit_rules"] = inhibit
        config["route"].pop("inhibit_rules")
    return parse_alertmanager_config(config)


class Story:
    """A tenant's alerts as changes, with ids handed out like the tenant's actor does."""

    def __init__(self, config: RoutingConfig | None = None, **policy: Any) -> None:
        spec = CorrelationSpec.model_validate(policy) if policy else CorrelationSpec()
        ids = (f"inc{n}" for n in itertools.count(1))
        self.engine = TenantCorrelation(
            "acme",
            config or routing(),
            spec.policy() if policy else CorrelationPolicy(),
            ids.__next__,
        )
        self.alert_ids = (f"a{n}" for n in itertools.count(1))
        self.current: dict[str, str] = {}  # fingerprint → current alert id
        self.changes = (f"c{n}" for n in itertools.count(1))

    def fire(self, t: float, level: Severity = Severity.WARNING, **labels: str) -> str:
        """The source sends a firing alert: a new occurrence unless one is open."""
        return self._apply(t, self.firing(t, level, **labels))

    def firing(self, t: float, level: Severity = Severity.WARNING, **labels: str) -> AlertChange:
        """The change a firing alert received at ``t`` makes (not applied yet)."""
        fp = fingerprint(labels)
        kind = ChangeKind.CREATED if fp not in self.current else ChangeKind.REOPENED
        self.current[fp] = next(self.alert_ids)
        return self._change(t, fp, kind, AlertStatus.FIRING, level, labels)

    def resolve(self, t: float, **labels: str) -> str:
        fp = fingerprint(labels)
        status = AlertStatus.RESOLVED
        return self._apply(
            t, self._change(t, fp, ChangeKind.RESOLVED, status, Severity.WARNING, labels)
        )

    def _apply(self, t: float, change: AlertChange) -> str:
        self.engine.apply([change], at(t))
        self.last = change
        return change.fingerprint

    def _change(
        self,
        t: float,
        fp: str,
        kind: ChangeKind,
        status: AlertStatus,
        severity: Severity,
        labels: dict[str, str],
    ) -> AlertChange:
        return AlertChange(
            change_id=next(self.changes),
            kind=kind,
            alert_id=self.current[fp],
            fingerprint=fp,
            status=status,
            severity=severity,
            stored_at=at(t),
            labels=labels,
            starts_at=at(t),
            resolved_by=RESOLVED_BY_SOURCE if status is AlertStatus.RESOLVED else None,
        )

    def incidents(self) -> list[Any]:
        return sorted(self.engine.incidents.values(), key=lambda i: i.id)

    def members(self) -> list[set[str]]:
        return [set(i.members) for i in self.incidents()]


def test_alerts_of_one_group_form_one_incident() -> None:
    s = Story()
    a = s.fire(0, alertname="Disk", host="a")
    b = s.fire(0.5, alertname="Disk", host="b")
    (incident,) = s.incidents()
    assert set(incident.members) == {a, b}
    assert incident.group_key == '{}:{alertname="Disk"}'
    assert all(m.reason is JoinReason.GROUP_KEY for m in incident.members.values())


def test_other_group_labels_form_another_incident() -> None:
    s = Story()
    a = s.fire(0, alertname="Disk")
    b = s.fire(0, alertname="Cpu")
    assert sorted(map(sorted, s.members())) == sorted([[a], [b]])


# A db alert goes to the db route and, continuing, to the pager route if critical.
DB_AND_PAGER = [
    {"matchers": ['team="db"'], "receiver": "db", "continue": True},
    {"matchers": ['severity="critical"'], "receiver": "pager"},
]


def test_continue_puts_an_alert_into_one_incident_per_matching_route() -> None:
    s = Story(routing(routes=DB_AND_PAGER))
    fp = s.fire(0, alertname="Disk", team="db", severity="critical")
    receivers = sorted(i.receiver for i in s.incidents())
    assert receivers == ["db", "pager"]
    assert all(set(i.members) == {fp} for i in s.incidents())


def test_an_alerts_open_incidents_are_one_per_route_and_not_the_closed_ones() -> None:
    s = Story(routing(routes=DB_AND_PAGER))
    fp = s.fire(0, alertname="Disk", team="db", severity="critical")
    other = s.fire(0, alertname="Cpu")
    mine = [i.id for i in s.incidents() if fp in i.members]
    assert len(mine) == 2 and s.engine.open_incidents_of(fp) == sorted(mine)
    assert s.engine.open_incidents_of(other) == [i.id for i in s.incidents() if other in i.members]
    s.resolve(1, alertname="Disk", team="db", severity="critical")
    assert s.engine.open_incidents_of(fp) == []  # resolved: nothing left to escalate
    assert s.engine.open_incidents_of("unknown") == []


def test_severity_is_the_worst_members() -> None:
    s = Story()
    s.fire(0, Severity.INFO, alertname="Disk", host="a")
    s.fire(1, Severity.CRITICAL, alertname="Disk", host="b")
    (incident,) = s.incidents()
    assert incident.severity is Severity.CRITICAL


def test_incident_resolves_when_every_member_has_and_never_takes_new_alerts() -> None:
    s = Story()
    s.fire(0, alertname="Disk", host="a")
    s.fire(0, alertname="Disk", host="b")
    s.resolve(1, alertname="Disk", host="a")
    assert s.incidents()[0].state is IncidentState.TRIGGERED  # one member still firing
    s.resolve(2, alertname="Disk", host="b")
    first = s.incidents()[0]
    assert first.state is IncidentState.RESOLVED and first.resolved_at == at(2)
    # The same group fires again later: a new incident, the resolved one stays closed.
    s.fire(3, alertname="Disk", host="a")
    assert len(s.incidents()) == 2
    assert set(first.members) == {s.last.fingerprint} | {
        fingerprint({"alertname": "Disk", "host": "b"})
    }


def test_an_alert_firing_again_in_an_open_incident_stays_one_member() -> None:
    s = Story(flapping={"max_transitions": 0})
    fp = s.fire(0, alertname="Disk", host="a")
    s.fire(0, alertname="Disk", host="b")
    s.resolve(1, alertname="Disk", host="a")
    s.fire(2, alertname="Disk", host="a")
    (incident,) = s.incidents()
    member = incident.members[fp]
    assert member.alert_id == s.current[fp] and member.status is AlertStatus.FIRING


def test_replaying_a_change_changes_nothing() -> None:
    s = Story()
    s.fire(0, alertname="Disk")
    (incident,) = s.incidents()
    before = (dict(incident.members), incident.updated_at)
    s.engine.take_outbox()
    s.engine.apply([s.last], at(5))
    assert (dict(incident.members), incident.updated_at) == before
    assert not s.engine.take_outbox().members


INHIBIT = [
    {
        "source_matchers": ['severity="critical"'],
        "target_matchers": ['severity="warning"'],
        "equal": ["cluster"],
    }
]


def test_inhibited_members_stay_visible_with_the_inhibiting_alert() -> None:
    s = Story(routing(group_by=["cluster"], inhibit_rules=INHIBIT))
    target = s.fire(0, alertname="Lag", severity="warning", cluster="eu")
    other = s.fire(0, alertname="Lag", severity="warning", cluster="us")  # no source in us
    source = s.fire(1, alertname="Down", severity="critical", cluster="eu")
    members = {fp: m for i in s.incidents() for fp, m in i.members.items()}
    assert members[target].inhibited_by == (source,)
    assert members[other].inhibited_by == ()
    assert members[source].inhibited_by == ()
    s.resolve(2, alertname="Down", severity="critical", cluster="eu")
    assert members[target].inhibited_by == ()  # the source resolved: no longer muted
    assert s.engine.counts["suppressed_by_inhibition"] == 1


def silence(matchers: str, start: float, end: float) -> Silence:
    return Silence("s1", tuple(parse_matchers(matchers)), at(start), at(end), "me", "", at(0))


def test_silences_mute_members_while_active() -> None:
    s = Story()
    s.engine.set_silences([silence('{host="a"}', 0, 10)], at(0))
    muted = s.fire(1, alertname="Disk", host="a")
    loud = s.fire(1, alertname="Disk", host="b")
    (incident,) = s.incidents()
    assert incident.members[muted].silenced_by == ("s1",)
    assert incident.members[loud].silenced_by == ()
    assert s.engine.next_due(at(1)) is not None
    s.engine.tick(at(11))  # the silence ended
    assert incident.members[muted].silenced_by == ()


def test_a_flapping_alert_is_held_firing_instead_of_resolving() -> None:
    s = Story(flapping={"max_transitions": 3, "window": "10m", "hold": "1m"})
    fp = s.fire(0, alertname="Flappy")
    s.resolve(10, alertname="Flappy")  # 2 transitions
    s.fire(20, alertname="Flappy")  # 3 (a new incident: the first resolved)
    s.resolve(30, alertname="Flappy")  # 4 > 3: flapping, the resolution is held
    incident = s.incidents()[-1]
    member = incident.members[fp]
    assert member.held_until == at(90) and member.flapping and member.is_open
    assert incident.state is IncidentState.TRIGGERED
    s.fire(40, alertname="Flappy")  # fires again during the hold: same member, no news
    assert len(s.incidents()) == 2 and member.held_until is None
    s.resolve(50, alertname="Flappy")  # held again, until 110
    s.engine.tick(at(100))
    assert incident.state is IncidentState.TRIGGERED
    s.engine.tick(at(111))  # stayed resolved through the hold: now it counts
    assert incident.state is IncidentState.RESOLVED
    assert s.engine.counts["flapping_held"] == 2


def test_topology_joins_dependent_services_and_records_why() -> None:
    s = Story(topology={"depends_on": {"api": ["db"]}})
    db = s.fire(0, alertname="DbDown", service="db")
    api = s.fire(1, alertname="ApiErrors", service="api")
    mail = s.fire(1, alertname="MailQueue", service="mail")
    incident = next(i for i in s.incidents() if db in i.members)
    assert set(incident.members) == {db, api}
    assert incident.members[api].reason is JoinReason.TOPOLOGY
    assert incident.members[api].detail == "api -> db"
    assert not any(mail in i.members for i in s.incidents() if i is incident)
    # Later alerts of the joined group follow it into the same incident.
    api2 = s.fire(2, alertname="ApiErrors", service="api", host="2")
    assert api2 in incident.members


def test_similarity_never_joins_a_resolved_incident() -> None:
    s = Story(similarity={"threshold": 0.5})
    s.fire(0, alertname="Disk", cluster="eu", host="a")
    s.resolve(1, alertname="Disk", cluster="eu", host="a")
    s.fire(2, alertname="DiskSlow", cluster="eu", host="a")  # similar, but the other is closed
    assert len(s.incidents()) == 2


def test_flushes_notify_unsuppressed_alerts_then_the_all_clear() -> None:
    s = Story()
    s.engine.set_silences([silence('{host="b"}', 0, 1000)], at(0))
    a = s.fire(0, alertname="Disk", host="a")
    s.fire(0, alertname="Disk", host="b")
    s.engine.tick(at(0))  # group_wait 0s: flushed at once
    (first,) = s.engine.take_outbox().notifications
    assert first.reason == "first" and first.firing == (a,)
    s.resolve(1, alertname="Disk", host="a")
    s.resolve(1, alertname="Disk", host="b")
    s.engine.tick(at(301))  # next group_interval (5m)
    out = s.engine.take_outbox().notifications
    # a resolves: only the silenced b is open, so the incident is muted; then over.
    assert [n.reason for n in out] == ["muted", "incident_resolved", "all_resolved"]
    assert out[2].firing == () and out[2].resolved == (a,)  # b is muted: not listed
    assert s.engine.groups == {}  # the group is done


def test_acknowledging_returns_the_alerts_to_acknowledge_and_resolved_refuses() -> None:
    s = Story()
    s.fire(0, alertname="Disk")
    (incident,) = s.incidents()
    assert s.engine.acknowledge(incident.id, at(1), "ann", "on it") == [s.last.alert_id]
    assert incident.state is IncidentState.ACKNOWLEDGED and incident.acknowledged_by == "ann"
    assert s.engine.resolve(incident.id, at(2), "ann", None) == [s.last.alert_id]
    with pytest.raises(InvalidTransition):
        s.engine.acknowledge(incident.id, at(3), "ann", None)
    with pytest.raises(IncidentNotFound):
        s.engine.get("nope")
    s.fire(4, alertname="Disk", host="2")  # the group fires again: a new incident
    assert len(s.incidents()) == 2


def test_noise_counters() -> None:
    s = Story()
    s.fire(0, alertname="Disk", host="a")
    s.fire(0, alertname="Disk", host="b")
    s.resolve(1, alertname="Disk", host="a")
    counts = s.engine.counts
    assert (counts["received"], counts["alerts"], counts["incidents"], counts["memberships"]) == (
        3,
        2,
        1,
        2,
    )


def test_restore_rebuilds_the_indexes() -> None:
    s = Story()
    a = s.fire(0, alertname="Disk", host="a")
    stored = list(s.engine.incidents.values())
    fresh = Story()
    fresh.engine.restore(stored, {}, {"incidents": 1})
    b = fresh.fire(1, alertname="Disk", host="b")
    (incident,) = fresh.incidents()
    assert set(incident.members) == {a, b}
    assert fresh.engine.knows(a)
    fresh.engine.tick(at(1) + timedelta(seconds=1))
    assert fresh.engine.counts["incidents"] == 1


def test_purge_forgets_old_resolved_incidents_and_stale_flap_history() -> None:
    s = Story()
    fp = s.fire(0, alertname="Disk")
    s.engine.tick(at(0))  # notified: firing
    s.resolve(1, alertname="Disk")
    s.engine.tick(at(301))  # the all-clear: the group is done
    (incident,) = s.incidents()
    s.engine.purge(at(302), retention=timedelta(hours=1))
    assert s.engine.incidents  # resolved, but not an hour ago
    s.engine.take_outbox()
    s.engine.purge(at(3700), retention=timedelta(hours=1))
    assert not s.engine.incidents and fp not in s.engine.membership
    out = s.engine.take_outbox()
    assert out.purged == {incident.id: [fp]}
    assert out.flaps == {fp: None}  # its transitions left the 10m window long ago


SUPPRESSION_RULES = [
    {
        "source_matchers": ['severity="critical"'],
        "target_matchers": ['severity="warning"'],
        "equal": ["cluster"],
    },
    {"source_matchers": ['tier=~"a|b"'], "target_matchers": ['tier=~"b|c"']},
]


@pytest.mark.parametrize(
    ("silence_window", "others", "target", "silenced", "inhibited"),
    [
        # Nothing mutes a lone alert.
        (None, [], {"severity": "warning", "cluster": "eu"}, False, False),
        # An active silence matching it mutes it.
        ((0, 60), [], {"severity": "warning", "host": "h1"}, True, False),
        # A silence that has not started yet does not.
        ((30, 60), [], {"severity": "warning", "host": "h1"}, False, False),
        # A silence that has ended does not.
        ((-60, -1), [], {"severity": "warning", "host": "h1"}, False, False),
        # A firing critical in the same cluster inhibits the warning.
        (
            None,
            [{"severity": "critical", "cluster": "eu"}],
            {"severity": "warning", "cluster": "eu"},
            False,
            True,
        ),
        # ... but not one in another cluster (the equal label differs).
        (
            None,
            [{"severity": "critical", "cluster": "us"}],
            {"severity": "warning", "cluster": "eu"},
            False,
            False,
        ),
        # Matching both sides of a rule, it is not muted by another two-sided alert.
        (None, [{"tier": "b", "n": "2"}], {"tier": "b"}, False, False),
        # A one-sided source (tier a) does mute it.
        (None, [{"tier": "a"}], {"tier": "b"}, False, True),
        # Silenced and inhibited at once: both reasons are shown.
        (
            (0, 60),
            [{"severity": "critical", "cluster": "eu"}],
            {"severity": "warning", "cluster": "eu", "host": "h1"},
            True,
            True,
        ),
    ],
)
def test_suppression_marks(
    silence_window: tuple[float, float] | None,
    others: list[dict[str, str]],
    target: dict[str, str],
    silenced: bool,
    inhibited: bool,
) -> None:
    s = Story(routing(group_by=["..."], inhibit_rules=SUPPRESSION_RULES))
    if silence_window is not None:
        s.engine.set_silences([silence('{host="h1"}', *silence_window)], at(0))
    for n, labels in enumerate(others):
        s.fire(1, alertname=f"Other{n}", **labels)
    fp = s.fire(1, alertname="Target", **target)
    member = next(i.members[fp] for i in s.incidents() if fp in i.members)
    assert (bool(member.silenced_by), bool(member.inhibited_by)) == (silenced, inhibited)
    assert member.suppressed is (silenced or inhibited)
