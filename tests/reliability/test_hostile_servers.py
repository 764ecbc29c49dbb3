"""Hostile servers: answers built to exhaust, hang or confuse the client end in one bounded outcome each.

Against the scripted loopback server (``tests/support/hostile_server.py``), over real HTTP:

* a compression bomb (one, two and three gzip layers) is never decoded past the body cap, and a body in
  more content codings than the client decodes is refused;
* a body or a header trickled a byte at a time cannot outlive the request deadline, nor the ID's;
* a listing whose cursor goes round in circles, that serves an assistant again under a new cursor, or that
  never advances ends the run in one line, the run held back;
* a body two parsers would read differently (a key twice in one object, a ``created_at`` the column cannot
  hold) is ``invalid``, with the reason naming the path, so every stored row means one thing.

Memory is measured with ``tracemalloc`` (every bytes object zlib makes is traced), never time.
"""

import asyncio
import datetime as dt
import gzip
import json
import tracemalloc
import zlib

import duckdb
import pytest
from hostile_server import (
    ScriptedServer,
    Trickle,
    cycling_listing,
    encoding_header,
    gzip_bomb,
    listing,
    minimal_assistant,
    repeating_listing,
)
from warehouse_state import held_runs

from assistants_export.connectors.core.errors import PaginationError
from assistants_export.connectors.openai_assistants.client import AssistantsClient
from assistants_export.connectors.openai_assistants.config import ClientConfig, Secret
from assistants_export.connectors.openai_assistants.results import Outcome
from assistants_export.pipelines.cli import run

pytestmark = pytest.mark.integration

KEY = "sk-hostile-Jq4Nx8Wr2Lm6"
DATE = dt.date(2026, 11, 20)


def client_config(base_url, **overrides):
    values = {"api_key": Secret(KEY), "base_url": base_url, "initial_retry_delay": 0.01, "max_retry_delay": 0.02,
              "preflight": False}
    values.update(overrides)
    return ClientConfig(**values)


def retrieve(config, assistant_id):
    async def main():
        async with AssistantsClient(config) as client:
            return await client.retrieve(assistant_id)

    return asyncio.run(main())


def list_everything(config):
    async def main():
        found = []
        async with AssistantsClient(config) as client:
            async for page in client.list_all():
                found += page
        return found

    return asyncio.run(main())


def snapshot(warehouse, base_url, *args):
    return run(["snapshot", "--date", DATE.isoformat(), "--warehouse", str(warehouse), "-q", "--force",
                "--max-failed-share", "1", "--base-url", base_url, *args])


def one_error_line(capsys):
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: "), err
    return err


