"""Reading an ``alertmanager.yml`` natively: cross-references and clear errors."""

from typing import Any

import pytest

from alerting.amconfig import default_routing, parse_alertmanager_config
from alerting.errors import InvalidConfig
from alerting.notification_plan import notification_report
from alerting.routing import receivers_for

GOOD: dict[str, Any] = {
    "global": {"resolve_timeout": "5m", "slack_api_url": "https://hooks.slack.test/x"},
    "route": {"receiver": "default", "routes": [{"matchers": ['team="db"'], "receiver": "db"}]},
    "receivers": [
        {"name": "default", "email_configs": [{"to": "a@b.c"}]},
        {
            "name": "db",
            "slack_configs": [{"channel": "#db"}],
            "webhook_configs": [{"url": "http://x"}],
        },
    ],
    "inhibit_rules": [
        {
            "source_matchers": ['severity="critical"'],
            "target_matchers": ['severity="warning"'],
            "equal": ["team"],
        }
    ],
    "templates": ["/etc/am/*.tmpl"],
}


def test_a_real_world_file_loads() -> None:
    config = parse_alertmanager_config(GOOD)
    assert config.receiver_names() == ["default", "db"]
    assert receivers_for(config.root, {"team": "db"}) == ["db"]
    assert len(config.inhibit_rules) == 1
    # Slack takes its URL from global; email loads but is reported as not notified.
    lines, warnings = notification_report(config, lambda r: "p1" if r == "db" else None)
    assert warnings == [
        "receiver 'default': email_configs is not supported by Vigil and will not be notified"
    ]
    assert lines == [
        "  default: NOBODY is notified (no integration, no policy)",
        "  db: webhook_configs[0] to x (with resolved alerts); slack_configs[0] to "
        "hooks.slack.test (firing only); escalation policy 'p1'",
    ]


def with_(**changes: Any) -> dict[str, Any]:
    return {**GOOD, **changes}


@pytest.mark.parametrize(
    ("data", "message"),
    [
        # Not a mapping at all.
        (["route"], "must be a mapping"),
        # A typo in a key is refused, not ignored.
        (with_(rout={}), "rout: Extra inputs are not permitted"),
        (with_(route=None), "no route provided"),
        # A route names a receiver that does not exist.
        (with_(route={"receiver": "nobody"}), "undefined receiver 'nobody'"),
        # Receiver names must be unique.
        (with_(receivers=[{"name": "default"}, {"name": "default"}]), "is not unique"),
        # A webhook without a URL cannot notify anyone.
        (
            with_(receivers=[{"name": "default", "webhook_configs": [{"send_resolved": True}]}]),
            "one of url, url_file is required",
        ),
        # A bad matcher in an inhibition rule names the rule.
        (with_(inhibit_rules=[{"source_matchers": ["a=~'('"]}]), "inhibit_rules.0: invalid regex"),
        # A mute interval that is not defined.
        (
            with_(
                route={
                    "receiver": "default",
                    "routes": [{"receiver": "db", "mute_time_intervals": ["night"]}],
                }
            ),
            "undefined time interval 'night'",
        ),
    ],
)
def test_errors_say_where(data: Any, message: str) -> None:
    with pytest.raises(InvalidConfig, match=message.replace("(", r"\(")):
        parse_alertmanager_config(data)


def test_default_routing_sends_everything_to_default() -> None:
    assert receivers_for(default_routing().root, {"any": "thing"}) == ["default"]


def test_global_resolve_timeout() -> None:
    from datetime import timedelta

    assert parse_alertmanager_config(GOOD).resolve_timeout() == timedelta(minutes=5)
    assert default_routing().resolve_timeout() is None
    with pytest.raises(InvalidConfig, match=r"global\.resolve_timeout: not a valid duration"):
        parse_alertmanager_config(
            with_(**{"global": {**GOOD["global"], "resolve_timeout": "soon"}})
        )
    with pytest.raises(InvalidConfig, match="must be positive"):
        parse_alertmanager_config(with_(**{"global": {**GOOD["global"], "resolve_timeout": "0s"}}))
