"""The escalation section as written: a full example read into policies and a tier,
and every kind of mistake refused with where it is."""

from datetime import timedelta
from typing import Any

import pytest
from pydantic import ValidationError

from alerting.escalation import Target, TargetKind
from alerting.escalation_config import EscalationSpec
from alerting.severity import Severity

EXAMPLE: dict[str, Any] = {
    "sla_tier": "enterprise",
    "sla_tiers": {
        "enterprise": {"critical": {"acknowledge": "5m", "resolve": "1h"}},
        "standard": {"critical": {"acknowledge": "30m"}},
    },
    "policies": {
        "critical-path": {
            "repeat": 2,
            "levels": [
                {
                    "targets": [{"channel": "slack-oncall"}, {"schedule": "primary"}],
                    "escalate_after": "5m",
                    "fallback": ["teams-oncall", "ops-webhook"],
                },
                {"targets": [{"schedule": "secondary"}]},
            ],
        },
        "quiet": {"levels": [{"targets": [{"channel": "ops-webhook"}]}]},
    },
    "receivers": {"pager": "critical-path"},
    "default_policy": "quiet",
}


def test_a_full_section_reads_into_policies_and_a_tier() -> None:
    spec = EscalationSpec.model_validate(EXAMPLE)
    policy = spec.policy_for("pager")
    assert policy is not None and policy.name == "critical-path" and policy.repeat == 2
    first, second = policy.levels
    assert first.targets == (
        Target(TargetKind.CHANNEL, "slack-oncall"),
        Target(TargetKind.SCHEDULE, "primary"),
    )
    assert first.escalate_after == timedelta(minutes=5)
    assert first.fallback == ("teams-oncall", "ops-webhook")
    assert second.escalate_after == timedelta(minutes=30)  # the default
    other = spec.policy_for("anyone-else")
    assert other is not None and other.name == "quiet"
    tier = spec.tier()
    assert tier is not None and tier.name == "enterprise"
    assert tier.for_severity(Severity.CRITICAL).acknowledge == timedelta(minutes=5)
    assert spec.channels() == {"slack-oncall", "teams-oncall", "ops-webhook"}
    assert spec.schedules() == {"primary", "secondary"}


def test_an_empty_section_escalates_nothing() -> None:
    spec = EscalationSpec()
    assert spec.policy_for("pager") is None
    assert spec.tier() is None


@pytest.mark.parametrize(
    ("data", "message"),
    [
        # a tier that does not exist
        ({**EXAMPLE, "sla_tier": "gold"}, "sla_tier 'gold' is not one of sla_tiers"),
        # a receiver mapped to a policy that does not exist
        ({**EXAMPLE, "receivers": {"pager": "nope"}}, "receivers.pager: no policy named 'nope'"),
        ({**EXAMPLE, "default_policy": "nope"}, "default_policy: no policy named 'nope'"),
        # a level must notify someone
        ({"policies": {"p": {"levels": [{"targets": []}]}}}, "at least 1 item"),
        # a target names a channel or a schedule, not both, not neither
        (
            {"policies": {"p": {"levels": [{"targets": [{"channel": "a", "schedule": "b"}]}]}}},
            "exactly one of channel or schedule",
        ),
        ({"policies": {"p": {"levels": [{"targets": [{}]}]}}}, "exactly one of channel"),
        # durations must be real and positive
        (
            {
                "policies": {
                    "p": {"levels": [{"targets": [{"channel": "a"}], "escalate_after": "0s"}]}
                }
            },
            "must be longer than 0s",
        ),
        ({"sla_tiers": {"t": {"critical": {"acknowledge": "soon"}}}}, "not a valid duration"),
        (
            {"sla_tiers": {"t": {"critical": {"acknowledge": "1h", "resolve": "5m"}}}},
            "resolve deadline comes before the acknowledge deadline",
        ),
        # a severity that does not exist
        ({"sla_tiers": {"t": {"urgent": {"acknowledge": "5m"}}}}, "urgent"),
        # unknown keys
        ({**EXAMPLE, "escalate": True}, "Extra inputs are not permitted"),
        ({"policies": {"p": {"levels": [{"targets": [{"channel": "a"}]}], "wait": 1}}}, "Extra"),
        # repeat is bounded
        ({"policies": {"p": {"levels": [{"targets": [{"channel": "a"}]}], "repeat": -1}}}, "0"),
    ],
)
def test_mistakes_are_refused_with_where_they_are(data: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        EscalationSpec.model_validate(data)


def test_more_levels_than_the_setting_allows_is_a_config_error() -> None:
    six = {"policies": {"p": {"levels": [{"targets": [{"channel": "a"}]}] * 6}}}
    with pytest.raises(ValidationError, match=r"6 levels, more than .*MAX_ESCALATION_LEVELS \(5\)"):
        EscalationSpec.model_validate(six)  # 5 by default
    with pytest.raises(ValidationError, match=r"\(3\)"):
        EscalationSpec.model_validate(
            {"policies": {"p": {"levels": [{"targets": [{"channel": "a"}]}] * 4}}},
            context={"max_levels": 3},
        )
    assert EscalationSpec.model_validate(six, context={"max_levels": 6}).policy_for("x") is None
