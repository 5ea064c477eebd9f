"""Notifiers: one module per channel (webhook, Slack, Teams, PagerDuty), composed into
a delivery pipeline of stages (``pipeline.py``)."""
