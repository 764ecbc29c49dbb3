"""Bad input is contained: each case ends in one clear error line or one quarantine row, the rest intact.

Three kinds of input, each run through the real path (the CLI or the Dagster
assets against the sandbox over loopback HTTP):

* IDs: empty, blank, spaces, ``../files``, ``%2F``, 10,000 characters, unicode, NUL, duplicates;
* configuration: missing key, ``ftp://`` base URL, zero or negative numbers, unknown auth mode;
* responses: not JSON, a JSON array, wrong types, missing fields, 10 MB, the largest
  valid instructions and tool list and one past each, deeply nested function
  parameters, a foreign ``id``; and metadata full of quotes, SQL, newlines and emoji,
  stored verbatim and never executed.
"""

import datetime as dt
import json

import duckdb
import pyarrow.dataset as ds
import pytest
from assistant_rebuild import expected, rebuild
from dagster import DagsterInstance, materialize
from hostile_server import ScriptedServer, api_error, listing, minimal_assistant

from assistants_export.connectors.core.schemas import DERIVED_TABLES
from assistants_export.connectors.openai_assistants import settings
from assistants_export.connectors.openai_assistants.client import MESSAGE_LIMIT
from assistants_export.connectors.openai_assistants.ids import display_id
from assistants_export.connectors.warehouse.read import read_arrow
from assistants_export.pipelines.assets import build_snapshot_assets
from assistants_export.pipelines.cli import run
from assistants_export.pipelines.partitions import partition_key
from assistants_export.pipelines.resources import AssistantsApiResource, WarehouseResource
from assistants_export.sandbox import SandboxServer, StaticCatalog, bundled_assistants

pytestmark = pytest.mark.integration

KEY = "sk-badinput-Hk3Wq9Zt5Lm2"
DATE = dt.date(2026, 11, 20)
GOOD = bundled_assistants()[:6]
GOOD_IDS = [a["id"] for a in GOOD]


def assistant(assistant_id, **fields):
    body = {"id": assistant_id, "object": "assistant", "created_at": 1700000000, "name": "n", "description": None,
            "model": "gpt-4o", "instructions": None, "tools": [], "metadata": {}}
    body.update(fields)
    return body


def function_tool(name, parameters=None):
    function = {"name": name}
    if parameters is not None:
        function["parameters"] = parameters
    return {"type": "function", "function": function}


def nested_parameters_text(levels):
    """Function parameters ``levels`` deep as JSON text (too deep for ``json.dumps`` to build at 500)."""
    return '{"type":"object","properties":{"a":' * levels + '{"type":"string"}' + "}}" * levels


def nested_to_depth(assistant_id, depth):
    """A valid body whose deepest value sits exactly ``depth`` levels of objects and arrays down.

    The body itself, ``tools``, the tool and its ``function`` are levels 1 to 4;
    the parameters are a chain of one-key objects from level 5 down.
    """
    text = body_with_parameters(assistant_id, '{"a":' * (depth - 5) + "{}" + "}" * (depth - 5)).decode()
    assert json_depth(text) == depth
    return text.encode()


def json_depth(text):
    """The greatest number of objects and arrays open at once (the validator's measure), counted in the text."""
    deepest = level = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            in_string = char != '"' or escaped
            escaped = char == "\\" and not escaped
        elif char == '"':
            in_string = True
        elif char in "{[":
            level += 1
            deepest = max(deepest, level)
        elif char in "}]":
            level -= 1
    return deepest


def body_with_parameters(assistant_id, parameters_text):
    head = json.dumps(assistant(assistant_id, tools=[function_tool("deep", {})]))
    return head.replace('"parameters": {}', f'"parameters": {parameters_text}').encode()


