"""Correlation by service topology and by label similarity, with the reason recorded."""

from datetime import UTC, datetime, timedelta

import pytest

from alerting.relatedness import (
    Candidate,
    JoinReason,
    RelatednessPolicy,
    Topology,
    find_related,
    label_similarity,
)

T0 = datetime(2026, 1, 1, tzinfo=UTC)
GRAPH = Topology(depends_on={"web": ("api",), "api": ("db", "cache"), "batch": ("db",)})


@pytest.mark.parametrize(
    ("start", "goals", "max_hops", "expected"),
    [
        ("api", {"db"}, 1, ["api", "db"]),  # a direct dependency
        ("db", {"api"}, 1, ["db", "api"]),  # edges are followed both ways
        ("web", {"db"}, 1, None),  # two hops away, only one allowed
        ("web", {"db"}, 2, ["web", "api", "db"]),  # ... found with two
        ("db", {"db"}, 1, ["db"]),  # the same service
        ("unknown", {"db"}, 3, None),  # a service not in the graph has no neighbours
    ],
)
def test_topology_path(
    start: str, goals: set[str], max_hops: int, expected: list[str] | None
) -> None:
    graph = Topology(depends_on=GRAPH.depends_on, max_hops=max_hops)
    assert graph.path(start, goals) == expected


@pytest.mark.parametrize(
    ("a", "b", "ignore", "expected"),
    [
        ({"x": "1", "y": "2"}, {"x": "1", "y": "2"}, frozenset(), 1.0),  # identical
        ({"x": "1", "y": "2"}, {"x": "1", "y": "3"}, frozenset(), 1 / 3),  # 1 shared of 3
        ({"x": "1", "i": "a"}, {"x": "1", "i": "b"}, frozenset({"i"}), 1.0),  # ignored label
        ({}, {}, frozenset(), 0.0),  # nothing to compare
    ],
)
def test_label_similarity(
    a: dict[str, str], b: dict[str, str], ignore: frozenset[str], expected: float
) -> None:
    assert label_similarity(a, b, ignore) == pytest.approx(expected)


def candidate(incident_id: str, *members: dict[str, str], idle: float = 0) -> Candidate:
    return Candidate(incident_id, T0 - timedelta(seconds=idle), tuple(members))


TOPOLOGY = RelatednessPolicy(topology=GRAPH)
SIMILAR = RelatednessPolicy(similarity_threshold=0.6)
BOTH = RelatednessPolicy(topology=GRAPH, similarity_threshold=0.6)


@pytest.mark.parametrize(
    ("policy", "labels", "candidates", "expected"),
    [
        # The database's incident takes the API's alert: a direct dependency.
        (
            TOPOLOGY,
            {"service": "api"},
            [candidate("i1", {"service": "db"})],
            ("i1", JoinReason.TOPOLOGY),
        ),
        # ... but not once the incident has been idle longer than the window (5m).
        (TOPOLOGY, {"service": "api"}, [candidate("i1", {"service": "db"}, idle=301)], None),
        # An unrelated service joins nothing.
        (TOPOLOGY, {"service": "mail"}, [candidate("i1", {"service": "db"})], None),
        # Without a service label topology cannot decide.
        (TOPOLOGY, {"job": "x"}, [candidate("i1", {"service": "db"})], None),
        # Half the label pairs shared (2 of 4 distinct = 0.5) is below the threshold 0.6.
        (
            SIMILAR,
            {"alertname": "Disk", "cluster": "eu", "host": "a"},
            [candidate("i1", {"alertname": "Disk", "cluster": "eu", "host": "b"})],
            None,
        ),
        # Three of five distinct pairs shared (0.6): at the threshold, so it joins.
        (
            SIMILAR,
            {"alertname": "Disk", "cluster": "eu", "dc": "1", "host": "a"},
            [candidate("i1", {"alertname": "Disk", "cluster": "eu", "dc": "1", "host": "b"})],
            ("i1", JoinReason.SIMILARITY),
        ),
        # Topology wins over similarity when both would match different incidents.
        (
            BOTH,
            {"service": "api", "alertname": "X"},
            [
                candidate("sim", {"service": "mail", "alertname": "X"}),
                candidate("topo", {"service": "db"}),
            ],
            ("topo", JoinReason.TOPOLOGY),
        ),
        # Neither rule configured: never related (incidents are Alertmanager's groups).
        (RelatednessPolicy(), {"service": "api"}, [candidate("i1", {"service": "db"})], None),
    ],
)
def test_find_related(
    policy: RelatednessPolicy,
    labels: dict[str, str],
    candidates: list[Candidate],
    expected: tuple[str, JoinReason] | None,
) -> None:
    found = find_related(labels, candidates, policy, T0)
    assert (None if found is None else (found.incident_id, found.reason)) == expected


def test_the_relation_records_its_evidence() -> None:
    found = find_related({"service": "web"}, [candidate("i1", {"service": "api"})], TOPOLOGY, T0)
    assert found is not None and found.detail == "web -> api"
    labels = {"a": "1", "b": "2"}
    found = find_related(labels, [candidate("i2", labels)], SIMILAR, T0)
    assert found is not None and found.score == 1.0
