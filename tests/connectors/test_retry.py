"""The retry ladder and the wait strategy, without any I/O."""

import email.utils
import random

import httpx
import pytest
from tenacity import RetryCallState

from connectors.openai_assistants.retry import (
    RetryableAnswer,
    WaitServerOrBackoff,
    is_retryable,
    parse_retry_after,
    should_retry_status,
)


@pytest.mark.parametrize("status", [408, 409, 429, 500, 502, 503, 504, 599])
def test_retryable_statuses(status):
    assert should_retry_status(status, {})


@pytest.mark.parametrize("status", [400, 401, 403, 404, 410, 422])
def test_final_statuses(status):
    assert not should_retry_status(status, {})


def test_server_header_wins_both_ways():
    assert not should_retry_status(503, {"x-should-retry": "false"})
    assert should_retry_status(400, {"x-should-retry": "true"})
    assert should_retry_status(500, {"x-should-retry": "maybe"})


def test_transport_errors_are_retryable_but_not_others():
    assert is_retryable(httpx.ConnectError("refused"))
    assert is_retryable(httpx.ReadTimeout("slow"))
    assert is_retryable(RetryableAnswer(500, {}, "server_error", "boom"))
    assert not is_retryable(ValueError("bug"))


def test_retry_after_ms_is_read_first():
    assert parse_retry_after({"retry-after-ms": "250", "retry-after": "9"}) == 0.25


def test_retry_after_seconds_and_http_date():
    assert parse_retry_after({"retry-after": "2.5"}) == 2.5
    date = email.utils.formatdate(1_000_030, usegmt=True)
    assert parse_retry_after({"retry-after": date}, now=lambda: 1_000_000) == pytest.approx(30)
    assert parse_retry_after({"retry-after": "soon"}) is None
    assert parse_retry_after({}) is None


def _state(attempt: int, exc: BaseException) -> RetryCallState:
    state = RetryCallState(retry_object=None, fn=None, args=(), kwargs={})  # type: ignore[arg-type]
    state.attempt_number = attempt
    state.set_exception((type(exc), exc, None))
    return state


def _wait(seed: int = 0) -> WaitServerOrBackoff:
    return WaitServerOrBackoff(initial=0.5, maximum=8.0, retry_after_cap=60.0, rng=random.Random(seed))


def test_positive_retry_after_within_cap_is_obeyed_exactly():
    exc = RetryableAnswer(429, {"retry-after": "3"}, "rate_limit", "slow down")
    assert _wait()(_state(1, exc)) == 3.0


@pytest.mark.parametrize("header", ["0", "-1", "61"])
def test_zero_negative_or_huge_retry_after_falls_back_to_backoff(header):
    """Retry-After: 0 must not become a tight loop (dlt #4036); above the cap, backoff instead."""
    exc = RetryableAnswer(429, {"retry-after": header}, "rate_limit", "slow down")
    delay = _wait()(_state(1, exc))
    assert 0.375 <= delay <= 0.5


def test_backoff_doubles_to_the_cap_with_at_most_25_percent_jitter():
    wait = _wait(seed=1)
    exc = httpx.ConnectError("refused")
    for attempt, base in [(1, 0.5), (2, 1.0), (3, 2.0), (4, 4.0), (5, 8.0), (9, 8.0)]:
        delay = wait(_state(attempt, exc))
        assert base * 0.75 <= delay <= base


def _default_client_wait():
    """The wait a client built with default settings uses (whatever ``settings.RETRY_AFTER_CAP`` says)."""
    from connectors.openai_assistants.client import AssistantsClient
    from connectors.openai_assistants.config import ClientConfig, Secret

    return AssistantsClient(ClientConfig(api_key=Secret("sk-test")))._wait


@pytest.mark.parametrize(("header", "obeyed"), [("30", 30.0), ("59.5", 59.5), ("60", 60.0)])
def test_a_default_client_obeys_a_retry_after_of_up_to_60_seconds_exactly(header, obeyed):
    """The README documents a 60-second cap on server-requested waits; a client with defaults keeps it."""
    exc = RetryableAnswer(429, {"retry-after": header}, "rate_limit", "slow down")
    assert _default_client_wait()(_state(1, exc)) == obeyed


@pytest.mark.parametrize("header", ["60.5", "120", "3600"])
def test_a_default_client_does_not_wait_more_than_60_seconds_for_the_server(header):
    """Past the cap the server's wait is not obeyed at all: the ordinary backoff (0.5 s less jitter) is used."""
    exc = RetryableAnswer(429, {"retry-after": header}, "rate_limit", "slow down")
    assert 0.375 <= _default_client_wait()(_state(1, exc)) <= 0.5
    ms = RetryableAnswer(429, {"retry-after-ms": str(float(header) * 1000)}, "rate_limit", "slow down")
    assert 0.375 <= _default_client_wait()(_state(1, ms)) <= 0.5
