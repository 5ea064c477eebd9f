"""A finished delivery, counted: its outcome, tries, retries, fallbacks and duration.

Labelled by channel *type* (webhook, slack, teams, pagerduty, email, ...), never by a
channel's name: names are the tenants' free text.
"""

from __future__ import annotations

from collections.abc import Callable

from actors.notifiers.pipeline import Delivery
from cluster.metrics import (
    NOTIFICATION_ATTEMPTS,
    NOTIFICATION_DURATION,
    NOTIFICATION_FALLBACKS,
    NOTIFICATION_RETRIES,
    NOTIFICATIONS,
)


def record_delivery(
    tenant: str,
    delivery: Delivery,
    target_type: str,
    type_of: Callable[[str], str],
    seconds: float,
) -> None:
    """Count one target's delivery; ``type_of`` gives a tried channel's type."""
    NOTIFICATIONS.labels(tenant, target_type, delivery.outcome).inc()
    for channel, result in delivery.attempts:
        NOTIFICATION_ATTEMPTS.labels(type_of(channel), result).inc()
    if delivery.retries:
        NOTIFICATION_RETRIES.labels(tenant, target_type).inc(delivery.retries)
    if delivery.fallbacks:
        NOTIFICATION_FALLBACKS.labels(tenant, target_type).inc(delivery.fallbacks)
    if not delivery.from_log:
        NOTIFICATION_DURATION.labels(target_type).observe(seconds)
