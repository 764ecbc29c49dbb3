"""Secrets: after runs with faults, a hostile server that echoes the key, and a 401, the key is nowhere.

A key a server gives back disguised (JSON ``\\uXXXX`` escapes, ``\\/``, percent-encoded, base64 at any
alignment, HTML entities) is looked for with the disguise undone, in what was stored and in what was shown.
A key with a newline, a space at either end, a control character or a non-ASCII character is refused when it is
read (the CLI, the Dagster resource, a source's ``api_key_env``) in one line naming the variable, never the key.

Looked for, as the whole key and as any 12 characters of the part a masked echo
such as OpenAI's ``sk-****Bm1`` hides (so half a key counts as a leak): stdout and stderr of the CLI (verbose), every
log record at DEBUG (httpx and httpcore included), every file under
``DAGSTER_HOME`` and the warehouse (raw bytes, and decoded: Parquet is zstd
compressed, so the rows are read back; DuckDB and Dagster's SQLite are queried),
and exception text including chained causes and tracebacks. Requests and
configuration objects are checked to redact the key in ``repr``.
"""

import asyncio
import base64
import contextlib
import datetime as dt
import html
import json
import logging
import re
import sqlite3
import traceback
from pathlib import Path
from urllib.parse import unquote

import duckdb
import httpx
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from dagster import DagsterInstance, materialize
from hostile_server import ScriptedServer, api_error, echo_body, echo_forms, listing, minimal_assistant

from assistants_export.connectors.core.errors import AuthenticationError, ConfigError
from assistants_export.connectors.openai_assistants.client import ERROR_BODY_LIMIT, MESSAGE_LIMIT, AssistantsClient
from assistants_export.connectors.openai_assistants.config import ClientConfig, Secret
from assistants_export.connectors.snapshot import IdSource, fetch_snapshot, flatten_snapshot, load_duckdb
from assistants_export.pipelines.assets import build_snapshot_assets
from assistants_export.pipelines.cli import run
from assistants_export.pipelines.partitions import partition_key
from assistants_export.pipelines.resources import AssistantsApiResource, WarehouseResource
from assistants_export.sandbox import (
    Fault,
    FaultPlan,
    SandboxServer,
    StaticCatalog,
    bundled_assistants,
    invalid_assistants,
)

pytestmark = pytest.mark.integration

KEY = "sk-canary-Vq7Rj2Lx9/Pw4Nz8Kt3+Hs6Bm1"  # "/" and "+": JSON and URLs may escape them
MASKED = KEY[3:-4]
"""What a masked echo hides (OpenAI shows the first 3 and the last 4 characters)."""
NEEDLES = [KEY, *(MASKED[i:i + 12] for i in range(len(MASKED) - 11))]
"""The key, and every 12 characters of its hidden part: a key cut in half is still a leak."""
DATE = dt.date(2026, 11, 20)
FIXTURES = bundled_assistants()[:24]
ALL_KINDS = (Fault.RATE_LIMIT, Fault.RATE_LIMIT_MS, Fault.SERVER_ERROR, Fault.BAD_GATEWAY, Fault.UNAVAILABLE,
             Fault.NO_RETRY, Fault.RESET, Fault.TRUNCATED, Fault.HTML, Fault.INVALID)


def leaks(text):
    """The offending needle if ``text`` (str or bytes) holds the key or any 12 characters of it, else None."""
    for needle in NEEDLES:
        if (needle.encode() if isinstance(text, bytes) else needle) in text:
            return needle
    return None


_ESCAPE = re.compile(r"\\+u([0-9a-fA-F]{4})")
_BASE64_RUN = re.compile(r"[A-Za-z0-9+/_-]{16,}={0,2}")


