"""What each answer means: one row per rule of ``verdicts.py``, in the order the README states them.

Rules 1-4 are the README's "Retries" section; the rows after them are "What happens to each ID" (the
answers that are not retried) and the listing (the preflight and the discover pages).
"""

from __future__ import annotations

import email.utils
import inspect
import re
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from assistants_export.connectors.core.errors import RequestTimedOut, ResponseTooLarge, UndecodableResponse
from assistants_export.connectors.openai_assistants import verdicts
from assistants_export.connectors.openai_assistants.config import ClientConfig, Secret
from assistants_export.connectors.openai_assistants.verdicts import (
    BROKEN_JSON,
    HTML_BODY,
    TOO_DEEP,
    Answer,
    Kind,
    Policy,
    judge,
    judge_failure,
)

POLICY = Policy.of(ClientConfig(api_key=Secret("sk-test"), max_attempts=6, id_deadline=300.0, retry_after_cap=60.0,
                                initial_retry_delay=0.5, max_retry_delay=8.0))
NOW = 1_000_000.0


def assistant(assistant_id: str = "asst_1", **fields: Any) -> dict[str, Any]:
    body = {"id": assistant_id, "object": "assistant", "created_at": 1700000000, "name": "n", "description": None,
            "model": "gpt-4o", "instructions": None, "tools": [], "metadata": {}}
    body.update(fields)
    return body


def error(message: str) -> dict[str, Any]:
    return {"error": {"message": message, "type": "invalid_request_error"}}


LIST_PAGE = {"object": "list", "data": [], "first_id": None, "last_id": None, "has_more": False}


@dataclass
class Row:
    rule: str
    """The README's words for the rule (the row's test ID)."""
    status: int | None = 200
    """``None``: no answer, ``failure`` was raised instead."""
    body: Any = field(default_factory=assistant)
    headers: dict[str, str] = field(default_factory=dict)
    failure: httpx.TransportError | ResponseTooLarge | UndecodableResponse | RequestTimedOut | None = None
    listing: bool = False
    attempt: int = 1
    elapsed: float = 0.0
    jitter: float = 0.0
    kind: Kind = Kind.OK
    decided_by: str = "valid assistant"
    """The :attr:`Verdict.rule` expected."""
    wait: float | None = None


