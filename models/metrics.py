"""Model quality figures, computed here so they mean exactly what the reports say.

``roc_auc`` is the chance that a random actionable incident scores above a random
noise one (ties count half); ``pr_auc`` is average precision (the area under the
precision-recall steps); ``brier`` is the mean squared error of the probabilities
(calibration: 0 is perfect, 0.25 is a constant 0.5).
"""

from __future__ import annotations

from collections.abc import Sequence


def roc_auc(labels: Sequence[int], scores: Sequence[float]) -> float:
    """Area under the ROC curve, from the ranks of the scores (Mann-Whitney U)."""
    positives = sum(labels)
    negatives = len(labels) - positives
    if positives == 0 or negatives == 0:
        raise ValueError("ROC-AUC needs both classes")
    order = sorted(range(len(scores)), key=lambda i: scores[i])
    ranks = [0.0] * len(scores)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and scores[order[j + 1]] == scores[order[i]]:
            j += 1
        for k in range(i, j + 1):  # tied scores share their average rank
            ranks[order[k]] = (i + j) / 2 + 1
        i = j + 1
    rank_sum = sum(r for r, y in zip(ranks, labels, strict=True) if y)
    return (rank_sum - positives * (positives + 1) / 2) / (positives * negatives)


def pr_auc(labels: Sequence[int], scores: Sequence[float]) -> float:
    """Average precision: precision at each actionable incident, best scores first."""
    positives = sum(labels)
    if positives == 0:
        raise ValueError("PR-AUC needs at least one positive")
    ranked = sorted(zip(scores, labels, strict=True), key=lambda p: p[0], reverse=True)
    hits = 0
    total = 0.0
    for n, (_, label) in enumerate(ranked, 1):
        if label:
            hits += 1
            total += hits / n
    return total / positives


def at_threshold(
    labels: Sequence[int], scores: Sequence[float], threshold: float
) -> dict[str, float]:
    """Precision, recall and accuracy when scores at or above ``threshold`` count as actionable."""
    tp = sum(1 for y, s in zip(labels, scores, strict=True) if y and s >= threshold)
    fp = sum(1 for y, s in zip(labels, scores, strict=True) if not y and s >= threshold)
    fn = sum(1 for y, s in zip(labels, scores, strict=True) if y and s < threshold)
    correct = sum(1 for y, s in zip(labels, scores, strict=True) if bool(y) == (s >= threshold))
    return {
        "precision": tp / (tp + fp) if tp + fp else 0.0,
        "recall": tp / (tp + fn) if tp + fn else 0.0,
        "accuracy": correct / len(labels) if labels else 0.0,
    }


def brier(labels: Sequence[int], probabilities: Sequence[float]) -> float:
    """Mean squared difference between probabilities and outcomes."""
    pairs = list(zip(labels, probabilities, strict=True))
    return sum((p - y) ** 2 for y, p in pairs) / len(pairs)


def report(
    labels: Sequence[int], probabilities: Sequence[float], threshold: float
) -> dict[str, float]:
    """Every figure the training report and the registry card carry."""
    return {
        "roc_auc": roc_auc(labels, probabilities),
        "pr_auc": pr_auc(labels, probabilities),
        "brier": brier(labels, probabilities),
        **at_threshold(labels, probabilities, threshold),
    }