def duck(warehouse, statement, **params):
    with duckdb.connect(str(warehouse / "assistants.duckdb"), read_only=True) as con:
        cursor = con.execute(statement, params or None)
        names = [c[0] for c in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def errors_by_id(warehouse):
    rows = duck(warehouse, "SELECT * FROM fetch_errors")
    assert len(rows) == len({r["assistant_id"] for r in rows}), "one row per ID"
    return {r["assistant_id"]: r for r in rows}


def assert_one_line(message, limit=2000):
    assert message and "\n" not in message and "\r" not in message and len(message) <= limit, message


def assert_nothing_written(warehouse):
    assert not (warehouse / "parquet").exists() and not (warehouse / "assistants.duckdb").exists()


def assert_good_intact(warehouse, served):
    """The valid assistants of the run landed whole: stored bytes as served, columns rebuild the object."""
    raw = {r["assistant_id"]: r["raw_json"] for r in duck(warehouse, "SELECT * FROM raw_assistants")}
    tables = {t.name: duck(warehouse, f"SELECT * FROM {t.name}") for t in DERIVED_TABLES}
    for source in GOOD:
        assert raw[source["id"]].encode() == served.get(source["id"])
        assert rebuild(tables, source["id"]) == expected(source)


@pytest.fixture
def env(monkeypatch, tmp_path):
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    return tmp_path / "wh"


def snapshot(warehouse, base_url, *args):
    return run(["snapshot", "--date", DATE.isoformat(), "--warehouse", str(warehouse), "-q", "--force",
                "--max-failed-share", "1", "--base-url", base_url, *args])


# --- IDs --------------------------------------------------------------------------------------------

UNICODE_ID = "asst_ünïcødé_日本"
LONG_ID = "asst_" + "x" * 9995
BAD_IDS = {
    "": "empty ID",
    "   ": "empty ID",
    "asst with space": "contains whitespace",
    "asst_\u00a0nbsp": "contains whitespace",
    "../files": "contains a path separator",
    "asst_..": "contains '..'",
    "asst_a\\b": "contains a path separator",
    "asst_\x00nul": "contains control characters",
    "asst_\x1b[31mred": "contains control characters",
    LONG_ID: "longer than 128 characters (10000)",
}
ENCODED_SLASH = "asst_%2Fetc%2Fpasswd"
ENCODED_DOTS = "%2e%2e%2Ffiles"


def test_bad_ids_are_rejected_or_sent_safely_and_the_rest_lands(env, tmp_path, capsys):
    catalog = {a["id"]: a for a in GOOD} | {UNICODE_ID: assistant(UNICODE_ID)}
    given = [*BAD_IDS, ENCODED_SLASH, ENCODED_DOTS, UNICODE_ID, "asst_😀_unknown", *GOOD_IDS, GOOD_IDS[0],
             f"  {GOOD_IDS[1]}\t", "../files", ""]
    ids_file = tmp_path / "ids.json"
    ids_file.write_text(json.dumps(given), encoding="utf-8")
    with SandboxServer(StaticCatalog(catalog), api_key=KEY) as srv:
        assert snapshot(env, srv.base_url, "--ids-file", str(ids_file)) == 0
        sent = dict(srv.stats.requests_by_id)

    # Nothing malformed reached the server; everything else was asked for exactly once, verbatim.
    assert sent == {i: 1 for i in (ENCODED_SLASH, ENCODED_DOTS, UNICODE_ID, "asst_😀_unknown", *GOOD_IDS)}
    errors = errors_by_id(env)
    for bad_id, reason in BAD_IDS.items():
        if bad_id == "   ":
            continue  # stripped, it is the empty ID again: a duplicate, one row
        shown = display_id(bad_id.strip() or bad_id)
        row = errors[shown]
        assert (row["outcome"], row["error_type"], row["attempts"], row["http_status"]) == \
               ("rejected_id", "malformed_id", 0, None)
        assert reason in row["message"]
        assert_one_line(row["message"])
        assert "\x00" not in shown and "\x1b" not in shown and len(shown) < 300  # printable and bounded
    # A percent-encoded slash or dot is data, not a path: sent encoded, "not found" for that very ID.
    assert errors[ENCODED_SLASH]["outcome"] == errors[ENCODED_DOTS]["outcome"] == "not_found"
    assert errors["asst_😀_unknown"]["outcome"] == "not_found"
    landed = [r["assistant_id"] for r in duck(env, "SELECT assistant_id FROM assistants")]
    assert sorted(landed) == sorted([*GOOD_IDS, UNICODE_ID])  # duplicates and padded copies: once
    run_row = duck(env, "SELECT * FROM snapshot_runs")[0]
    assert run_row["duplicate_ids"] == 5  # "   " (stripped), GOOD_IDS[0], the padded GOOD_IDS[1], "../files", ""
    assert run_row["rejected_id_count"] == len(BAD_IDS) - 1  # "" and "   " are one empty ID
    assert_good_intact(env, {a["id"]: StaticCatalog(GOOD).get(a["id"]) for a in GOOD})


def test_an_ids_file_that_cannot_be_read_is_one_clear_line(env, tmp_path, capsys):
    cases = {
        "missing.txt": (None, "does not exist"),
        "binary.txt": (b"\xff\xfe\x00garbage", "not UTF-8"),
        "ids.json": (b'{"ids": ["a"]}', "JSON array"),
        "broken.json": (b'["a", ', "not valid JSON"),
        "ids.csv": (b"id,name\nasst_1,x\n", "no 'assistant_id' column"),
    }
    for name, (content, message) in cases.items():
        path = tmp_path / name
        if content is not None:
            path.write_bytes(content)
        assert snapshot(env, "http://127.0.0.1:9/v1", "--ids-file", str(path)) == 1
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and err.startswith("error: ") and message in err, (name, err)
    assert_nothing_written(env)


# --- configuration ---------------------------------------------------------------------------------

@pytest.mark.parametrize(("args", "env_vars", "status", "message"), [
    ([], {"OPENAI_API_KEY": None}, 1, "OPENAI_API_KEY is not set"),
    ([], {"OPENAI_API_KEY": ""}, 1, "OPENAI_API_KEY is not set"),
    (["--api-key-env", "MY_KEY"], {}, 1, "MY_KEY is not set"),
    (["--base-url", "ftp://example.com/v1"], {}, 1, "not an http(s) URL"),
    (["--base-url", "not a url"], {}, 1, "not an http(s) URL"),
    (["--base-url", "http://127.0.0.1:99999/v1"], {}, 1, "invalid port"),
    ([], {"OPENAI_BASE_URL": "file:///etc/passwd"}, 1, "not an http(s) URL"),
    (["--concurrency", "0"], {}, 1, "concurrency must be a whole number from 1 to 256, got 0"),
    (["--concurrency", "-4"], {}, 1, "concurrency must be a whole number from 1 to 256, got -4"),
    (["--concurrency", "100000"], {}, 1, "concurrency must be a whole number from 1 to 256"),
    (["--concurrency", "two"], {}, 2, "'two' is not a valid integer"),
    (["--max-attempts", "0"], {}, 1, "max_attempts must be a whole number"),
    (["--requests-per-minute", "-1"], {}, 1, "requests_per_minute must be a positive number"),
    (["--run-deadline", "0"], {}, 1, "run_deadline must be a positive number"),
    (["--run-deadline", "-5"], {}, 1, "run_deadline must be a positive number"),
    (["--run-deadline", "nan"], {}, 1, "run_deadline must be a positive number"),
    (["--auth-style", "oauth"], {}, 2, "'oauth' is not one of 'bearer', 'azure', 'entra'"),
    ([], {"ASSISTANTS_AUTH_STYLE": "oauth"}, 1, "auth_style must be one of bearer, azure, entra, got 'oauth'"),
    (["--ids", "a", "--discover"], {}, 2, "give only one of --ids, --ids-file, --discover"),
    (["--date", "2026-02-30"], {}, 2, "is not a date"),
])
def test_bad_configuration_is_one_clear_line_before_any_request(env, monkeypatch, capsys, args, env_vars, status,
                                                                message):
    for name, value in env_vars.items():
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value)
    with SandboxServer(StaticCatalog(GOOD), api_key=KEY) as srv:
        if "--base-url" not in args and "OPENAI_BASE_URL" not in env_vars:
            args = ["--base-url", srv.base_url, *args]
        if not {"--ids", "--discover"} & set(args):
            args = [*args, "--ids", GOOD_IDS[0]]
        assert run(["snapshot", "--warehouse", str(env), "-q", "--force", *args]) == status
        assert srv.stats.total_requests == 0
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: ") and message in err, err
    assert KEY not in err
    assert_nothing_written(env)


