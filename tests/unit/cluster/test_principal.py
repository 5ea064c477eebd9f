"""Who a change is recorded under: the key's label, with the client's claim as a note."""

from __future__ import annotations

from cluster.tenants import Principal, key_id


def test_the_actor_is_the_keys_label_or_its_id() -> None:
    assert Principal("acme", "0123456789ab", "ana").actor == "ana"
    assert Principal("acme", "0123456789ab").actor == "key 0123456789ab"


def test_a_clients_by_is_kept_only_as_a_note() -> None:
    ana = Principal("acme", "0123456789ab", "ana")
    assert ana.attributed(None) == "ana"
    assert ana.attributed("ana") == "ana"
    assert ana.attributed("anyone@example.com") == "ana (says anyone@example.com)"


def test_a_key_id_is_the_start_of_its_digest() -> None:
    assert key_id("ab" * 32) == "abababababab"