def undisguised(text):
    """``text`` and what it reads as with each disguise a server may use undone: JSON escapes, percent-encoding,
    HTML entities, and every run of base64 characters decoded (both alphabets)."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    unescaped = re.sub(r"\\+/", "/", _ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), text))
    yield from (text, unescaped, unquote(unquote(text)), html.unescape(text))
    for run_ in _BASE64_RUN.findall(unescaped):
        padded = run_.rstrip("=") + "=" * (-len(run_.rstrip("=")) % 4)
        with contextlib.suppress(ValueError):  # binascii.Error: a run one character past a multiple of four
            yield base64.b64decode(padded.replace("-", "+").replace("_", "/")).decode("latin-1")


def leaks_disguised(text):
    """The offending needle if ``text`` holds the key, plainly or in any disguise :func:`undisguised` undoes."""
    for candidate in undisguised(text):
        found = leaks(candidate)
        if found:
            return found
    return None


def decoded_files(root):
    """(path, text) for every file under ``root``, Parquet, DuckDB and SQLite files decoded as well."""
    for path in sorted(Path(root).rglob("*")):
        if not path.is_file():
            continue
        data = path.read_bytes()
        yield path, data
        if path.suffix == ".parquet":
            yield path, json.dumps(pq.read_table(path).to_pylist(), default=str)
        elif path.suffix == ".duckdb":
            with duckdb.connect(str(path), read_only=True) as con:
                for (table,) in con.execute("SELECT table_name FROM information_schema.tables").fetchall():
                    yield path, json.dumps(con.execute(f'SELECT * FROM "{table}"').fetchall(), default=str)
        elif data.startswith(b"SQLite format 3"):
            con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
            try:
                for (table,) in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall():
                    rows = con.execute(f'SELECT * FROM "{table}"').fetchall()
                    yield path, json.dumps(rows, default=lambda v: v.decode("utf-8", "replace"))
            finally:
                con.close()


def assert_nowhere(*roots, texts=()):
    for root in roots:
        for path, content in decoded_files(root):
            assert leaks(content) is None, path
    for text in texts:
        assert leaks(text) is None, text[:500]


@pytest.fixture
def debug_log():
    """Every log record of every logger at DEBUG, as text, for the length of the test."""
    records = []

    class Keep(logging.Handler):
        def emit(self, record):
            records.append(self.format(record))

    handler = Keep(logging.DEBUG)
    handler.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
    root = logging.getLogger()
    saved = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    noisy = {name: logging.getLogger(name).level for name in ("httpx", "httpcore", "assistants_export")}
    for name in noisy:
        logging.getLogger(name).setLevel(logging.DEBUG)
    try:
        yield records
    finally:
        root.removeHandler(handler)
        root.setLevel(saved)
        for name, level in noisy.items():
            logging.getLogger(name).setLevel(level)


def exception_text(exc):
    """Everything an exception could show: message, repr, traceback, and every chained cause and context."""
    parts, seen = [], set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        parts += [str(exc), repr(exc), "".join(traceback.format_exception(exc)), repr(vars(exc))]
        exc = exc.__cause__ or exc.__context__
    return "\n".join(parts)


# --- a hostile server that echoes the credentials it receives -------------------------------------

def echo(refuse=False):
    """Every answer quotes the request's Authorization / api-key header verbatim.

    ``/assistants`` lists one assistant (so the preflight passes) unless ``refuse`` (then 401).
    Per ID: ``echo500`` 500 with x-should-retry false, ``echo404`` not found, ``echo429`` rate limited
    then valid, ``echo_invalid`` a 200 that is not an assistant, ``echo_cut`` a 500 whose message and
    body put the key right across the points where they are cut; anything else a valid assistant.
    """
    hits = {}

    def answer(path, credential):
        path = path.replace("api-version=v1&", "").replace("?api-version=v1", "")  # Foundry's, for the entra test
        if refuse:
            return api_error(401, f"Incorrect API key provided: {credential}", code=credential)
        if path.startswith("/v1/assistants?"):
            return listing(minimal_assistant("asst_ok"))
        assistant_id = path.rsplit("/", 1)[-1]
        hits[assistant_id] = hits.get(assistant_id, 0) + 1
        if assistant_id == "echo500":
            return api_error(500, f"upstream refused {credential}", code=credential, headers=[("x-should-retry",
                                                                                                  "false")])
        if assistant_id == "echo404":
            return api_error(404, f"No assistant found with id 'echo404' for {credential}", code=credential)
        if assistant_id == "echo429" and hits[assistant_id] == 1:
            return api_error(429, f"slow down, {credential}", headers=[("retry-after-ms", "10")])
        if assistant_id == "echo_invalid":
            return 200, {"id": assistant_id, "object": "assistant", "note": credential}, ()
        if assistant_id == "echo_cut":
            # 25 characters before each cut: "Bearer " and the first 18 characters of the key.
            head = '{"error": {"type": "server_error", "message": "%s"}, "pad": "' % (
                "m" * (MESSAGE_LIMIT - 25) + credential)
            body = head + "p" * (ERROR_BODY_LIMIT - 25 - len(head)) + credential + '"}'
            return 500, body.encode(), (("x-should-retry", "false"),)
        return 200, minimal_assistant(assistant_id), ()

    return ScriptedServer(answer)


# --- the tests ------------------------------------------------------------------------------------

def test_the_key_is_nowhere_after_faulted_runs_a_hostile_echo_and_a_401(tmp_path, monkeypatch, capfd, debug_log):
    home, warehouse = tmp_path / "dagster_home", tmp_path / "wh"
    home.mkdir()
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n", encoding="utf-8")
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    ids = [a["id"] for a in FIXTURES] + [*invalid_assistants()][:3]
    bodies = {a["id"]: a for a in FIXTURES} | invalid_assistants()
    plan = FaultPlan(rate=0.5, seed=4, kinds=ALL_KINDS, retry_after_seconds=0.05, retry_after_ms=10,
                     always_fail_ids=frozenset(ids[:1]))

    def snapshot(base_url, *args):
        return run(["snapshot", "--date", DATE.isoformat(), "--warehouse", str(warehouse), "-v", "--force",
                    "--max-failed-share", "1", "--max-attempts", "3", "--base-url", base_url, *args])

    # 1. Every fault kind, through the CLI and Dagster, recorded under DAGSTER_HOME.
    with SandboxServer(StaticCatalog(bodies), api_key=KEY, faults=plan) as srv:
        assert snapshot(srv.base_url, "--ids", ",".join(ids)) == 0
        assert srv.stats.faults_injected
    # 2. A server that quotes the key back in 429, 500, 404 and invalid-200 bodies.
    with echo() as echoing:
        assert snapshot(echoing.base_url, "--ids", "echo500,echo404,echo429,echo_invalid,echo_cut,asst_ok") == 0
    # 3. A 401 that echoes the whole key, through the CLI (one error line) ...
    with echo(refuse=True) as refusing:
        assert snapshot(refusing.base_url, "--ids", "asst_ok") == 1
        # ... and through the connector directly, to see the exception and its chain.
        config = ClientConfig.from_env(base_url=refusing.base_url, max_attempts=2)
        with pytest.raises(AuthenticationError) as refused:
            fetch_snapshot(config, IdSource(ids=("asst_ok",)), DATE, tmp_path / "other")
    # 4. The key the sandbox rejects (masked echo, as OpenAI does).
    with SandboxServer(StaticCatalog(FIXTURES[:2]), api_key="sk-another-key-entirely-000") as other:
        assert snapshot(other.base_url, "--ids", FIXTURES[0]["id"]) == 1

    out, err = capfd.readouterr()
    assert "error: the server refused the API key from $OPENAI_API_KEY" in err
    assert "[REDACTED]" in exception_text(refused.value)
    with duckdb.connect(str(warehouse / "assistants.duckdb"), read_only=True) as con:
        rows = con.execute("SELECT assistant_id, message, body FROM fetch_errors").fetchall()
    errors = {assistant_id: {"message": message, "body": body} for assistant_id, message, body in rows}
    assert {"echo500", "echo404", "echo_invalid", "echo_cut"} <= set(errors)  # the echoes were stored, redacted
    assert "[REDACTED]" in errors["echo500"]["message"] and "[REDACTED]" in errors["echo_invalid"]["body"]
    assert any("httpcore" in line for line in debug_log), "DEBUG logging was not on"
    assert_nowhere(home, warehouse, tmp_path / "other",
                   texts=[out, err, "\n".join(debug_log), exception_text(refused.value)])


@pytest.mark.parametrize("auth_style", ["bearer", "azure"])
def test_debug_logging_during_a_faulted_run_never_holds_the_key(tmp_path, debug_log, auth_style):
    plan = FaultPlan(rate=0.6, seed=2, kinds=ALL_KINDS, retry_after_seconds=0.05, retry_after_ms=10)
    with SandboxServer(StaticCatalog(FIXTURES), api_key=KEY, auth_style=auth_style, faults=plan) as srv:
        config = ClientConfig(api_key=Secret(KEY), base_url=srv.base_url, auth_style=auth_style,
                              api_version="2024-05-01-preview" if auth_style == "azure" else None,
                              initial_retry_delay=0.01, max_retry_delay=0.02)
        summary = fetch_snapshot(config, IdSource(ids=tuple(a["id"] for a in FIXTURES)), DATE, tmp_path)
    assert summary.retries > 0
    text = "\n".join(debug_log)
    assert "retrying" in text and "HTTP Request" in text  # our retry lines and httpx's request lines
    assert leaks(text) is None
    assert_nowhere(tmp_path)


def test_configuration_and_requests_redact_the_key_in_repr(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    config = ClientConfig.from_env(base_url="http://127.0.0.1:9/v1")
    resource = AssistantsApiResource(api_key=KEY, base_url="http://127.0.0.1:9/v1")
    for shown in (repr(config), str(config), repr(config.api_key), f"{config.api_key}", repr(resource),
                  str(resource)):
        assert leaks(shown) is None, shown
    assert resource.client_config().api_key.reveal() == KEY  # still usable where the header is built

    seen = []

    def handler(request):
        seen.append(request)
        return httpx.Response(200, json=minimal_assistant("asst_1"))

    async def one():
        async with AssistantsClient(config, transport=httpx.MockTransport(handler)) as client:
            return await client.retrieve("asst_1"), repr(client._http.headers)

    result, client_headers = asyncio.run(one())
    assert result.ok and seen[0].headers["authorization"] == f"Bearer {KEY}"  # sent ...
    for shown in (client_headers, repr(seen[0]), repr(seen[0].headers), str(seen[0].url)):
        assert leaks(shown) is None, shown  # ... but never shown
    assert "[secure]" in repr(seen[0].headers)


def test_an_exception_escaping_the_cli_holds_no_key(tmp_path, monkeypatch, capfd):
    """Even the failures the connector does not anticipate are reported without the key."""
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    with SandboxServer(StaticCatalog(FIXTURES[:1]), api_key=KEY) as srv:
        status = run(["snapshot", "--date", DATE.isoformat(), "--warehouse", str(tmp_path / "wh"), "-q", "--force",
                      "--base-url", srv.base_url, "--ids", FIXTURES[0]["id"], "--concurrency", "9999"])
    assert status != 0
    out, err = capfd.readouterr()
    assert "concurrency" in err and leaks(out + err) is None


def test_the_scan_would_find_a_key_in_compressed_and_database_files(tmp_path):
    """The checks above have teeth: half a key in zstd Parquet, or a key in DuckDB or SQLite, is found."""
    half = "Bearer " + KEY[:20]  # what a careless cut would leave behind
    pq.write_table(pa.table({"v": [half]}), tmp_path / "t.parquet", compression="zstd")
    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        con.execute("CREATE TABLE t AS SELECT $v AS v", {"v": KEY})
    with sqlite3.connect(tmp_path / "s.db") as con:
        con.execute("CREATE TABLE t (v TEXT)")
        con.execute("INSERT INTO t VALUES (?)", (KEY,))
    con.close()
    found = {path.name for path, content in decoded_files(tmp_path) if leaks(content)}
    assert found == {"t.parquet", "w.duckdb", "s.db"}


# --- a key echoed back in disguise -----------------------------------------------------------------

FORMS = echo_forms(f"Bearer {KEY}")


def disguising_echo():
    """Every answer quotes the credential in every disguise of ``echo_forms`` (one member each, as raw JSON text),
    and in two response headers (which httpcore logs at DEBUG):
    a 500 with x-should-retry false for ``disguise500``, a 404 "No assistant found" for ``disguise404``, a 200 that is
    not a valid assistant for ``disguise_invalid``, a 401 for ``refuse``; a 500 holding one disguise alone, as its
    member ``k``, for ``only_<disguise>``; the list endpoint lists one assistant."""

    def answer(path, credential):
        status, body, headers = reply(path, echo_body(credential), credential)
        return status, body, (*headers, ("X-Echo", credential), ("X-Echo-Base64", FORMS["base64_at_0"]))

    def reply(path, body, credential):
        if path.startswith("/v1/assistants?"):
            return listing(minimal_assistant("asst_ok"))
        assistant_id = path.rsplit("/", 1)[-1]
        if assistant_id.startswith("only_"):
            form = echo_forms(credential)[assistant_id.removeprefix("only_")]
            alone = '{"error": {"message": "bad key", "type": "server_error", "code": null}, "k": "' + form + '"}'
            return 500, alone.encode(), (("x-should-retry", "false"),)
        if assistant_id == "disguise500":
            return 500, body, (("x-should-retry", "false"),)
        if assistant_id == "disguise404":
            return 404, body.replace(b'"bad key', b'"No assistant found, bad key'), ()
        if assistant_id == "disguise_invalid":
            return 200, body.replace(b'{"error"', b'{"id": "disguise_invalid", "object": "assistant", "error"'), ()
        if assistant_id == "refuse":
            return 401, body, ()
        return 200, minimal_assistant(assistant_id), ()

    return ScriptedServer(answer)


def assert_nowhere_disguised(*roots, texts=()):
    """:func:`assert_nowhere`, and every decoded row and text looked at with each disguise undone."""
    assert_nowhere(*roots, texts=texts)
    for root in roots:
        for path, content in decoded_files(root):
            if isinstance(content, str):
                assert leaks_disguised(content) is None, path
    for text in texts:
        assert leaks_disguised(text) is None, text[:500]


def test_the_disguise_scan_finds_every_form_the_echo_uses():
    """The scan below has teeth: each disguise, alone in a string, is found."""
    for name, form in FORMS.items():
        assert leaks_disguised(form), name
    assert sum(leaks(form) is None for form in FORMS.values()) >= 10  # where a plain scan finds nothing


def test_a_key_echoed_in_disguise_is_redacted_before_it_is_stored_logged_or_shown(tmp_path, monkeypatch, capfd,
                                                                                  debug_log):
    home, warehouse = tmp_path / "dagster_home", tmp_path / "wh"
    home.mkdir()
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n", encoding="utf-8")
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    monkeypatch.setenv("OPENAI_API_KEY", KEY)

    def snapshot(base_url, *args):
        return run(["snapshot", "--date", DATE.isoformat(), "--warehouse", str(warehouse), "-v", "--force",
                    "--max-failed-share", "1", "--max-attempts", "2", "--base-url", base_url, *args])

    with disguising_echo() as server:
        alone = ",".join(f"only_{name}" for name in FORMS)
        assert snapshot(server.base_url, "--ids", f"disguise500,disguise404,disguise_invalid,{alone},asst_ok") == 0
        assert snapshot(server.base_url, "--ids", "refuse", "--no-preflight") == 1
    out, err = capfd.readouterr()
    assert "error: the server refused the API key from $OPENAI_API_KEY" in err
    # Every disguise was stored (redacted) in the body, and reads back through DuckDB's own JSON functions clean.
    with duckdb.connect(str(warehouse / "assistants.duckdb"), read_only=True) as con:
        for name in FORMS:
            rows = con.execute("SELECT assistant_id, body::JSON->>$name, message FROM fetch_errors "
                               "WHERE assistant_id LIKE 'disguise%' ORDER BY 1", {"name": name}).fetchall()
            assert [r[0] for r in rows] == ["disguise404", "disguise500", "disguise_invalid"], name
            for assistant_id, value, message in rows:
                assert value is not None and leaks_disguised(value) is None, (name, assistant_id, value)
                assert leaks_disguised(message) is None, (assistant_id, message)
        # Each disguise alone in a body (no plain form beside it to give the key away).
        alone_rows = con.execute("SELECT assistant_id, body::JSON->>'k' FROM fetch_errors "
                                 "WHERE assistant_id LIKE 'only_%'").fetchall()
        assert len(alone_rows) == len(FORMS)
        for assistant_id, value in alone_rows:
            assert value is not None and leaks_disguised(value) is None, (assistant_id, value)
    assert_nowhere_disguised(home, warehouse, texts=[out, err, "\n".join(debug_log)])


# --- a key that cannot be sent as it is --------------------------------------------------------------

BAD_KEYS = {
    "newline": (KEY + "\n", "ends in a newline"),
    "crlf": (KEY + "\r\n", "ends in a newline"),
    "leading-space": (" " + KEY, "starts with whitespace"),
    "trailing-tab": (KEY + "\t", "ends with whitespace"),
    "control-character": (KEY[:12] + "\x1b" + KEY[12:], "holds a control character"),
    "non-ascii": (KEY[:12] + "é" + KEY[12:], "holds a non-ASCII character"),
    "smart-quotes": ("\u201c" + KEY + "\u201d", "holds a non-ASCII character"),
}


@pytest.mark.parametrize("case", BAD_KEYS)
def test_a_key_with_a_newline_or_a_stray_character_is_refused_in_one_line_naming_the_variable(
        tmp_path, monkeypatch, capfd, debug_log, case):
    bad, says = BAD_KEYS[case]
    monkeypatch.setenv("OPENAI_API_KEY", bad)
    with echo() as echoing:
        status = run(["snapshot", "--date", DATE.isoformat(), "--warehouse", str(tmp_path / "wh"), "-v", "--force",
                      "--no-preflight", "--allow-failures", "--base-url", echoing.base_url,
                      "--ids", "echo500,asst_ok"])
        sent = list(echoing.paths)
    out, err = capfd.readouterr()
    assert status == 1 and err.count("\n") == 1 and err.startswith("error: "), err
    assert "OPENAI_API_KEY" in err and says in err, err
    assert sent == []  # refused when read, before any request
    assert not (tmp_path / "wh" / "assistants.duckdb").exists()
    assert_nowhere(tmp_path, texts=[out, err, "\n".join(debug_log)])


def test_a_sources_file_key_and_the_dagster_resource_are_checked_the_same_way(tmp_path, monkeypatch, capfd):
    # A source's api_key_env.
    conf = tmp_path / "sources.toml"
    conf.write_text('[sources.eu]\nbase_url = "http://127.0.0.1:9/v1"\napi_key_env = "EU_OPENAI_API_KEY"\n',
                    encoding="utf-8")
    monkeypatch.setenv("ASSISTANTS_SOURCES_FILE", str(conf))
    monkeypatch.setenv("EU_OPENAI_API_KEY", KEY + "\n")
    status = run(["snapshot", "--date", DATE.isoformat(), "--warehouse", str(tmp_path / "wh"), "-q", "--force",
                  "--source", "eu", "--ids", "asst_ok"])
    out, err = capfd.readouterr()
    assert status == 1 and err.count("\n") == 1 and "EU_OPENAI_API_KEY ends in a newline" in err, err
    assert leaks(out + err) is None
    monkeypatch.delenv("ASSISTANTS_SOURCES_FILE")
    # The connector's own configuration, built in a program.
    with pytest.raises(ConfigError) as refused:
        ClientConfig(api_key=Secret(KEY + "\n"), base_url="http://127.0.0.1:9/v1")
    assert "ends in a newline" in str(refused.value) and leaks(exception_text(refused.value)) is None
    # The Dagster resource, holding the key itself: the run fails with the same words.
    api = AssistantsApiResource(api_key=KEY[:12] + "é" + KEY[12:], base_url="http://127.0.0.1:9/v1")
    with DagsterInstance.ephemeral(tempdir=str(tmp_path / "dagster")) as instance:
        result = materialize(list(build_snapshot_assets()), partition_key=partition_key(DATE), instance=instance,
                             raise_on_error=False,
                             resources={"api": api, "warehouse": WarehouseResource(path=str(tmp_path / "wh"))},
                             run_config={"ops": {"fetch_assistants": {"config": {"assistant_ids": ["asst_1"],
                                                                                 "force": True}}}})
        assert not result.success
        failures = [e.step_failure_data.user_failure_data.description or "" for e in result.all_events
                    if e.is_step_failure]
        assert any("api_key holds a non-ASCII character" in f for f in failures), failures
        assert_nowhere(tmp_path / "dagster", texts=failures)


# --- Entra ID tokens (auth_style entra, Azure AI Foundry) ---------------------------------------------------


def test_an_entra_token_is_nowhere_after_a_hostile_echo_and_a_401(tmp_path, monkeypatch, debug_log):
    """A token is a key for an hour: echoed by a server in bodies, messages and a 401, it is stored, logged and
    shown nowhere, in any disguise; nor is the service principal's secret that obtained it."""
    from assistants_export.connectors.gates import Gates
    from assistants_export.sandbox.entra import TokenServer

    warehouse = tmp_path / "wh"
    with TokenServer(tmp_path / "tls") as tokens:
        for name, value in tokens.environment().items():
            monkeypatch.setenv(name, value)

        def config(server):
            return ClientConfig.from_env(api_key=Secret(""), base_url=server.base_url, auth_style="entra",
                                        entra_credential="environment", max_attempts=2, initial_retry_delay=0.01)

        with echo() as server:
            fetch_snapshot(config(server), IdSource(ids=("echo500", "echo404", "echo429", "echo_invalid", "echo_cut",
                                                         "asst_ok")),
                           DATE, warehouse, gates=Gates(max_failed_share=1.0, allow_failures=True))
        flatten_snapshot(DATE, warehouse)
        load_duckdb(DATE, warehouse)
        with echo(refuse=True) as server, pytest.raises(AuthenticationError) as refused:
            fetch_snapshot(config(server), IdSource(discover=True), DATE, warehouse)
        needles = [*tokens.all_issued(), tokens.client_secret]
        assert len(tokens.all_issued()) >= 1
    assert "refused a fresh Entra ID token of EnvironmentCredential" in str(refused.value)
    texts = [exception_text(refused.value), "\n".join(debug_log)]
    for path, content in decoded_files(warehouse):
        texts.append(content.decode("latin-1") if isinstance(content, bytes) else content)
    for text in texts:
        for candidate in undisguised(text):
            for needle in needles:
                assert needle not in candidate, needle[:12]
    with duckdb.connect(str(warehouse / "assistants.duckdb"), read_only=True) as con:
        stored = con.execute("SELECT count(*) FROM fetch_errors WHERE body LIKE '%[REDACTED]%'").fetchall()
    assert stored[0][0] >= 2  # the echoes were stored, with the token taken out
