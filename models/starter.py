"""A starter model: trained on simulated history, so risk scores appear from day one.

A fresh installation has no history to learn from. ``vigil up`` (with ML on and an
empty registry) and ``vigil train --simulated`` use the simulator's training mix;
real outcomes replace the starter at the first retraining that beats it.
"""

from __future__ import annotations

from collections.abc import Callable

from models.registry import ModelRegistry
from models.replay import replay
from models.simulate import TRAINING, simulate
from models.train import Example, Trained, train
from models.trust import SIMULATION

STARTER_SEED = 1
STARTER_NOTES = f"simulated history ({TRAINING.name} mix, seed {STARTER_SEED})"

Progress = Callable[[str, int, int], None]


def starter_history(progress: Progress | None = None) -> list[Example]:
    """The simulator's training mix replayed through the engine into labelled examples;
    ``progress(stage, done, total)``."""

    def replaying(done: int, total: int) -> None:
        if progress is not None:
            progress("replaying simulated alerts", done, total)

    return replay(simulate(TRAINING, STARTER_SEED), progress=replaying).examples


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
