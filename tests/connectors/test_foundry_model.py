"""The ``foundry`` dialect of the one model: it agrees with the vendored slice of Foundry's Agent schema, and a
generated Foundry catalogue with every tool type validates, flattens, diffs and round-trips."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from assistant_rebuild import expected, rebuild

from assistants_export.connectors.core import assistant_model as model
from assistants_export.connectors.core.hashing import canonical_json
from assistants_export.connectors.history.changes import diff
from assistants_export.connectors.openai_assistants.flatten import RawAssistant, flatten
from assistants_export.connectors.openai_assistants.schema import load_foundry_slice
from assistants_export.connectors.openai_assistants.validation import unknown_fields, validate_assistant
from assistants_export.sandbox.foundry import FOUNDRY_TOOL_TYPES, FUTURE_TOOL_TYPE, FoundryCatalog

SLICE = load_foundry_slice()
_MISSING = object()
DEFINITIONS: dict[str, Any] = SLICE["definitions"]


def _resolve(prop: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in prop:
        prop = DEFINITIONS[prop["$ref"].rsplit("/", 1)[1]]
    return prop


def _agree(definition: dict[str, Any], node: model.Object, where: str) -> None:
    """``node`` declares exactly the slice definition's properties, required as it says, with its limits."""
    properties = definition.get("properties", {})
    declared = {f.name: f for f in node.fields}
    assert set(declared) - {"type", "strict"} == set(properties) - {"type"}, where
    assert {f.name for f in node.fields if f.required} - {"type"} == set(definition.get("required", [])) - {"type"}, \
        where
    for name, prop in properties.items():
        if name == "type" and "type" not in declared:
            continue
        field = declared[name]
        target = _resolve(prop)
        where_now = f"{where}.{name}"
        assert field.nullable == bool(prop.get("x-nullable")), where_now
        node_ = field.node
        if "enum" in target:
            assert isinstance(node_, model.Choice) and node_.values == frozenset(target["enum"]), where_now
        elif target.get("type") == "array":
            assert isinstance(node_, model.TextList | model.Records | model.Items), where_now
            assert node_.max_items == target.get("maxItems"), where_now
            if isinstance(node_, model.Records):
                _agree(_resolve(target["items"]), node_.of, where_now)
        elif target.get("type") in ("integer", "number"):
            assert isinstance(node_, model.Number), where_now
            assert node_.integer == (target["type"] == "integer"), where_now
            assert (node_.minimum, node_.maximum) == (target.get("minimum"), target.get("maximum")), where_now
        elif target.get("type") == "string":
            assert isinstance(node_, model.Text), where_now
        elif isinstance(node_, model.Object) and "discriminator" not in target:
            _agree(target, node_, where_now)


def _variants(base: str) -> dict[str, dict[str, Any]]:
    return {d["x-ms-discriminator-value"]: d for d in DEFINITIONS.values()
            if {"$ref": f"#/definitions/{base}"} in d.get("allOf", [])}


def test_the_model_declares_what_the_slice_declares() -> None:
    tools = _variants("ToolDefinition")
    assert set(tools) == set(model.FOUNDRY_TOOL_TYPES) == {"code_interpreter", "file_search", "function",
                                                           *FOUNDRY_TOOL_TYPES}
    assert model.FOUNDRY_TOOL.open and DEFINITIONS["ToolDefinition"]["discriminator"] == "type"
    for kind, definition in tools.items():
        _agree(definition, model.FOUNDRY_TOOL.variants[kind], f"tools[{kind}]")
    auth = _variants("OpenApiAuthDetails")
    assert set(auth) == set(model.OPENAPI_AUTH.variants) == set(DEFINITIONS["OpenApiAuthType"]["enum"])
    for kind, definition in auth.items():
        _agree(definition, model.OPENAPI_AUTH.variants[kind], f"auth[{kind}]")
    _agree(DEFINITIONS["ToolResources"], model.FOUNDRY_TOOL_RESOURCES, "tool_resources")
    agent = DEFINITIONS["Agent"]
    assert {f.name for f in model.FOUNDRY_AGENT.fields if f.required} == set(agent["required"])
    assert {f.name for f in model.FOUNDRY_AGENT.fields} == set(agent["properties"])
    assert {f.name for f in model.FOUNDRY_AGENT.fields if f.nullable} == {
        name for name, prop in agent["properties"].items() if prop.get("x-nullable")}