def duck(warehouse, statement):
    with duckdb.connect(str(warehouse / "assistants.duckdb"), read_only=True) as con:
        cursor = con.execute(statement)
        names = [c[0] for c in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


@pytest.fixture
def env(monkeypatch, tmp_path):
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    return tmp_path / "wh"


# --- 4. compression bombs ----------------------------------------------------------------------------------

@pytest.mark.parametrize("layers", [1, 2, 3])
def test_a_compression_bomb_is_never_decoded_past_the_cap(layers):
    """64 MiB of zeros in 1-3 gzip layers (64 KB, 300 bytes, 200 bytes on the wire) against a 1 MiB cap."""
    bomb = gzip_bomb(64 << 20, layers)
    with ScriptedServer(lambda path, credential: (200, bomb, (encoding_header(layers),))) as server:
        config = client_config(server.base_url, max_response_bytes=1 << 20)
        tracemalloc.start()
        try:
            result = retrieve(config, "asst_bomb")
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    # Decoding stopped at the cap: what was held at once is a few times the cap, never the 64 MiB.
    assert peak < 8 << 20, f"{peak:,} bytes held at once"
    assert (result.outcome, result.error_type, result.attempts) == (Outcome.FAILED, "response_too_large", 1)
    assert "decoded" in result.message and "1,048,576-byte cap" in result.message, result.message


def compressed(body, coding):
    if coding == "deflate":
        return zlib.compress(body)
    if coding == "raw deflate":
        packer = zlib.compressobj(6, zlib.DEFLATED, -15)
        return packer.compress(body) + packer.flush()
    return gzip.compress(body)


@pytest.mark.parametrize("codings", [["gzip"], ["x-gzip"], ["deflate"], ["raw deflate"], ["gzip", "gzip"],
                                     ["deflate", "gzip"], ["identity"], ["gzip", "identity"]])
def test_compressed_bodies_within_the_cap_are_decoded_whole(codings):
    body = json.dumps(minimal_assistant("asst_zip", instructions="é" * 3000)).encode()
    data = body
    for coding in codings:
        data = data if coding == "identity" else compressed(data, coding)
    header = ("Content-Encoding", ", ".join("deflate" if c == "raw deflate" else c for c in codings))
    with ScriptedServer(lambda path, credential: (200, data, (header,))) as server:
        result = retrieve(client_config(server.base_url), "asst_zip")
    assert result.outcome is Outcome.OK, (result.error_type, result.message)
    assert result.body.encode() == body


def test_the_cap_counts_decoded_bytes_exactly():
    cap = 4096
    head = json.dumps(minimal_assistant("asst_cap", instructions="")).encode()
    fits = head.replace(b'"instructions": ""', b'"instructions": "' + b"x" * (cap - len(head)) + b'"')
    assert len(fits) == cap
    bodies = {"asst_cap": fits, "asst_over": fits.replace(b"asst_cap", b"asst_over") + b" "}

    def answer(path, credential):
        return 200, gzip.compress(bodies[path.rsplit("/", 1)[-1]]), (encoding_header(1),)

    with ScriptedServer(answer) as server:
        fitting = retrieve(client_config(server.base_url, max_response_bytes=cap), "asst_cap")
        over = retrieve(client_config(server.base_url, max_response_bytes=cap), "asst_over")
    assert fitting.outcome is Outcome.OK
    assert (over.outcome, over.error_type) == (Outcome.FAILED, "response_too_large")


@pytest.mark.parametrize("header, data, error_type", [
    ("gzip, gzip, gzip, gzip, gzip", gzip_bomb(1024, 5), "unsupported_encoding"),
    ("gzip", b"this is not gzip at all", "undecodable_body"),
], ids=["too-many-codings", "corrupt-gzip"])
def test_a_body_the_client_cannot_decode_fails_that_id_without_retry(header, data, error_type):
    with ScriptedServer(lambda path, credential: (200, data, (("Content-Encoding", header),))) as server:
        result = retrieve(client_config(server.base_url), "asst_odd")
        requests = len(server.paths)
    assert (result.outcome, result.error_type, result.attempts, requests) == (Outcome.FAILED, error_type, 1, 1)
    assert "\n" not in result.message and result.message


# --- 5. trickled answers -----------------------------------------------------------------------------------

def trickled(whole_response=False):
    body = json.dumps(minimal_assistant("asst_slow")).encode()  # about 190 bytes: 10 s at 20 bytes a second
    return lambda path, credential: (200, Trickle(body, interval=0.05, whole_response=whole_response), ())


def test_a_trickled_body_cannot_outlive_the_id_deadline():
    """httpx's read timeout is per read: a byte every 50 ms never trips it. The ID's deadline (1 s here) does."""
    with ScriptedServer(trickled()) as server:
        result = retrieve(client_config(server.base_url, id_deadline=1.0), "asst_slow")
        cut = server.wait_for_cut_trickles(1)
    assert (result.outcome, result.error_type, result.attempts) == (Outcome.FAILED, "timeout", 1)
    assert "id_deadline" in result.message, result.message
    assert cut == 1  # the client hung up; the server did not finish the body


@pytest.mark.parametrize("whole_response", [False, True], ids=["body", "status-line-and-headers"])
def test_the_request_deadline_cuts_every_attempt_and_counts_as_a_timeout(whole_response):
    with ScriptedServer(trickled(whole_response)) as server:
        result = retrieve(client_config(server.base_url, request_deadline=0.3, max_attempts=3), "asst_slow")
        cut = server.wait_for_cut_trickles(3)
    assert (result.outcome, result.error_type, result.attempts) == (Outcome.FAILED, "timeout", 3)
    assert "request_deadline" in result.message, result.message
    assert cut == 3 and len(server.paths) == 3


# --- 5. listings that never end ------------------------------------------------------------------------------

ENDLESS = {
    "cursor-cycles": (lambda: cycling_listing(["cur_a", "cur_b"]), "cur_a"),
    "same-item-new-cursor": (lambda: repeating_listing("asst_same"), "asst_same"),
    "empty-pages-new-cursor": (lambda: repeating_listing(empty=True), "no assistants"),
}
"""Each listing's maker, and a phrase of the error. Without the checks each went on until the server gave up
(41 requests here; a cycling cursor made 970,408 requests in 10 minutes against the probe's server)."""


@pytest.mark.parametrize("case", ENDLESS)
def test_a_listing_that_never_ends_raises_after_a_few_pages(case):
    make, says = ENDLESS[case]
    with ScriptedServer(make()) as server:
        with pytest.raises(PaginationError) as raised:
            list_everything(client_config(server.base_url))
        requests = len(server.paths)
    message = str(raised.value)
    assert says in message and "\n" not in message, message
    assert requests <= 3, requests  # today's client went on until the server gave up (41 requests)


@pytest.mark.parametrize("case", ENDLESS)
def test_a_listing_that_never_ends_holds_the_run_back_in_one_line(env, capsys, case):
    make, says = ENDLESS[case]
    with ScriptedServer(make()) as server:
        assert snapshot(env, server.base_url, "--discover") == 1
        requests = len(server.paths)
    err = one_error_line(capsys)
    assert says in err and "pagination is broken" in err, err
    assert requests <= 3
    # Held back as every whole-run error is: the answers received so far are kept aside (when there are any),
    # the date's tables untouched.
    listed_any = case != "empty-pages-new-cursor"
    assert ("kept in" in err) is listed_any
    assert len(held_runs(env, DATE)) == int(listed_any)
    assert not (env / "assistants.duckdb").exists()


# --- 8. one parser's truth -----------------------------------------------------------------------------------

def body_text(assistant_id, anchor, extra):
    """A valid body as text, ``extra`` written right after ``anchor``."""
    text = json.dumps(minimal_assistant(assistant_id, metadata={"team": "a"}))
    assert anchor in text
    return text.replace(anchor, anchor + extra, 1).encode()


DUPLICATES = {
    # Python's json keeps the second "id", DuckDB's JSON functions read the first.
    "asst_dup_id": (body_text("asst_dup_id", "{", '"id": "asst_first", '), "id"),
    "asst_dup_meta": (body_text("asst_dup_meta", '"team": "a"', ', "team": "b"'), "metadata.team"),
    "asst_dup_escaped": (body_text("asst_dup_escaped", '"model": "gpt-4o"', ', "\\u006dodel": "gpt-4"'), "model"),
    "asst_dup_tool": (json.dumps(minimal_assistant("asst_dup_tool", tools=[{"type": "function", "function": {
        "name": "f", "parameters": {"type": "object"}}}])).replace(
        '"type": "object"', '"type": "object", "type": "array"').encode(), "tools[0].function.parameters.type"),
}
"""ID -> (the body served, the path the reason names)."""


def test_a_key_twice_in_one_object_makes_the_body_invalid_with_its_path(env):
    bodies = {name: text for name, (text, _) in DUPLICATES.items()}
    bodies["asst_ok"] = json.dumps(minimal_assistant("asst_ok")).encode()

    def answer(path, credential):
        if path.startswith("/v1/assistants?"):
            return listing(minimal_assistant("asst_ok"))
        return 200, bodies[path.rsplit("/", 1)[-1]], ()

    with ScriptedServer(answer) as server:
        assert snapshot(env, server.base_url, "--ids", ",".join(bodies)) == 0
    errors = {r["assistant_id"]: r for r in duck(env, "SELECT * FROM fetch_errors")}
    for name, (text, path) in DUPLICATES.items():
        assert errors[name]["outcome"] == "invalid", name
        assert f"{path}: " in errors[name]["message"] and "twice" in errors[name]["message"], errors[name]
        assert errors[name]["body"].encode() == text  # the quarantine keeps the body as received
    # What is stored means one thing to every reader: DuckDB's JSON reads the ID the row is filed under.
    rows = duck(env, "SELECT assistant_id, raw_json::JSON->>'id' AS json_id FROM raw_assistants")
    assert rows == [{"assistant_id": "asst_ok", "json_id": "asst_ok"}]


def test_a_listed_assistant_with_a_key_twice_is_invalid_and_the_others_land(env):
    page = json.dumps({"object": "list", "data": [minimal_assistant("asst_a", metadata={"team": "a"}),
                                                  minimal_assistant("asst_b")], "has_more": False})
    page = page.replace('"team": "a"', '"team": "a", "team": "b"')
    with ScriptedServer(lambda path, credential: (200, page.encode(), ())) as server:
        assert snapshot(env, server.base_url, "--discover") == 0
    errors = duck(env, "SELECT assistant_id, outcome, message FROM fetch_errors")
    assert [(e["assistant_id"], e["outcome"]) for e in errors] == [("asst_a", "invalid")]
    assert "metadata.team: " in errors[0]["message"]
    assert [r["assistant_id"] for r in duck(env, "SELECT assistant_id FROM raw_assistants")] == ["asst_b"]


def test_a_list_page_with_a_key_twice_ends_the_run_in_one_line(env, capsys):
    page = '{"object": "list", "data": [], "has_more": true, "has_more": false}'
    with ScriptedServer(lambda path, credential: (200, page.encode(), ())) as server:
        assert snapshot(env, server.base_url, "--discover") == 1
    err = one_error_line(capsys)
    assert "has_more" in err and "twice" in err, err


FIRST_SECOND, LAST_SECOND = -62135596800, 253402300799  # 0001-01-01T00:00:00Z and 9999-12-31T23:59:59Z
CREATED_AT = {
    "asst_30_digits": ("9" * 30, False),
    "asst_far_past": ("-99999999999999", False),
    "asst_float_huge": ("1e30", False),
    "asst_one_past_the_last": (str(LAST_SECOND + 1), False),
    "asst_one_before_the_first": (str(FIRST_SECOND - 1), False),
    "asst_the_last": (str(LAST_SECOND), True),
    "asst_the_first": (str(FIRST_SECOND), True),
    "asst_float_in_range": ("1700000000.0", True),
}


def test_a_created_at_the_column_cannot_hold_makes_the_body_invalid(env):
    def answer(path, credential):
        if path.startswith("/v1/assistants?"):
            return listing(minimal_assistant("asst_the_last"))
        assistant_id = path.rsplit("/", 1)[-1]
        text = json.dumps(minimal_assistant(assistant_id)).replace("1700000000", CREATED_AT[assistant_id][0])
        return 200, text.encode(), ()

    with ScriptedServer(answer) as server:
        assert snapshot(env, server.base_url, "--ids", ",".join(CREATED_AT)) == 0
    errors = {r["assistant_id"]: r for r in duck(env, "SELECT * FROM fetch_errors")}
    stored = {r["assistant_id"]: r["created_at"] for r in duck(env, "SELECT assistant_id, created_at FROM assistants")}
    for assistant_id, (_, fits) in CREATED_AT.items():
        if fits:
            assert stored[assistant_id] is not None, assistant_id
        else:
            assert errors[assistant_id]["outcome"] == "invalid", assistant_id
            assert errors[assistant_id]["message"].startswith("created_at: "), errors[assistant_id]["message"]
    assert stored["asst_the_last"].year == 9999 and stored["asst_the_first"].year == 1
