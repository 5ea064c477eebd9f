"""A streaming anomaly detector for one series of numbers (say, a tenant's alerts/minute).

Each value is scored once, in order, without looking ahead, in two stages:

1. **Surprise**: how far the value, and its step from the previous value, lie from
   the recent past in robust units (distance from the median of the last ``window``
   values or steps, over their median absolute deviation), so one spike does not
   inflate the scale that judges the next.
2. **Likelihood**: whether the surprise of the last few values is unusual for this
   series, compared with the distribution of surprises over a longer history (the
   idea of Numenta's anomaly likelihood). A series that is always jumpy stops
   alarming; a quiet one alarms at its first real jump.

The score is in [0, 1]; callers alarm above a threshold. After an alarm the detector
stays quiet for ``refractory`` values: one problem is one alarm, not a burst of them.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass
from statistics import median


@dataclass(frozen=True)
class DetectorSettings:
    """The detector's memory lengths (in values) and its quiet time after an alarm."""

    window: int = 300  # values the surprise is measured against
    short: int = 5  # recent surprises averaged
    history: int = 2000  # surprises the average is compared with
    min_history: int = 30  # values seen before any score above 0.5
    refractory: int = 120  # values kept quiet after an alarm
    alarm_at: float = 0.15  # score counted as an alarm (a tail probability of ~3%)


def log_scaled(tail: float) -> float:
    """A tail probability as a score in [0, 1]: 0.5 at 1e-5, 1 at 1e-10 and beyond.

    Likelihoods of real anomalies differ in their fifth decimal; on this scale a
    threshold can tell them apart.
    """
    return min(1.0, -math.log10(max(tail, 1e-10)) / 10.0)


def robust_z(value: float, past: deque[float]) -> float:
    """``value``'s distance from the median of ``past`` in robust standard deviations
    (1.4826 median absolute deviations), capped at 50; 0 with too little past."""
    if len(past) < 3:
        return 0.0
    middle = median(past)
    spread = median(abs(v - middle) for v in past)
    if spread == 0:
        spread = max(abs(middle) * 0.01, 1e-9)
    return min(abs(value - middle) / (1.4826 * spread), 50.0)


def _normal_tail(z: float) -> float:
    """P(Z > z) for a standard normal Z."""
    return 0.5 * math.erfc(z / math.sqrt(2.0))


class StreamingDetector:
    """Scores one value at a time; keeps only bounded history."""

    def __init__(self, settings: DetectorSettings | None = None) -> None:
        self.settings = settings or DetectorSettings()
        self.values: deque[float] = deque(maxlen=self.settings.window)
        self.steps: deque[float] = deque(maxlen=self.settings.window)
        self.recent: deque[float] = deque(maxlen=self.settings.short)
        self.surprises: deque[float] = deque(maxlen=self.settings.history)
        self.sum = 0.0
        self.sum_sq = 0.0
        self.quiet_for = 0
        self.seen = 0

    def surprise(self, value: float) -> float:
        """How unusual ``value`` is: the mean of how far it lies from the last ``window``
        values and how far its change from the previous value lies from their changes
        (a level that drifts is judged by its steps, a flat one by its level)."""
        level = robust_z(value, self.values)
        if not self.values:
            return level
        step = robust_z(value - self.values[-1], self.steps)
        return (level + step) / 2.0

    def update(self, value: float) -> float:
        """Score ``value`` (0: ordinary, near 1: anomalous), then remember it."""
        s = self.surprise(value)
        if self.values:
            self.steps.append(value - self.values[-1])
        self.values.append(value)
        self.seen += 1
        self.recent.append(s)
        short_mean = sum(self.recent) / len(self.recent)
        score = 0.0
        n = len(self.surprises)
        if n >= self.settings.min_history:
            mean = self.sum / n
            variance = max(self.sum_sq / n - mean * mean, 1e-12)
            z = (short_mean - mean) / math.sqrt(variance)
            score = log_scaled(_normal_tail(z))
        self._remember(s)
        if self.quiet_for > 0:
            self.quiet_for -= 1
            return min(score, 0.1)
        if score >= self.settings.alarm_at:
            self.quiet_for = self.settings.refractory
        return score

    def _remember(self, s: float) -> None:
        if len(self.surprises) == self.surprises.maxlen:
            old = self.surprises[0]
            self.sum -= old
            self.sum_sq -= old * old
        self.surprises.append(s)
        self.sum += s
        self.sum_sq += s * s
