"""``Learning``: one tenant's bookkeeping of what the risk model learns from, without
I/O (the correlator stores and loads it, and asks the predictor).

It keeps the scoring context (each service's recent outcomes and alert rates), the
feature snapshots taken while an incident is unlabelled, the label each incident has
been given so far, and the incidents still waiting for a score because no model
answered. An incident that gets a label (or a new one, after feedback) becomes a
training example: its outcome with the snapshots taken of it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from alerting.incident import Incident
from alerting.relatedness import Topology
from models.context import Outcome, TenantContext
from models.features import feature_vector
from models.history_store import Snapshot, keep_snapshot, outcome_from_record
from models.outcomes import label_of, outcome_of
from models.rescoring import RescoreThrottle

RESCORE_AT_MOST = 500  # unscored incidents retried per round once a model serves


@dataclass(frozen=True)
class Labelled:
    """An incident whose label is new: its outcome, and the snapshots kept of it
    (``None``: they went with an earlier label's example, which must be read back)."""

    incident: Incident
    outcome: Outcome
    snapshots: list[Snapshot] | None


class Learning:
    """What one tenant's incidents have taught so far, and what waits to be scored."""

    def __init__(self, topology: Topology | None = None) -> None:
        self.context = TenantContext(topology)
        self.snapshots: dict[str, list[Snapshot]] = {}  # unlabelled incident → its scorings
        self.outcomes: dict[str, Outcome] = {}  # open incident → the label it has so far
        self.unscored: set[str] = set()  # scored by no model yet
        self.throttle = RescoreThrottle()  # big incidents are not re-read every round

    @classmethod
    def restored(
        cls,
        topology: Topology | None,
        examples: Mapping[str, dict[str, Any]],
        snapshots: dict[str, list[Snapshot]],
        still_known: Callable[[str], bool],
        incidents: Iterable[Incident] = (),
        now: datetime | None = None,
    ) -> Learning:
        """The bookkeeping rebuilt from the stored examples and snapshots; only incidents
        the engine still has keep their outcome (feedback may still move their label).
        The restored ``incidents`` seed each host's recent alertnames as of ``now``."""
        learning = cls(topology)
        for incident_id, record in examples.items():
            outcome = outcome_from_record(record)
            learning.context.record(outcome)
            if still_known(incident_id):
                learning.outcomes[incident_id] = outcome
        learning.snapshots = snapshots
        if now is not None:
            learning.context.seed_neighbourhood(incidents, now)
        return learning

    def forget(self, incident_ids: Iterable[str]) -> None:
        """Incidents purged by the engine."""
        purged = list(incident_ids)
        for incident_id in purged:
            self.outcomes.pop(incident_id, None)
            self.snapshots.pop(incident_id, None)
            self.unscored.discard(incident_id)
        self.throttle.forget(purged)

    def count_alerts(self, now: datetime, alerts: Sequence[Mapping[str, str]]) -> None:
        """New alerts (and new occurrences) of the tenant, by their labels: its alert
        rate and each host's recent alertnames."""
        self.context.count_alerts(now, alerts)

    def newly_labelled(self, incidents: Iterable[Incident]) -> list[Labelled]:
        """The incidents whose label is new or changed, now counted in the context."""
        found: list[Labelled] = []
        for incident in incidents:
            label = label_of(incident)
            previous = self.outcomes.get(incident.id)
            if label is None or (previous is not None and previous.label == label):
                continue
            outcome = outcome_of(incident, self.context.service_label)
            assert outcome is not None  # a labelled incident has an outcome
            self.context.relabel(previous, outcome)
            self.outcomes[incident.id] = outcome
            snapshots = self.snapshots.pop(incident.id, None)
            if snapshots is None and previous is None:
                snapshots = []  # never scored: an example without snapshots
            found.append(Labelled(incident, outcome, snapshots))
        return found

    def to_score(
        self,
        changed: Iterable[Incident],
        known: Callable[[str], Incident | None],
        model_serves: bool,
        now: datetime,
    ) -> tuple[dict[str, list[float]], dict[str, list[Snapshot]]]:
        """The feature rows to score (new and changed incidents, and, while a model
        serves, open ones that no model scored yet), and the incidents whose snapshots
        grew (to store)."""
        changed = self.throttle.due(changed, known, now)
        pending = {i.id: i for i in changed}
        if model_serves:
            for incident_id in list(self.unscored)[:RESCORE_AT_MOST]:
                incident = known(incident_id)
                if incident is None or not incident.is_open:
                    self.unscored.discard(incident_id)
                else:
                    pending.setdefault(incident_id, incident)
        rows = {i: feature_vector(self.context.context_of(inc, now)) for i, inc in pending.items()}
        grown: dict[str, list[Snapshot]] = {}
        for incident in changed:
            kept = self.snapshots.setdefault(incident.id, [])
            if keep_snapshot(kept, now.timestamp(), rows[incident.id]):
                grown[incident.id] = kept
        return rows, grown

    def scored(self, incident_ids: Iterable[str]) -> None:
        """A model scored these."""
        self.unscored.difference_update(incident_ids)

    def not_scored(self, incident_ids: Iterable[str]) -> None:
        """No model answered for these: retried once one does."""
        self.unscored.update(incident_ids)
