"""The client against httpx.MockTransport: classification, retries, headers, aborts."""

import asyncio
import json
import types

import httpx
import pytest

from assistants_export.connectors.core.errors import (
    AuthenticationError,
    EndpointGoneError,
    EndpointUnreachableError,
    PaginationError,
)
from assistants_export.connectors.openai_assistants import client as client_module
from assistants_export.connectors.openai_assistants.client import AssistantsClient
from assistants_export.connectors.openai_assistants.config import ClientConfig, Secret
from assistants_export.connectors.openai_assistants.results import Outcome

KEY = "sk-test-Zq9vX4kLmN0pQ7rS"


def assistant(assistant_id="asst_1", **fields):
    body = {"id": assistant_id, "object": "assistant", "created_at": 1700000000, "name": "n",
            "description": None, "model": "gpt-4o", "instructions": None, "tools": [], "metadata": {}}
    body.update(fields)
    return body


def not_found(assistant_id):
    return httpx.Response(404, json={"error": {"message": f"No assistant found with id '{assistant_id}'.",
                                               "type": "invalid_request_error", "param": None, "code": None}})


def config(**overrides):
    values = {"api_key": Secret(KEY), "base_url": "http://api.test/v1", "initial_retry_delay": 0.01,
              "max_retry_delay": 0.02}
    values.update(overrides)
    return ClientConfig(**values)


class Recorder:
    """A transport handler driven by a function, keeping every request and every sleep."""

    def __init__(self, respond):
        self.respond = respond
        self.requests: list[httpx.Request] = []
        self.sleeps: list[float] = []

    def __call__(self, request):
        self.requests.append(request)
        return self.respond(request, len(self.requests))

    async def sleep(self, seconds):
        self.sleeps.append(seconds)


def run(recorder, coro_fn, **overrides):
    async def main():
        client = AssistantsClient(config(**overrides), transport=httpx.MockTransport(recorder), sleep=recorder.sleep)
        async with client:
            return await coro_fn(client)

    return asyncio.run(main())


def test_ok_with_bearer_headers_and_encoded_id():
    rec = Recorder(lambda req, n: httpx.Response(200, json=assistant("asst_ü")))
    result = run(rec, lambda c: c.retrieve("asst_ü"), organization="org-1", project="proj-1",
                 extra_headers={"X-Team": "data"})
    assert result.outcome is Outcome.OK and result.attempts == 1
    req = rec.requests[0]
    assert req.url.raw_path == b"/v1/assistants/asst_%C3%BC"
    assert req.headers["authorization"] == f"Bearer {KEY}"
    assert req.headers["openai-beta"] == "assistants=v2"
    assert req.headers["openai-organization"] == "org-1"
    assert req.headers["openai-project"] == "proj-1"
    assert req.headers["x-team"] == "data"


def test_azure_style_uses_api_key_header_version_and_openai_path():
    rec = Recorder(lambda req, n: httpx.Response(200, json=assistant()))
    run(rec, lambda c: c.retrieve("asst_1"), auth_style="azure", api_version="2024-05-01-preview",
        base_url="https://res.openai.azure.com")
    req = rec.requests[0]
    assert req.url.path == "/openai/assistants/asst_1"
    assert req.url.params["api-version"] == "2024-05-01-preview"
    assert req.headers["api-key"] == KEY
    assert "authorization" not in req.headers


def test_retry_after_is_obeyed_then_success():
    def respond(req, n):
        if n == 1:
            return httpx.Response(429, headers={"retry-after": "1.5"}, json={"error": {"message": "slow"}})
        if n == 2:
            return httpx.Response(503, headers={"retry-after-ms": "200"}, text="unavailable")
        return httpx.Response(200, json=assistant())

    rec = Recorder(respond)
    result = run(rec, lambda c: c.retrieve("asst_1"))
    assert result.outcome is Outcome.OK and result.attempts == 3
    assert rec.sleeps == [1.5, 0.2]


def test_x_should_retry_false_is_never_retried():
    rec = Recorder(lambda req, n: httpx.Response(500, headers={"x-should-retry": "false"},
                                                 json={"error": {"message": "no", "type": "server_error"}}))
    result = run(rec, lambda c: c.retrieve("asst_1"))
    assert len(rec.requests) == 1
    assert (result.outcome, result.http_status, result.attempts) == (Outcome.FAILED, 500, 1)


def test_retries_run_out_into_failed_with_attempt_count():
    rec = Recorder(lambda req, n: httpx.Response(502, text="bad gateway"))
    result = run(rec, lambda c: c.retrieve("asst_1"), max_attempts=4)
    assert (result.outcome, result.http_status, result.attempts) == (Outcome.FAILED, 502, 4)
    assert len(rec.requests) == 4 and len(rec.sleeps) == 3
    assert result.body == "bad gateway"


