"""Every benchmark module imports: mypy does not check ``bench/``, and a helper moved
from one benchmark to another once left ``bench/cpu_split.py`` failing at its import."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[3] / "bench"


@pytest.mark.parametrize(
    "module", sorted(p.stem for p in BENCH.glob("*.py") if p.stem != "__init__")
)
def test_the_benchmark_imports(module: str) -> None:
    importlib.import_module(f"bench.{module}")
