"""The correlator's metrics, taken from what each commit stored.

The engine already counts what it does into ``Outbox.counters`` (the noise figures
come from the same counts); once a commit is stored, those counts become Prometheus
counters here. Counting only after the write means a round that failed and is
applied again after a reload is counted once.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from alerting.correlation import MEMBERSHIPS_BY, Outbox
from alerting.incident import Incident
from alerting.relatedness import JoinReason
from cluster.logs import log_timeline
from cluster.metrics import (
    ANOMALY_ALARMS,
    CORRELATOR_CHANGES,
    FLAPPING_HELD,
    INCIDENTS_CREATED,
    INCIDENTS_OPEN,
    MEMBERSHIPS,
    NOTIFICATIONS_PLANNED,
    RISK_AT_OUTCOME,
    RISK_SCORES,
    SUPPRESSED,
)
from models.outcomes import WORDS
from models.rate_watch import ANOMALY_KINDS

log = logging.getLogger("vigil.correlator")


SUPPRESSED_BY = {"suppressed_by_silence": "silence", "suppressed_by_inhibition": "inhibition"}
"""The engine's counter of members newly muted → the ``by`` label of ``SUPPRESSED``."""

STANDINGS = ("trusted", "provisional")
"""The ``standing`` label of ``RISK_AT_OUTCOME``: whether the score was provisional."""


def log_timelines(tenant: str, outbox: Outbox) -> None:
    """One line per incident the commit added to the timeline of, naming the alerts
    its entries concern (``cluster.logs.log_timeline``)."""
    for incident_id, entries in outbox.timeline.items():
        members = outbox.members.get(incident_id, {})

        def alert_of(fingerprint: str | None, members: Any = members) -> str | None:
            member = members.get(fingerprint) if fingerprint else None
            return member.alert_id if member is not None else None

        log_timeline(log, tenant, incident_id, entries, alert_of)


class CorrelationMetrics:
    """One tenant's correlation counters and its open-incident gauge."""

    def __init__(self, tenant: str) -> None:
        self.tenant = tenant
        self.open_ids: set[str] = set()
        # Every series the tenant can have, at 0 from the start: a rate over a counter
        # that appears only at its first event misses that event, and a dashboard shows
        # "no data" where the answer is "none".
        for family in (CORRELATOR_CHANGES, INCIDENTS_CREATED, FLAPPING_HELD, NOTIFICATIONS_PLANNED):
            family.labels(tenant)
        for reason in JoinReason:
            MEMBERSHIPS.labels(tenant, reason.value)
        for by in SUPPRESSED_BY.values():
            SUPPRESSED.labels(tenant, by)
        for kind in ANOMALY_KINDS:
            ANOMALY_ALARMS.labels(tenant, kind)
        RISK_SCORES.labels(tenant)
        for outcome in WORDS.values():
            for standing in STANDINGS:
                RISK_AT_OUTCOME.labels(tenant, outcome, standing)
        INCIDENTS_OPEN.labels(tenant).set(0)

    def count_outcomes(self, labelled: Iterable[tuple[Incident, int]]) -> None:
        """The risk score each newly labelled incident held, under its label: live, the
        share of actionable incidents above a threshold is the model's recall there, and
        the share of noise above it what it costs (an incident no model scored is not
        counted)."""
        for incident, label in labelled:
            risk = incident.risk
            if risk is None:
                continue
            standing = "trusted" if risk.provisional is None else "provisional"
            RISK_AT_OUTCOME.labels(self.tenant, WORDS[label], standing).observe(risk.value)

    def restart(self, incidents: Iterable[Incident]) -> None:
        """The engine was (re)built from Redis: count its open incidents afresh."""
        self.open_ids = {i.id for i in incidents if i.is_open}
        INCIDENTS_OPEN.labels(self.tenant).set(len(self.open_ids))

    def count(self, outbox: Outbox) -> None:
        """Count a stored commit (O(what it changed), never O(every incident)), and log
        what happened to each incident it changed."""
        tenant = self.tenant
        log_timelines(tenant, outbox)
        for name, amount in outbox.counters.items():
            if name == "incidents":
                INCIDENTS_CREATED.labels(tenant).inc(amount)
            elif name.startswith(MEMBERSHIPS_BY):
                MEMBERSHIPS.labels(tenant, name.removeprefix(MEMBERSHIPS_BY)).inc(amount)
            elif name in SUPPRESSED_BY:
                SUPPRESSED.labels(tenant, SUPPRESSED_BY[name]).inc(amount)
            elif name == "flapping_held":
                FLAPPING_HELD.labels(tenant).inc(amount)
            elif name == "notifications":
                NOTIFICATIONS_PLANNED.labels(tenant).inc(amount)
        for incident in outbox.incidents.values():
            if incident.is_open:
                self.open_ids.add(incident.id)
            else:
                self.open_ids.discard(incident.id)
        for incident_id in outbox.purged:
            self.open_ids.discard(incident_id)
        INCIDENTS_OPEN.labels(tenant).set(len(self.open_ids))