ROWS = [
    # Rule 1: the server's x-should-retry: true|false wins.
    Row("1: x-should-retry true retries a 400", 400, error("busy"), {"x-should-retry": "true"},
        kind=Kind.RETRY, decided_by="x-should-retry: true", wait=0.5),
    Row("1: x-should-retry false stops a 503", 503, error("down"), {"x-should-retry": "false"},
        kind=Kind.GIVE_UP, decided_by="final status"),
    Row("1: x-should-retry false on a 404 keeps it not_found", 404, error("No assistant found with id 'asst_1'."),
        {"x-should-retry": "false"}, kind=Kind.NOT_FOUND, decided_by="No assistant found"),
    Row("1: any other x-should-retry value is ignored", 500, error("boom"), {"x-should-retry": "maybe"},
        kind=Kind.RETRY, decided_by="retryable status", wait=0.5),
    # Rule 2: 408, 409, 429, every 5xx, connection errors, timeouts, truncated JSON, HTML on a 200.
    Row("2: 408 is retried", 408, error("timeout"), kind=Kind.RETRY, decided_by="retryable status", wait=0.5),
    Row("2: 409 is retried", 409, error("conflict"), kind=Kind.RETRY, decided_by="retryable status", wait=0.5),
    Row("2: 429 is retried", 429, error("slow down"), kind=Kind.RETRY, decided_by="retryable status", wait=0.5),
    Row("2: 500 is retried", 500, error("boom"), kind=Kind.RETRY, decided_by="retryable status", wait=0.5),
    Row("2: 599 is retried", 599, "x", kind=Kind.RETRY, decided_by="retryable status", wait=0.5),
    Row("2: a connection error is retried", None, failure=httpx.ConnectError("reset"), kind=Kind.RETRY,
        decided_by="connection error", wait=0.5),
    Row("2: a timeout is retried", None, failure=httpx.ReadTimeout("slow"), kind=Kind.RETRY, decided_by="timeout",
        wait=0.5),
    Row("2: a request past its wall-clock deadline is a timeout, retried", None,
        failure=RequestTimedOut("no complete answer within 120 s (request_deadline)"), kind=Kind.RETRY,
        decided_by="timeout", wait=0.5),
    Row("2: truncated JSON on a 200 is retried", 200, BROKEN_JSON, kind=Kind.RETRY,
        decided_by="truncated JSON on a 200", wait=0.5),
    Row("2: an HTML page on a 200 is retried", 200, HTML_BODY, kind=Kind.RETRY, decided_by="HTML on a 200",
        wait=0.5),
    Row("2: an invalid Assistant object is not retried", 200, assistant(temperature=3.5), kind=Kind.INVALID,
        decided_by="invalid assistant"),
    # Rule 3: retry-after-ms, else retry-after, obeyed exactly when positive and at most the cap; else backoff.
    Row("3: retry-after-ms is read first", 429, error("slow"), {"retry-after-ms": "250", "retry-after": "9"},
        kind=Kind.RETRY, decided_by="retryable status", wait=0.25),
    Row("3: retry-after in seconds is obeyed exactly", 503, "x", {"retry-after": "2.5"}, kind=Kind.RETRY,
        decided_by="retryable status", wait=2.5),
    Row("3: retry-after as an HTTP date", 503, "x", {"retry-after": email.utils.formatdate(NOW + 30, usegmt=True)},
        kind=Kind.RETRY, decided_by="retryable status", wait=30.0),
    Row("3: retry-after at the cap is obeyed", 429, "x", {"retry-after": "60"}, kind=Kind.RETRY,
        decided_by="retryable status", wait=60.0),
    Row("3: retry-after over the cap gets backoff", 429, "x", {"retry-after": "61"}, kind=Kind.RETRY,
        decided_by="retryable status", wait=0.5),
    Row("3: retry-after 0 gets backoff, never a tight loop", 429, "x", {"retry-after": "0"}, kind=Kind.RETRY,
        decided_by="retryable status", wait=0.5),
    Row("3: backoff doubles per attempt", 503, "x", attempt=3, kind=Kind.RETRY, decided_by="retryable status",
        wait=2.0),
    Row("3: backoff stops doubling at max_retry_delay", None, failure=httpx.ConnectError("reset"), attempt=5,
        kind=Kind.RETRY, decided_by="connection error", wait=8.0),
    Row("3: jitter takes up to 25 % off the backoff", 503, "x", attempt=2, jitter=1.0, kind=Kind.RETRY,
        decided_by="retryable status", wait=0.75),
    # Rule 4: at most max_attempts attempts per request and id_deadline seconds per ID.
    Row("4: the last attempt gives up", 503, "x", attempt=6, kind=Kind.GIVE_UP,
        decided_by="retryable status, attempts exhausted"),
    Row("4: the deadline gives up before a wait that would pass it", 429, "x", {"retry-after": "10"},
        elapsed=290.0, kind=Kind.GIVE_UP, decided_by="retryable status, deadline reached"),
    Row("4: a wait that ends before the deadline is taken", 429, "x", {"retry-after": "10"}, elapsed=289.0,
        kind=Kind.RETRY, decided_by="retryable status", wait=10.0),
    Row("4: the listing out of attempts stops the run (unreachable)", None, failure=httpx.ConnectError("reset"),
        listing=True, attempt=6, kind=Kind.UNREACHABLE, decided_by="connection error, attempts exhausted"),
    # The body cap: a body over max_response_bytes is refused, never retried.
    Row("body cap: a body over the cap fails at once", None, failure=ResponseTooLarge("too big"),
        kind=Kind.GIVE_UP, decided_by="body over the cap"),
    Row("body cap: on the listing it stops the run", None, failure=ResponseTooLarge("too big"), listing=True,
        kind=Kind.UNREACHABLE, decided_by="body over the cap"),
    Row("body cap: a body the client cannot decode fails at once", None,
        failure=UndecodableResponse("unsupported_encoding", "br"), kind=Kind.GIVE_UP, decided_by="body not decodable"),
    # Answers that are not retried: whole-run errors first, then the ID's own outcome.
    Row("whole run: 401", 401, error("Incorrect API key"), kind=Kind.UNAUTHORIZED, decided_by="401 or 403"),
    Row("whole run: 403", 403, error("no access"), kind=Kind.UNAUTHORIZED, decided_by="401 or 403"),
    Row("whole run: a redirect", 301, "", {"location": "https://elsewhere"}, kind=Kind.ENDPOINT_GONE,
        decided_by="redirect"),
    Row("whole run: x-should-retry does not apply to a redirect", 302, "", {"x-should-retry": "true"},
        kind=Kind.ENDPOINT_GONE, decided_by="redirect"),
    Row("whole run: 410", 410, error("gone"), kind=Kind.ENDPOINT_GONE, decided_by="410"),
    Row("not_found: a 404 saying No assistant found", 404, error("No assistant found with id 'asst_1'."),
        kind=Kind.NOT_FOUND, decided_by="No assistant found"),
    Row("whole run: any other 404 (Invalid URL)", 404, error("Invalid URL (GET /v1/assistants/asst_1)"),
        kind=Kind.ENDPOINT_GONE, decided_by="other 404"),
    Row("whole run: an HTML 404", 404, HTML_BODY, kind=Kind.ENDPOINT_GONE, decided_by="other 404"),
    Row("ok: a valid Assistant object", 200, assistant(), kind=Kind.OK, decided_by="valid assistant"),
    Row("invalid: an answer for another ID", 200, assistant("asst_other"), kind=Kind.INVALID,
        decided_by="invalid assistant"),
    Row("invalid: JSON nested too deeply to parse", 200, TOO_DEEP, kind=Kind.INVALID, decided_by="invalid assistant"),
    Row("invalid: a created_at its column cannot hold", 200, assistant(created_at=10**29), kind=Kind.INVALID,
        decided_by="invalid assistant"),
    Row("ok: the last second the created_at column holds", 200, assistant(created_at=253402300799), kind=Kind.OK,
        decided_by="valid assistant"),
    Row("failed: any other status, for this ID alone", 400, error("bad request"), kind=Kind.GIVE_UP,
        decided_by="final status"),
    Row("failed: a 2xx other than 200", 204, None, kind=Kind.GIVE_UP, decided_by="final status"),
    # The listing (preflight, discover pages).
    Row("listing: a list page", 200, LIST_PAGE, listing=True, kind=Kind.OK, decided_by="list page"),
    Row("listing: a 200 that is not a list page", 200, assistant(), listing=True, kind=Kind.ENDPOINT_GONE,
        decided_by=verdicts.NOT_A_LIST),
    Row("listing: every 404 means the endpoint is gone", 404, error("No assistant found"), listing=True,
        kind=Kind.ENDPOINT_GONE, decided_by="other 404"),
    Row("listing: any other final status", 400, error("bad request"), listing=True, kind=Kind.ENDPOINT_GONE,
        decided_by=verdicts.NOT_A_LIST),
]


