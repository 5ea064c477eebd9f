"""The streaming detector on made-up series: quiet on the ordinary, loud on a jump,
and one alarm per problem."""

import random

from models.anomaly import DetectorSettings, StreamingDetector, log_scaled


def noisy(n: int, seed: int = 1, level: float = 100.0) -> list[float]:
    rng = random.Random(seed)
    return [level + rng.gauss(0, 5) for _ in range(n)]


def test_ordinary_noise_stays_below_the_alarm() -> None:
    detector = StreamingDetector()
    scores = [detector.update(v) for v in noisy(2000)]
    alarms = sum(1 for s in scores[100:] if s >= detector.settings.alarm_at)
    assert alarms <= 20  # about the 3% tail of Gaussian noise, thinned by the quiet time


def test_a_jump_after_a_quiet_stretch_alarms_at_once() -> None:
    detector = StreamingDetector()
    for v in noisy(1000):
        detector.update(v)
    scores = [detector.update(v) for v in noisy(5, seed=2, level=400.0)]
    assert max(scores[:2]) > 0.5


def test_one_problem_raises_one_alarm_then_the_detector_stays_quiet() -> None:
    settings = DetectorSettings(refractory=50)
    detector = StreamingDetector(settings)
    for v in noisy(1000):
        detector.update(v)
    scores = [detector.update(v) for v in noisy(40, seed=3, level=400.0)]
    alarms = [i for i, s in enumerate(scores) if s >= settings.alarm_at]
    assert len(alarms) == 1


def test_log_scaled_maps_tail_probabilities_to_scores() -> None:
    assert log_scaled(1.0) == 0.0
    assert log_scaled(1e-5) == 0.5
    assert log_scaled(1e-12) == 1.0
