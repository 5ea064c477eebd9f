"""Risk routes: page a receiver at once when an incident's predicted risk is high.

Alertmanager routes on labels only. A risk route adds the model's opinion: when an
incident's risk reaches ``min_risk`` and one of its firing alerts matches the route's
matchers, the route's receiver is notified immediately, without waiting for the
group's timers. Each route pages an incident once; a score never holds back or
drops the incident's normal notifications.

A **provisional** score (``models/trust.py``: a model not yet trained on enough of
this tenant's labelled incidents, or one that failed its own evaluation) is shown,
with its reason, but pages only through a route that says ``provisional: true``: a
page on a number that has not earned trust is the noise the model is meant to cut.

    correlation:
      risk_routes:
        - receiver: oncall-pager
          min_risk: 0.9
          matchers: ['severity=~"critical|warning"']
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from alerting.matchers import Matcher, matches_all

VERDICTS = ("actionable", "noise")
"""What a person can say about an incident in feedback."""


@dataclass(frozen=True)
class RiskRoute:
    """Notify ``receiver`` when the risk is at least ``min_risk`` and the labels match."""

    receiver: str
    min_risk: float
    matchers: tuple[Matcher, ...] = ()
    provisional: bool = False  # page on provisional scores too

    @property
    def name(self) -> str:
        """How timelines and notifications name the route."""
        shown = ",".join(str(m) for m in self.matchers)
        return f"risk>={self.min_risk:g}{'{' + shown + '}' if shown else ''}->{self.receiver}"

    def selects(self, risk: RiskScore, firing_labels: Iterable[Mapping[str, str]]) -> bool:
        """Whether an incident with this risk and these firing alerts is paged by the route."""
        if risk.value < self.min_risk or (risk.provisional and not self.provisional):
            return False
        return any(matches_all(self.matchers, labels) for labels in firing_labels)


@dataclass(frozen=True)
class RiskScore:
    """A model's opinion of an incident: the probability it is actionable, and why it
    is only provisional (None: the model has earned trust for this tenant)."""

    value: float
    model: str
    at: datetime
    provisional: str | None = None


def routes_to_page(
    routes: Iterable[RiskRoute],
    risk: RiskScore,
    firing_labels: Sequence[Mapping[str, str]],
    already: Iterable[str],
) -> list[RiskRoute]:
    """The routes that page for this risk now and have not paged this incident yet."""
    done = set(already)
    return [r for r in routes if r.name not in done and r.selects(risk, firing_labels)]
