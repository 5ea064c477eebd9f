"""The X-Vigil-Signature header: verifiable with the secret, and refused when the body,
the secret or the time is wrong."""

import pytest

from alerting.signature import signature, verify

BODY = b'{"incident": "inc-1", "status": "firing"}'
NOW = 1_790_000_000


def test_a_signature_verifies_with_the_same_secret_body_and_a_fresh_time() -> None:
    header = signature("s3cret", NOW, BODY)
    assert header.startswith(f"t={NOW},v1=")
    assert verify("s3cret", header, BODY, NOW + 10)


@pytest.mark.parametrize(
    ("secret", "body", "now", "header_of"),
    [
        ("other", BODY, NOW, None),  # the wrong secret
        ("s3cret", BODY + b" ", NOW, None),  # a changed body
        ("s3cret", BODY, NOW + 301, None),  # older than five minutes: a replay
        ("s3cret", BODY, NOW - 301, None),  # from the future
        ("s3cret", BODY, NOW, "v1=abc"),  # no timestamp
        ("s3cret", BODY, NOW, f"t={NOW}"),  # no digest
        ("s3cret", BODY, NOW, "t=soon,v1=abc"),  # a timestamp that is not a number
    ],
)
def test_a_wrong_signature_is_refused(
    secret: str, body: bytes, now: int, header_of: str | None
) -> None:
    header = header_of if header_of is not None else signature("s3cret", NOW, BODY)
    assert not verify(secret, header, body, now)


def test_slacks_signature_scheme() -> None:
    from alerting.signature import slack_signature, verify_slack

    body = b"payload=%7B%7D"
    header = slack_signature("signing", str(NOW), body)
    assert header.startswith("v0=") and len(header) == 67
    assert verify_slack("signing", header, str(NOW), body, NOW + 299)
    assert not verify_slack("signing", header, str(NOW), body, NOW + 301)  # stale
    assert not verify_slack("other", header, str(NOW), body, NOW)
    assert not verify_slack("signing", header, str(NOW), body + b"x", NOW)
    assert not verify_slack("signing", header, "yesterday", body, NOW)


def test_action_links_are_bound_to_tenant_incident_action_and_expiry() -> None:
    from alerting.signature import link_signature, verify_link

    sig = link_signature("k", "acme", "inc-1", "acknowledge", NOW)
    assert verify_link("k", "acme", "inc-1", "acknowledge", NOW, sig)
    assert not verify_link("k", "acme", "inc-1", "resolve", NOW, sig)  # another action
    assert not verify_link("k", "globex", "inc-1", "acknowledge", NOW, sig)  # another tenant
    assert not verify_link("k", "acme", "inc-2", "acknowledge", NOW, sig)
    assert not verify_link("k", "acme", "inc-1", "acknowledge", NOW + 1, sig)  # longer life
    assert not verify_link("other", "acme", "inc-1", "acknowledge", NOW, sig)
