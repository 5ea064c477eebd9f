"""``vigil train --from-alerts`` against a real Redis: real alert history is replayed,
evaluated beside its best single input, registered, and promoted only when it beats
both the champion and that input; a bad file changes nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
import redis

from cli.ml import cmd_train
from cli.parser import parser
from cluster.redis_server import EmbeddedRedis
from cluster.settings import Settings
from models.registry import ModelRegistry
from tests.system import other_database
from tests.unit.models.test_alert_history import write_history

pytestmark = pytest.mark.integration


def test_training_from_alert_history_registers_an_evaluated_model(
    redis_server: EmbeddedRedis, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = other_database(redis_server.url, 12)  # a database no other test uses
    settings = Settings(REDIS_URL=url)
    history = tmp_path / "alerts.jsonl"
    write_history(history, 400, seed=3)
    args = parser().parse_args(["train", "--from-alerts", str(history), "--rounds", "40"])
    assert cmd_train(settings, args) == 0
    said = capsys.readouterr().out
    assert "replayed" in said and "labelled incidents" in said
    assert "none seen in training" in said and "baseline" in said
    registry = ModelRegistry(redis.Redis.from_url(url))
    (card,) = registry.cards()
    assert card.notes == "alert history alerts.jsonl"
    assert card.evaluation is not None and card.evaluation["split"] == "time"
    assert card.incidents > 300  # examples name their incidents
    # Promoted (no champion yet) only because it beats its best single input.
    assert card.evaluation["beats_baseline"] is True
    assert registry.promoted() == card.version

    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"labels": {"alertname": "A"}}\n')
    args = parser().parse_args(["train", "--from-alerts", str(bad)])
    assert cmd_train(settings, args) == 2
    assert "needs its startsAt" in capsys.readouterr().out
    assert len(registry.cards()) == 1  # nothing registered
