"""The flattener's columns are compiled from the model: every column is declared there, and the column-wise read
keeps the answers a row-by-row reading gives (variants, row order, values no column can hold)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from assistants_export.connectors.core import assistant_model as model
from assistants_export.connectors.core.schemas import ASSISTANT_TOOL_RESOURCES, ASSISTANT_TOOLS, ASSISTANTS
from assistants_export.connectors.openai_assistants import flatten as flattening
from assistants_export.connectors.openai_assistants.flatten import RawAssistant, flatten

DATE = dt.date(2026, 12, 8)
FETCHED = dt.datetime(2026, 12, 8, 2, 0, tzinfo=dt.UTC)

COMPUTED = {
    ASSISTANTS.name: {"snapshot_date", "assistant_id", "snapshot_at", "tool_count", "extra_fields", "content_hash",
                      "raw_json"},
    ASSISTANT_TOOLS.name: {"snapshot_date", "assistant_id", "tool_index", "extra_fields"},
    ASSISTANT_TOOL_RESOURCES.name: {"snapshot_date", "assistant_id", "resource_type", "resource_id", "position",
                                    "vector_store_name"},
}
"""The columns that are not a declared field's value: keys, counts, positions, hashes and the kept extras."""


def _declared(plan: Any) -> set[str]:
    columns = {value.column for value in plan.values}
    for choice_column, sub in plan.subplans.items():
        columns |= {choice_column, *_declared(sub)}
    for rows in plan.rows:
        if rows.plan is not None:
            columns |= _declared(rows.plan)
    return columns


def test_every_column_not_computed_is_declared_in_the_model() -> None:
    resources = set()
    for rows in flattening._ASSISTANT_PLAN.rows:
        if rows.plan is not None:
            resources |= _declared(rows.plan)
            for nested in rows.plan.rows:
                assert nested.plan is not None
                resources |= _declared(nested.plan)
    assistants = _declared(flattening._ASSISTANT_PLAN) - resources
    for spec, declared in ((ASSISTANTS, assistants), (ASSISTANT_TOOLS, _declared(flattening._TOOL_PLAN)),
                           (ASSISTANT_TOOL_RESOURCES, resources)):
        assert declared | COMPUTED[spec.name] == set(spec.schema.names), spec.name
        assert not declared & COMPUTED[spec.name], spec.name


def _flat(*bodies: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    raws = [RawAssistant(b["id"], FETCHED, json.dumps(b)) for b in bodies]
    return {name: table.to_pylist() for name, table in flatten(DATE, raws).items()}


def _body(index: int, **fields: Any) -> dict[str, Any]:
    body = {"id": f"asst_{index}", "object": "assistant", "created_at": 1_700_000_000, "name": None,
            "description": None, "model": "gpt-4o", "instructions": None, "tools": [], "metadata": {},
            "tool_resources": None, "temperature": None, "top_p": None, "response_format": "auto"}
    body.update(fields)
    return body


def test_a_key_another_variant_declares_with_another_shape_is_an_unknown_field() -> None:
    odd = {"type": "some_future_tool", "function": [1, 2], "file_search": "x"}
    plain = {"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}
    tables = _flat(_body(1, tools=[plain, odd]), _body(2, tools=[plain]))
    tools = tables["assistant_tools"]
    assert [(t["assistant_id"], t["tool_index"], t["type"], t["function_name"]) for t in tools] == [
        ("asst_1", 0, "function", "f"), ("asst_1", 1, "some_future_tool", None), ("asst_2", 0, "function", "f")]
    assert json.loads(tools[1]["extra_fields"]) == {"function": [1, 2], "file_search": "x"}
    assert tools[0]["function_parameters"] == '{"type":"object"}'


def test_created_at_beyond_the_calendar_or_64_bits_is_null() -> None:
    tables = _flat(_body(1, created_at=10**20), _body(2, created_at=-10**12), _body(3, created_at=0))
    assert [a["created_at"] for a in tables["assistants"]] == [None, None, dt.datetime(1970, 1, 1, tzinfo=dt.UTC)]


def test_resource_rows_come_in_the_models_order_with_a_configurations_sources_after_it() -> None:
    resources = {
        "azure_ai_search": {"indexes": [{"index_asset_id": "asset-1", "index_name": "", "top_k": 5}]},
        "file_search": {"vector_stores": [{"name": "docs", "configuration": {"data_sources": [
            {"uri": "u1", "type": "uri_asset"}, {"uri": "u2", "type": "id_asset"}]}}], "vector_store_ids": ["vs_1"]},
        "code_interpreter": {"data_sources": [{"uri": "d1", "type": "uri_asset"}], "file_ids": ["f1", "f2"]},
    }
    rows = _flat(_body(1, tool_resources=resources), _body(2, tool_resources={
        "code_interpreter": {"file_ids": ["g1"]}}))["assistant_tool_resources"]
    assert [(r["assistant_id"], r["resource_type"], r["resource_id"], r["position"], r["asset_type"],
             r["vector_store_name"]) for r in rows] == [
        ("asst_1", model.RESOURCE_FILE, "f1", 0, None, None),
        ("asst_1", model.RESOURCE_FILE, "f2", 1, None, None),
        ("asst_1", model.RESOURCE_VECTOR_STORE, "vs_1", 0, None, None),
        ("asst_1", model.RESOURCE_DATA_SOURCE, "d1", 0, "uri_asset", None),
        ("asst_1", model.RESOURCE_STORE_CONFIG, "docs", 0, None, None),
        ("asst_1", model.RESOURCE_STORE_DATA_SOURCE, "u1", 0, "uri_asset", "docs"),
        ("asst_1", model.RESOURCE_STORE_DATA_SOURCE, "u2", 1, "id_asset", "docs"),
        ("asst_1", model.RESOURCE_SEARCH_INDEX, "asset-1", 0, None, None),
        ("asst_2", model.RESOURCE_FILE, "g1", 0, None, None),
    ]
    assert rows[7]["top_k"] == 5 and rows[7]["index_name"] == ""


def test_metadata_rows_and_the_map_agree_and_a_null_map_has_no_rows() -> None:
    tables = _flat(_body(1, metadata={"a": "1", "b": "2"}), _body(2, metadata=None), _body(3, metadata={"c": "3"}))
    assert [(m["assistant_id"], m["key"], m["value"]) for m in tables["assistant_metadata"]] == [
        ("asst_1", "a", "1"), ("asst_1", "b", "2"), ("asst_3", "c", "3")]
    assert [a["metadata"] for a in tables["assistants"]] == [[("a", "1"), ("b", "2")], None, [("c", "3")]]
