"""The traffic simulator and its replay into labelled history; a model trained on one
simulation must separate actionable incidents from noise on another."""

from collections import Counter
from dataclasses import replace

from models.replay import replay
from models.simulate import EVALUATION, TRAINING, SimAlert, simulate
from models.simulate_hosts import HOSTS, simulate_hosts
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


def test_the_host_family_breaks_the_first_familys_assumptions() -> None:
    simulation = simulate_hosts(replace(HOSTS, days=3.0), seed=5)
    again = simulate_hosts(replace(HOSTS, days=3.0), seed=5)
    assert simulation.alerts == again.alerts  # deterministic
    firing = [a for a in simulation.alerts if a.firing]
    assert all("service" not in a.labels and "host" in a.labels for a in firing)
    real = [a for a in firing if a.truth]
    assert 0 < len(real) < 0.1 * len(firing)  # rare, as incidents worth acting on are
    # Severity says little: benign alerts are as often critical as real ones.

    def critical(alerts: list[SimAlert]) -> float:
        return sum(a.severity.value == "critical" for a in alerts) / len(alerts)

    noise = [a for a in firing if not a.truth]
    assert abs(critical(real) - critical(noise)) < 0.25
    # A chain fires several rules on one to three hosts.
    chains: dict[tuple[str, str], set[tuple[str, str]]] = {}
    for a in real:
        chains.setdefault((a.tenant, a.cause), set()).add((a.labels["alertname"], a.labels["host"]))
    assert all(len({host for _, host in hits}) <= 3 for hits in chains.values())
    assert max(len({rule for rule, _ in hits}) for hits in chains.values()) >= 3
