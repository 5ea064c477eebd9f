"""What every Vigil process does at start so that it can be watched: JSON logs
(``cluster/logs.py``), its metrics published for ``/metrics``
(``cluster/metrics_relay.py``) and, when configured, traces (``cluster/tracing.py``)."""

from __future__ import annotations

from cluster.logs import configure_logging
from cluster.metrics_relay import publish_metrics
from cluster.settings import Settings
from cluster.tracing import setup_tracing


def observe_process(name: str, settings: Settings, actor: bool = True) -> None:
    """Set up logs, metrics and traces for this process under ``name`` (an actor's
    name, or ``ingress:<replica>``); ``actor``: count its start in
    ``vigil_actor_starts_total``. Nothing here waits on Redis."""
    configure_logging(name, settings.data_dir, settings.log_level, settings.log_max_bytes)
    setup_tracing(name, settings)
    interval = settings.metrics_interval_seconds
    publish_metrics(name, settings.redis_url or "", interval, count_start=actor)
