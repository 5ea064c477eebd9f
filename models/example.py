"""``Example``: one labelled scoring of an incident, what the risk model learns from."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Example:
    """One labelled incident: when it was scored, its features, and what it turned out
    to be (1: actionable, 0: noise); and whose incident it was (an incident scored
    several times gives several examples: ``models/evaluation.py`` keeps them on one
    side of a split). Empty ids: not known (older exports)."""

    at: float
    features: list[float]
    label: int
    tenant: str = ""
    incident_id: str = ""
