"""Noise figures: how much of what a tenant sends reaches a person.

Counters only grow; the figures derived from them (alerts per incident, the share
of deliveries that were duplicates) are computed when asked. They are what an
on-call team looks at to judge whether grouping, silences, inhibition and flapping
detection earn their keep.
"""

from __future__ import annotations

from collections.abc import Mapping

COUNTERS = (
    "received",  # deliveries: new alerts, duplicates, resolutions sent by the source
    "duplicates",  # deliveries that only refreshed an alert already open
    "alerts",  # alert occurrences (a fingerprint firing, or firing again)
    "incidents",  # incidents formed
    "memberships",  # alerts joined to incidents (one per matching route)
    "joined_by_topology",  # memberships decided by the service graph
    "joined_by_similarity",  # memberships decided by label similarity
    "suppressed_by_silence",  # times an alert became muted by a silence
    "suppressed_by_inhibition",  # times an alert became muted by an inhibition rule
    "flapping_held",  # resolutions of flapping alerts held instead of notified
    "notifications",  # notifications the incidents' groups sent
)


def noise_figures(counts: Mapping[str, int]) -> dict[str, float | int]:
    """Every counter (0 if never counted) and the ratios derived from them."""
    values = {name: int(counts.get(name, 0)) for name in COUNTERS}
    figures: dict[str, float | int] = dict(values)
    figures["alerts_per_incident"] = _ratio(values["memberships"], values["incidents"])
    figures["duplicate_ratio"] = _ratio(values["duplicates"], values["received"])
    figures["notifications_per_alert"] = _ratio(values["notifications"], values["alerts"])
    return figures


def _ratio(part: int, whole: int) -> float:
    return round(part / whole, 4) if whole else 0.0
