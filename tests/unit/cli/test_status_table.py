"""``vigil status``'s table of loops."""

from cli.lifecycle import loops_table


def test_the_table_shows_each_loop_and_why_it_is_not_ok() -> None:
    table = loops_table(
        [
            {
                "loop": "correlator/acme",
                "status": "ok",
                "heartbeat_age_seconds": 0.4,
                "lag_seconds": 0.0,
                "reason": "ok",
                "shard": 0,
                "pid": 101,
            },
            {
                "loop": "escalator/acme",
                "status": "stalled",
                "heartbeat_age_seconds": 31.2,
                "lag_seconds": 2.5,
                "reason": "no round for 31.2s (bound 30s)",
                "shard": 0,
                "pid": 102,
            },
            {"loop": "escalator/hooli", "status": "starting", "heartbeat_age_seconds": None},
        ]
    )
    lines = table.splitlines()
    assert lines[0].split() == ["LOOP", "STATUS", "HEARTBEAT", "LAG", "SHARD", "PID", "REASON"]
    assert lines[1].split() == ["correlator/acme", "ok", "0.4s", "ago", "0.0s", "0", "101"]
    assert lines[2].endswith("no round for 31.2s (bound 30s)")
    assert lines[3].split()[:3] == ["escalator/hooli", "starting", "never"]