@pytest.mark.parametrize("row", ROWS, ids=[row.rule for row in ROWS])
def test_each_rule(row: Row):
    if row.failure is not None:
        verdict = judge_failure(row.failure, listing=row.listing, attempt=row.attempt, elapsed=row.elapsed,
                                policy=POLICY, jitter=row.jitter)
    else:
        assert row.status is not None
        text = "<html>" if row.body is HTML_BODY else "{}"
        answer = Answer(row.status, row.headers, text, row.body)
        verdict = judge(answer, expected_id=None if row.listing else "asst_1", attempt=row.attempt,
                        elapsed=row.elapsed, policy=POLICY, jitter=row.jitter, clock=lambda: NOW)
    assert (verdict.kind, verdict.rule) == (row.kind, row.decided_by)
    if row.wait is not None:
        assert verdict.wait == pytest.approx(row.wait)
    assert verdict.kind.stops_the_run == (row.kind in (Kind.UNAUTHORIZED, Kind.ENDPOINT_GONE, Kind.UNREACHABLE))


def test_the_rows_and_the_code_follow_the_readme_order():
    """Rows are in README order (rules 1 to 4, then the rest), and so are the rule comments in ``judge``."""
    numbered = [int(row.rule[0]) for row in ROWS if row.rule[0].isdigit()]
    assert numbered == sorted(numbered) and set(numbered) == {1, 2, 3, 4}
    source = inspect.getsource(verdicts.judge) + inspect.getsource(verdicts._again)
    in_code = [int(n) for n in re.findall(r"# Rule (\d)", source)]
    assert in_code == sorted(in_code) and set(in_code) == {1, 2, 3, 4}


def test_a_retry_that_came_from_a_body_says_why_and_a_failure_says_what():
    html = judge(Answer(200, {}, "<html>", HTML_BODY), expected_id="asst_1", attempt=6, elapsed=0.0, policy=POLICY,
                 jitter=0.0)
    assert (html.kind, html.error_type) == (Kind.GIVE_UP, "html_response")
    timeout = judge_failure(httpx.ReadTimeout("slow"), listing=False, attempt=1, elapsed=0.0, policy=POLICY,
                            jitter=0.0)
    assert (timeout.error_type, timeout.message) == ("timeout", "ReadTimeout: no answer within the timeout")
    past = judge_failure(RequestTimedOut("no complete answer within 120 s (request_deadline)"), listing=False,
                         attempt=6, elapsed=0.0, policy=POLICY, jitter=0.0)
    assert (past.kind, past.error_type, past.message) == (Kind.GIVE_UP, "timeout",
                                                          "no complete answer within 120 s (request_deadline)")
    invalid = judge(Answer(200, {}, "{}", assistant(temperature=3.5)), expected_id="asst_1", attempt=1, elapsed=0.0,
                    policy=POLICY, jitter=0.0)
    assert any("temperature" in problem for problem in invalid.problems)