def test_bad_resource_configuration_fails_the_dagster_run_with_the_same_message(tmp_path):
    api = AssistantsApiResource(api_key=KEY, base_url="ftp://example.com/v1")
    with DagsterInstance.ephemeral(tempdir=str(tmp_path / "dagster")) as instance:
        result = materialize(list(build_snapshot_assets()), partition_key=partition_key(DATE), instance=instance,
                             raise_on_error=False,
                             resources={"api": api, "warehouse": WarehouseResource(path=str(tmp_path / "wh"))},
                             run_config={"ops": {"fetch_assistants": {"config": {"assistant_ids": ["asst_1"],
                                                                                 "force": True}}}})
    assert not result.success
    failures = [e.step_failure_data.user_failure_data.description for e in result.all_events if e.is_step_failure]
    assert any("not an http(s) URL" in (f or "") for f in failures)
    assert not (tmp_path / "wh" / "parquet").exists()


# --- responses -----------------------------------------------------------------------------------

TEN_MB = 10 * 1024 * 1024


def bad_responses():
    """ID -> (served body, expected outcome, expected error_type, a phrase of the message)."""
    at_limit = "i" * settings.MAX_INSTRUCTIONS_LENGTH
    tools = [function_tool(f"f{i}") for i in range(settings.MAX_TOOLS)]
    return {
        "asst_not_json": (b"Internal error, please retry", "failed", "malformed_json", "malformed JSON"),
        "asst_array": (b"[1, 2, 3]", "invalid", "schema_invalid", "$: expected object, got array"),
        "asst_string": (b'"asst_string"', "invalid", "schema_invalid", "$: expected object, got string"),
        "asst_wrong_types": (assistant("asst_wrong_types", created_at="yesterday", tools={"type": "function"},
                                       metadata=["a"], temperature="hot"),
                             "invalid", "schema_invalid", "created_at: expected integer, got string"),
        "asst_missing": ({"id": "asst_missing"}, "invalid", "schema_invalid", "object: required field is missing"),
        "asst_huge": (json.dumps(assistant("asst_huge", instructions="x" * TEN_MB)).encode(), "failed",
                      "response_too_large", "exceeds the 8,388,608-byte cap (max_response_bytes)"),
        "asst_instructions_max": (assistant("asst_instructions_max", instructions=at_limit), "ok", None, None),
        "asst_instructions_over": (assistant("asst_instructions_over", instructions=at_limit + "!"), "invalid",
                                   "schema_invalid", "instructions: 256001 characters, at most 256000 allowed"),
        "asst_tools_max": (assistant("asst_tools_max", tools=tools), "ok", None, None),
        "asst_tools_over": (assistant("asst_tools_over", tools=[*tools, function_tool("one_more")]), "invalid",
                            "schema_invalid", "tools: 129 items, at most 128 allowed"),
        "asst_nested_100": (body_with_parameters("asst_nested_100", nested_parameters_text(100)), "ok", None, None),
        "asst_depth_256": (nested_to_depth("asst_depth_256", settings.MAX_JSON_DEPTH), "ok", None, None),
        "asst_depth_257": (nested_to_depth("asst_depth_257", settings.MAX_JSON_DEPTH + 1), "invalid",
                           "schema_invalid", "nested deeper than 256 levels"),
        "asst_nested_400": (body_with_parameters("asst_nested_400", nested_parameters_text(400)), "invalid",
                            "schema_invalid", "nested deeper than 256 levels"),
        "asst_nested_50k": (b'{"id": "asst_nested_50k", "tools": ' + b"[" * 50_000 + b"]" * 50_000 + b"}",
                            "invalid", "schema_invalid", "nested too deeply to parse"),
        "asst_other_id": (assistant("asst_somebody_else"), "invalid", "schema_invalid", "not the ID asked for"),
    }


