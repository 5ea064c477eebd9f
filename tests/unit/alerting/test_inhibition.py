"""Inhibition rules: source mutes target when the ``equal`` labels agree."""

import pytest

from alerting.inhibition import InhibitRuleSpec, build_inhibit_rule, inhibited, inhibiting_sources

RULE = build_inhibit_rule(
    InhibitRuleSpec(
        source_matchers=['severity="critical"'],
        target_match={"severity": "warning"},
        equal=["cluster"],
    ),
    "inhibit_rules.0",
)


@pytest.mark.parametrize(
    ("source", "target", "expected"),
    [
        # The textbook case: a critical mutes a warning in the same cluster.
        ({"severity": "critical", "cluster": "a"}, {"severity": "warning", "cluster": "a"}, True),
        # Different cluster: the equal label disagrees.
        ({"severity": "critical", "cluster": "a"}, {"severity": "warning", "cluster": "b"}, False),
        # Both lack the equal label: "" equals "", so it mutes (Alertmanager does the same).
        ({"severity": "critical"}, {"severity": "warning"}, True),
        # The target side does not match.
        ({"severity": "critical", "cluster": "a"}, {"severity": "info", "cluster": "a"}, False),
        # The source side does not match.
        ({"severity": "warning", "cluster": "a"}, {"severity": "warning", "cluster": "a"}, False),
    ],
)
def test_inhibits(source: dict[str, str], target: dict[str, str], expected: bool) -> None:
    assert RULE.inhibits(source, target) is expected
    assert inhibited([RULE], target, [source]) is expected


def test_alerts_matching_both_sides_do_not_mute_each_other() -> None:
    # Every alert with team=x matches both sides: without the two-sided exclusion the
    # two would mute each other and nobody would be told.
    rule = build_inhibit_rule(
        InhibitRuleSpec(source_match={"team": "x"}, target_match={"team": "x"}), "r"
    )
    assert not rule.inhibits({"team": "x", "a": "1"}, {"team": "x", "a": "2"})


def test_inhibiting_sources_agrees_with_the_pairwise_rule() -> None:
    alerts = [
        ("c-a", {"severity": "critical", "cluster": "a"}),
        ("w-a", {"severity": "warning", "cluster": "a"}),
        ("w-b", {"severity": "warning", "cluster": "b"}),
        ("i-a", {"severity": "info", "cluster": "a"}),
    ]
    # Only the warning in cluster a has a critical source beside it.
    assert inhibiting_sources([RULE], alerts) == {"w-a": "c-a"}
    for fp, labels in alerts:
        expected = any(RULE.inhibits(src, labels) for _, src in alerts)
        assert (fp in inhibiting_sources([RULE], alerts)) is expected
    # Two-sided: alerts matching both sides never mute each other ...
    both = build_inhibit_rule(
        InhibitRuleSpec(source_match={"t": "x"}, target_match={"t": "x"}), "r"
    )
    assert (
        inhibiting_sources([both], [("1", {"t": "x", "a": "1"}), ("2", {"t": "x", "a": "2"})]) == {}
    )
    # ... but a source that matches only the source side still mutes such a target.
    rule = build_inhibit_rule(
        InhibitRuleSpec(source_matchers=['s="1"'], target_matchers=['t="1"']), "r"
    )
    assert inhibiting_sources([rule], [("src", {"s": "1"}), ("tgt", {"s": "1", "t": "1"})]) == {
        "tgt": "src"
    }
