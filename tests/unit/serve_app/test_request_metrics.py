"""Why a refused request was refused, as a label: a small fixed set, never free text."""

from __future__ import annotations

import pytest

from serve_app.request_metrics import refusal_reason


@pytest.mark.parametrize(
    ("status", "body", "reason"),
    [
        (422, b'{"error": "invalid_request", "message": "..."}', "invalid_request"),
        (429, b'{"error": "rate_limited", "message": "..."}', "rate_limited"),
        # PagerDuty's own error shape has no code: the status stands in.
        (400, b'{"status": "invalid event", "message": "Event object is invalid"}', "http_400"),
        (500, b"Internal Server Error", "http_500"),  # not JSON
        (404, b'{"error": "Not Found At /x/y"}', "http_404"),  # free text is not a code
        (413, b'{"error": "body_too_large"', "http_413"),  # cut short
    ],
)
def test_the_reason_is_the_answers_error_code_or_the_status(
    status: int, body: bytes, reason: str
) -> None:
    assert refusal_reason(status, body) == reason
