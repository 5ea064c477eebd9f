"""The escalator stores a stream position only once every entry up to it is done."""

from actors.stream_frontier import StreamFrontier


def test_the_position_waits_for_the_oldest_unfinished_entry() -> None:
    frontier = StreamFrontier("0-0")
    frontier.read("1-0", 2)
    frontier.read("2-0", 0)
    frontier.read("3-0", 1)
    assert frontier.position == "0-0" and frontier.busy == 3
    frontier.done("3-0")
    assert frontier.position == "0-0"  # 1-0 is still being delivered
    frontier.done("1-0")
    frontier.done("1-0")
    assert frontier.position == "3-0" and frontier.busy == 0
    frontier.read("4-0", 0)
    assert frontier.position == "4-0"
    frontier.done("9-9")  # unknown: ignored
    assert frontier.position == "4-0"
