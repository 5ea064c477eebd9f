"""Settings from the environment: defaults, parsing, and one clear error for bad values."""

from pathlib import Path

import pytest

from cluster.errors import SettingsError
from cluster.settings import Settings


def test_defaults() -> None:
    s = Settings.from_env({})
    assert s.redis_url is None and s.ray_address is None  # embedded Redis, local Ray
    assert s.max_escalation_levels == 5
    assert s.max_body_bytes == 1024 * 1024
    assert s.resolve_timeout.total_seconds() == 300  # Alertmanager's default
    assert s.data_dir == Path(".vigil")


def test_reads_the_documented_variables() -> None:
    s = Settings.from_env(
        {
            "REDIS_URL": "redis://db:6379/2",
            "RAY_ADDRESS": "ray://head:10001",
            "CRITICAL_ALERT_ML_ENABLED": "false",
            "CRITICAL_ALERT_PREDICTION_MODEL": "v3",
            "CRITICAL_ALERT_CACHE_TTL": "5",
            "CRITICAL_ALERT_MAX_ESCALATION_LEVELS": "7",
            "VIGIL_MAX_BODY_BYTES": "4096",
            "UNRELATED": "ignored",
        }
    )
    assert (s.redis_url, s.ray_address, s.ml_enabled, s.prediction_model) == (
        "redis://db:6379/2",
        "ray://head:10001",
        False,
        "v3",
    )
    assert (s.cache_ttl_seconds, s.max_escalation_levels, s.max_body_bytes) == (5, 7, 4096)


def test_blank_means_unset() -> None:
    # `export REDIS_URL=` must not mean "connect to the empty string".
    assert Settings.from_env({"REDIS_URL": " "}).redis_url is None


@pytest.mark.parametrize(
    ("env", "variable"),
    [
        ({"CRITICAL_ALERT_MAX_ESCALATION_LEVELS": "0"}, "CRITICAL_ALERT_MAX_ESCALATION_LEVELS"),
        ({"CRITICAL_ALERT_MAX_ESCALATION_LEVELS": "lots"}, "CRITICAL_ALERT_MAX_ESCALATION_LEVELS"),
        ({"CRITICAL_ALERT_ML_ENABLED": "maybe"}, "CRITICAL_ALERT_ML_ENABLED"),
        ({"REDIS_URL": "localhost:6379"}, "REDIS_URL"),  # missing scheme
        ({"VIGIL_HTTP_PORT": "70000"}, "VIGIL_HTTP_PORT"),
        ({"CRITICAL_ALERT_CACHE_TTL": "-1"}, "CRITICAL_ALERT_CACHE_TTL"),
    ],
)
def test_bad_values_name_the_variable(env: dict[str, str], variable: str) -> None:
    with pytest.raises(SettingsError, match=variable):
        Settings.from_env(env)


def test_every_bad_variable_is_reported_at_once() -> None:
    with pytest.raises(SettingsError) as info:
        Settings.from_env({"VIGIL_HTTP_PORT": "x", "CRITICAL_ALERT_CACHE_TTL": "y"})
    assert "VIGIL_HTTP_PORT" in str(info.value) and "CRITICAL_ALERT_CACHE_TTL" in str(info.value)
