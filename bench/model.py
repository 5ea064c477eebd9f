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

Then the same on **traffic of another family** (``models/simulate_hosts.py``: hosts
and rules instead of services, severity that says little, rare multi-stage chains
as what is actionable), replayed the way a real alert file is
(``replay_history``):

* the starter recipe, trained on the first family, scored on the second (what a new
  tenant sees before it has history: why its risk is provisional), beside the
  transparent baseline of that tenant's own rule history;
* a model trained on the second family's own older incidents, judged on its newest
  quarter beside its best single input (what retraining gives that tenant).

Then **the starter model as ``vigil up`` trains it**, on both families
(``models/starter.py``): each family alone judged on the other (leave one family
out: how a model fares on traffic of a kind it never saw), and both together judged
on unseen seeds of each.

Last, the **ablation**: each group of inputs removed in turn (the model trained and
judged without it), on both families, to show which inputs carry the ranking.

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
from models.evaluation import Evaluation, best_single_feature, by_time, evaluate_split
from models.features import FEATURE_NAMES
from models.metrics import report
from models.replay import replay, replay_history
from models.simulate import EVALUATION, TRAINING, simulate
from models.simulate_hosts import HOSTS, simulate_hosts
from models.starter import starter_parts
from models.train import PARAMS, SERVING_THRESHOLD, Example, evaluate, train

TRAIN_SEED = 3
HELD_OUT_SEEDS = (103, 104, 105)
HOST_SEEDS = (7, 8, 9)
SEVERITY = FEATURE_NAMES.index("severity_rank")
ROUNDS = 150

GROUPS: dict[str, tuple[str, ...]] = {
    "severity": ("severity_rank",),
    "incident shape": (
        "log_members",
        "firing_share",
        "flapping_share",
        "suppressed_share",
        "correlated_share",
        "log_alertnames",
    ),
    "alert rates": ("log_rate_1m", "log_rate_1h", "burst_ratio"),
    "outcome history": tuple(
        n for n in FEATURE_NAMES if n.startswith(("fingerprint_", "alertname_", "service_"))
    ),
    "topology": ("log_dependents",),
    "time of day and week": ("hour_sin", "hour_cos", "weekday_sin", "weekday_cos"),
    "neighbours": ("log_neighbour_alertnames", "neighbour_actionable_rate"),
}
"""The inputs by what they describe, for the ablation (every input in one group)."""


BAR = ProgressBar()


def predict(booster: bytes, examples: list[Example]) -> list[float]:
    model = xgb.Booster()
    model.load_model(bytearray(booster))
    matrix = np.array([e.features for e in examples], dtype=np.float32)
    return [float(r) for r in model.inplace_predict(matrix)]


def history(scenario: Any, seed: int, what: str) -> list[Example]:
    stage = f"replaying {what} {seed}"
    return replay(simulate(scenario, seed), progress=lambda d, t: BAR(stage, d, t)).examples


def host_history(seed: int) -> list[Example]:
    """The second family's traffic, replayed as a real alert file would be."""
    stage = f"replaying hosts {seed}"
    events = simulate_hosts(HOSTS, seed).as_history()
    return replay_history(events, progress=lambda d, t: BAR(stage, d, t)).examples


def fitter(rounds: int, drop: tuple[int, ...] = ()) -> Any:
    """``evaluate_split``'s fit: XGBoost as ``models/train.py`` trains it, with the
    ``drop`` columns held at zero in training and scoring alike."""

    def matrix(examples: Any) -> np.ndarray:
        m = np.array([e.features for e in examples], dtype=np.float32)
        m[:, list(drop)] = 0.0
        return m

    def fit(part: Any) -> Any:
        data = xgb.DMatrix(matrix(part), label=[e.label for e in part])
        booster = xgb.train(PARAMS, data, num_boost_round=rounds)
        return lambda examples: booster.inplace_predict(matrix(examples)).tolist()

    return fit


def family_row(evaluation: Evaluation) -> dict[str, Any]:
    return {
        "model": {"roc_auc": evaluation.model.roc_auc, "pr_auc": evaluation.model.pr_auc},
        "baseline": {
            "feature": evaluation.baseline.feature,
            "roc_auc": evaluation.baseline.figures.roc_auc,
            "pr_auc": evaluation.baseline.figures.pr_auc,
        },
        "base_rate": evaluation.base_rate,
        "test_incidents": evaluation.test_incidents,
        "beats_baseline": evaluation.beats_baseline,
    }


def judged_on(train: list[Example], tests: list[list[Example]]) -> list[dict[str, Any]]:
    """One model fitted on ``train`` (once: a fit is deterministic), judged on each of
    ``tests`` beside the best single input."""
    predict = fitter(ROUNDS)(train)
    return [family_row(evaluate_split("transfer", train, t, lambda _: predict)) for t in tests]


