"""Secrets in an alertmanager.yml are masked as Alertmanager masks its own."""

from __future__ import annotations

from alerting.config_redaction import MASK, redacted


def test_receiver_urls_and_credentials_are_masked() -> None:
    document = {
        "global": {"slack_api_url": "https://hooks.slack.com/services/T/B/x", "smtp_from": "a@b"},
        "route": {"receiver": "team"},
        "receivers": [
            {
                "name": "team",
                "webhook_configs": [
                    {
                        "url": "http://hook.internal/x?token=1",
                        "send_resolved": True,
                        "http_config": {"basic_auth": {"username": "u", "password": "p"}},
                    }
                ],
                "pagerduty_configs": [{"routing_key": "abc", "severity": "critical"}],
            }
        ],
    }
    masked = redacted(document)
    assert masked["global"] == {"slack_api_url": MASK, "smtp_from": "a@b"}
    (receiver,) = masked["receivers"]
    (hook,) = receiver["webhook_configs"]
    assert hook["url"] == MASK and hook["send_resolved"] is True
    assert hook["http_config"]["basic_auth"] == {"username": "u", "password": MASK}
    assert receiver["pagerduty_configs"] == [{"routing_key": MASK, "severity": "critical"}]
    assert masked["route"] == {"receiver": "team"}
    assert document["receivers"][0]["webhook_configs"][0]["url"].startswith("http://")  # a copy


def test_empty_values_stay_visible_as_empty() -> None:
    assert redacted({"password": "", "url": None}) == {"password": "", "url": None}
