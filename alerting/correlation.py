"""The correlation engine: one tenant's alert changes in, incidents out.

``TenantCorrelation`` applies the changes the tenant's actor recorded (an alert
created, refreshed, acknowledged, resolved) in order, and keeps the incidents they
form: grouping by the routing tree, relation by topology and similarity, flapping
holds, silences and inhibition, and the notification timers of each group. It reads
no clock (``now`` is passed in) and does no I/O: what changed is collected in an
``Outbox`` that the caller persists and then clears.

Applying a change twice is harmless (a member that already has that alert and state
is left alone), but the caller still drops changes it has seen, because counters
are not idempotent.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from alerting.aggregation import (
    AggregationGroup,
    GroupAlert,
    GroupNotice,
    flush_group,
    group_id,
    log_id,
)
from alerting.alert import AlertStatus
from alerting.amconfig import RoutingConfig
from alerting.correlation_config import CorrelationPolicy
from alerting.due_queue import DueQueue
from alerting.flapping import FlapHistory, hold_until
from alerting.flush import Notified, NotifyReason
from alerting.grouping import group_key
from alerting.incident import (
    Incident,
    IncidentNotFound,
    Member,
    TimelineEntry,
    TimelineEvent,
)
from alerting.inhibition import inhibited, inhibiting_sources
from alerting.lifecycle import RESOLVED_BY_SOURCE, ChangeKind
from alerting.message import summary_of
from alerting.receivers import send_resolved_modes
from alerting.relatedness import Candidate, JoinReason, Relation, find_related
from alerting.risk import VERDICTS, RiskScore, routes_to_page
from alerting.routing import Route
from alerting.severity import Severity
from alerting.silence import Silence, SilenceState, silenced_by

RELATION_SAMPLE = 20
"""Members of a candidate incident compared for similarity: its newest ones."""

MEMBERSHIPS_BY = "memberships_by_"
"""Prefix of the counters of members by why they joined (``memberships_by_group_key``)."""

RISK_STEP = 0.1
"""A rescoring that moves the risk by less than this is stored but not put on the timeline."""

NOTIFICATION_LOG_RETENTION = timedelta(hours=120)
"""How long a group's last notification is remembered (Alertmanager's ``--data.retention``)."""


@dataclass(frozen=True)
class AlertChange:
    """One change from the tenant's change stream, with the alert's labels when the
    engine may not know them yet (``knows`` says when they can be left out)."""

    change_id: str
    kind: ChangeKind
    alert_id: str
    fingerprint: str
    status: AlertStatus
    severity: Severity
    stored_at: datetime
    labels: Mapping[str, str] | None = None
    starts_at: datetime | None = None
    resolved_by: str | None = None
    by: str | None = None


@dataclass(frozen=True)
class Notification:
    """A group's flush that has something to say (to whom, why, which alerts), or news
    of an incident its escalation must hear (``reason`` says which)."""

    incident_id: str
    receiver: str
    group_key: str
    reason: NotifyReason
    firing: tuple[str, ...]
    resolved: tuple[str, ...]
    at: datetime
    severity: Severity = Severity.WARNING  # the incident's, then (an escalation's SLA)
    # The incident's group labels and one-line summary then: the escalator's first
    # notice is built from these without asking the correlator for the incident.
    labels: Mapping[str, str] = field(default_factory=dict)
    summary: str = ""
    # For the receiver's integrations: which of them it is for (Alertmanager decides
    # separately for those that send resolved alerts and those that do not), and the
    # alert occurrence behind each fingerprint (their documents make the payload).
    send_resolved: bool = True
    alert_ids: Mapping[str, str] = field(default_factory=dict)


@dataclass
class Outbox:
    """What changed since the caller last persisted: written in one transaction."""

    incidents: dict[str, Incident] = field(default_factory=dict)
    members: dict[str, dict[str, Member]] = field(default_factory=dict)
    timeline: dict[str, list[TimelineEntry]] = field(default_factory=dict)
    notifications: list[Notification] = field(default_factory=list)
    flaps: dict[str, FlapHistory | None] = field(default_factory=dict)  # None: forget
    counters: Counter[str] = field(default_factory=Counter)
    purged: dict[str, list[str]] = field(default_factory=dict)  # incident → its members
    groups: dict[str, AggregationGroup | None] = field(default_factory=dict)  # None: gone
    # The alerts of groups that changed, by group then fingerprint (None: dropped): a
    # group's header and its alerts are stored apart, so only these are written.
    group_alerts: dict[str, dict[str, GroupAlert | None]] = field(default_factory=dict)
    notification_log: dict[str, Notified | None] = field(default_factory=dict)

    def store_whole(self, gid: str, group: AggregationGroup) -> None:
        """Write a group with every alert it holds (one rebuilt, or stored the old way)."""
        self.groups[gid] = group
        self.group_alerts[gid] = dict(group.alerts)

    def __bool__(self) -> bool:
        return bool(
            self.groups
            or self.group_alerts
            or self.notification_log
            or self.incidents
            or self.members
            or self.timeline
            or self.notifications
            or self.flaps
            or self.counters
            or self.purged
        )


@dataclass(slots=True)
class KnownAlert:
    """What the engine remembers of an open (or held) alert: enough to route and mute it."""

    alert_id: str
    labels: Mapping[str, str]
    status: AlertStatus
    severity: Severity
    starts_at: datetime


class TenantCorrelation:
    """Forms and keeps one tenant's incidents from its alert changes."""

    def __init__(
        self,
        tenant: str,
        routing: RoutingConfig,
        policy: CorrelationPolicy,
        new_id: Callable[[], str],
    ) -> None:
        self.tenant = tenant
        self.routing = routing
        self.policy = policy
        self.new_id = new_id
        self.routes: dict[str, Route] = {r.path: r for r in routing.root.walk()}
        self.incidents: dict[str, Incident] = {}
        self.open_by_group: dict[tuple[str, str], str] = {}  # (route, group key) → incident
        self.open_by_route: dict[str, set[str]] = {}  # route → its open incidents
        self.membership: dict[str, dict[str, str]] = {}  # fingerprint → route → incident
        self.alerts: dict[str, KnownAlert] = {}  # open or held alerts by fingerprint
        self.flaps: dict[str, FlapHistory] = {}
        self.silences: list[Silence] = []
        self.counts: Counter[str] = Counter()
        self.outbox = Outbox()
        # Alertmanager's aggregation groups (alerting.aggregation) and notification log.
        self.groups: dict[str, AggregationGroup] = {}
        self.grouped: dict[str, set[str]] = {}  # fingerprint → the groups holding it
        self.notification_log: dict[str, Notified] = {}
        self.modes = {r.name: send_resolved_modes(r) for r in routing.receivers}
        self._flushes: DueQueue[str] = DueQueue()  # group id → its next flush
        # Which firing alerts inhibition mutes, as the last refresh found it (groups'
        # flushes use it; silences they judge as of the flush).
        self._inhibitions: dict[str, str] = {}  # firing fingerprint → its inhibitor
        self._firing_labels: list[Mapping[str, str]] = []
        self._holds: DueQueue[tuple[str, str]] = DueQueue()  # (incident, fp) → hold's end
        self._suppressed: set[tuple[str, str]] = set()  # (incident, fingerprint) muted now
        # What the active silences mute, by fingerprint (its labels never change), valid
        # while the same silences are active: a tick re-matches only new members, so a
        # tenant's many or costly matchers are paid once per alert, not once per tick.
        self._silenced_memo: dict[str, tuple[str, ...]] = {}
        self._silenced_memo_for: tuple[int, tuple[str, ...]] = (0, ())
        self._silences_version = 0
        self._purges: DueQueue[str] = DueQueue()  # incident → when it resolved
        self._flap_expiry: DueQueue[str] = DueQueue()  # fingerprint → its last transition
        # Incidents new or changed since the last scoring, in the order they changed (a
        # dict, not a set: replays must not depend on string hashing).
        self._to_score: dict[str, None] = {}

    # -- reading ----------------------------------------------------------------------

    def knows(self, fingerprint: str) -> bool:
        """Whether the engine has this fingerprint's labels (else the change must carry them)."""
        return fingerprint in self.alerts

    def labels_of(self, fingerprint: str) -> Mapping[str, str] | None:
        """The labels of an open (or held) alert, if the engine has it."""
        known = self.alerts.get(fingerprint)
        return known.labels if known is not None else None

    def get(self, incident_id: str) -> Incident:
        """One incident by id (``IncidentNotFound`` if the tenant has none such)."""
        incident = self.incidents.get(incident_id)
        if incident is None:
            raise IncidentNotFound(f"no incident {incident_id!r} for tenant {self.tenant!r}")
        return incident

    def open_incidents_of(self, fingerprint: str) -> list[str]:
        """The open incidents an alert belongs to (one per route it matched), oldest
        first: what escalating the alert escalates."""
        found = [
            self.incidents[i]
            for ids in self.open_by_route.values()
            for i in ids
            if fingerprint in self.incidents[i].members
        ]
        return [i.id for i in sorted(found, key=lambda i: (i.created_at, i.id))]

    def next_due(self, now: datetime) -> datetime | None:
        """The earliest time ``tick`` has something to do: a group's flush, a hold
        ending, or a silence starting or ending."""
        times = [t for t in (self._flushes.next_at(), self._holds.next_at()) if t is not None]
        times += [t for s in self.silences for t in (s.starts_at, s.ends_at) if t > now]
        return min(times) if times else None

    def _due_by(self, at: datetime) -> bool:
        """Whether a flush or a hold's end is due by ``at`` (cheap: two peeks; it is asked
        once per change)."""
        flush = self._flushes.next_at()
        if flush is not None and flush <= at:
            return True
        hold = self._holds.next_at()
        return hold is not None and hold <= at

    def take_to_score(self) -> list[Incident]:
        """The open incidents that are new or changed since the last call (to be scored)."""
        ids, self._to_score = self._to_score, {}
        found = (self.incidents.get(i) for i in ids)
        return [i for i in found if i is not None and i.is_open]

    def take_outbox(self) -> Outbox:
        """Hand over what changed since the last call, and start a new outbox."""
        out, self.outbox = self.outbox, Outbox()
        return out

    # -- applying changes -----------------------------------------------------------------

    def apply(self, changes: Iterable[AlertChange], now: datetime) -> None:
        """Apply changes in stream order, then re-evaluate what is muted.

        Time is the changes' own: what was due before a change was received (a
        group's flush, a hold ending) is done first, as of then. So a correlator that
        is behind (a restart, a loaded machine) sends what it would have sent on time,
        and no change slips into a flush that was due before it arrived.
        """
        touched: set[str] = set()
        for change in changes:
            received = min(change.stored_at, now)
            if self._due_by(received):
                self.tick(received)
            self._count(change)
            if change.status.is_open:
                touched |= self._alert_open(change, now)
            else:
                touched |= self._alert_resolved(change, now)
        touched |= self._refresh_suppression(now, force=False)
        self._settle(touched, now)

    def _count(self, change: AlertChange) -> None:
        kind = change.kind
        if kind in (ChangeKind.CREATED, ChangeKind.REOPENED):
            self._bump("received")
            self._bump("alerts")
        elif kind is ChangeKind.DUPLICATE:
            self._bump("received")
            self._bump("duplicates")
        elif kind is ChangeKind.RESOLVED and change.resolved_by == RESOLVED_BY_SOURCE:
            self._bump("received")

    def _bump(self, name: str) -> None:
        self.counts[name] += 1
        self.outbox.counters[name] += 1

    def _is_flapping(self, fp: str, now: datetime) -> bool:
        history = self.flaps.get(fp)
        return history is not None and history.is_flapping(now, self.policy.flapping)

    def _alert_open(self, change: AlertChange, now: datetime) -> set[str]:
        """An alert fires (new, again, refreshed or acknowledged): place it in its incidents."""
        fp = change.fingerprint
        known = self.alerts.get(fp)
        if known is not None and known.alert_id == change.alert_id and known.status.is_open:
            if known.status is change.status:
                return set()  # a refresh: nothing an incident shows changed
            known.status = change.status
        else:
            labels = change.labels
            if labels is None and known is not None:
                labels = known.labels
            if labels is None:
                return set()  # unknown and no labels: nothing to route by
            if known is None or not known.status.is_open:
                self._record_transition(fp, now)
            known = KnownAlert(
                change.alert_id,
                labels,
                change.status,
                change.severity,
                change.starts_at or change.stored_at,
            )
            self.alerts[fp] = known
        touched: set[str] = set()
        for route in self.routing.root.match(known.labels):
            incident_id = self._place(route, known, change, now)
            touched.add(incident_id)
            # The group's clock runs from when the alert was received, as Alertmanager's
            # does: a correlator that is behind must not delay or hurry its flushes.
            self._group_insert(route, fp, known, incident_id, min(change.stored_at, now))
        return touched

    def _group_insert(
        self, route: Route, fp: str, alert: KnownAlert, incident_id: str, received: datetime
    ) -> None:
        """Put a firing alert into its Alertmanager group on ``route`` (made if new);
        ``received`` is when the alert came in."""
        gkey = group_key(route, alert.labels)
        gid = group_id(route.path, gkey)
        group = self.groups.get(gid)
        if group is None:
            group = self._new_group(route, gkey, alert.labels, incident_id, received)
        held = group.alerts.get(fp)
        same = held is not None and held.firing and held.alert_id == alert.alert_id
        if same and group.incident_id == incident_id:
            return  # acknowledged, or a refresh: Alertmanager's group sees no change
        group.incident_id = incident_id
        alert_now = GroupAlert(alert.alert_id, alert.labels, True)
        self._hold(route, gid, group, fp, alert_now, alert.starts_at, received)

    def _hold(
        self,
        route: Route,
        gid: str,
        group: AggregationGroup,
        fp: str,
        alert: GroupAlert,
        starts_at: datetime,
        received: datetime,
    ) -> None:
        """Put one alert (firing or resolved) into a group, and note what changed."""
        if group.insert(fp, alert, starts_at, route.group_wait, received):
            self._flushes.schedule(gid, group.next_flush_at)
        self.grouped.setdefault(fp, set()).add(gid)
        self.outbox.groups[gid] = group
        self.outbox.group_alerts.setdefault(gid, {})[fp] = alert

    def _new_group(
        self,
        route: Route,
        gkey: str,
        labels: Mapping[str, str],
        incident_id: str,
        received: datetime,
    ) -> AggregationGroup:
        """A new group of ``route``, first flushed ``group_wait`` after ``received``."""
        group = AggregationGroup(
            route=route.path,
            group_key=gkey,
            receiver=route.receiver,
            labels=route.group_labels(labels),
            next_flush_at=received + route.group_wait,
            incident_id=incident_id,
        )
        gid = group_id(route.path, gkey)
        self.groups[gid] = group
        self._flushes.schedule(gid, group.next_flush_at)
        return group

    def _place(self, route: Route, alert: KnownAlert, change: AlertChange, now: datetime) -> str:
        """Put the alert into its incident on ``route``; return that incident's id."""
        fp = change.fingerprint
        current = self.incidents.get(self.membership.get(fp, {}).get(route.path, ""))
        if current is not None and current.is_open and fp in current.members:
            self._update_member(current, current.members[fp], change, now)
            return current.id
        gkey = group_key(route, alert.labels)
        incident = self.incidents.get(self.open_by_group.get((route.path, gkey), ""))
        # The key ends with the group labels as a label set: the member's reason.
        reason, detail, score = JoinReason.GROUP_KEY, f"group {gkey[len(route.key) + 1 :]}", None
        if incident is None:
            relation = self._related(route, alert.labels, now)
            if relation is not None:
                incident = self.incidents[relation.incident_id]
                reason, detail, score = relation.reason, relation.detail, relation.score
                incident.group_keys.add(gkey)
                self.open_by_group[(route.path, gkey)] = incident.id
                self._bump(f"joined_by_{relation.reason.value}")
        if incident is None:
            incident = self._create(route, gkey, alert, now)
        member = Member(
            fingerprint=fp,
            alert_id=change.alert_id,
            # One labels mapping per alert, shared with the engine's own record: a
            # fingerprint's labels never change, and nothing edits them in place.
            labels=alert.labels if isinstance(alert.labels, dict) else dict(alert.labels),
            severity=change.severity,
            status=change.status,
            reason=reason,
            detail=detail,
            score=score,
            joined_at=now,
            received_at=change.stored_at,
            starts_at=alert.starts_at,
            updated_at=now,
            flapping=self._is_flapping(fp, now),
        )
        self._log(incident, incident.add(member, now))
        self._dirty(incident, member)
        self._to_score[incident.id] = None
        self.membership.setdefault(fp, {})[route.path] = incident.id
        self._bump("memberships")
        self._bump(f"{MEMBERSHIPS_BY}{reason.value}")
        return incident.id

    def _update_member(
        self, incident: Incident, member: Member, change: AlertChange, now: datetime
    ) -> None:
        if member.alert_id == change.alert_id and member.status is change.status:
            return
        if member.alert_id != change.alert_id:
            held = member.held_until is not None
            detail = "a held resolution is cancelled: the alert flaps" if held else ""
            self._log(
                incident,
                TimelineEntry(now, TimelineEvent.ALERT_FIRED_AGAIN, detail, member.fingerprint),
            )
            member.flapping = self._is_flapping(member.fingerprint, now)
        elif change.kind is ChangeKind.ACKNOWLEDGED:
            entry = TimelineEntry(
                now, TimelineEvent.ALERT_ACKNOWLEDGED, "", member.fingerprint, change.by
            )
            self._log(incident, entry)
        member.alert_id, member.status, member.held_until = change.alert_id, change.status, None
        member.severity, member.updated_at = change.severity, now
        incident.severity = max(incident.severity, change.severity)
        incident.updated_at = now
        self._dirty(incident, member)
        self._to_score[incident.id] = None

    def _related(self, route: Route, labels: Mapping[str, str], now: datetime) -> Relation | None:
        relatedness = self.policy.relatedness
        if not relatedness.enabled:
            return None
        candidates = []
        for incident_id in self.open_by_route.get(route.path, ()):
            incident = self.incidents[incident_id]
            sample = list(incident.members.values())[-RELATION_SAMPLE:]
            candidates.append(
                Candidate(incident_id, incident.updated_at, tuple(m.labels for m in sample))
            )
        return find_related(labels, candidates, relatedness, now)

    def _create(self, route: Route, gkey: str, alert: KnownAlert, now: datetime) -> Incident:
        incident = Incident(
            id=self.new_id(),
            tenant=self.tenant,
            route=route.path,
            receiver=route.receiver,
            group_key=gkey,
            group_labels=route.group_labels(alert.labels),
            group_keys={gkey},
            created_at=now,
            updated_at=now,
            severity=alert.severity,
        )
        self.incidents[incident.id] = incident
        self.open_by_group[(route.path, gkey)] = incident.id
        self.open_by_route.setdefault(route.path, set()).add(incident.id)
        self._log(incident, TimelineEntry(now, TimelineEvent.CREATED, f"group key {gkey}"))
        self._bump("incidents")
        return incident

    def _alert_resolved(self, change: AlertChange, now: datetime) -> set[str]:
        """An alert resolves: resolve its memberships, or hold them if it flaps."""
        fp = change.fingerprint
        known = self.alerts.get(fp)
        was_open = known is not None and known.alert_id == change.alert_id and known.status.is_open
        if was_open:
            self._record_transition(fp, now)
        history = self.flaps.get(fp)
        hold = hold_until(history, now, self.policy.flapping) if history and was_open else None
        touched: set[str] = set()
        held_any = False
        for incident_id in self.membership.get(fp, {}).values():
            incident = self.incidents.get(incident_id)
            member = incident.members.get(fp) if incident else None
            if incident is None or member is None or member.alert_id != change.alert_id:
                continue  # an older occurrence's change
            if member.status is AlertStatus.RESOLVED and member.held_until is None:
                continue
            member.status, member.updated_at = AlertStatus.RESOLVED, now
            if hold is not None and incident.is_open:
                member.held_until, member.flapping = hold, True
                held_any = True
                self._holds.schedule((incident.id, fp), hold)
                count = history.count(now, self.policy.flapping) if history else 0
                self._log(
                    incident,
                    TimelineEntry(
                        now,
                        TimelineEvent.RESOLUTION_HELD,
                        f"flapping: {count} transitions in {self.policy.flapping.window}; "
                        f"held firing until {hold.isoformat()}",
                        fp,
                    ),
                )
                self._bump("flapping_held")
            else:
                member.held_until = None
                self._log(
                    incident, TimelineEntry(now, TimelineEvent.ALERT_RESOLVED, "", fp, change.by)
                )
            incident.updated_at = now
            self._dirty(incident, member)
            touched.add(incident.id)
        if known is not None and known.alert_id == change.alert_id:
            if held_any:
                known.status = AlertStatus.RESOLVED
            else:
                del self.alerts[fp]
        self._group_resolve(fp, change, known, min(change.stored_at, now))
        return touched

    def _group_resolve(
        self, fp: str, change: AlertChange, known: KnownAlert | None, received: datetime
    ) -> None:
        """The alert resolved, or its source said so again: each group of its routes
        holds it resolved until the next flush (flapping holds are Vigil's: the groups,
        like Alertmanager's, see the resolution now). As in Alertmanager, a resolution
        sent again after it was announced puts the alert back into its group (made anew
        if it was deleted), so the group's next notification lists it once more."""
        member = self._latest_member(fp)
        labels = change.labels or (known.labels if known else None)
        labels = labels or (member.labels if member else None)
        if labels is None:
            return
        starts_at = change.starts_at or (member.starts_at if member else received)
        for route in self.routing.root.match(labels):
            gkey = group_key(route, labels)
            gid = group_id(route.path, gkey)
            group = self.groups.get(gid)
            held = group.alerts.get(fp) if group is not None else None
            if held is not None and held.alert_id != change.alert_id and held.firing:
                continue  # an older occurrence's news: a newer one fires
            if held is not None and not held.firing and held.alert_id == change.alert_id:
                continue  # already held resolved
            if group is None:
                incident_id = self.membership.get(fp, {}).get(route.path, "")
                group = self._new_group(route, gkey, labels, incident_id, received)
            alert = GroupAlert(change.alert_id, labels, False)
            self._hold(route, gid, group, fp, alert, starts_at, received)

    def _latest_member(self, fp: str) -> Member | None:
        """The alert as its newest incident holds it (its labels outlive the engine's
        memory of the alert itself)."""
        for incident_id in self.membership.get(fp, {}).values():
            incident = self.incidents.get(incident_id)
            if incident is not None and fp in incident.members:
                return incident.members[fp]
        return None

    def _record_transition(self, fp: str, now: datetime) -> None:
        policy = self.policy.flapping
        if not policy.enabled:
            return
        history = self.flaps.setdefault(fp, FlapHistory())
        history.record(now, policy)
        self._flap_expiry.schedule(fp, now)
        self.outbox.flaps[fp] = history

    # -- time passing -------------------------------------------------------------------

    def tick(self, now: datetime) -> None:
        """Do what is due by ``now``: end flapping holds, follow silences, flush groups."""
        touched = self._end_holds(now)
        touched |= self._refresh_suppression(now, force=False)
        self._settle(touched, now)
        # One at a time: a flush may make its group due again within this tick.
        while (head := self._flushes.peek()) is not None and head[0] <= now:
            due, gid = self._flushes.pop()
            group = self.groups.get(gid)
            if group is not None and group.next_flush_at == due:
                # As of when it was due (what arrived later waits for the next one),
                # but after a long outage as of one interval ago: one catch-up flush,
                # not a burst of every one missed.
                interval = self.routes.get(group.route, self.routing.root).group_interval
                self._flush(gid, group, max(due, now - interval))

    def _end_holds(self, now: datetime) -> set[str]:
        touched: set[str] = set()
        for until, (incident_id, fp) in self._holds.pop_due(now):
            incident = self.incidents.get(incident_id)
            member = incident.members.get(fp) if incident else None
            if incident is None or member is None or member.held_until != until:
                continue  # fired again meanwhile, or already closed
            member.held_until, member.updated_at = None, now
            self._log(incident, TimelineEntry(now, TimelineEvent.HOLD_ENDED, "stayed resolved", fp))
            self._dirty(incident, member)
            touched.add(incident.id)
            known = self.alerts.get(fp)
            if known is not None and known.alert_id == member.alert_id and not known.status.is_open:
                del self.alerts[fp]
        return touched

    def _flush(self, gid: str, group: AggregationGroup, now: datetime) -> None:
        """Flush a group on its timer: queue its notifications, drop its resolved
        alerts, delete it once empty (``alerting.aggregation`` has the rules)."""
        route = self.routes.get(group.route, self.routing.root)
        alert_ids = {fp: a.alert_id for fp, a in group.alerts.items()}
        result = flush_group(
            group,
            self._muter(now),
            lambda mode: self.notification_log.get(log_id(group.receiver, group.group_key, mode)),
            self.modes.get(group.receiver, (True,)),
            route.group_interval,
            route.repeat_interval,
            now,
        )
        incident = self.incidents.get(group.incident_id)
        for notice in result.notices:
            self._log_notice(group, notice, now)
            self._queue_notice(group, notice, incident, alert_ids, now)
        if result.dropped:
            self.outbox.group_alerts.setdefault(gid, {}).update(dict.fromkeys(result.dropped))
        for fp in result.dropped:
            gids = self.grouped.get(fp)
            if gids is not None:
                gids.discard(gid)
                if not gids:
                    del self.grouped[fp]
        if group.empty:
            del self.groups[gid]  # as Alertmanager deletes an empty group
            self.outbox.groups[gid] = None
            return
        self._flushes.schedule(gid, group.next_flush_at)
        if result.notices or result.dropped:
            # A quiet look is not stored: after a restart the stored, earlier flush
            # time only makes the first look come sooner, and it finds nothing new.
            self.outbox.groups[gid] = group

    def _muter(self, at: datetime) -> Callable[[str, Mapping[str, str]], bool]:
        """Whether a silence (as of ``at``) or an inhibition mutes an alert of a group
        (resolved alerts too, as Alertmanager's mute stages look at every alert)."""
        active = [s for s in self.silences if s.state(at) is SilenceState.ACTIVE]
        rules = self.routing.inhibit_rules

        def is_muted(fp: str, labels: Mapping[str, str]) -> bool:
            if active and silenced_by(active, labels, at):
                return True
            if fp in self._inhibitions:
                return True
            known = self.alerts.get(fp)
            if not rules or (known is not None and known.status.is_open):
                return False  # a firing alert's inhibition is in _inhibitions already
            return inhibited(rules, labels, self._firing_labels)

        return is_muted

    def _log_notice(self, group: AggregationGroup, notice: GroupNotice, now: datetime) -> None:
        entry = Notified(now, notice.firing, notice.resolved)
        key = log_id(group.receiver, group.group_key, notice.send_resolved)
        self.notification_log[key] = entry
        self.outbox.notification_log[key] = entry

    def _queue_notice(
        self,
        group: AggregationGroup,
        notice: GroupNotice,
        incident: Incident | None,
        alert_ids: Mapping[str, str],
        now: datetime,
    ) -> None:
        """Queue one group notification for the receiver (and its incident's escalation)."""
        listed = notice.firing | notice.resolved
        self.outbox.notifications.append(
            Notification(
                group.incident_id,
                group.receiver,
                group.group_key,
                notice.reason,
                tuple(sorted(notice.firing)),
                tuple(sorted(notice.resolved)),
                now,
                incident.severity if incident is not None else Severity.WARNING,
                dict(group.labels),
                summary_of(incident) if incident is not None else group.group_key,
                notice.send_resolved,
                {fp: alert_ids[fp] for fp in sorted(listed)},
            )
        )
        if not notice.send_resolved:
            return  # the same flush, told to the integrations that skip resolved alerts
        self._bump("notifications")
        if incident is not None:
            incident.last_notified = Notified(now, notice.firing, notice.resolved)
            detail = (
                f"{notice.reason.value}: {len(notice.firing)} firing, "
                f"{len(notice.resolved)} resolved to {group.receiver}"
            )
            self._log(incident, TimelineEntry(now, TimelineEvent.NOTIFIED, detail))

    def _notify(
        self,
        incident: Incident,
        receiver: str,
        reason: NotifyReason,
        firing: frozenset[str],
        resolved: frozenset[str],
        now: datetime,
        detail: str,
    ) -> None:
        """Queue one notification of the incident to a receiver (a risk route's page),
        and note it."""
        alert_ids = {fp: self.incidents[incident.id].members[fp].alert_id for fp in firing}
        self.outbox.notifications.append(
            Notification(
                incident.id,
                receiver,
                incident.group_key,
                reason,
                tuple(sorted(firing)),
                tuple(sorted(resolved)),
                now,
                incident.severity,
                dict(incident.group_labels),
                summary_of(incident),
                alert_ids=alert_ids,
            )
        )
        self._log(incident, TimelineEntry(now, TimelineEvent.NOTIFIED, detail))
        self._bump("notifications")

    # -- silences and inhibition ------------------------------------------------------

    def set_silences(self, silences: Sequence[Silence], now: datetime) -> None:
        """Replace the tenant's silences and re-evaluate what they mute."""
        self.silences = list(silences)
        self._silences_version += 1  # an edited silence keeps its id: forget the memo
        self._settle(self._refresh_suppression(now, force=True), now)

    def _refresh_suppression(self, now: datetime, *, force: bool) -> set[str]:
        """Mark each open member with the silences and inhibiting alerts that mute it;
        return the incidents whose marks changed (their muting may have).

        Skipped when nothing can mute anything and nothing is muted now.
        """
        active = [s for s in self.silences if s.state(now) is SilenceState.ACTIVE]
        rules = self.routing.inhibit_rules
        if not force and not rules and not active and not self._suppressed:
            self._inhibitions, self._firing_labels = {}, []
            return set()
        firing = [(fp, a.labels) for fp, a in self.alerts.items() if a.status.is_open]
        muted = inhibiting_sources(rules, firing) if rules and firing else {}
        self._inhibitions = muted
        self._firing_labels = [labels for _, labels in firing] if rules else []
        suppressed: set[tuple[str, str]] = set()
        changed: set[str] = set()
        memo_for = (self._silences_version, tuple(s.id for s in active))
        known = self._silenced_memo if memo_for == self._silenced_memo_for else {}
        memo: dict[str, tuple[str, ...]] = {}  # rebuilt: holds only open members
        for incident_id in {i for ids in self.open_by_route.values() for i in ids}:
            incident = self.incidents[incident_id]
            for fp, member in incident.members.items():
                if not member.is_open:
                    continue
                silenced = known.get(fp) if active else ()
                if silenced is None:
                    silenced = tuple(silenced_by(active, member.labels, now))
                memo[fp] = silenced
                source = muted.get(fp)
                sources = (source,) if source is not None else ()
                if silenced != member.silenced_by or sources != member.inhibited_by:
                    self._mark(incident, member, silenced, sources, now)
                    changed.add(incident_id)
                if member.suppressed:
                    suppressed.add((incident_id, fp))
        self._suppressed = suppressed
        self._silenced_memo, self._silenced_memo_for = memo, memo_for
        return changed

    def _mark(
        self,
        incident: Incident,
        member: Member,
        silenced: tuple[str, ...],
        inhibited: tuple[str, ...],
        now: datetime,
    ) -> None:
        fp = member.fingerprint
        if silenced and not member.silenced_by:
            self._bump("suppressed_by_silence")
            self._log(incident, TimelineEntry(now, TimelineEvent.SILENCED, ", ".join(silenced), fp))
        elif member.silenced_by and not silenced:
            self._log(incident, TimelineEntry(now, TimelineEvent.UNSILENCED, "", fp))
        if inhibited and not member.inhibited_by:
            self._bump("suppressed_by_inhibition")
            self._log(
                incident, TimelineEntry(now, TimelineEvent.INHIBITED, f"by {inhibited[0]}", fp)
            )
        elif member.inhibited_by and not inhibited:
            self._log(incident, TimelineEntry(now, TimelineEvent.UNINHIBITED, "", fp))
        member.silenced_by, member.inhibited_by, member.updated_at = silenced, inhibited, now
        self._dirty(incident, member)

    # -- incident state ---------------------------------------------------------------

    def _settle(self, incident_ids: Iterable[str], now: datetime) -> None:
        """Bring changed incidents to the state their members imply, and tell their
        escalations what changed: resolved, muted, unmuted."""
        for incident_id in incident_ids:
            incident = self.incidents.get(incident_id)
            if incident is None:
                continue
            entry = incident.settle(now)
            if entry is not None:
                self._log(incident, entry)
                self._dirty(incident)
                if not incident.is_open:
                    self._closed(incident)
                    self._tell_escalation(incident, NotifyReason.INCIDENT_RESOLVED, now)
            self._follow_muting(incident, now)

    def _follow_muting(self, incident: Incident, now: datetime) -> None:
        """Note when every open alert of an open incident became muted, or stopped
        being: its escalation pauses and resumes (muting never resolves anything)."""
        muted = incident.all_muted()
        if muted == (incident.muted_at is not None) or (not muted and not incident.is_open):
            if not incident.is_open and incident.muted_at is not None:
                incident.muted_at = None  # over: no escalation is left to resume
                self._dirty(incident)
            return
        if muted:
            incident.muted_at = now
            detail = "muted by " + ", ".join(incident.muted_by())
            self._log(incident, TimelineEntry(now, TimelineEvent.MUTED, detail))
            self._tell_escalation(incident, NotifyReason.MUTED, now)
        else:
            incident.muted_at = None
            self._log(
                incident, TimelineEntry(now, TimelineEvent.UNMUTED, "an open alert is not muted")
            )
            self._tell_escalation(incident, NotifyReason.UNMUTED, now)
        self._dirty(incident)

    def _closed(self, incident: Incident) -> None:
        """Forget an incident as a place new alerts can join (its groups go on, as
        Alertmanager's do, until their resolutions are announced)."""
        if incident.resolved_at is not None:
            self._purges.schedule(incident.id, incident.resolved_at)
        for gkey in incident.group_keys:
            if self.open_by_group.get((incident.route, gkey)) == incident.id:
                del self.open_by_group[(incident.route, gkey)]
        self.open_by_route.get(incident.route, set()).discard(incident.id)
        for fp, member in incident.members.items():
            if member.held_until is not None:
                member.held_until = None
                self._dirty(incident, member)
            known = self.alerts.get(fp)
            if known is not None and not known.status.is_open:
                del self.alerts[fp]

    def acknowledge(
        self, incident_id: str, now: datetime, by: str | None, reason: str | None
    ) -> list[str]:
        """Acknowledge an incident; return the ids of its alerts to acknowledge too."""
        incident = self.get(incident_id)
        entry = incident.acknowledge(now, by, reason)
        if entry is not None:
            self._log(incident, entry)
            self._dirty(incident)
            self._tell_escalation(incident, NotifyReason.ACKNOWLEDGED, now)
        return [m.alert_id for m in incident.members.values() if m.status is AlertStatus.FIRING]

    def resolve(
        self, incident_id: str, now: datetime, by: str | None, reason: str | None
    ) -> list[str]:
        """Resolve an incident by hand; return the ids of its open alerts to resolve too."""
        incident = self.get(incident_id)
        to_resolve = [m.alert_id for m in incident.members.values() if m.status.is_open]
        entry = incident.resolve(now, by, reason or "resolved by hand")
        if entry is not None:
            self._log(incident, entry)
            self._dirty(incident)
            self._closed(incident)
            self._tell_escalation(incident, NotifyReason.RESOLVED_BY_HAND, now)
        return to_resolve

    def _tell_escalation(self, incident: Incident, reason: NotifyReason, now: datetime) -> None:
        """Queue news of the incident for its escalation (not a group flush, not counted
        as one): a person acknowledged or resolved it, its alerts resolved, or it was
        muted or unmuted. The escalator acts at once rather than at its next step."""
        self.outbox.notifications.append(
            Notification(
                incident.id,
                incident.receiver,
                incident.group_key,
                reason,
                (),
                (),
                now,
                incident.severity,
            )
        )

    # -- risk and feedback -------------------------------------------------------------

    def set_risk(self, incident_id: str, risk: RiskScore) -> None:
        """Record a model's score of an open incident and page the risk routes it meets.

        The timeline shows a move of ``RISK_STEP`` or more, not every rescoring nor the
        first score (the incident carries that, with its time): a timeline entry is a
        Redis list write per incident, and in a storm every new incident is scored.
        Closed or forgotten incidents are left alone: the score was asked for before
        they closed.
        """
        incident = self.incidents.get(incident_id)
        if incident is None or not incident.is_open:
            return
        previous, incident.risk = incident.risk, risk
        self._dirty(incident)
        if previous is not None and abs(previous.value - risk.value) >= RISK_STEP:
            detail = f"{previous.value:.3f} -> {risk.value:.3f} by model {risk.model}"
            self._log(incident, TimelineEntry(risk.at, TimelineEvent.RISK_CHANGED, detail))
        if not self.policy.risk_routes:
            return
        firing = incident.notifiable()[0]
        labels = [incident.members[fp].labels for fp in firing]
        pages = routes_to_page(self.policy.risk_routes, risk, labels, incident.risk_paged)
        for route in pages:
            incident.risk_paged += (route.name,)
            detail = f"risk {risk.value:.3f} met {route.name}: {len(firing)} firing"
            self._notify(
                incident, route.receiver, NotifyReason.RISK, firing, frozenset(), risk.at, detail
            )
            self._bump("risk_pages")

    def note(self, incident_id: str, entry: TimelineEntry) -> bool:
        """Put what happened elsewhere (an escalation step, a delivery) on an incident's
        timeline; False if the incident is gone."""
        incident = self.incidents.get(incident_id)
        if incident is None:
            return False
        self._log(incident, entry)
        return True

    def set_feedback(
        self, incident_id: str, verdict: str, now: datetime, by: str | None
    ) -> Incident:
        """Record a person's verdict on an incident (``actionable`` or ``noise``); it
        becomes the incident's training label, whatever its state."""
        if verdict not in VERDICTS:
            raise ValueError(f"verdict must be one of {', '.join(VERDICTS)}")
        incident = self.get(incident_id)
        incident.feedback, incident.feedback_by = verdict, by
        self._log(incident, TimelineEntry(now, TimelineEvent.FEEDBACK, verdict, by=by))
        self._dirty(incident)
        return incident

    def purge(self, now: datetime, retention: timedelta) -> None:
        """Forget incidents resolved longer than ``retention`` ago, and stale flap history.

        Both are found through queues ordered by due time, so a purge costs what it
        removes, not a pass over every incident (a pause the correlator cannot afford).
        """
        while (head := self._purges.peek()) is not None and head[0] + retention < now:
            _, incident_id = self._purges.pop()
            incident = self.incidents.get(incident_id)
            if incident is None:
                continue
            self._forget(incident)
        for key, entry in list(self.notification_log.items()):
            if entry.at + NOTIFICATION_LOG_RETENTION < now:
                del self.notification_log[key]
                self.outbox.notification_log[key] = None
        window = self.policy.flapping.window
        while (head := self._flap_expiry.peek()) is not None and head[0] + window < now:
            _, fp = self._flap_expiry.pop()
            history = self.flaps.get(fp)
            if history is None:
                continue
            history.forget_before(now - window)
            if history.transitions:
                continue  # a newer transition was queued when it was recorded
            del self.flaps[fp]
            self.outbox.flaps[fp] = None

    def _forget(self, incident: Incident) -> None:
        del self.incidents[incident.id]
        for fp in incident.members:
            routes = self.membership.get(fp, {})
            for path, owner in list(routes.items()):
                if owner == incident.id:
                    del routes[path]
            if not routes:
                self.membership.pop(fp, None)
        self.outbox.purged[incident.id] = list(incident.members)

    # -- bookkeeping ------------------------------------------------------------------

    def _log(self, incident: Incident, entry: TimelineEntry) -> None:
        incident.timeline_length += 1
        self.outbox.timeline.setdefault(incident.id, []).append(entry)
        self.outbox.incidents[incident.id] = incident

    def _dirty(self, incident: Incident, member: Member | None = None) -> None:
        self.outbox.incidents[incident.id] = incident
        if member is not None:
            self.outbox.members.setdefault(incident.id, {})[member.fingerprint] = member

    # -- rebuilding from storage ------------------------------------------------------

    def restore(
        self,
        incidents: Iterable[Incident],
        flaps: Mapping[str, FlapHistory],
        counts: Mapping[str, int],
        groups: Iterable[AggregationGroup] = (),
        notification_log: Mapping[str, Notified] | None = None,
    ) -> None:
        """Rebuild every index from stored incidents, flap histories, counters, groups
        and notification log."""
        self.notification_log = dict(notification_log or {})
        self.flaps = dict(flaps)
        for fp, history in self.flaps.items():
            for at in history.transitions[-1:]:
                self._flap_expiry.schedule(fp, at)
        self.counts = Counter(counts)
        # Oldest first, so a fingerprint's membership ends up pointing at its newest incident.
        for incident in sorted(incidents, key=lambda i: i.created_at):
            self.incidents[incident.id] = incident
            for fp, member in incident.members.items():
                self.membership.setdefault(fp, {})[incident.route] = incident.id
                if member.held_until is not None:
                    self._holds.schedule((incident.id, fp), member.held_until)
                if member.is_open and incident.is_open:
                    self.alerts[fp] = KnownAlert(
                        member.alert_id,
                        member.labels,
                        member.status,
                        member.severity,
                        member.starts_at,
                    )
                if member.suppressed and incident.is_open:
                    self._suppressed.add((incident.id, fp))
            if incident.resolved_at is not None:
                self._purges.schedule(incident.id, incident.resolved_at)
            if incident.is_open:
                for gkey in incident.group_keys:
                    self.open_by_group[(incident.route, gkey)] = incident.id
                self.open_by_route.setdefault(incident.route, set()).add(incident.id)
                if incident.risk is None:
                    self._to_score[incident.id] = None  # changed while no model could score it
        stored = list(groups)
        if not stored:  # state stored before groups were: rebuilt, and stored anew
            stored = self._groups_from_incidents()
            for group in stored:
                self.outbox.store_whole(group_id(group.route, group.group_key), group)
        for group in stored:
            gid = group_id(group.route, group.group_key)
            self.groups[gid] = group
            self._flushes.schedule(gid, group.next_flush_at)
            for fp in group.alerts:
                self.grouped.setdefault(fp, set()).add(gid)

    def _groups_from_incidents(self) -> list[AggregationGroup]:
        """State stored before groups were (Vigil 0.1): each open incident's groups,
        rebuilt from its open members, so an upgrade mid-incident goes on notifying.
        The first flush is due at once when the incident's was, and the last
        notification becomes the notification log's entry."""
        rebuilt: dict[str, AggregationGroup] = {}
        for incident in self.incidents.values():
            route = self.routes.get(incident.route)
            if route is None or not incident.is_open:
                continue
            last = incident.last_notified
            due = (
                last.at + route.group_interval
                if last is not None
                else incident.created_at + route.group_wait
            )
            for fp, member in incident.members.items():
                if not member.status.is_open:
                    continue
                gkey = group_key(route, member.labels)
                group = rebuilt.setdefault(
                    group_id(route.path, gkey),
                    AggregationGroup(
                        route.path,
                        gkey,
                        route.receiver,
                        route.group_labels(member.labels),
                        due,
                        incident.id,
                        has_flushed=last is not None,
                    ),
                )
                group.alerts[fp] = GroupAlert(member.alert_id, member.labels, True)
                if last is not None:
                    self.notification_log.setdefault(log_id(route.receiver, gkey, True), last)
        return list(rebuilt.values())