def other_family(trained_on: list[Example]) -> tuple[dict[str, Any], list[list[Example]]]:
    """The starter recipe and a tenant's own model on the second family's seeds."""
    histories = [host_history(seed) for seed in HOST_SEEDS]
    # The baseline a new tenant can trust from day one: its own rule history.
    transfer = judged_on(trained_on, histories)
    own = []
    for examples in histories:
        older, newest = by_time(examples, 0.25)
        own.append(family_row(evaluate_split("time", older, newest, fitter(ROUNDS))))
    print(f"\nsecond family (hosts and rules; seeds {', '.join(map(str, HOST_SEEDS))}):")
    print(
        "| model | judged on | ROC-AUC | PR-AUC | base rate | best single input "
        "| its ROC-AUC | its PR-AUC |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for name, rows, on in (
        ("starter recipe, first family", transfer, "all of it"),
        ("own older incidents", own, "newest quarter"),
    ):
        for seed, row in zip(HOST_SEEDS, rows, strict=True):
            b = row["baseline"]
            print(
                f"| {name} | seed {seed}, {on} | {row['model']['roc_auc']:.3f} | "
                f"{row['model']['pr_auc']:.3f} | {row['base_rate']:.1%} | {b['feature']} | "
                f"{b['roc_auc']:.3f} | {b['pr_auc']:.3f} |"
            )
    return {"seeds": HOST_SEEDS, "starter_recipe": transfer, "own_history": own}, histories


def the_starter(
    held_outs: list[list[Example]], hosts: list[list[Example]]
) -> dict[str, list[dict[str, Any]]]:
    """The starter's history, each family alone and both, judged on the held-out seeds
    of the other family and of each."""
    services, host_part = starter_parts(lambda stage, d, t: BAR(stage, d, t))
    both = judged_on(services + host_part, held_outs + hosts)
    judged = {
        "services only, on the hosts family": judged_on(services, hosts),
        "hosts only, on the services family": judged_on(host_part, held_outs),
        "both, on the services family": both[: len(held_outs)],
        "both, on the hosts family": both[len(held_outs) :],
    }
    print("\nthe starter's history (services seed 1, hosts seed 1), per family and both:")
    print(
        "| trained on, judged on | ROC-AUC per seed | PR-AUC per seed | base rate "
        "| best single input, ROC-AUC |"
    )
    print("|---|---|---|---|---|")
    for name, rows in judged.items():
        roc = " / ".join(f"{r['model']['roc_auc']:.3f}" for r in rows)
        pr = " / ".join(f"{r['model']['pr_auc']:.3f}" for r in rows)
        rates = " / ".join(f"{r['base_rate']:.1%}" for r in rows)
        base = " / ".join(f"{r['baseline']['roc_auc']:.3f}" for r in rows)
        print(f"| {name} | {roc} | {pr} | {rates} | {rows[0]['baseline']['feature']}: {base} |")
    return judged


def ablation(
    trained_on: list[Example], held_out: list[Example], hosts: list[Example]
) -> dict[str, Any]:
    """Each group of inputs removed in turn: ROC-AUC on both families."""
    older, newest = by_time(hosts, 0.25)
    cases = {"every input": ()} | {
        f"without {group}": tuple(FEATURE_NAMES.index(n) for n in names)
        for group, names in GROUPS.items()
    }
    results = {}
    print("\nablation: ROC-AUC (PR-AUC) with a group of inputs removed")
    print(
        f"| inputs | first family, seed {HELD_OUT_SEEDS[0]} | second family, seed {HOST_SEEDS[0]} |"
    )
    print("|---|---|---|")
    for n, (name, drop) in enumerate(cases.items(), 1):
        BAR("ablation", n, len(cases))
        first = evaluate_split("x", trained_on, held_out, fitter(ROUNDS, drop)).model
        second = evaluate_split("x", older, newest, fitter(ROUNDS, drop)).model
        results[name] = {
            "first": {"roc_auc": first.roc_auc, "pr_auc": first.pr_auc},
            "second": {"roc_auc": second.roc_auc, "pr_auc": second.pr_auc},
        }
        print(
            f"| {name} | {first.roc_auc:.3f} ({first.pr_auc:.3f}) | "
            f"{second.roc_auc:.3f} ({second.pr_auc:.3f}) |"
        )
    return results


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
    model = train(trained_on, rounds=ROUNDS, progress=lambda d, t: BAR("boosting", d, t))
    rows: dict[str, list[dict[str, float]]] = {
        "model": [],
        "baseline": [],
        "severity": [],
        "everything": [],
    }
    base_rates = []
    chosen = ""
    held_outs = [history(EVALUATION, seed, "held-out mix") for seed in HELD_OUT_SEEDS]
    for held_out in held_outs:
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
    columns = (
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
    print("| rule | " + " | ".join(columns) + " |")
    print("|---|" + "---|" * len(columns))
    summary: dict[str, Any] = {}
    for key, runs in rows.items():
        cells = []
        summary[key] = {}
        for f in columns:
            if f not in runs[0]:  # a raw input has no probabilities nor threshold
                cells.append("—")
                continue
            values = [r[f] for r in runs]
            summary[key][f] = {"mean": round(statistics.mean(values), 3), "runs": values}
            spread = f" ({min(values):.3f}-{max(values):.3f})" if max(values) > min(values) else ""
            cells.append(f"{statistics.mean(values):.3f}{spread}")
        print(f"| {names[key]} | " + " | ".join(cells) + " |")
    family, hosts = other_family(trained_on)
    starter = the_starter(held_outs, hosts)
    ablated = ablation(trained_on, held_outs[0], hosts[0])
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
            "second_family": family,
            "starter": starter,
            "ablation": ablated,
        },
    )
    print(f"written to {out}")


if __name__ == "__main__":
    main()
