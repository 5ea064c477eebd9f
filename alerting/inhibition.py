"""Inhibition rules: an alert matching the source matchers mutes alerts matching the target
matchers that have the same values for the ``equal`` labels (Alertmanager's semantics)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field

from alerting.errors import InvalidConfig, InvalidMatcher
from alerting.matchers import LABEL_NAME, Matcher, MatchOp, matches_all, parse_matchers


class InhibitRuleSpec(BaseModel):
    """One ``inhibit_rules`` entry as written (the old ``*_match``/``*_match_re`` forms too)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    source_match: dict[str, str] = Field(default_factory=dict)
    source_match_re: dict[str, str] = Field(default_factory=dict)
    source_matchers: list[str] = Field(default_factory=list)
    target_match: dict[str, str] = Field(default_factory=dict)
    target_match_re: dict[str, str] = Field(default_factory=dict)
    target_matchers: list[str] = Field(default_factory=list)
    equal: list[str] = Field(default_factory=list)


@dataclass(frozen=True)
class InhibitRule:
    """A resolved inhibition rule."""

    source: tuple[Matcher, ...]
    target: tuple[Matcher, ...]
    equal: tuple[str, ...]

    def inhibits(self, source: Mapping[str, str], target: Mapping[str, str]) -> bool:
        """Whether a firing ``source`` alert mutes ``target`` under this rule.

        As in Alertmanager, when the target also matches the source side, sources that
        also match the target side are ignored: otherwise two such alerts would mute
        each other and nobody would be told.
        """
        if not matches_all(self.target, target) or not matches_all(self.source, source):
            return False
        if not all(source.get(n, "") == target.get(n, "") for n in self.equal):
            return False
        two_sided = matches_all(self.source, target) and matches_all(self.target, source)
        return not two_sided


def inhibited(
    rules: Iterable[InhibitRule], target: Mapping[str, str], firing: Iterable[Mapping[str, str]]
) -> bool:
    """Whether any firing alert mutes ``target`` under any rule."""
    sources = list(firing)
    return any(rule.inhibits(s, target) for rule in rules for s in sources)


def build_inhibit_rule(spec: InhibitRuleSpec, where: str) -> InhibitRule:
    """Resolve one rule; ``InvalidConfig`` names the rule that is wrong."""

    def side(
        match: dict[str, str], match_re: dict[str, str], lines: list[str]
    ) -> tuple[Matcher, ...]:
        found = [Matcher.create(n, MatchOp.EQUAL, v) for n, v in match.items()]
        found += [Matcher.create(n, MatchOp.REGEX, v) for n, v in match_re.items()]
        for line in lines:
            found += parse_matchers(line)
        return tuple(found)

    try:
        source = side(spec.source_match, spec.source_match_re, spec.source_matchers)
        target = side(spec.target_match, spec.target_match_re, spec.target_matchers)
    except InvalidMatcher as exc:
        raise InvalidConfig(f"{where}: {exc.message}") from None
    for name in spec.equal:
        if not LABEL_NAME.fullmatch(name):
            raise InvalidConfig(f"{where}.equal: invalid label name {name!r}")
    return InhibitRule(source, target, tuple(spec.equal))


def inhibiting_sources(
    rules: Sequence[InhibitRule], alerts: Sequence[tuple[str, Mapping[str, str]]]
) -> dict[str, str]:
    """For every muted alert, the fingerprint of one firing alert that inhibits it.

    ``alerts`` are the firing alerts as ``(fingerprint, labels)``; each is a possible
    source and a possible target. Sources are indexed by the values of each rule's
    ``equal`` labels, so this costs O(rules * alerts), not O(alerts²).
    """
    muted: dict[str, str] = {}
    for rule in rules:
        # key of equal-label values → a source fingerprint; the second index holds only
        # sources that do not also match the target side (for two-sided targets).
        any_source: dict[tuple[str, ...], str] = {}
        one_sided: dict[tuple[str, ...], str] = {}
        for fp, labels in alerts:
            if matches_all(rule.source, labels):
                key = tuple(labels.get(n, "") for n in rule.equal)
                any_source.setdefault(key, fp)
                if not matches_all(rule.target, labels):
                    one_sided.setdefault(key, fp)
        if not any_source:
            continue
        for fp, labels in alerts:
            if fp in muted or not matches_all(rule.target, labels):
                continue
            key = tuple(labels.get(n, "") for n in rule.equal)
            index = one_sided if matches_all(rule.source, labels) else any_source
            source = index.get(key)
            if source is not None:
                muted[fp] = source
    return muted
