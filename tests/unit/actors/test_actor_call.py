"""``ActorCall``'s translation of what a call raised, and the HTTP answer each error
stands for: a domain refusal comes out as itself, an outage as a 503 that says nothing
was changed, anything else as a 500 that names only the error's type."""

from __future__ import annotations

import pickle

import pytest
import redis
from ray.exceptions import ActorDiedError, RayTaskError

from actors.actor_call import (
    ActorCallError,
    ActorFailed,
    ActorUnavailable,
    StoreUnavailable,
    refusal_of,
)
from alerting.errors import (
    InvalidSilence,
    InvalidTransition,
    NotFound,
    SilenceNotFound,
    VigilError,
)
from alerting.incident import IncidentNotFound
from serve_app.problems import refusal


def raised(cause: Exception) -> RayTaskError:
    """What awaiting an actor call raises when the actor raised ``cause``."""
    return RayTaskError("method", "traceback", cause)


@pytest.mark.parametrize(
    "cause",
    [
        NotFound("no alert 'x' for tenant 'acme'"),
        SilenceNotFound("no silence 's' for tenant 'acme'"),
        IncidentNotFound("no incident 'i' for tenant 'acme'"),
        InvalidTransition("alert is resolved"),
        InvalidSilence("matchers must not be empty"),
        ActorUnavailable("the actor 'tenant:acme' is unavailable; retry later"),
    ],
)
def test_a_refusal_or_an_outage_passed_on_comes_out_as_itself(cause: Exception) -> None:
    assert refusal_of("tenant:acme", raised(cause)) is cause


def test_redis_down_in_the_actor_is_a_store_outage() -> None:
    for cause in (redis.ConnectionError("refused"), OSError("reset")):
        assert isinstance(refusal_of("tenant:acme", raised(cause)), StoreUnavailable)


def test_an_actor_the_actor_needed_is_an_outage() -> None:
    found = refusal_of("correlator:0", raised(ActorDiedError()))
    assert isinstance(found, ActorUnavailable)


def test_anything_else_is_a_failure_that_names_only_its_type() -> None:
    found = refusal_of("tenant:acme", raised(KeyError("secret-ish detail")))
    assert isinstance(found, ActorFailed) and found.message == "internal error: KeyError"


@pytest.mark.parametrize(
    ("error", "status", "code", "message"),
    [
        (NotFound("no alert 'x'"), 404, "not_found", "alert not found"),
        (IncidentNotFound("no incident 'i'"), 404, "not_found", "incident not found"),
        (SilenceNotFound("no silence 's'"), 404, "not_found", "silence not found"),
        (InvalidTransition("it is resolved"), 409, "invalid_transition", "it is resolved"),
        (InvalidSilence("bad matchers"), 400, "invalid_silence", "bad matchers"),
        (StoreUnavailable("the alert store (Redis) is unavailable"), 503, "unavailable", None),
        (ActorUnavailable("the actor 'x' did not answer"), 503, "unavailable", None),
        (ActorFailed("internal error: KeyError"), 500, "internal_error", None),
    ],
)
def test_each_error_has_its_http_answer(
    error: VigilError | ActorCallError, status: int, code: str, message: str | None
) -> None:
    answer = refusal(error)
    assert (answer.status, answer.code) == (status, code)
    assert answer.message == (message if message is not None else error.message)
    if status == 503:
        assert answer.headers == {"Retry-After": "1"}


def test_the_errors_cross_a_process_unchanged() -> None:
    # An actor passes an outage on to its own caller: it is pickled on the way.
    for error in (ActorUnavailable("gone"), StoreUnavailable("down"), ActorFailed("bug")):
        copy = pickle.loads(pickle.dumps(error))
        assert type(copy) is type(error) and copy.message == error.message
