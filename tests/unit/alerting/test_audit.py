"""The audit chain: every edit, deletion, reordering or move between tenants shows."""

from __future__ import annotations

from dataclasses import replace

import pytest

from alerting.audit import AuditAction, AuditEntry, next_entry, verify

KEY = b"k" * 32


def chain(n: int, tenant: str = "acme", key: bytes = KEY) -> list[AuditEntry]:
    entries: list[AuditEntry] = []
    for i in range(n):
        head = None if not entries else (entries[-1].seq, entries[-1].seal)
        entries.append(
            next_entry(
                key,
                tenant,
                head,
                at=1000.0 + i,
                actor="ana",
                action=AuditAction.ACKNOWLEDGE,
                target=f"alert a{i}",
                detail={"says_by": "someone"},
            )
        )
    return entries


def head_of(entries: list[AuditEntry]) -> tuple[int, str]:
    return entries[-1].seq, entries[-1].seal


def test_an_untouched_chain_is_intact() -> None:
    entries = chain(5)
    verdict = verify(KEY, "acme", entries, head_of(entries))
    assert verdict.intact and verdict.checked == 5 and verdict.head == head_of(entries)
    assert [e.seq for e in entries] == [1, 2, 3, 4, 5]
    assert entries[1].prev == entries[0].seal


def test_an_empty_trail_is_intact_only_without_a_head() -> None:
    assert verify(KEY, "acme", [], None).intact
    assert not verify(KEY, "acme", [], (3, "x")).intact


@pytest.mark.parametrize(
    "change",
    [
        {"actor": "mallory"},
        {"target": "alert other"},
        {"detail": {"says_by": "nobody"}},
        {"at": 1.0},
        {"action": AuditAction.RESOLVE},
    ],
)
def test_an_edited_entry_breaks_its_seal(change: dict[str, object]) -> None:
    entries = chain(4)
    entries[2] = replace(entries[2], **change)  # type: ignore[arg-type]
    verdict = verify(KEY, "acme", entries, head_of(entries))
    assert verdict.problem == "entry 3 was altered (its seal does not match)"
    assert verdict.checked == 2


def test_a_deleted_entry_shows_as_missing() -> None:
    entries = chain(4)
    del entries[1]
    verdict = verify(KEY, "acme", entries, head_of(entries))
    assert verdict.problem == "entry 2 is missing (found 3)"


def test_a_resealed_entry_without_the_key_does_not_pass() -> None:
    entries = chain(3)
    forged = next_entry(
        b"not the key",
        "acme",
        (entries[0].seq, entries[0].seal),
        at=5.0,
        actor="mallory",
        action=AuditAction.KEY_CREATE,
        target="k",
    )
    entries[1] = forged
    assert not verify(KEY, "acme", entries, head_of(entries)).intact


def test_entries_moved_to_another_tenant_do_not_verify() -> None:
    entries = chain(2, tenant="acme")
    assert not verify(KEY, "globex", entries, head_of(entries)).intact


def test_a_dropped_tail_shows_against_the_head() -> None:
    entries = chain(4)
    verdict = verify(KEY, "acme", entries[:3], head_of(entries))
    assert verdict.problem == "the trail's head names entry 4, but its last entry is entry 3"
    assert verdict.checked == 3


def test_records_round_trip() -> None:
    (entry,) = chain(1)
    assert AuditEntry.from_record(entry.to_record()) == entry
