"""The SQL view ``responses_migration`` is the Python mapping, answer for answer.

The mapping exists once, in Python: the view reads the ``responses_mappings`` rows that
:func:`~assistants_export.connectors.migration.stored.mapping_rows` stores for each payload. Here the view's
statement runs over a ``current_assistants`` holding the payloads under test (the only columns it reads are
source, snapshot_date, assistant_id and content_hash) and a ``responses_mappings`` holding what the fetch stores
for them, and its rows must equal ``to_responses_request`` of the same payloads: on every sandbox assistant, on a
body that raises each warning, and on generated assistants (what is stored and read back is what the function
said). The warehouse end of it (the view over a real warehouse equals the command) is in test_migrate_cli.py.
"""

import datetime as dt
import json
import re

import duckdb
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from schema_strategies import from_schema

from assistants_export.connectors.core.hashing import content_hash
from assistants_export.connectors.core.schemas import RESPONSES_MAPPINGS
from assistants_export.connectors.migration.responses import (
    MAPPING_VERSION,
    WARNING_CODES,
    to_responses_request,
)
from assistants_export.connectors.migration.stored import mapping_rows
from assistants_export.connectors.openai_assistants.schema import load_assistant_schema
from assistants_export.connectors.warehouse.duckdb_store import DuckDBStore
from assistants_export.connectors.warehouse.views import get_view
from assistants_export.sandbox import bundled_assistants

DATE = dt.date(2026, 11, 20)
VIEW = get_view("responses_migration").statement


@pytest.fixture(scope="module")
def con(tmp_path_factory):
    connection = duckdb.connect(":memory:")
    connection.execute("CREATE TABLE current_assistants (source VARCHAR, snapshot_date DATE, assistant_id VARCHAR, "
                       "content_hash VARCHAR)")
    DuckDBStore(tmp_path_factory.mktemp("unused")).ensure_tables(connection, [RESPONSES_MAPPINGS])  # the real DDL
    connection.execute(VIEW)
    yield connection
    connection.close()


def store(con, bodies, *, source="default"):
    """The payloads as a fetch stores them: their members in ``current_assistants``, their mappings."""
    con.execute("DELETE FROM current_assistants")
    con.execute("DELETE FROM responses_mappings")
    hashes = [content_hash(body) for body in bodies]
    con.executemany("INSERT INTO current_assistants VALUES (?, ?, ?, ?)",
                    [(source, DATE, body["id"], digest) for body, digest in zip(bodies, hashes, strict=True)])
    payloads = pa.table({"content_hash": hashes, "raw_json": [json.dumps(body, ensure_ascii=False) for body in bodies]})
    mappings = mapping_rows(DATE, payloads)
    con.register("mappings", mappings.add_column(0, "source", pa.array([source] * mappings.num_rows, pa.string())))
    con.execute("INSERT INTO responses_mappings BY NAME SELECT * FROM mappings")
    con.unregister("mappings")


def through_view(con, bodies):
    store(con, bodies)
    rows = con.sql("SELECT * FROM responses_migration").to_arrow_table().to_pylist()
    return [{"assistant_id": r["assistant_id"], "name": r["name"], "description": r["description"],
             "created_at": r["created_at"], "request": json.loads(r["request"]), "warnings": json.loads(r["warnings"])}
            for r in rows]


def through_python(bodies):
    return [to_responses_request(body).as_line() for body in sorted(bodies, key=lambda b: b["id"])]


def body(n, **fields):
    out = {"id": f"asst_view{n:03}", "object": "assistant", "created_at": 1_700_000_000 + n, "name": f"A{n}",
           "description": None, "model": "gpt-4o", "instructions": None, "tools": [], "metadata": {},
           "temperature": None, "top_p": None}
    out.update(fields)
    return out


