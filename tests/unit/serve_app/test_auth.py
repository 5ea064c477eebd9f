"""Reading credentials: Bearer keys and basic auth (user = tenant id, password = key)."""

import base64

import pytest
from starlette.requests import Request

from serve_app.auth import Credentials, credentials
from serve_app.problems import ApiError


def request(authorization: str | None) -> Request:
    headers = [] if authorization is None else [(b"authorization", authorization.encode())]
    return Request({"type": "http", "headers": headers})


def basic(text: str) -> str:
    return "Basic " + base64.b64encode(text.encode()).decode()


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("Bearer k1", Credentials("k1")),
        # The scheme is case-insensitive, surrounding spaces are ignored.
        ("bearer   k1  ", Credentials("k1")),
        (basic("acme:k2"), Credentials("k2", "acme")),
        # A password may itself contain ':'.
        (basic("acme:k:3"), Credentials("k:3", "acme")),
    ],
)
def test_accepted(header: str, expected: Credentials) -> None:
    assert credentials(request(header)) == expected


@pytest.mark.parametrize(
    "header",
    [
        None,  # nothing sent
        "Bearer ",  # an empty key
        "Token k1",  # an unknown scheme
        "Basic !!!",  # not base64
        basic("acme"),  # no password part
        basic("acme:"),  # an empty password
    ],
)
def test_refused_with_a_challenge(header: str | None) -> None:
    with pytest.raises(ApiError) as refused:
        credentials(request(header))
    assert refused.value.status == 401
    # Bearer only: Basic is accepted but never offered, so browsers never cache it.
    assert refused.value.headers["WWW-Authenticate"] == 'Bearer realm="vigil"'
