"""An ``alertmanager.yml`` with its secrets masked, as Alertmanager shows its own.

``GET /api/v2/status`` (what ``amtool config show`` prints) returns the configuration
to every key holder of the tenant; receiver URLs often carry tokens, and passwords
and routing keys are plain credentials. Alertmanager masks its ``Secret`` and
``SecretURL`` fields as ``<secret>``; this masks the same fields, and every URL of a
receiver, since a webhook URL is often its only credential.
"""

from __future__ import annotations

from typing import Any

MASK = "<secret>"

SECRET_FIELDS = frozenset(
    {
        # Alertmanager's Secret fields (config/notifiers.go, http_config)
        "password",
        "bearer_token",
        "credentials",
        "api_key",
        "api_secret",
        "service_key",
        "routing_key",
        "token",
        "bot_token",
        "auth_password",
        "auth_secret",
        "auth_token",
        "client_secret",
        "user_key",
        # its SecretURL fields, and any receiver URL
        "api_url",
        "url",
        "webhook_url",
        "slack_api_url",
        "opsgenie_api_key",
        "victorops_api_key",
        "telegram_api_url",
        "webex_api_url",
    }
)


def redacted(document: Any) -> Any:
    """A copy of a loaded YAML document with every secret field's value masked."""
    if isinstance(document, dict):
        return {
            key: MASK if key in SECRET_FIELDS and value not in (None, "") else redacted(value)
            for key, value in document.items()
        }
    if isinstance(document, list):
        return [redacted(item) for item in document]
    return document