def test_connection_errors_and_truncated_or_html_bodies_are_retried():
    def respond(req, n):
        if n == 1:
            raise httpx.ConnectError("connection reset")
        if n == 2:
            return httpx.Response(200, text='{"id": "asst_1", "obj', headers={"content-type": "application/json"})
        if n == 3:
            return httpx.Response(200, text="<html><h1>502 Bad Gateway</h1></html>",
                                  headers={"content-type": "text/html"})
        return httpx.Response(200, json=assistant())

    rec = Recorder(respond)
    result = run(rec, lambda c: c.retrieve("asst_1"))
    assert result.outcome is Outcome.OK and result.attempts == 4


def test_not_found_is_an_outcome_but_an_unknown_url_is_a_gone_endpoint():
    rec = Recorder(lambda req, n: not_found("asst_x"))
    result = run(rec, lambda c: c.retrieve("asst_x"))
    assert (result.outcome, result.http_status) == (Outcome.NOT_FOUND, 404)

    gone = Recorder(lambda req, n: httpx.Response(404, json={"error": {
        "message": "Invalid URL (GET /v1/assistants/asst_x)", "type": "invalid_request_error"}}))
    with pytest.raises(EndpointGoneError, match="does not serve the Assistants API"):
        run(gone, lambda c: c.retrieve("asst_x"))


def test_invalid_body_is_quarantined_whole_and_not_retried():
    bad = assistant(temperature=3.5)
    rec = Recorder(lambda req, n: httpx.Response(200, json=bad))
    result = run(rec, lambda c: c.retrieve("asst_1"))
    assert result.outcome is Outcome.INVALID and len(rec.requests) == 1
    assert "temperature" in result.message
    assert json.loads(result.body) == bad


def test_an_answer_for_another_id_is_invalid():
    rec = Recorder(lambda req, n: httpx.Response(200, json=assistant("asst_other")))
    result = run(rec, lambda c: c.retrieve("asst_1"))
    assert result.outcome is Outcome.INVALID and "asst_other" in result.message


def test_oversized_body_fails_without_retry():
    rec = Recorder(lambda req, n: httpx.Response(200, content=b"x" * 5000))
    result = run(rec, lambda c: c.retrieve("asst_1"), max_response_bytes=2048)
    assert (result.outcome, result.error_type) == (Outcome.FAILED, "response_too_large")
    assert len(rec.requests) == 1


def test_401_aborts_with_the_variable_name_and_never_the_key():
    echo = {"error": {"message": f"Incorrect API key provided: {KEY}.", "type": "invalid_request_error",
                      "code": "invalid_api_key"}}
    rec = Recorder(lambda req, n: httpx.Response(401, json=echo))
    with pytest.raises(AuthenticationError) as info:
        run(rec, lambda c: c.retrieve("asst_1"))
    message = str(info.value)
    assert "OPENAI_API_KEY" in message and KEY not in message and "[REDACTED]" in message


def test_fetch_many_stops_all_workers_on_a_run_level_error():
    rec = Recorder(lambda req, n: httpx.Response(403, json={"error": {"message": "no access"}}))
    results = []
    with pytest.raises(AuthenticationError):
        run(rec, lambda c: c.fetch_many((f"asst_{i}" for i in range(10_000)), results.append), concurrency=4)
    assert results == [] and len(rec.requests) <= 4


def test_fetch_many_hands_every_id_over_once():
    rec = Recorder(lambda req, n: httpx.Response(200, json=assistant(req.url.path.rsplit("/", 1)[1])))
    results = []
    ids = [f"asst_{i}" for i in range(200)]
    run(rec, lambda c: c.fetch_many(iter(ids), results.append), concurrency=8)
    assert sorted(r.assistant_id for r in results) == sorted(ids)


def test_preflight_distinguishes_gone_unreachable_and_html():
    ok = Recorder(lambda req, n: httpx.Response(200, json={"object": "list", "data": [], "first_id": None,
                                                           "last_id": None, "has_more": False}))
    run(ok, lambda c: c.preflight())
    assert ok.requests[0].url.params["limit"] == "1"

    html = Recorder(lambda req, n: httpx.Response(200, text="<html>welcome</html>",
                                                  headers={"content-type": "text/html"}))
    with pytest.raises(EndpointUnreachableError):
        run(html, lambda c: c.preflight(), max_attempts=2)

    gone = Recorder(lambda req, n: httpx.Response(404, text="Not Found"))
    with pytest.raises(EndpointGoneError):
        run(gone, lambda c: c.preflight())

    def refuse(req, n):
        raise httpx.ConnectError("refused")

    down = Recorder(refuse)
    with pytest.raises(EndpointUnreachableError, match="after 3 attempts"):
        run(down, lambda c: c.preflight(), max_attempts=3)


