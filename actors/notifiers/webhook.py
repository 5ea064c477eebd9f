"""The webhook channel: a JSON body (Vigil's own, or from a sandboxed Jinja2 template),
signed with ``X-Vigil-Signature`` when the channel has an HMAC secret.

    channels:
      ops-webhook:
        type: webhook
        url_secret: ops-webhook-url        # names of secrets (vigil secret set ...)
        hmac_secret: ops-webhook-hmac
        timeout: 10s
        template: |                        # optional; must render JSON
          {"text": {{ summary | tojson }}, "sev": {{ severity | tojson }}}

Templates run in Jinja2's sandbox (no attribute access to Python internals, no
imports) with undefined names as errors, and must render valid JSON: a template that
does not is refused when it is loaded, not at 3 a.m. when an incident fires.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from typing import Literal

import aiohttp
from jinja2 import StrictUndefined, TemplateError
from jinja2.sandbox import SandboxedEnvironment
from pydantic import Field, field_validator

from actors.notifiers.channel_config import ChannelConfigBase
from alerting.delivery import Attempt, AttemptKind
from alerting.message import Message, MessageKind
from alerting.severity import Severity
from alerting.signature import HEADER, signature
from cluster.outbound import unreachable

_ENVIRONMENT = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False)


SAMPLE = Message(
    tenant="example",
    incident_id="inc-example",
    kind=MessageKind.FIRING,
    severity=Severity.CRITICAL,
    summary="Example summary",
    at=datetime(2026, 1, 1, tzinfo=UTC),
    labels={"alertname": "Example", "service": "api"},
    link="https://vigil.example/incidents/inc-example",
)
"""A message to test-render templates with when they are loaded."""


class TemplateProblem(ValueError):
    """A template that cannot render, or renders something that is not JSON."""


class WebhookConfig(ChannelConfigBase):
    """A webhook channel as written (secrets by name, never inline)."""

    type: Literal["webhook"] = "webhook"
    url_secret: str = Field(min_length=1)
    hmac_secret: str | None = None
    template: str | None = Field(default=None, max_length=20_000)

    @field_validator("template")
    @classmethod
    def _template(cls, value: str | None) -> str | None:
        if value is not None:
            render(value, SAMPLE)  # refuse a broken template at load time
        return value


def render(template: str | None, message: Message) -> bytes:
    """The request body: Vigil's JSON, or the template's output (checked to be JSON)."""
    values = message.as_dict()
    if template is None:
        return json.dumps(values, separators=(",", ":")).encode()
    try:
        text = _ENVIRONMENT.from_string(template).render(**values)
    except TemplateError as exc:
        raise TemplateProblem(f"the template cannot render: {exc}") from None
    try:
        json.loads(text)
    except ValueError as exc:
        raise TemplateProblem(f"the template does not render JSON: {exc}") from None
    return text.encode()


async def post(
    session: aiohttp.ClientSession,
    url: str,
    body: bytes,
    attempt_seconds: float,
    hmac_secret: str | None = None,
    headers: dict[str, str] | None = None,
) -> Attempt:
    """POST ``body`` once; how it ended (never raises for network trouble)."""
    sent = {"Content-Type": "application/json", **(headers or {})}
    if hmac_secret is not None:
        sent[HEADER] = signature(hmac_secret, int(time.time()), body)
    try:
        async with session.post(
            url,
            data=body,
            headers=sent,
            timeout=aiohttp.ClientTimeout(total=attempt_seconds),
            allow_redirects=False,  # a 3xx fails: never a second, unchecked destination
        ) as response:
            await response.read()
            if 200 <= response.status < 300:
                return Attempt(AttemptKind.DELIVERED, response.status)
            return Attempt(
                AttemptKind.HTTP_ERROR, response.status, response.headers.get("Retry-After")
            )
    except TimeoutError:
        return Attempt(AttemptKind.TIMEOUT)
    except (aiohttp.ClientError, OSError) as exc:
        return unreachable(exc)


class WebhookSender:
    """Sends messages to one webhook channel (its secrets already decrypted)."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        config: WebhookConfig,
        url: str,
        hmac_secret: str | None = None,
    ) -> None:
        self.session = session
        self.config = config
        self._url = url
        self._hmac = hmac_secret

    def __repr__(self) -> str:  # the URL is a secret (it often carries a token)
        return "WebhookSender(<url hidden>)"

    async def __call__(self, message: Message) -> Attempt:
        body = render(self.config.template, message)
        return await post(self.session, self._url, body, self.config.timeout_seconds, self._hmac)
