"""Many processes' metrics as one scrape: published snapshots, merged and rendered."""

from __future__ import annotations

import json

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.parser import text_string_to_metric_families

from cluster.metrics_relay import fresh_snapshots, merge, render, snapshot, stale_after


def process_registry(received: int) -> CollectorRegistry:
    registry = CollectorRegistry()
    counter = Counter("vigil_x_received", "Alerts.", ["tenant"], registry=registry)
    counter.labels("acme").inc(received)
    counter.labels("globex")  # at 0 from the start
    Histogram("vigil_x_seconds", "Time.", buckets=(0.1, 1.0), registry=registry).observe(0.5)
    return registry


def test_processes_merge_into_one_family_each_labelled_by_process() -> None:
    snapshots = {
        "ingress:a": snapshot(process_registry(3), at=100.0),
        "ingress:b": snapshot(process_registry(4), at=100.0),
    }
    text = render(merge(snapshots)).decode()
    assert text.count("# TYPE vigil_x_received_total counter") == 1  # one block per family
    assert "_created" not in text  # when a series began in one process means nothing merged
    families = {f.name: f for f in text_string_to_metric_families(text)}
    received = {
        (s.labels["process"], s.labels["tenant"]): s.value
        for s in families["vigil_x_received"].samples
    }
    assert received == {
        ("ingress:a", "acme"): 3.0,
        ("ingress:a", "globex"): 0.0,
        ("ingress:b", "acme"): 4.0,
        ("ingress:b", "globex"): 0.0,
    }
    counts = [s for s in families["vigil_x_seconds"].samples if s.name.endswith("_count")]
    assert sorted(s.value for s in counts) == [1.0, 1.0]


def test_a_snapshot_survives_json_as_redis_keeps_it() -> None:
    published = json.loads(json.dumps(snapshot(process_registry(2), at=5.0)))
    text = render(merge({"tenant:acme": published})).decode()
    assert 'vigil_x_received_total{process="tenant:acme",tenant="acme"} 2.0' in text


def test_stale_and_unreadable_entries_are_dropped() -> None:
    interval = 5.0
    now = 1000.0
    raw = {
        b"fresh": json.dumps({"at": now - 1, "families": []}).encode(),
        b"gone": json.dumps({"at": now - stale_after(interval) - 1, "families": []}).encode(),
        b"torn": b"{",
    }
    fresh, stale = fresh_snapshots(raw, now, interval)
    assert list(fresh) == ["fresh"]
    assert sorted(stale) == ["gone", "torn"]
    assert stale_after(0.5) == 60.0  # never less than a minute
