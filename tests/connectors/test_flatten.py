"""Flattening loses nothing: every field of a valid object can be rebuilt from the columns alone."""

import datetime as dt
import hashlib
import json

from assistant_rebuild import expected, rebuild
from hypothesis import HealthCheck, given, settings
from schema_strategies import from_schema

from assistants_export.connectors.core.hashing import canonical_json, content_hash
from assistants_export.connectors.core.schemas import ALL_TABLES
from assistants_export.connectors.openai_assistants.flatten import RawAssistant, flatten
from assistants_export.connectors.openai_assistants.schema import load_assistant_schema
from assistants_export.connectors.openai_assistants.validation import validate_assistant

DATE = dt.date(2026, 11, 21)
FETCHED = dt.datetime(2026, 11, 21, 2, 0, tzinfo=dt.UTC)


def generation_schema():
    """The API schema, with created_at kept to real Unix times (years 1970-2100) for the timestamp column."""
    schema = load_assistant_schema()
    schema["properties"]["created_at"].update(minimum=0, maximum=4_102_444_800)
    return schema


def flat(payloads):
    raws = [RawAssistant(p["id"], FETCHED, json.dumps(p, ensure_ascii=False)) for p in payloads]
    return {name: table.to_pylist() for name, table in flatten(DATE, raws).items()}


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(from_schema(generation_schema()))
def test_every_field_of_a_valid_object_lands_in_a_column(payload):
    assert validate_assistant(payload) == []
    payload["id"] = "asst_generated"
    tables = flat([payload])
    assert rebuild(tables, "asst_generated") == expected(payload)
    row = tables["assistants"][0]
    assert row["content_hash"] == content_hash(payload)
    assert json.loads(row["raw_json"]) == payload


def full_assistant(**fields):
    body = {
        "id": "asst_full", "object": "assistant", "created_at": 1_700_000_000, "name": "Support",
        "description": None, "model": "gpt-4o", "instructions": "Be kind.",
        "tools": [
            {"type": "code_interpreter"},
            {"type": "file_search", "file_search": {"max_num_results": 7,
                                                    "ranking_options": {"ranker": "auto", "score_threshold": 0.4}}},
            {"type": "function", "function": {"name": "lookup", "description": "Find an order",
                                              "parameters": {"type": "object", "properties": {"id": {"type": "string"}},
                                                             "required": ["id"]},
                                              "strict": True}},
        ],
        "tool_resources": {"code_interpreter": {"file_ids": ["file-a", "file-b"]},
                           "file_search": {"vector_store_ids": ["vs_1"]}},
        "metadata": {"team": "care", "quote": "it's \"fine\"; DROP TABLE x; --\n🙂"},
        "temperature": 0.2, "top_p": 1.0,
        "response_format": {"type": "json_schema", "json_schema": {"name": "answer", "strict": True,
                                                                   "schema": {"type": "object"}}},
    }
    body.update(fields)
    return body


def test_columns_hold_each_field_exactly():
    tables = flat([full_assistant()])
    row = tables["assistants"][0]
    assert row["created_at"] == dt.datetime(2023, 11, 14, 22, 13, 20, tzinfo=dt.UTC)
    assert (row["tool_count"], row["response_format_type"], row["response_format_json_schema_name"]) == (
        3, "json_schema", "answer")
    assert row["response_format_json_schema"] == '{"type":"object"}'
    assert dict(row["metadata"])["quote"] == "it's \"fine\"; DROP TABLE x; --\n🙂"
    tools = tables["assistant_tools"]
    assert [t["type"] for t in tools] == ["code_interpreter", "file_search", "function"]
    assert (tools[1]["file_search_max_num_results"], tools[1]["file_search_ranker"],
            tools[1]["file_search_score_threshold"]) == (7, "auto", 0.4)
    assert tools[2]["function_parameters"] == canonical_json(full_assistant()["tools"][2]["function"]["parameters"])
    assert [(r["resource_type"], r["resource_id"], r["position"]) for r in tables["assistant_tool_resources"]] == [
        ("code_interpreter_file", "file-a", 0), ("code_interpreter_file", "file-b", 1),
        ("file_search_vector_store", "vs_1", 0)]