def test_the_slice_names_its_source_and_licence() -> None:
    source = SLICE["x-source"]
    assert source["repository"] == "https://github.com/Azure/azure-rest-api-specs"
    assert len(source["commit"]) == 40 and source["path"].endswith("azure-ai-agents.json")
    from importlib import resources
    licence = resources.files("assistants_export.connectors.openai_assistants.schema").joinpath(
        "LICENSE-azure-rest-api-specs").read_text()
    assert "MIT License" in licence and "Microsoft Corporation" in licence


CATALOGUE = FoundryCatalog(60, seed=3)
AGENTS = [CATALOGUE.build(i) for i in range(len(CATALOGUE))]


def test_the_catalogue_has_every_tool_and_resource_type() -> None:
    types = {tool["type"] for agent in AGENTS for tool in agent["tools"]}
    assert types == {*model.FOUNDRY_TOOL_TYPES, FUTURE_TOOL_TYPE}
    resources = [agent["tool_resources"] or {} for agent in AGENTS]
    assert any(r.get("azure_ai_search") for r in resources)
    assert any((r.get("code_interpreter") or {}).get("data_sources") for r in resources)
    assert any((r.get("file_search") or {}).get("vector_stores") for r in resources)


def test_every_catalogue_agent_is_valid_foundry_and_fully_declared_but_not_openai() -> None:
    for agent in AGENTS:
        assert validate_assistant(agent, "foundry") == []
        unknown = unknown_fields(agent, "foundry")
        future = [i for i, tool in enumerate(agent["tools"]) if tool["type"] == FUTURE_TOOL_TYPE]
        assert unknown == [f"tools[{i}].{FUTURE_TOOL_TYPE}" for i in future]
    foundry_only = next(a for a in AGENTS if any(t["type"] == "bing_grounding" for t in a["tools"]))
    assert any("tools[" in problem and ".type: expected one of" in problem
               for problem in validate_assistant(foundry_only, "openai"))


@pytest.mark.parametrize(("path", "value", "problem"), [
    (("tools", 0), {"type": "bing_grounding", "bing_grounding": {"search_configurations": [
        {"connection_id": "a"}, {"connection_id": "b"}]}},
     "tools[0].bing_grounding.search_configurations: 2 items, at most 1 allowed"),
    (("tools", 0), {"type": "connected_agent", "connected_agent": {"id": "asst_1", "name": "x"}},
     "tools[0].connected_agent.description: required field is missing"),
    (("tools", 0), {"type": "openapi", "openapi": {"name": "w", "spec": {}, "auth": {"type": "oauth"}}},
     'tools[0].openapi.auth.type: expected one of "anonymous", "connection", "managed_identity", got "oauth"'),
    (("tools", 0), {"type": 7}, "tools[0].type: expected string, got integer"),
    (("tool_resources",), {"azure_ai_search": {"indexes": [{"query_type": "fuzzy"}]}},
     'tool_resources.azure_ai_search.indexes[0].query_type: expected one of "semantic", "simple", "vector", '
     '"vector_semantic_hybrid", "vector_simple_hybrid", got "fuzzy"'),
    (("tool_resources",), {"code_interpreter": {"data_sources": [{"uri": "x", "type": "blob"}]}},
     'tool_resources.code_interpreter.data_sources[0].type: expected one of "id_asset", "uri_asset", got "blob"'),
    (("top_p",), _MISSING, "top_p: required field is missing"),
])
def test_foundry_problems_say_where_and_what(path: tuple[Any, ...], value: Any, problem: str) -> None:
    agent = json.loads(json.dumps(AGENTS[5]))
    target = agent
    for key in path[:-1]:
        target = target[key]
    if value is _MISSING:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    assert problem in validate_assistant(agent, "foundry")


