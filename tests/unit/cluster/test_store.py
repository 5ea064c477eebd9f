"""The change-stream entry format: what the correlator will read back."""

from alerting.lifecycle import acknowledge, receive
from cluster.store import change_entry, read_changes

from ..alerting.helpers import at, incoming


def test_entry_lists_each_change_in_order_with_unique_ids() -> None:
    created = receive(None, incoming(), tenant="t", new_id="a1", now=at(0))
    acked = acknowledge(created[-1].alert, now=at(1), by="ann")
    unchanged = acknowledge(acked.alert, now=at(2), by="ann")  # a no-op: not a change
    entry = change_entry([*created, acked, unchanged], at(2))
    changes = read_changes({k.encode(): v.encode() for k, v in entry.items()})
    assert [c["kind"] for c in changes] == ["created", "acknowledged"]
    assert entry["count"] == "2"
    assert changes[1]["by"] == "ann" and changes[1]["alert_id"] == "a1"
    assert len({c["change_id"] for c in changes}) == 2
