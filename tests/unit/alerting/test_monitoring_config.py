"""The monitoring section of vigil.yaml (alerting/monitoring_config.py, cluster/config.py)."""

from datetime import timedelta
from typing import Any

import pytest
from pydantic import ValidationError

from alerting.monitoring_config import MonitoringSpec
from cluster.config import VigilConfig

OPS = {
    "id": "ops",
    "channels": {
        "pager": {"type": "webhook", "url_secret": "pager-url"},
        "deadman": {"type": "webhook", "url_secret": "deadman-url"},
    },
}


def config(monitoring: dict[str, Any]) -> VigilConfig:
    return VigilConfig.model_validate({"tenants": [OPS], "monitoring": monitoring})


def test_defaults_repeat_every_half_hour_and_no_watchdog() -> None:
    spec = config({"tenant": "ops", "page": ["pager"]}).monitoring
    assert spec is not None and spec.repeat == timedelta(minutes=30) and spec.watchdog is None


def test_a_watchdog_pushes_and_keeps_an_alert() -> None:
    spec = MonitoringSpec.model_validate(
        {"tenant": "ops", "watchdog": {"channel": "deadman", "interval": "30s"}}
    )
    assert spec.watchdog is not None and spec.watchdog.every == timedelta(seconds=30)
    assert spec.watchdog.alert and spec.channels() == {"deadman"}
    assert MonitoringSpec.model_validate({"tenant": "ops", "repeat_interval": "0s"}).repeat is None


@pytest.mark.parametrize(
    ("monitoring", "problem"),
    [
        # The tenant must exist ...
        ({"tenant": "nobody", "page": ["pager"]}, "monitoring.tenant: no tenant 'nobody'"),
        # ... and own every channel named.
        ({"tenant": "ops", "page": ["pager", "sms"]}, "lacks: sms"),
        ({"tenant": "ops", "watchdog": {"channel": "snitch"}}, "lacks: snitch"),
        # Unknown keys and bad durations are refused.
        ({"tenant": "ops", "pages": ["pager"]}, "Extra inputs are not permitted"),
        ({"tenant": "ops", "watchdog": {"interval": "0s"}}, "must be longer than 0s"),
        ({"tenant": "ops", "repeat_interval": "soon"}, "not a valid duration"),
    ],
)
def test_a_bad_monitoring_section_is_refused(monitoring: dict[str, Any], problem: str) -> None:
    with pytest.raises(ValidationError, match=problem):
        config(monitoring)