def test_a_future_tool_type_is_valid_and_lands_as_a_typed_row_with_its_json_kept() -> None:
    agent = {**AGENTS[1], "tools": [{"type": "fabric_dataagent", "fabric_dataagent": {"connections": [
        {"connection_id": "c1"}]}}]}
    assert validate_assistant(agent, "foundry") == []
    tables = flatten(dt.date(2026, 1, 5), [RawAssistant(agent["id"], dt.datetime(2026, 1, 5, tzinfo=dt.UTC),
                                                        json.dumps(agent))])
    (row,) = tables["assistant_tools"].to_pylist()
    assert row["type"] == "fabric_dataagent"
    assert json.loads(row["extra_fields"]) == {"fabric_dataagent": {"connections": [{"connection_id": "c1"}]}}


def _flat() -> dict[str, list[dict[str, Any]]]:
    fetched = dt.datetime(2026, 1, 5, tzinfo=dt.UTC)
    raws = [RawAssistant(agent["id"], fetched, json.dumps(agent)) for agent in AGENTS]
    return {name: table.to_pylist() for name, table in flatten(dt.date(2026, 1, 5), raws).items()}


def test_every_catalogue_agent_round_trips_through_the_tables() -> None:
    tables = _flat()
    for agent in AGENTS:
        assert canonical_json(rebuild(tables, agent["id"])) == canonical_json(expected(agent)), agent["id"]


def test_foundry_columns_hold_each_field() -> None:
    tables = _flat()
    tools = tables["assistant_tools"]
    for kind, column in (("bing_grounding", "bing_connection_id"), ("openapi", "openapi_auth_type"),
                         ("connected_agent", "connected_agent_id"),
                         ("azure_function", "azure_function_input_queue_name")):
        rows = [t for t in tools if t["type"] == kind]
        assert rows and all(t[column] is not None for t in rows), kind
        assert all(t[column] is None for t in tools if t["type"] != kind), kind
    azure = next(t for t in tools if t["type"] == "azure_function")
    assert azure["function_name"] == "convert_currency"
    assert {t["openapi_auth_type"] for t in tools if t["type"] == "openapi"} == {"anonymous", "connection",
                                                                                  "managed_identity"}
    kinds = {r["resource_type"] for r in tables["assistant_tool_resources"]}
    assert {"azure_ai_search_index", "code_interpreter_data_source", "file_search_vector_store_config",
            "file_search_data_source"} <= kinds
    connected = {t["connected_agent_id"] for t in tools if t["type"] == "connected_agent"}
    assert connected <= {agent["id"] for agent in AGENTS}


def test_foundry_changes_are_diffed_field_by_field() -> None:
    before = next(a for a in AGENTS if any(t["type"] == "openapi" for t in a["tools"])
                  and (a["tool_resources"] or {}).get("azure_ai_search"))
    after = json.loads(json.dumps(before))
    openapi = next(t for t in after["tools"] if t["type"] == "openapi")
    openapi["openapi"]["auth"] = {"type": "managed_identity", "security_scheme": {"audience": "api://new"}}
    openapi["openapi"]["spec"]["info"]["version"] = "2.0"
    after["tool_resources"]["azure_ai_search"]["indexes"][0]["top_k"] = 42
    at = next(i for i, t in enumerate(after["tools"]) if t["type"] == "openapi")
    changes = {change.path: change for change in diff(before, after)}
    assert set(changes) == {f"tools[{at}].openapi.spec", f"tools[{at}].openapi.auth.type",  # the spec: one value
                            f"tools[{at}].openapi.auth.security_scheme", "tool_resources.azure_ai_search.indexes"}
    assert changes[f"tools[{at}].openapi.auth.type"].new == '"managed_identity"'
    assert '"top_k":42' in (changes["tool_resources.azure_ai_search.indexes"].new or "")


def test_connected_agents_are_told_apart_by_the_agent_they_call() -> None:
    before = {**AGENTS[0], "tools": [
        {"type": "connected_agent", "connected_agent": {"id": f"asst_{n}", "name": f"n{n}", "description": "d"}}
        for n in (1, 2)]}
    after = {**before, "tools": [before["tools"][1], {"type": "connected_agent", "connected_agent": {
        "id": "asst_1", "name": "n1", "description": "changed"}}]}
    paths = [change.path for change in diff(before, after)]
    assert paths == ["tools[1].connected_agent.description", "tools"]
