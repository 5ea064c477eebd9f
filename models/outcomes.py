"""Training labels from what people did with an incident.

A person's explicit feedback decides. Otherwise an incident someone acknowledged, or
resolved by name, was actionable; one that resolved by itself while nobody touched
it was noise. An open incident without feedback has no label yet.
"""

from __future__ import annotations

from alerting.incident import Incident
from models.context import Outcome, outcome_keys

ACTIONABLE = 1
NOISE = 0
WORDS = {ACTIONABLE: "actionable", NOISE: "noise"}
"""A label as people say it: feedback verdicts, history files, metric labels."""


def label_of(incident: Incident) -> int | None:
    """1 (actionable), 0 (noise) or ``None`` (not known yet)."""
    if incident.feedback is not None:
        return ACTIONABLE if incident.feedback == "actionable" else NOISE
    if incident.is_open:
        return None
    if incident.acknowledged_at is not None or incident.resolved_by is not None:
        return ACTIONABLE
    return NOISE


def label_source(incident: Incident) -> str:
    """What the label of a labelled incident came from, in ``label_of``'s order."""
    if incident.feedback is not None:
        return "feedback"
    if incident.acknowledged_at is not None:
        return "acknowledged"
    if incident.resolved_by is not None:
        return "resolved_by_person"
    return "resolved_alone"


def outcome_of(incident: Incident, service_label: str = "service") -> Outcome | None:
    """The incident's outcome for the history features, once it has a label."""
    label = label_of(incident)
    if label is None:
        return None
    fingerprints, alertnames, services = outcome_keys(incident, service_label)
    took = None
    if incident.resolved_at is not None:
        took = (incident.resolved_at - incident.created_at).total_seconds()
    return Outcome(fingerprints, alertnames, services, label, took)
