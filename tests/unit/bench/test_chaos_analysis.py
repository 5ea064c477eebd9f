"""How bench/chaos.py counts each fault's window."""

from bench.chaos import Fault, LoadStats, Sent, analyse


def test_each_window_counts_its_own_alerts_pages_refusals_and_losses() -> None:
    faults = [Fault("correlator", at=100.0, until=110.0), Fault("redis", at=110.0, until=130.0)]
    stats = LoadStats()
    stats.escalating = [
        Sent("chaos-a", "Before", 99.0),  # before any fault: in no window
        Sent("chaos-a", "A", 101.0),
        Sent("chaos-b", "B", 102.0),
        Sent("chaos-a", "C", 111.0),
    ]
    stats.refused = [100.5, 111.0, 112.0, 131.0]
    firing = {
        ("Before", 1): [99.5],
        ("A", 1): [101.8],
        ("A", 2): [103.8],
        ("B", 1): [102.3],  # B's level 2 never came
        ("C", 1): [114.0],
        ("C", 2): [116.0, 116.5],  # sent twice (the crash window)
    }
    lost = {"id-1": 115.0}
    correlator, redis = analyse(faults, stats, firing, lost)
    assert correlator["steps_due"] == 4 and correlator["delivered_once"] == 3
    assert correlator["missing"] == 1 and correlator["delivered_twice_or_more"] == 0
    assert correlator["first_page_after_fault_max_s"] == 1.8  # A's level 1
    assert correlator["requests_refused"] == 1 and correlator["acked_lost"] == 0
    assert redis["steps_due"] == 2 and redis["delivered_twice_or_more"] == 1
    assert redis["first_page_after_fault_p50_s"] == 4.0
    assert redis["requests_refused"] == 2 and redis["acked_lost"] == 1