def test_response_format_variants():
    variants = {"auto": "auto", None: None, "text": {"type": "text"}, "json_object": {"type": "json_object"}}
    for expected_type, value in variants.items():
        row = flat([full_assistant(response_format=value)])["assistants"][0]
        assert row["response_format_type"] == expected_type
    body = full_assistant()
    del body["response_format"]
    assert flat([body])["assistants"][0]["response_format_type"] is None


def test_unknown_fields_are_kept_by_path():
    body = full_assistant(reasoning_effort="low")
    body["tools"][2]["function"]["x_new"] = [1]
    tables = flat([body])
    body["response_format"]["json_schema"]["a.b"] = 2
    tables = flat([body])
    assert json.loads(tables["assistants"][0]["extra_fields"]) == {
        "reasoning_effort": "low", "response_format": {"json_schema": {"a.b": 2}}}
    assert json.loads(tables["assistant_tools"][2]["extra_fields"]) == {"function": {"x_new": [1]}}


def test_a_timestamp_beyond_year_9999_is_null_but_kept_in_raw_json():
    row = flat([full_assistant(created_at=10**15)])["assistants"][0]
    assert row["created_at"] is None and json.loads(row["raw_json"])["created_at"] == 10**15


def test_content_hash_ignores_key_order_and_integral_floats_but_not_tool_order():
    a = full_assistant()
    b = json.loads(json.dumps(a))
    b["metadata"] = dict(reversed(list(b["metadata"].items())))
    b["temperature"], b["created_at"] = 0.2, 1_700_000_000.0
    assert content_hash(a) == content_hash(b)
    c = full_assistant(tools=list(reversed(a["tools"])))
    assert content_hash(a) != content_hash(c)


def test_an_empty_batch_has_every_column():
    for name, table in flatten(DATE, []).items():
        assert table.num_rows == 0 and table.schema.equals(ALL_TABLES[name].schema)


PINNED = [
    # (payload, its canonical JSON written out by hand: keys sorted, no spaces, UTF-8 kept, 1.0 written as 1)
    ({"id": "asst_pin", "object": "assistant", "created_at": 1_700_000_000, "name": "Café 🙂", "description": None,
      "model": "gpt-4o", "instructions": 'Say "hi"\n', "tools": [{"type": "file_search"}, {"type": "code_interpreter"}],
      "metadata": {"z": "1", "a": "2"}, "temperature": 1.0, "top_p": 0.5, "response_format": "auto"},
     r'{"created_at":1700000000,"description":null,"id":"asst_pin","instructions":"Say \"hi\"\n",'
     r'"metadata":{"a":"2","z":"1"},"model":"gpt-4o","name":"Café 🙂","object":"assistant",'
     r'"response_format":"auto","temperature":1,"tools":[{"type":"file_search"},{"type":"code_interpreter"}],'
     r'"top_p":0.5}'),
    ({"b": [1.5, 2.0, {"y": None, "x": True}], "a": "é"}, '{"a":"é","b":[1.5,2,{"x":true,"y":null}]}'),
]


def test_content_hash_is_sha256_of_a_canonical_form_written_independently():
    """Expected hashes come from hand-written canonical text and hashlib, not from the code under test."""
    for payload, canonical in PINNED:
        pinned = hashlib.sha256(canonical.encode("utf-8")).hexdigest()
        assert canonical_json(payload) == canonical
        assert content_hash(payload) == pinned
    payload, canonical = PINNED[0]
    row = flat([payload])["assistants"][0]  # the flatten step's fast path, from the JSON text
    assert row["content_hash"] == hashlib.sha256(canonical.encode("utf-8")).hexdigest()
