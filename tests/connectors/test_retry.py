"""The retry ladder and the wait, without any I/O (the rules themselves live in ``verdicts.py``)."""

import email.utils
import random

import httpx
import pytest

from assistants_export.connectors.core.errors import ResponseTooLarge
from assistants_export.connectors.openai_assistants.config import ClientConfig, Secret
from assistants_export.connectors.openai_assistants.verdicts import (
    Answer,
    Kind,
    Policy,
    judge,
    judge_failure,
    parse_retry_after,
)

POLICY = Policy.of(ClientConfig(api_key=Secret("sk-test"), initial_retry_delay=0.5, max_retry_delay=8.0,
                                retry_after_cap=60.0))


def _judge(status, headers=None, *, attempt=1, policy=POLICY, jitter=0.0):
    answer = Answer(status, headers or {}, "{}", {})
    return judge(answer, expected_id="asst_1", attempt=attempt, elapsed=0.0, policy=policy, jitter=jitter)


def should_retry_status(status, headers):
    return _judge(status, headers).kind is Kind.RETRY


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
    def failure(exc):
        return judge_failure(exc, listing=False, attempt=1, elapsed=0.0, policy=POLICY, jitter=0.0).kind

    assert failure(httpx.ConnectError("refused")) is Kind.RETRY
    assert failure(httpx.ReadTimeout("slow")) is Kind.RETRY
    assert _judge(500).kind is Kind.RETRY
    assert failure(ResponseTooLarge("too big")) is Kind.GIVE_UP


def test_retry_after_ms_is_read_first():
    assert parse_retry_after({"retry-after-ms": "250", "retry-after": "9"}) == 0.25


def test_retry_after_seconds_and_http_date():
    assert parse_retry_after({"retry-after": "2.5"}) == 2.5
    date = email.utils.formatdate(1_000_030, usegmt=True)
    assert parse_retry_after({"retry-after": date}, clock=lambda: 1_000_000) == pytest.approx(30)
    assert parse_retry_after({"retry-after": "soon"}) is None
    assert parse_retry_after({}) is None


def _wait(headers, *, attempt=1, policy=POLICY, jitter=None, seed=0):
    """The wait after a 429 with ``headers`` (jitter drawn as the client draws it unless given)."""
    verdict = _judge(429, headers, attempt=attempt, policy=policy,
                     jitter=random.Random(seed).random() if jitter is None else jitter)
    assert verdict.kind is Kind.RETRY
    return verdict.wait


def test_positive_retry_after_within_cap_is_obeyed_exactly():
    assert _wait({"retry-after": "3"}) == 3.0


@pytest.mark.parametrize("header", ["0", "-1", "61"])
def test_zero_negative_or_huge_retry_after_falls_back_to_backoff(header):
    """Retry-After: 0 must not become a tight loop (dlt #4036); above the cap, backoff instead."""
    delay = _wait({"retry-after": header})
    assert 0.375 <= delay <= 0.5


def test_backoff_doubles_to_the_cap_with_at_most_25_percent_jitter():
    rng = random.Random(1)
    policy = Policy.of(ClientConfig(api_key=Secret("sk-test"), max_attempts=100))
    for attempt, base in [(1, 0.5), (2, 1.0), (3, 2.0), (4, 4.0), (5, 8.0), (9, 8.0)]:
        verdict = judge_failure(httpx.ConnectError("refused"), listing=False, attempt=attempt, elapsed=0.0,
                                policy=policy, jitter=rng.random())
        assert base * 0.75 <= verdict.wait <= base
    assert _wait({}, jitter=0.0) == 0.5 and _wait({}, jitter=1.0) == 0.375


def _default_client_policy():
    """The policy a client built with default settings uses (whatever ``settings.RETRY_AFTER_CAP`` says)."""
    from assistants_export.connectors.openai_assistants.client import AssistantsClient

    return AssistantsClient(ClientConfig(api_key=Secret("sk-test")))._policy


@pytest.mark.parametrize(("header", "obeyed"), [("30", 30.0), ("59.5", 59.5), ("60", 60.0)])
def test_a_default_client_obeys_a_retry_after_of_up_to_60_seconds_exactly(header, obeyed):
    """The README documents a 60-second cap on server-requested waits; a client with defaults keeps it."""
    assert _wait({"retry-after": header}, policy=_default_client_policy()) == obeyed


@pytest.mark.parametrize("header", ["60.5", "120", "3600"])
def test_a_default_client_does_not_wait_more_than_60_seconds_for_the_server(header):
    """Past the cap the server's wait is not obeyed at all: the ordinary backoff (0.5 s less jitter) is used."""
    policy = _default_client_policy()
    assert 0.375 <= _wait({"retry-after": header}, policy=policy) <= 0.5
    assert 0.375 <= _wait({"retry-after-ms": str(float(header) * 1000)}, policy=policy) <= 0.5