EVERY_WARNING = [
    body(1, tools=[{"type": "file_search", "file_search": {"max_num_results": 3}}]),
    body(2, tools=[{"type": "file_search", "file_search": {"ranking_options": {"ranker": "default_2024_08_21",
                                                                               "score_threshold": 0.25}}}],
         tool_resources={"file_search": {"vector_store_ids": ["vs_1"]}}),
    body(3, model="o1-mini", temperature=0.5, top_p=0.25, reasoning_effort="high"),
    body(4, model="gpt-4.1", reasoning_effort="low", temperature=1.5),
    body(5, model="o3", reasoning_effort="extreme"),
    body(6, response_format={"type": "json_schema", "json_schema": {"name": "x", "description": "d"}}),
    body(7, metadata={f"k{i}": str(i) for i in range(16)}),
    body(8, metadata={"source_assistant_id": "asst_other"}),
    body(9, tools=[{"type": "retrieval"}, {"type": "code_interpreter"},
                   {"type": "function", "function": {"name": "f", "parameters": {"type": "object", "default": None}}}],
         tool_resources={"code_interpreter": {"file_ids": ["file-1"]}}),
    body(10, response_format={"type": "json_object"}, instructions="", metadata=None, tool_resources=None),
    body(11, metadata={f"k{i}": str(i) for i in range(15)}, model="o3", temperature=1, top_p=1.0),
    body(12, metadata={"source_assistant_id": "asst_view012"}, response_format={"type": "text"}),
    body(13, tools=[  # Foundry's tools
        {"type": "bing_grounding", "bing_grounding": {"search_configurations": [{"connection_id": "c/bing"}]}},
        {"type": "azure_ai_search"},
        {"type": "connected_agent", "connected_agent": {"id": "asst_helper", "name": "helper", "description": "d"}},
        {"type": "openapi", "openapi": {"name": "weather", "spec": {"openapi": "3.0.1"},
                                        "auth": {"type": "anonymous"}}},
        {"type": "azure_function", "azure_function": {
            "function": {"name": "convert", "parameters": {"type": "object"}},
            "input_binding": {"type": "storage_queue", "storage_queue": {"queue_service_endpoint": "https://q",
                                                                         "queue_name": "in"}},
            "output_binding": {"type": "storage_queue", "storage_queue": {"queue_service_endpoint": "https://q",
                                                                          "queue_name": "out"}}}},
    ], tool_resources={"azure_ai_search": {"indexes": [{"index_name": "docs"}]}}),
]


def test_the_view_equals_the_python_mapping_on_every_sandbox_assistant(con):
    fixtures = bundled_assistants()
    assert through_view(con, fixtures) == through_python(fixtures)


def test_the_view_equals_the_python_mapping_on_every_warning(con):
    expected = through_python(EVERY_WARNING)
    assert {w["code"] for line in expected for w in line["warnings"]} == set(WARNING_CODES)
    assert through_view(con, EVERY_WARNING) == expected


def test_the_view_maps_nothing_itself():
    """The rules live in responses.py only: the view holds no model pattern, no warning code, no field of a tool."""
    statement = re.sub(r"--[^\n]*", "", VIEW)
    assert not any(code in statement for code in WARNING_CODES)
    assert not re.search(r"regexp|json_extract|file_search|o4", statement), statement


def test_a_payload_stored_twice_is_one_row_of_the_newest_mapping_version(con):
    payload = EVERY_WARNING[0]
    store(con, [payload])
    con.execute("INSERT INTO responses_mappings SELECT 'eu', snapshot_date - 1, content_hash, mapping_version - 1, "
                "'stale', NULL, NULL, '{}', '[]' FROM responses_mappings")
    con.execute("INSERT INTO responses_mappings SELECT 'eu', snapshot_date + 1, content_hash, mapping_version, "
                "'later copy', NULL, NULL, '{}', '[]' FROM responses_mappings WHERE source = 'default'")
    rows = con.sql("SELECT name, request FROM responses_migration").fetchall()
    assert len(rows) == 1 and rows[0][0] == payload["name"] and json.loads(rows[0][1]) == through_python(
        [payload])[0]["request"]
    assert {v for (v,) in con.sql("SELECT mapping_version FROM responses_mappings").fetchall()} == {
        MAPPING_VERSION, MAPPING_VERSION - 1}


def test_a_payload_without_a_stored_mapping_is_a_row_with_a_null_request(con):
    store(con, EVERY_WARNING[:2])
    con.execute("DELETE FROM responses_mappings WHERE name = 'A1'")
    rows = con.sql("SELECT assistant_id, request FROM responses_migration").fetchall()
    assert [(aid, request is None) for aid, request in rows] == [("asst_view001", True), ("asst_view002", False)]


def generation_schema():
    """The Assistant schema with created_at in BIGINT range, and reasoning_effort and reasoning models drawn too."""
    schema = load_assistant_schema()
    schema["properties"]["created_at"].update(minimum=0, maximum=4_102_444_800)
    schema["properties"]["reasoning_effort"] = {"anyOf": [{"type": "null"}, {"type": "string", "enum": [
        "minimal", "low", "high", "turbo"]}]}
    schema["properties"]["model"] = {"anyOf": [{"type": "string"}, {"enum": ["o3-mini", "gpt-5.1", "gpt-4o"]}]}
    return schema


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                                                   HealthCheck.function_scoped_fixture])
@given(from_schema(generation_schema()))
def test_the_view_equals_the_python_mapping_on_generated_assistants(con, payload):
    payload["id"] = "asst_generated"
    assert through_view(con, [payload]) == through_python([payload])


def test_the_view_equals_the_python_mapping_on_a_foundry_catalogue(con):
    from assistants_export.sandbox.foundry import FoundryCatalog

    catalog = FoundryCatalog(40, seed=5)
    agents = [catalog.build(i) for i in range(len(catalog))]
    assert through_view(con, agents) == through_python(agents)
    codes = {w["code"] for line in through_python(agents) for w in line["warnings"]}
    assert {"azure_function_queues_dropped", "bing_grounding_unsupported", "azure_ai_search_unsupported",
            "connected_agent_unsupported", "openapi_unsupported", "tool_unsupported"} <= codes
