"""The streaming detector on made-up series: quiet on the ordinary, loud on a jump,
and one alarm per problem."""

import random

from models.anomaly import DetectorSettings, RangeNovelty, StreamingDetector, log_scaled


def noisy(n: int, seed: int = 1, level: float = 100.0) -> list[float]:
    rng = random.Random(seed)
    return [level + rng.gauss(0, 5) for _ in range(n)]


def test_ordinary_noise_stays_below_the_alarm() -> None:
    detector = StreamingDetector()
    scores = [detector.update(v) for v in noisy(2000)]
    alarms = sum(1 for s in scores[100:] if s >= detector.settings.alarm_at)
    assert alarms <= 5  # a 1e-4 tail of Gaussian noise, thinned by the quiet time


def test_a_jump_after_a_quiet_stretch_alarms_at_once() -> None:
    detector = StreamingDetector()
    for v in noisy(1000):
        detector.update(v)
    detector.update(400.0)
    assert detector.alarmed
    assert detector.direction == 1


def test_a_stream_that_goes_quiet_alarms_as_a_fall() -> None:
    detector = StreamingDetector()
    for v in noisy(1000):
        detector.update(v)
    falls = []
    for _ in range(5):
        detector.update(0.0)
        falls.append((detector.alarmed, detector.direction))
    assert (True, -1) in falls


def test_a_slow_climb_to_a_level_never_seen_alarms_once_it_gets_there() -> None:
    # Each step is ordinary for the recent past; only the level is new.
    settings = DetectorSettings(range_learning=100)
    detector = StreamingDetector(settings)
    for v in noisy(100):
        detector.update(v)
    alarms = []
    for i in range(400):
        detector.update(100.0 + i * 0.5)
        if detector.alarmed:
            alarms.append(i)
    assert alarms, "the new level never alarmed"
    assert alarms[0] > 30  # not before the level left the learned range (about 85-115)


def test_the_range_signal_alone_is_quiet_inside_the_learned_range() -> None:
    detector = RangeNovelty(DetectorSettings(range_learning=10, range_bins=4))
    for v in [0, 10, 2, 4, 6, 8, 1, 3, 5, 7]:
        assert not detector.update(float(v))
    assert not detector.update(9.0)  # a visited bin
    assert detector.update(14.0)  # one bin past the top
    assert not detector.update(13.0)  # the same bin again
    assert detector.update(-3.0)  # below the bottom


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


def test_the_learnt_range_is_binned_once_it_is_known() -> None:
    # A series that rises through its learning period: every value of the ramp was
    # seen, so one in the middle of it is no novelty, whatever the range was then.
    novelty = RangeNovelty(DetectorSettings(range_learning=150, range_bins=8))
    for value in range(150):
        assert novelty.update(float(value)) is False
    assert novelty.update(75.0) is False
    assert novelty.update(149.0) is False
    assert novelty.update(200.0) is True  # above the learnt range: a new bin
