"""A starter model: trained on simulated history, so risk scores appear from day one.

A fresh installation has no history to learn from. ``vigil up`` (with ML on and an
empty registry) and ``vigil train --simulated`` use both simulator families: the
service simulator's training mix (``models/simulate.py``) and two weeks of one
host-monitoring tenant (``models/simulate_hosts.py``, replayed as an alert file is).
A model fitted on one family ranks the other at 0.72-0.78 ROC-AUC and learns what
holds only there (``bench/README.md``, risk model); fitted on both, it keeps its
figures on each, and a team's traffic, which is neither, meets a model that had to
find what the two share. Its scores stay provisional all the same (``models/trust.py``):
real outcomes replace the starter at the first retraining that beats it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from models.registry import ModelRegistry
from models.replay import replay, replay_history
from models.simulate import TRAINING, simulate
from models.simulate_hosts import HOSTS, simulate_hosts
from models.train import Example, Trained, train
from models.trust import SIMULATION

STARTER_SEED = 1
STARTER_HOSTS = replace(HOSTS, days=TRAINING.days)
"""The host family's part: one tenant over the training mix's two weeks, so the
card's newest-quarter evaluation holds both families (``bench/model.py`` judges on
seeds 7-9 of two tenants over ten days)."""
STARTER_NOTES = (
    f"simulated history ({TRAINING.name} mix and {HOSTS.name} family, seed {STARTER_SEED})"
)

Progress = Callable[[str, int, int], None]


def starter_parts(progress: Progress | None = None) -> tuple[list[Example], list[Example]]:
    """Each simulator family replayed through the engine into labelled examples (the
    services family, then the hosts family); ``progress(stage, done, total)``."""

    def replaying(stage: str) -> Callable[[int, int], None]:
        def report(done: int, total: int) -> None:
            if progress is not None:
                progress(stage, done, total)

        return report

    services = replay(
        simulate(TRAINING, STARTER_SEED), progress=replaying("replaying simulated services")
    )
    hosts = simulate_hosts(STARTER_HOSTS, STARTER_SEED, tenants=1).as_history()
    replayed = replay_history(hosts, progress=replaying("replaying simulated hosts"))
    return services.examples, replayed.examples


def starter_history(progress: Progress | None = None) -> list[Example]:
    """What the starter model learns from: both families' examples."""
    services, hosts = starter_parts(progress)
    return services + hosts


def train_starter(progress: Progress | None = None, rounds: int = 150) -> Trained:
    """Train the starter model on ``starter_history``."""

    def boosting(done: int, total: int) -> None:
        if progress is not None:
            progress("training", done, total)

    trained = train(starter_history(progress), rounds=rounds, progress=boosting)
    trained.card.update(notes=f"starter model: {STARTER_NOTES}", source=SIMULATION)
    return trained


def register_starter(
    registry: ModelRegistry, reason: str, rounds: int = 150, progress: Progress | None = None
) -> str:
    """Train the starter model, register it and promote it; return its version."""
    trained = train_starter(progress, rounds)
    card = registry.register(trained.booster, trained.card)
    registry.promote(card.version, reason, {})
    return card.version