def _pages(total, page_size=100, stuck=False):
    items = [assistant(f"asst_{i:04d}") for i in range(total)]

    def respond(req, n):
        after = req.url.params.get("after")
        start = 0 if after is None or stuck else next(i for i, a in enumerate(items) if a["id"] == after) + 1
        data = items[start:start + page_size]
        return httpx.Response(200, json={"object": "list", "data": data,
                                         "first_id": data[0]["id"] if data else None,
                                         "last_id": data[-1]["id"] if data else None,
                                         "has_more": start + page_size < total})

    return respond


def test_list_all_follows_the_cursor_in_n_over_100_plus_one_requests():
    rec = Recorder(_pages(250))

    async def collect(client):
        return [r async for page in client.list_all() for r in page]

    results = run(rec, collect)
    assert [r.assistant_id for r in results] == [f"asst_{i:04d}" for i in range(250)]
    assert all(r.outcome is Outcome.OK for r in results)
    assert len(rec.requests) == 3
    assert rec.requests[1].url.params["after"] == "asst_0099"
    assert rec.requests[0].url.params["order"] == "asc"


def test_list_all_stops_when_the_cursor_does_not_move():
    rec = Recorder(_pages(250, stuck=True))

    async def collect(client):
        return [r async for page in client.list_all() for r in page]

    with pytest.raises(PaginationError, match="did not advance"):
        run(rec, collect)


def test_requests_per_minute_spaces_request_starts(monkeypatch):
    # The client's clock stands still and the fake sleep returns at once, so each start is booked exactly
    # 0.1 s after the previous one, however long the machine takes to run the loop.
    monkeypatch.setattr(client_module, "time", types.SimpleNamespace(monotonic=lambda: 1000.0))
    rec = Recorder(lambda req, n: httpx.Response(200, json=assistant(req.url.path.rsplit("/", 1)[1])))
    results = []
    run(rec, lambda c: c.fetch_many([f"asst_{i}" for i in range(5)], results.append),
        requests_per_minute=600, concurrency=1)
    assert len(results) == 5
    assert rec.sleeps == pytest.approx([0.1, 0.2, 0.3, 0.4], abs=1e-9)


def test_a_lone_surrogate_escape_is_quarantined_not_a_crash():
    text = json.dumps(assistant(), separators=(",", ":")).replace('"name":"n"', '"name":"a\\ud800b"')
    rec = Recorder(lambda req, n: httpx.Response(200, text=text, headers={"content-type": "application/json"}))
    result = run(rec, lambda c: c.retrieve("asst_1"))
    assert result.outcome is Outcome.INVALID and "surrogate" in result.message
    assert result.body == text and result.body.encode("utf-8")


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity", "1e400", "-2.5E+999", "1" + "0" * 400 + ".5"])
def test_non_finite_numbers_are_quarantined_not_a_crash(literal):
    """Free-form JSON (function parameters) has no bounds, so only this check stops NaN reaching the hash."""
    tool = {"type": "function", "function": {"name": "f", "parameters": {"minimum": 0}}}
    text = json.dumps(assistant(tools=[tool]), separators=(",", ":")).replace('"minimum":0', f'"minimum":{literal}')
    rec = Recorder(lambda req, n: httpx.Response(200, text=text, headers={"content-type": "application/json"}))
    result = run(rec, lambda c: c.retrieve("asst_1"))
    assert result.outcome is Outcome.INVALID and "NaN or Infinity" in result.message


def test_tenacity_runs_the_attempts_and_its_stop_rule_ends_as_the_verdicts_give_up(monkeypatch):
    """The verdicts decide, tenacity runs the loop: a ladder that says "retry" for ever is still stopped after
    max_attempts, with the give-up the verdicts would have said, every wait passed to the client's sleep."""
    from assistants_export.connectors.openai_assistants.verdicts import Kind, Verdict

    monkeypatch.setattr(client_module, "judge", lambda answer, **_: Verdict(Kind.RETRY, "always", 0.25))
    assert client_module.AsyncRetrying.__module__.startswith("tenacity")
    rec = Recorder(lambda req, n: httpx.Response(500, json={"error": {"message": "down", "type": "server_error"}}))
    result = run(rec, lambda c: c.retrieve("asst_1"), max_attempts=4)
    assert result.outcome is Outcome.FAILED and result.attempts == 4 and len(rec.requests) == 4
    assert rec.sleeps == [0.25, 0.25, 0.25] and all(type(s) is float for s in rec.sleeps)
    with pytest.raises(EndpointUnreachableError, match="after 4 attempts"):
        run(Recorder(lambda req, n: httpx.Response(500, text="down")), lambda c: c.preflight(), max_attempts=4)