def test_bad_responses_end_in_one_row_each_and_the_rest_lands(env, capsys):
    cases = bad_responses()
    served = {i: body if isinstance(body, bytes) else json.dumps(body).encode() for i, (body, *_) in cases.items()}
    served |= {a["id"]: StaticCatalog(GOOD).get(a["id"]) for a in GOOD}
    with SandboxServer(StaticCatalog(served), api_key=KEY) as srv:
        assert snapshot(env, srv.base_url, "--max-attempts", "2", "--ids", ",".join([*cases, *GOOD_IDS])) == 0
        requests = dict(srv.stats.requests_by_id)
    errors = errors_by_id(env)
    landed = {r["assistant_id"]: r for r in duck(env, "SELECT * FROM assistants")}
    for assistant_id, (_, outcome, error_type, phrase) in cases.items():
        if outcome == "ok":
            assert assistant_id in landed and assistant_id not in errors
            continue
        row = errors[assistant_id]
        assert (row["outcome"], row["error_type"]) == (outcome, error_type), assistant_id
        assert phrase in row["message"], (assistant_id, row["message"])
        assert_one_line(row["message"])
        # Deterministic problems are not retried; a body that is not JSON is (a proxy may have mangled it).
        assert row["attempts"] == requests[assistant_id] == (2 if error_type == "malformed_json" else 1)
        if outcome == "invalid":
            assert row["body"].encode() == served[assistant_id]  # quarantined whole, as received
    assert errors["asst_huge"]["body"] is None  # refused before it was read
    assert len(landed["asst_instructions_max"]["instructions"]) == settings.MAX_INSTRUCTIONS_LENGTH
    assert landed["asst_tools_max"]["tool_count"] == settings.MAX_TOOLS
    deep = duck(env, "SELECT function_parameters FROM assistant_tools WHERE assistant_id = 'asst_nested_100'")
    assert json.loads(deep[0]["function_parameters"]) == json.loads(nested_parameters_text(100))
    assert_good_intact(env, served)
    history = duck(env, "SELECT count(*) AS n FROM assistant_history")
    assert history[0]["n"] == len(landed)  # the history step walked the deep parameters too


