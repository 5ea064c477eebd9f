"""The risk model on a held-out simulation: how well it tells actionable incidents
from noise, beside what a severity-only rule and paging everything would do.

Trains as ``vigil train --simulated`` does (the training scenario mix, seed 3,
replayed through the correlation engine, 150 rounds), then scores simulations it has
never seen: the evaluation mix (more maintenance, more flapping, fewer real
incidents) with seeds 103, 104 and 105. Each example is an incident's features at
one of its first scorings, labelled by what the simulated on-call person did.
``noise_cut_at_90_recall``: the share of noise a rule would not page if its threshold
were set to still page 90 % of the actionable incidents. Beside the model, its **best
single input** (chosen and oriented on the training history, ``models/evaluation.py``):
a model that does not beat it has learnt nothing worth its complexity. Also written:
the training history's own held-out evaluation (newest quarter of incidents, none on
both sides), as ``vigil train`` puts it on the model's card.

    python bench/model.py
"""

from __future__ import annotations

import math
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import xgboost as xgb

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from alerting.severity import Severity
from bench.harness import write_json
from cli.progress import ProgressBar
from models.evaluation import best_single_feature
from models.features import FEATURE_NAMES
from models.metrics import report
from models.replay import replay
from models.simulate import EVALUATION, TRAINING, simulate
from models.train import SERVING_THRESHOLD, Example, evaluate, train

TRAIN_SEED = 3
HELD_OUT_SEEDS = (103, 104, 105)
SEVERITY = FEATURE_NAMES.index("severity_rank")


BAR = ProgressBar()


def predict(booster: bytes, examples: list[Example]) -> list[float]:
    model = xgb.Booster()
    model.load_model(bytearray(booster))
    matrix = np.array([e.features for e in examples], dtype=np.float32)
    return [float(r) for r in model.inplace_predict(matrix)]


def history(scenario: Any, seed: int, what: str) -> list[Example]:
    stage = f"replaying {what} {seed}"
    return replay(simulate(scenario, seed), progress=lambda d, t: BAR(stage, d, t)).examples


def severity_rule(examples: list[Example]) -> dict[str, float]:
    """Scores by severity alone; 'actionable' means critical."""
    labels = [e.label for e in examples]
    scores = [e.features[SEVERITY] / Severity.CRITICAL.rank for e in examples]
    return with_noise_cut(report(labels, scores, 1.0), labels, scores)


def noise_cut(labels: list[int], scores: list[float], recall: float = 0.9) -> float:
    """The share of noise scored below the highest threshold that still keeps ``recall``
    of the actionable incidents at or above it: what paging by score would spare."""
    actionable = sorted((s for y, s in zip(labels, scores, strict=True) if y), reverse=True)
    if not actionable:
        return 0.0
    threshold = actionable[max(0, math.ceil(recall * len(actionable)) - 1)]
    noise = [s for y, s in zip(labels, scores, strict=True) if not y]
    return sum(1 for s in noise if s < threshold) / len(noise) if noise else 0.0


def with_noise_cut(
    figures: dict[str, float], labels: list[int], scores: list[float]
) -> dict[str, float]:
    return figures | {"noise_cut_at_90_recall": noise_cut(labels, scores)}


def page_everything(examples: list[Example]) -> dict[str, float]:
    labels = [e.label for e in examples]
    scores = [1.0] * len(labels)
    return with_noise_cut(report(labels, scores, 1.0), labels, scores)


def main() -> None:
    start = time.perf_counter()
    trained_on = history(TRAINING, TRAIN_SEED, "training mix")
    model = train(trained_on, rounds=150, progress=lambda d, t: BAR("boosting", d, t))
    rows: dict[str, list[dict[str, float]]] = {
        "model": [],
        "baseline": [],
        "severity": [],
        "everything": [],
    }
    base_rates = []
    chosen = ""
    for seed in HELD_OUT_SEEDS:
        held_out = history(EVALUATION, seed, "held-out mix")
        base_rates.append(sum(e.label for e in held_out) / len(held_out))
        risks = predict(model.booster, held_out)
        labels = [e.label for e in held_out]
        figures = evaluate(model.booster, held_out) | {"examples": len(held_out)}
        rows["model"].append(with_noise_cut(figures, labels, risks))
        baseline = best_single_feature(trained_on, held_out)
        chosen = baseline.feature
        ranked = {"roc_auc": baseline.figures.roc_auc, "pr_auc": baseline.figures.pr_auc}
        rows["baseline"].append(with_noise_cut(ranked, labels, baseline.scores(held_out)))
        rows["severity"].append(severity_rule(held_out))
        rows["everything"].append(page_everything(held_out))
    names = {
        "model": f"XGBoost risk (threshold {SERVING_THRESHOLD})",
        "baseline": f"best single input: {chosen} (ranking only)",
        "severity": "severity only (critical = actionable)",
        "everything": "page every incident",
    }
    figures = (
        "roc_auc",
        "pr_auc",
        "precision",
        "recall",
        "accuracy",
        "brier",
        "noise_cut_at_90_recall",
    )
    print(
        f"\nheld-out simulations (seeds {', '.join(map(str, HELD_OUT_SEEDS))}), "
        f"{statistics.mean(r['examples'] for r in rows['model']):,.0f} examples each, "
        f"{statistics.mean(base_rates):.1%} actionable; mean (min-max) of the three:"
    )
    print("| rule | " + " | ".join(figures) + " |")
    print("|---|" + "---|" * len(figures))
    summary: dict[str, Any] = {}
    for key, runs in rows.items():
        cells = []
        summary[key] = {}
        for f in figures:
            if f not in runs[0]:  # a raw input has no probabilities nor threshold
                cells.append("—")
                continue
            values = [r[f] for r in runs]
            summary[key][f] = {"mean": round(statistics.mean(values), 3), "runs": values}
            spread = f" ({min(values):.3f}-{max(values):.3f})" if max(values) > min(values) else ""
            cells.append(f"{statistics.mean(values):.3f}{spread}")
        print(f"| {names[key]} | " + " | ".join(cells) + " |")
    print(f"\n({time.perf_counter() - start:.0f} s)")
    out = write_json(
        "model",
        {
            "train": {"scenario": "training", "seed": TRAIN_SEED, "examples": len(trained_on)},
            "held_out": {"scenario": "evaluation", "seeds": HELD_OUT_SEEDS},
            "own_newest_quarter": model.metrics,
            "own_evaluation": model.card.get("evaluation"),
            "best_single_input": chosen,
            "base_rate": base_rates,
            "rules": summary,
        },
    )
    print(f"written to {out}")


if __name__ == "__main__":
    main()
