"""The grouping parity scenarios: one file per scenario in ``grouping/``, each an
``alertmanager.yml`` (``alertmanager:``) and the label sets to send (``alerts:``).

Every scenario runs as its own Vigil tenant (``parity-<name>``) and its own real
Alertmanager; timings are fixed here so both sides flush once, together.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).parent / "grouping"
TIMINGS = {"group_wait": "1s", "group_interval": "5m", "repeat_interval": "1h"}


@dataclass(frozen=True)
class Scenario:
    """A routing configuration and the alerts sent under it."""

    name: str
    routing: dict[str, Any]
    alerts: list[dict[str, str]]

    @property
    def tenant(self) -> str:
        return f"parity-{self.name}"


def load_scenarios() -> list[Scenario]:
    """Every scenario file, by name."""
    found = []
    for path in sorted(HERE.glob("scenario.*.yml")):
        data = yaml.safe_load(path.read_text())
        routing = data["alertmanager"]
        routing["route"] = {**routing["route"], **TIMINGS}
        name = path.name.removeprefix("scenario.").removesuffix(".yml")
        found.append(Scenario(name, routing, data["alerts"]))
    return found


SCENARIOS = load_scenarios()
