"""Signing what Vigil sends, so a receiver can tell it came from Vigil, unchanged and
recently: ``X-Vigil-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256>`` over
``"<t>." + body`` with the channel's shared secret (the scheme Stripe and Slack use).

A receiver recomputes the HMAC, compares in constant time, and refuses a timestamp
older than its tolerance (replays). Slack signs what it sends to us the same way,
in its own spelling (``v0``), checked by ``verify_slack``. Pure: the time is passed in.
"""

from __future__ import annotations

import hashlib
import hmac

HEADER = "X-Vigil-Signature"
TOLERANCE_SECONDS = 300


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """The header value for ``body`` sent at ``timestamp``."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={digest.hexdigest()}"


def verify(
    secret: str, header: str, body: bytes, now: int, tolerance: int = TOLERANCE_SECONDS
) -> bool:
    """Whether ``header`` signs ``body`` with ``secret`` and is at most ``tolerance``
    seconds old (or early)."""
    fields = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    try:
        timestamp = int(fields["t"])
    except (KeyError, ValueError):
        return False
    if abs(now - timestamp) > tolerance:
        return False
    expected = signature(secret, timestamp, body).split("v1=", 1)[1]
    return equal_digests(expected, fields.get("v1", ""))


def slack_signature(secret: str, timestamp: str, body: bytes) -> str:
    """Slack's ``X-Slack-Signature`` for ``body`` sent at ``timestamp`` (``v0=<hex>``)."""
    base = b"v0:" + timestamp.encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def verify_slack(
    secret: str,
    signature_header: str,
    timestamp: str,
    body: bytes,
    now: int,
    tolerance: int = TOLERANCE_SECONDS,
) -> bool:
    """Whether Slack signed ``body`` at ``timestamp``, no more than five minutes ago."""
    try:
        sent = int(timestamp)
    except ValueError:
        return False
    if abs(now - sent) > tolerance:
        return False
    return equal_digests(slack_signature(secret, timestamp, body), signature_header)


def link_signature(
    secret: str, tenant: str, incident_id: str, action: str, expires: int, via: str = ""
) -> str:
    """The signature of an action link (acknowledge or resolve one incident, until
    ``expires``), as put in Teams cards. ``via`` names the channel the link was sent
    to, so a click is recorded as coming from there; links made before it was signed
    have none."""
    text = f"{tenant}/{incident_id}/{action}/{expires}"
    if via:
        text += f"/{via}"
    return hmac.new(secret.encode(), text.encode(), hashlib.sha256).hexdigest()


def verify_link(
    secret: str,
    tenant: str,
    incident_id: str,
    action: str,
    expires: int,
    given: str,
    via: str = "",
) -> bool:
    """Whether an action link was signed with ``secret`` (expiry is checked apart, so
    an expired link can be told from a forged one)."""
    expected = link_signature(secret, tenant, incident_id, action, expires, via)
    return equal_digests(expected, given)


def equal_digests(expected: str, given: str) -> bool:
    """Constant-time comparison of a computed signature with one a client sent.

    ``hmac.compare_digest`` raises ``TypeError`` for a ``str`` that is not ASCII; a
    client's header may be anything, so both are compared as UTF-8 bytes: a forged
    non-ASCII signature is simply wrong (401), never an error (500).
    """
    return hmac.compare_digest(expected.encode(), given.encode())