def test_multi_line_and_huge_server_messages_are_stored_on_one_bounded_line(env, capsys):
    def answer(path, credential):
        if path.startswith("/v1/assistants?"):
            return listing(minimal_assistant("asst_ok"))
        assistant_id = path.rsplit("/", 1)[-1]
        if assistant_id == "asst_multiline":
            return api_error(500, "upstream failed:\n  Traceback (most recent call last):\r\n  boom",
                             error_type="server_error\nretry later", headers=[("x-should-retry", "false")])
        if assistant_id == "asst_gone":
            return api_error(404, "No assistant found\nwith id 'asst_gone'.", error_type="invalid_request_error")
        if assistant_id == "asst_huge_message":
            return api_error(500, "x" * 100_000, headers=[("x-should-retry", "false")])
        return 200, minimal_assistant(assistant_id), ()

    with ScriptedServer(answer) as server:
        assert snapshot(env, server.base_url, "--ids", "asst_multiline,asst_gone,asst_huge_message,asst_ok") == 0
    errors = errors_by_id(env)
    assert errors["asst_multiline"]["message"] == "upstream failed: Traceback (most recent call last): boom"
    assert errors["asst_multiline"]["error_type"] == "server_error retry later"
    assert errors["asst_gone"]["outcome"] == "not_found"
    assert len(errors["asst_huge_message"]["message"]) == MESSAGE_LIMIT
    for row in errors.values():
        assert_one_line(row["message"])
    # The body keeps what the server said, as received.
    assert "\n" in json.loads(errors["asst_multiline"]["body"])["error"]["message"]
    assert [r["assistant_id"] for r in duck(env, "SELECT assistant_id FROM assistants")] == ["asst_ok"]

    def refuse(path, credential):
        return api_error(401, "Incorrect API key provided.\nSee the docs\n\nfor help", error_type="auth")

    capsys.readouterr()
    with ScriptedServer(refuse) as server:
        assert snapshot(env, server.base_url, "--ids", "asst_ok") == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Incorrect API key provided. See the docs for help" in err


