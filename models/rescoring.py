"""When a big incident's risk is taken again: not on every change, but once it has
grown by a tenth, changed in kind, or waited ``RESCORE_AFTER``.

Taking an incident's features reads every member (counts of firing, flapping, muted
and correlated members, the outcome history of every fingerprint), so scoring an
incident on each round it changes costs O(members) per round: during a storm that
piles 100,000 alerts into one group, the correlator spent most of its time re-reading
the same incident. One more member hardly moves the risk of an incident of thousands,
so a big incident waits, while a change in kind (severity, state, muting) is scored at
once. Small incidents are scored on every change, as before.

Pure: the clock is passed in.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from alerting.incident import Incident, IncidentState
from alerting.severity import Severity

BIG_INCIDENT_MEMBERS = 1000
"""From this many members an incident's features are taken again only as below."""
RESCORE_GROWTH = 0.1
"""A big incident is scored again once its members grew by this share..."""
RESCORE_AFTER = timedelta(seconds=30)
"""...or this long after its last features, whichever comes first."""


@dataclass(frozen=True)
class Scoring:
    """What a big incident was when its features were last taken."""

    at: datetime
    members: int
    severity: Severity
    state: IncidentState
    muted: bool


def scoring_of(incident: Incident, now: datetime) -> Scoring:
    """The incident as it is now, for comparing with later."""
    return Scoring(
        now, len(incident.members), incident.severity, incident.state, incident.muted_at is not None
    )


def waits(last: Scoring | None, incident: Incident, now: datetime) -> bool:
    """Whether the incident's features may wait: it is big, was scored recently, and
    only grew a little since, in the same severity, state and muting."""
    if last is None or len(incident.members) < BIG_INCIDENT_MEMBERS:
        return False
    current = scoring_of(incident, now)
    same_kind = (last.severity, last.state, last.muted) == (
        current.severity,
        current.state,
        current.muted,
    )
    grew_little = current.members < last.members * (1 + RESCORE_GROWTH)
    return same_kind and grew_little and now - last.at < RESCORE_AFTER


class RescoreThrottle:
    """Which changed incidents to take features of now; the big ones that wait are
    kept and come due by themselves (a quiet incident is still scored in the end)."""

    def __init__(self) -> None:
        self.last: dict[str, Scoring] = {}  # big incident → its last features' state
        self.waiting: dict[str, None] = {}  # big incidents changed since (in order)

    def due(
        self, changed: Iterable[Incident], known: Callable[[str], Incident | None], now: datetime
    ) -> list[Incident]:
        """The incidents to score now: ``changed`` less the big ones that may wait, plus
        those that waited and may not any longer. What is returned counts as scored."""
        found: dict[str, Incident] = {}
        for incident in changed:
            if waits(self.last.get(incident.id), incident, now):
                self.waiting[incident.id] = None
            else:
                found[incident.id] = incident
        for incident_id in list(self.waiting):
            if incident_id in found:
                continue
            current = known(incident_id)
            if current is None or not current.is_open:
                self.forget([incident_id])
            elif not waits(self.last.get(incident_id), current, now):
                found[incident_id] = current
        for incident_id, incident in found.items():
            self.waiting.pop(incident_id, None)
            if len(incident.members) >= BIG_INCIDENT_MEMBERS:
                self.last[incident_id] = scoring_of(incident, now)
            else:
                self.last.pop(incident_id, None)
        return list(found.values())

    def forget(self, incident_ids: Iterable[str]) -> None:
        """Incidents closed or purged."""
        for incident_id in incident_ids:
            self.last.pop(incident_id, None)
            self.waiting.pop(incident_id, None)
