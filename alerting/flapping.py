"""Flapping: an alert that keeps toggling between firing and resolved is held firing.

Each time a fingerprint starts firing or resolves is a transition. An alert with more
than ``max_transitions`` transitions inside ``window`` is flapping; when a flapping
alert resolves, its resolution is held for ``hold`` (like Prometheus's
``keep_firing_for``): if it fires again meanwhile, nobody hears about either toggle;
if it stays resolved, the resolution counts once the hold ends.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta


@dataclass(frozen=True)
class FlapPolicy:
    """How many transitions in how long make an alert flapping, and how long a
    resolution of a flapping alert is held. ``max_transitions=0`` turns detection off."""

    max_transitions: int = 4
    window: timedelta = timedelta(minutes=10)
    hold: timedelta = timedelta(minutes=5)

    @property
    def enabled(self) -> bool:
        """Whether flapping is detected at all."""
        return self.max_transitions > 0


@dataclass(slots=True)
class FlapHistory:
    """The recent transitions of one fingerprint (times, oldest first)."""

    transitions: list[datetime] = field(default_factory=list)

    def record(self, at: datetime, policy: FlapPolicy) -> None:
        """Note a transition at ``at`` and forget those older than the window."""
        self.transitions.append(at)
        self.forget_before(at - policy.window)

    def forget_before(self, cutoff: datetime) -> None:
        """Drop transitions older than ``cutoff``."""
        keep = next((i for i, t in enumerate(self.transitions) if t >= cutoff), None)
        self.transitions = [] if keep is None else self.transitions[keep:]

    def count(self, now: datetime, policy: FlapPolicy) -> int:
        """Transitions inside the window that ends at ``now``."""
        cutoff = now - policy.window
        return sum(1 for t in self.transitions if t >= cutoff)

    def is_flapping(self, now: datetime, policy: FlapPolicy) -> bool:
        """Whether the fingerprint toggled more than the policy allows in its window."""
        if not policy.enabled or len(self.transitions) <= policy.max_transitions:
            return False  # cheap answer for nearly every alert
        return self.count(now, policy) > policy.max_transitions


def hold_until(history: FlapHistory, now: datetime, policy: FlapPolicy) -> datetime | None:
    """Until when a resolution arriving at ``now`` is held, or ``None`` if it takes effect.

    Call after recording the resolution's own transition.
    """
    if history.is_flapping(now, policy):
        return now + policy.hold
    return None
