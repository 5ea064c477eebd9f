"""A starter model: trained on simulated history, so risk scores appear from day one.

A fresh installation has no history to learn from. ``vigil up`` (with ML on and an
empty registry) and ``vigil train --simulated`` train this one from the simulator's
training mix; real outcomes replace it at the first retraining that beats it.
"""

from __future__ import annotations

from collections.abc import Callable

from models.replay import replay
from models.simulate import TRAINING, simulate
from models.train import Trained, train

STARTER_SEED = 1


def train_starter(
    progress: Callable[[str, int, int], None] | None = None, rounds: int = 150
) -> Trained:
    """Simulate, replay through the engine, and train; ``progress(stage, done, total)``."""
    simulation = simulate(TRAINING, STARTER_SEED)

    def replaying(done: int, total: int) -> None:
        if progress is not None:
            progress("replaying simulated alerts", done, total)

    def boosting(done: int, total: int) -> None:
        if progress is not None:
            progress("training", done, total)

    history = replay(simulation, progress=replaying).examples
    trained = train(history, rounds=rounds, progress=boosting)
    trained.card["notes"] = f"starter model: simulated history ({TRAINING.name} mix, seed 1)"
    return trained
