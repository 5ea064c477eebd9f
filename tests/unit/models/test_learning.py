"""``Learning``: which incidents become training examples and when, what is scored, and
what waits for a model, without Ray, Redis or a predictor."""

from __future__ import annotations

from models.features import FEATURE_NAMES
from models.history_store import SNAPSHOTS, example_record, examples_of
from models.learning import RESCORE_AT_MOST, Learning
from tests.unit.alerting.helpers import at
from tests.unit.alerting.test_correlation import Story


def story_with_one_incident() -> tuple[Story, str]:
    s = Story()
    s.fire(0, alertname="Cpu", service="web")
    (incident,) = s.incidents()
    return s, incident.id


def test_an_open_incident_is_scored_and_its_first_scorings_kept_as_snapshots() -> None:
    s, incident_id = story_with_one_incident()
    learning = Learning()
    incident = s.engine.incidents[incident_id]
    for n in range(SNAPSHOTS + 2):
        rows, grown = learning.to_score([incident], s.engine.incidents.get, True, at(n))
        assert list(rows) == [incident_id]
        assert list(grown) == ([incident_id] if n < SNAPSHOTS else [])
    assert len(learning.snapshots[incident_id]) == SNAPSHOTS


def test_an_unlabelled_incident_is_no_example_and_a_labelled_one_is_once() -> None:
    s, incident_id = story_with_one_incident()
    learning = Learning()
    incident = s.engine.incidents[incident_id]
    learning.to_score([incident], s.engine.incidents.get, True, at(1))
    assert learning.newly_labelled([incident]) == []  # open and untouched: no label yet
    s.engine.acknowledge(incident_id, at(60), "ana", None)
    assert learning.newly_labelled([s.engine.incidents[incident_id]]) == []  # still open
    s.engine.resolve(incident_id, at(120), "ana", None)
    (found,) = learning.newly_labelled([s.engine.incidents[incident_id]])
    assert found.outcome.label == 1 and found.snapshots is not None
    assert len(found.snapshots) == 1  # the snapshot goes with the example
    assert learning.newly_labelled([s.engine.incidents[incident_id]]) == []  # same label


def test_a_changed_label_is_moved_and_its_snapshots_read_back() -> None:
    s, incident_id = story_with_one_incident()
    learning = Learning()
    s.engine.acknowledge(incident_id, at(60), "ana", None)
    s.engine.resolve(incident_id, at(120), "ana", None)
    (first,) = learning.newly_labelled([s.engine.incidents[incident_id]])
    assert first.outcome.label == 1 and first.snapshots == []  # never scored
    s.engine.set_feedback(incident_id, "noise", at(190), "ana")
    (relabelled,) = learning.newly_labelled([s.engine.incidents[incident_id]])
    assert relabelled.outcome.label == 0
    assert relabelled.snapshots is None  # they went with the first example: read it back


def test_incidents_no_model_scored_are_retried_once_one_serves() -> None:
    s, incident_id = story_with_one_incident()
    learning = Learning()
    rows, _ = learning.to_score(s.engine.take_to_score(), s.engine.incidents.get, False, at(1))
    learning.not_scored(rows)
    nothing_new: list = []
    assert learning.to_score(nothing_new, s.engine.incidents.get, False, at(2))[0] == {}
    rows, grown = learning.to_score(nothing_new, s.engine.incidents.get, True, at(3))
    assert list(rows) == [incident_id] and grown == {}  # a retry takes no new snapshot
    learning.scored(rows)
    assert learning.unscored == set()


def test_a_retry_gives_up_on_incidents_that_closed_and_takes_a_bounded_number() -> None:
    s, incident_id = story_with_one_incident()
    learning = Learning()
    learning.not_scored([incident_id, "purged"])
    s.engine.resolve(incident_id, at(5), "ana", None)
    rows, _ = learning.to_score([], s.engine.incidents.get, True, at(6))
    assert rows == {} and learning.unscored == set()
    learning.not_scored(f"i{n}" for n in range(RESCORE_AT_MOST + 10))
    learning.to_score([], lambda _: None, True, at(7))
    assert len(learning.unscored) == 10  # the rest waits for the next round


def test_restored_bookkeeping_keeps_outcomes_only_of_incidents_still_known() -> None:
    s, incident_id = story_with_one_incident()
    learning = Learning()
    s.engine.resolve(incident_id, at(60), "ana", None)
    (found,) = learning.newly_labelled([s.engine.incidents[incident_id]])
    examples = {
        incident_id: example_record(incident_id, found.outcome, "acknowledged", [], 0.0),
        "gone": example_record("gone", found.outcome, "acknowledged", [], 0.0),
    }
    restored = Learning.restored(None, examples, {}, lambda i: i in s.engine.incidents)
    assert set(restored.outcomes) == {incident_id}
    learning.forget([incident_id])
    assert incident_id not in learning.outcomes


def test_snapshots_taken_before_the_features_changed_do_not_become_examples() -> None:
    now = [0.5] * len(FEATURE_NAMES)
    record = {
        "incident": "i1",
        "outcome": {"label": 1},
        "snapshots": [[1.0, [0.5] * 22], [2.0, now]],  # the first from an older Vigil
    }
    (example,) = examples_of(record, "acme")
    assert (example.at, example.features, example.tenant) == (2.0, now, "acme")
