"""Escalator lanes as pure rules: which lane owns a key, where a restarted lane reads
from, and how far the shared stream may be trimmed."""

from __future__ import annotations

from alerting.lanes import STREAM_START, lane_of, resume_position, stream_order, trim_point


def test_one_lane_owns_everything_and_more_lanes_share_keys_stably() -> None:
    keys = [f'{{}}:{{alertname="A{n}"}}' for n in range(200)]
    assert {lane_of(k, 1) for k in keys} == {0}
    spread = [lane_of(k, 3) for k in keys]
    assert set(spread) == {0, 1, 2}  # every lane gets a share
    assert spread == [lane_of(k, 3) for k in keys]  # the same answer every time
    assert min(spread.count(lane) for lane in range(3)) > 200 // 3 // 2  # roughly even


def test_stream_ids_order_by_number_not_by_text() -> None:
    assert stream_order("9-5") < stream_order("10-0") < stream_order("10-1")
    assert stream_order("10") == (10, 0)


def test_a_restarted_lane_reads_from_the_earliest_position_any_lane_stored() -> None:
    assert resume_position([]) == STREAM_START
    # Lanes lowered from 2 to 1: lane 1's unfinished entries lie behind lane 0's
    # position, so lane 0 must read from lane 1's.
    assert resume_position(["1700-3", "900-0"]) == "900-0"
    assert resume_position(["10-0", "9-9"]) == "9-9"


def test_the_stream_is_trimmed_only_below_every_running_lane() -> None:
    assert trim_point({0: "500-0", 1: "300-2"}, 2) == "300-2"
    assert trim_point({0: "500-0"}, 2) is None  # lane 1 has not stored a position yet
    # A lane that no longer runs (lanes lowered to 1) does not hold the stream back.
    assert trim_point({0: "500-0", 1: "300-2"}, 1) == "500-0"
