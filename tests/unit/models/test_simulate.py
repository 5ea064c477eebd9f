"""The traffic simulator and its replay into labelled history; a model trained on one
simulation must separate actionable incidents from noise on another."""

from collections import Counter
from dataclasses import replace

from models.replay import replay
from models.simulate import EVALUATION, TRAINING, simulate
from models.train import evaluate, train

SHORT = replace(TRAINING, days=2.0, maintenance_per_week=14.0)


def test_a_seed_gives_the_same_traffic_and_another_seed_other_traffic() -> None:
    first, again, other = simulate(SHORT, 7), simulate(SHORT, 7), simulate(SHORT, 8)
    assert first.alerts == again.alerts
    assert first.alerts != other.alerts


def test_traffic_is_ordered_consistent_and_mostly_noise() -> None:
    sim = simulate(SHORT, 1, tenants=2)
    times = [a.at for a in sim.alerts]
    assert times == sorted(times)
    firing: set[tuple[str, tuple[tuple[str, str], ...]]] = set()
    for alert in sim.alerts:  # an alert never fires twice or resolves unfired
        key = (alert.tenant, tuple(sorted(alert.labels.items())))
        assert (key in firing) is not alert.firing
        (firing.add if alert.firing else firing.discard)(key)
    causes = Counter(a.cause.split(":")[0] for a in sim.alerts)
    assert set(causes) == {"noise", "flapping", "maintenance", "incident"}
    real = sum(a.truth for a in sim.alerts)
    assert 0 < real < len(sim.alerts) / 4
    assert {a.tenant for a in sim.alerts} == {"sim-0", "sim-1"}


def test_topologies_point_from_callers_to_data_stores() -> None:
    (world,) = simulate(SHORT, 1, tenants=1).worlds
    for caller, targets in world.depends_on.items():
        assert targets
        for target in targets:
            assert caller.split("-")[0] in ("web", "api")
            assert target.split("-")[0] == ("api" if caller.startswith("web") else "db")


def test_replayed_labels_agree_with_the_ground_truth() -> None:
    replayed = replay(simulate(SHORT, 1, tenants=2))
    assert replayed.incidents > 100
    assert 0 < replayed.real_incidents < replayed.incidents
    assert replayed.label_agrees_with_truth == 1.0
    labels = Counter(e.label for e in replayed.examples)
    assert labels[0] > labels[1] > 0


def test_a_model_trained_on_one_simulation_separates_real_incidents_on_another() -> None:
    history = replay(simulate(TRAINING, seed=3)).examples
    model = train(history, rounds=150)
    held_out = replay(simulate(EVALUATION, seed=103)).examples
    figures = evaluate(model.booster, held_out)
    print(f"held-out simulation: {figures}")
    assert figures["roc_auc"] >= 0.8
    assert figures["brier"] < 0.1
