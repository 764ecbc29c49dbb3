"""Flattening loses nothing: every field of a valid object can be rebuilt from the columns alone."""

import datetime as dt
import json
from collections import defaultdict

from hypothesis import HealthCheck, given, settings
from schema_strategies import from_schema

from connectors.openai_assistants.flatten import RawAssistant, flatten
from connectors.openai_assistants.hashing import canonical_json, content_hash, normalize_numbers
from connectors.openai_assistants.schema import load_assistant_schema
from connectors.openai_assistants.schemas import ALL_TABLES
from connectors.openai_assistants.validation import validate_assistant

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


def _put_extras(target, extras_json):
    _merge(target, json.loads(extras_json or "{}"))


def _merge(target, extras):
    for key, value in extras.items():
        if isinstance(target.get(key), dict) and isinstance(value, dict):
            _merge(target[key], value)
        elif key in target and target[key] is None and isinstance(value, dict):
            target[key] = value
        else:
            target[key] = value


def rebuild(tables, assistant_id):
    """An assistant object from its rows in the four derived tables, ignoring raw_json."""
    row = next(r for r in tables["assistants"] if r["assistant_id"] == assistant_id)
    out = {
        "id": row["assistant_id"], "object": row["object"],
        "created_at": int(row["created_at"].timestamp()), "name": row["name"],
        "description": row["description"], "model": row["model"], "instructions": row["instructions"],
        "temperature": row["temperature"], "top_p": row["top_p"],
        "metadata": None if row["metadata"] is None else dict(row["metadata"]),
    }
    tools = sorted((t for t in tables["assistant_tools"] if t["assistant_id"] == assistant_id),
                   key=lambda t: t["tool_index"])
    out["tools"] = [_rebuild_tool(t) for t in tools]
    assert row["tool_count"] == len(tools)
    resources = {}
    if row["code_interpreter_file_ids"] is not None:
        resources["code_interpreter"] = {"file_ids": row["code_interpreter_file_ids"]}
    if row["file_search_vector_store_ids"] is not None:
        resources["file_search"] = {"vector_store_ids": row["file_search_vector_store_ids"]}
    out["tool_resources"] = resources or None
    rf_type = row["response_format_type"]
    if rf_type in (None, "auto"):
        out["response_format"] = rf_type
    else:
        out["response_format"] = {"type": rf_type}
        if rf_type == "json_schema":
            js = {"name": row["response_format_json_schema_name"],
                  "description": row["response_format_json_schema_description"],
                  "strict": row["response_format_json_schema_strict"]}
            if row["response_format_json_schema"] is not None:
                js["schema"] = json.loads(row["response_format_json_schema"])
            out["response_format"]["json_schema"] = js
    _put_extras(out, row["extra_fields"])
    rows_by_type = defaultdict(list)
    for r in tables["assistant_tool_resources"]:
        if r["assistant_id"] == assistant_id:
            rows_by_type[r["resource_type"]].append(r)
    for kind, column in (("code_interpreter_file", "code_interpreter_file_ids"),
                         ("file_search_vector_store", "file_search_vector_store_ids")):
        listed = [r["resource_id"] for r in sorted(rows_by_type[kind], key=lambda r: r["position"])]
        assert listed == (row[column] or [])
    metadata_rows = {r["key"]: r["value"] for r in tables["assistant_metadata"] if r["assistant_id"] == assistant_id}
    assert metadata_rows == (out["metadata"] or {})
    return out


def _rebuild_tool(t):
    tool = {"type": t["type"]}
    if t["type"] == "function":
        function = {"name": t["function_name"], "description": t["function_description"],
                    "strict": t["function_strict"]}
        if t["function_parameters"] is not None:
            function["parameters"] = json.loads(t["function_parameters"])
        tool["function"] = function
    elif t["type"] == "file_search":
        overrides = {}
        if t["file_search_max_num_results"] is not None:
            overrides["max_num_results"] = t["file_search_max_num_results"]
        if t["file_search_score_threshold"] is not None:
            overrides["ranking_options"] = {"score_threshold": t["file_search_score_threshold"],
                                            "ranker": t["file_search_ranker"]}
        tool["file_search"] = overrides
    _put_extras(tool, t["extra_fields"])
    return tool


def expected(payload):
    """What the columns promise to keep: absent and null are one, as are {} and missing sub-objects."""
    p = normalize_numbers(payload)
    out = {k: p.get(k) for k in ("id", "object", "created_at", "name", "description", "model", "instructions",
                                 "temperature", "top_p", "metadata", "response_format")}
    out["tools"] = [_expected_tool(t) for t in p["tools"]]
    resources = {}
    for kind, key in (("code_interpreter", "file_ids"), ("file_search", "vector_store_ids")):
        sub = (p.get("tool_resources") or {}).get(kind)
        if isinstance(sub, dict) and key in sub:
            resources[kind] = {key: sub[key]}
        if isinstance(sub, dict):
            for extra, value in sub.items():
                if extra != key:
                    resources.setdefault(kind, {})[extra] = value
    for extra, value in (p.get("tool_resources") or {}).items():
        if extra not in ("code_interpreter", "file_search"):
            resources[extra] = value
    out["tool_resources"] = resources or None
    rf = out["response_format"]
    if isinstance(rf, dict) and rf.get("type") == "json_schema":
        js = rf["json_schema"]
        rf["json_schema"] = {**js, "description": js.get("description"), "strict": js.get("strict")}
    for key, value in p.items():
        if key not in out:
            out[key] = value
    return out


def _expected_tool(tool):
    tool = dict(tool)
    if tool["type"] == "function":
        f = tool["function"]
        tool["function"] = {**f, "description": f.get("description"), "strict": f.get("strict")}
    elif tool["type"] == "file_search":
        overrides = dict(tool.get("file_search") or {})
        if "ranking_options" in overrides:
            ranking = overrides["ranking_options"]
            overrides["ranking_options"] = {**ranking, "ranker": ranking.get("ranker")}
        tool["file_search"] = overrides
    return tool


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
