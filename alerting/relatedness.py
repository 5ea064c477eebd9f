"""Correlation beyond equal group labels: service topology and label similarity.

An alert whose group has no open incident may still belong to one: its service
depends on (or is depended on by) a service already in the incident, or its labels
are nearly the same as a member's. Either counts only within a time window of the
incident's last activity, and only between incidents of the same route. The first
rule that matches wins, topology before similarity, because a declared dependency
is stronger evidence than resembling labels.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum


class JoinReason(StrEnum):
    """Why an alert is a member of an incident."""

    GROUP_KEY = "group_key"  # the route's group_by labels are equal
    TOPOLOGY = "topology"  # its service is a neighbour of a member's service
    SIMILARITY = "similarity"  # its labels are close enough to a member's


@dataclass(frozen=True)
class Topology:
    """A service dependency graph: ``depends_on[a]`` lists the services ``a`` calls.

    Correlation follows edges both ways (a failing database explains its callers'
    alerts, and the other way round), up to ``max_hops`` edges.
    """

    depends_on: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    label: str = "service"
    max_hops: int = 1

    def neighbours(self) -> dict[str, set[str]]:
        """The graph as undirected adjacency sets."""
        graph: dict[str, set[str]] = {}
        for service, targets in self.depends_on.items():
            for target in targets:
                graph.setdefault(service, set()).add(target)
                graph.setdefault(target, set()).add(service)
        return graph

    def path(self, start: str, goals: Iterable[str]) -> list[str] | None:
        """The shortest path from ``start`` to any of ``goals``, within ``max_hops``.

        ``None`` if there is none; ``[start]`` if ``start`` is itself a goal.
        """
        wanted = set(goals)
        if start in wanted:
            return [start]
        graph = self.neighbours()
        previous: dict[str, str] = {}
        frontier: deque[tuple[str, int]] = deque([(start, 0)])
        seen = {start}
        while frontier:
            node, hops = frontier.popleft()
            if hops == self.max_hops:
                continue
            for nxt in sorted(graph.get(node, ())):
                if nxt in seen:
                    continue
                seen.add(nxt)
                previous[nxt] = node
                if nxt in wanted:
                    route = [nxt]
                    while route[-1] != start:
                        route.append(previous[route[-1]])
                    return route[::-1]
                frontier.append((nxt, hops + 1))
        return None


@dataclass(frozen=True)
class RelatednessPolicy:
    """When alerts of different groups join one incident. Both rules are off by default:
    without them incidents are exactly Alertmanager's groups."""

    window: timedelta = timedelta(minutes=5)
    topology: Topology | None = None
    similarity_threshold: float | None = None
    ignore_labels: frozenset[str] = frozenset()

    @property
    def enabled(self) -> bool:
        """Whether any rule beyond equal group labels is configured."""
        return self.topology is not None or self.similarity_threshold is not None


def label_similarity(a: Mapping[str, str], b: Mapping[str, str], ignore: frozenset[str]) -> float:
    """Jaccard similarity of two label sets as ``name=value`` pairs (1.0: identical).

    Labels in ``ignore`` (say ``instance``) are left out: they differ on every host
    and say nothing about whether two alerts share a cause.
    """
    pairs_a = {(n, v) for n, v in a.items() if n not in ignore}
    pairs_b = {(n, v) for n, v in b.items() if n not in ignore}
    union = pairs_a | pairs_b
    if not union:
        return 0.0
    return len(pairs_a & pairs_b) / len(union)


@dataclass(frozen=True)
class Candidate:
    """An open incident an alert might join: its id, last activity and members' labels."""

    incident_id: str
    last_activity: datetime
    member_labels: tuple[Mapping[str, str], ...]


@dataclass(frozen=True)
class Relation:
    """The incident an alert joins, why, and the evidence (a path or a score)."""

    incident_id: str
    reason: JoinReason
    detail: str
    score: float | None = None


def find_related(
    labels: Mapping[str, str],
    candidates: Iterable[Candidate],
    policy: RelatednessPolicy,
    now: datetime,
) -> Relation | None:
    """The incident an alert with ``labels`` should join by topology or similarity.

    Candidates idle for longer than the window are ignored. Among the rest, the
    shortest topology path wins; failing that, the highest similarity at or above
    the threshold (ties, both ways: the most recently active incident, then the
    smaller id).
    """
    recent = [c for c in candidates if now - c.last_activity <= policy.window]
    if not recent or not policy.enabled:
        return None
    topology = policy.topology
    service = labels.get(topology.label) if topology is not None else None
    if topology is not None and service:
        best: tuple[tuple[int, float, str], Candidate, list[str]] | None = None
        for candidate in recent:
            services = {m[topology.label] for m in candidate.member_labels if m.get(topology.label)}
            route = topology.path(service, services)
            if route is None:
                continue
            # Ties go to the most recently active incident, then the smaller id, so the
            # choice never depends on the order candidates come in.
            rank = (len(route), -candidate.last_activity.timestamp(), candidate.incident_id)
            if best is None or rank < best[0]:
                best = (rank, candidate, route)
        if best is not None:
            _, candidate, route = best
            return Relation(candidate.incident_id, JoinReason.TOPOLOGY, " -> ".join(route))
    threshold = policy.similarity_threshold
    if threshold is not None:
        scored = [
            (label_similarity(labels, m, policy.ignore_labels), c.last_activity, c)
            for c in recent
            for m in c.member_labels
        ]
        if scored:
            score, _, candidate = min(
                scored,
                key=lambda item: (-item[0], -item[1].timestamp(), item[2].incident_id),
            )
            if score >= threshold:
                return Relation(
                    candidate.incident_id,
                    JoinReason.SIMILARITY,
                    f"label similarity {score:.2f} >= {threshold:.2f}",
                    round(score, 4),
                )
    return None