# --- metadata ----------------------------------------------------------------------------------------

HOSTILE_METADATA = {
    "quote\"s and 'apostrophes'": "Robert'); DROP TABLE assistants; --",
    "'; DELETE FROM raw_assistants; --": "\"; DROP TABLE fetch_errors; --",
    "line\nbreak\r\nkey": "value\nwith\nnewlines\tand\ttabs",
    "emoji 🎉👩‍💻": "🚀 ünïcødé — 日本語 — \u200b zero width",
    "{table}": "{files} {snapshot_date} $1 $snapshot_date ? %s",
    "back\\slash": "C:\\path\\to\\file \\n not a newline",
    "json": '{"a": [1, 2, {"b": null}]}',
    "nul": "before\x00after",
    "": "an empty key",
    "empty value": "",
}


def test_hostile_metadata_is_stored_verbatim_and_never_executed(env):
    hostile = assistant("asst_hostile", metadata=HOSTILE_METADATA, name="'); DROP TABLE assistants; --",
                        instructions="SELECT * FROM fetch_errors; -- \"quoted\" \n 😀")
    catalog = StaticCatalog([*GOOD, hostile])
    with SandboxServer(catalog, api_key=KEY) as srv:
        assert snapshot(env, srv.base_url, "--ids", ",".join([*GOOD_IDS, "asst_hostile"])) == 0

    for metadata_rows in (duck(env, "SELECT key, value FROM assistant_metadata WHERE assistant_id = $id",
                               id="asst_hostile"),
                          read_arrow("assistant_metadata", warehouse=env, source="parquet").filter(
                              ds.field("assistant_id") == "asst_hostile").to_pylist()):
        assert {r["key"]: r["value"] for r in metadata_rows} == HOSTILE_METADATA
    row = duck(env, "SELECT name, instructions, metadata FROM assistants WHERE assistant_id = 'asst_hostile'")[0]
    assert (row["name"], row["instructions"]) == (hostile["name"], hostile["instructions"])
    assert dict(row["metadata"]) == HOSTILE_METADATA
    # A hostile key works as a bound parameter, like any other.
    hit = duck(env, "SELECT assistant_id FROM assistants WHERE metadata[$k] = $v",
               k="'; DELETE FROM raw_assistants; --", v="\"; DROP TABLE fetch_errors; --")
    assert hit == [{"assistant_id": "asst_hostile"}]
    # Nothing was executed: every table is there with every row.
    assert len(duck(env, "SELECT * FROM raw_assistants")) == len(GOOD) + 1
    assert duck(env, "SELECT count(*) AS n FROM fetch_errors") == [{"n": 0}]
    assert_good_intact(env, {a["id"]: catalog.get(a["id"]) for a in GOOD})
