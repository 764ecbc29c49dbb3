"""The Assistants -> Responses mapping: one table row per rule, then every request against the official schema.

Each row gives a change to a minimal assistant, the part of the request it must produce and the
warning codes it must raise. Expected values are written out by hand from the rules in the
README, never computed by the code under test.
"""

import copy
import re
from pathlib import Path

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from schema_strategies import from_schema

from assistants_export.connectors.migration.responses import (
    REASONING_MODELS,
    WARNING_CODES,
    is_reasoning_model,
    reasoning_model_pattern,
    to_responses_request,
)
from assistants_export.connectors.migration.schema import load_create_response_schema
from assistants_export.connectors.openai_assistants.schema import load_assistant_schema
from assistants_export.connectors.openai_assistants.validation import validate_assistant
from assistants_export.sandbox import bundled_assistants

VALIDATOR = jsonschema.Draft202012Validator(load_create_response_schema())
ID = "asst_migrate000000000000001"
PARAMS = {"type": "object", "properties": {"q": {"type": "string"}}, "required": ["q"]}
EMPTY = {"type": "object", "properties": {}, "additionalProperties": False}
SIXTEEN = {f"k{i:02}": "v" for i in range(16)}
FIFTEEN = {f"k{i:02}": "v" for i in range(15)}


def assistant(**fields):
    body = {"id": ID, "object": "assistant", "created_at": 1_700_000_000, "name": "Helper", "description": None,
            "model": "gpt-4o", "instructions": "Be brief.", "tools": [], "tool_resources": {}, "metadata": {},
            "temperature": None, "top_p": None, "response_format": "auto"}
    body.update(fields)
    return body


def fn(**function):
    return {"type": "function", "function": {"name": "lookup", **function}}


def fs(**options):
    return {"type": "file_search", **({"file_search": options} if options else {})}


STORES = {"file_search": {"vector_store_ids": ["vs_1"]}}
FILES = {"code_interpreter": {"file_ids": ["file-a", "file-b"]}}

# (id, assistant fields, expected request fields (a subset of the request), expected warning codes)
RULES = [
    # --- function tools
    ("function flattened, strict kept", dict(tools=[fn(description="Find", parameters=PARAMS, strict=True)]),
     {"tools": [{"type": "function", "name": "lookup", "description": "Find", "parameters": PARAMS, "strict": True}]},
     []),
    ("function strict absent written as false", dict(tools=[fn(parameters=PARAMS)]),
     {"tools": [{"type": "function", "name": "lookup", "parameters": PARAMS, "strict": False}]}, []),
    ("function strict null written as false", dict(tools=[fn(parameters=PARAMS, strict=None)]),
     {"tools": [{"type": "function", "name": "lookup", "parameters": PARAMS, "strict": False}]}, []),
    ("function strict false kept", dict(tools=[fn(parameters=PARAMS, strict=False)]),
     {"tools": [{"type": "function", "name": "lookup", "parameters": PARAMS, "strict": False}]}, []),
    ("function without parameters takes none", dict(tools=[fn()]),
     {"tools": [{"type": "function", "name": "lookup", "parameters": EMPTY, "strict": False}]}, []),
    ("function with empty parameters kept as given", dict(tools=[fn(parameters={})]),
     {"tools": [{"type": "function", "name": "lookup", "parameters": {}, "strict": False}]}, []),
    # --- file_search
    ("file_search takes the assistant's vector stores", dict(tools=[fs()], tool_resources=STORES),
     {"tools": [{"type": "file_search", "vector_store_ids": ["vs_1"]}]}, []),
    ("file_search without a store is left out", dict(tools=[fs(max_num_results=5)], tool_resources={}),
     {"tools": []}, ["file_search_without_vector_store"]),
    ("file_search with an empty store list is left out",
     dict(tools=[fs()], tool_resources={"file_search": {"vector_store_ids": []}}),
     {"tools": []}, ["file_search_without_vector_store"]),
    ("file_search with null tool_resources is left out", dict(tools=[fs()], tool_resources=None),
     {"tools": []}, ["file_search_without_vector_store"]),
    ("file_search max_num_results kept", dict(tools=[fs(max_num_results=50)], tool_resources=STORES),
     {"tools": [{"type": "file_search", "vector_store_ids": ["vs_1"], "max_num_results": 50}]}, []),
    ("ranker auto kept", dict(tools=[fs(ranking_options={"ranker": "auto", "score_threshold": 0.5})],
                              tool_resources=STORES),
     {"tools": [{"type": "file_search", "vector_store_ids": ["vs_1"],
                 "ranking_options": {"ranker": "auto", "score_threshold": 0.5}}]}, []),
    ("ranker unknown to Responses becomes auto",
     dict(tools=[fs(ranking_options={"ranker": "default_2024_08_21", "score_threshold": 0})], tool_resources=STORES),
     {"tools": [{"type": "file_search", "vector_store_ids": ["vs_1"],
                 "ranking_options": {"ranker": "auto", "score_threshold": 0}}]}, ["ranker_replaced"]),
    ("ranking without a ranker keeps the threshold",
     dict(tools=[fs(ranking_options={"score_threshold": 1.0})], tool_resources=STORES),
     {"tools": [{"type": "file_search", "vector_store_ids": ["vs_1"], "ranking_options": {"score_threshold": 1.0}}]},
     []),
    # --- code_interpreter
    ("code_interpreter gets an auto container with the files", dict(tools=[{"type": "code_interpreter"}],
                                                                     tool_resources=FILES),
     {"tools": [{"type": "code_interpreter", "container": {"type": "auto", "file_ids": ["file-a", "file-b"]}}]}, []),
    ("code_interpreter without files", dict(tools=[{"type": "code_interpreter"}], tool_resources=None),
     {"tools": [{"type": "code_interpreter", "container": {"type": "auto", "file_ids": []}}]}, []),
    ("tools keep their order",
     dict(tools=[{"type": "code_interpreter"}, fn(parameters=PARAMS)], tool_resources=FILES),
     {"tools": [{"type": "code_interpreter", "container": {"type": "auto", "file_ids": ["file-a", "file-b"]}},
                {"type": "function", "name": "lookup", "parameters": PARAMS, "strict": False}]}, []),
    ("unknown tool type is left out", dict(tools=[{"type": "retrieval"}]), {"tools": []}, ["tool_unsupported"]),
    # --- response_format
    ("response_format auto omitted", dict(response_format="auto"), {"text": None}, []),
    ("response_format null omitted", dict(response_format=None), {"text": None}, []),
    ("response_format text", dict(response_format={"type": "text"}), {"text": {"format": {"type": "text"}}}, []),
    ("response_format json_object", dict(response_format={"type": "json_object"}),
     {"text": {"format": {"type": "json_object"}}}, []),
    ("json_schema flattened",
     dict(response_format={"type": "json_schema", "json_schema": {"name": "reply", "description": "A reply",
                                                                 "schema": PARAMS, "strict": True}}),
     {"text": {"format": {"type": "json_schema", "name": "reply", "description": "A reply", "schema": PARAMS,
                          "strict": True}}}, []),
    ("json_schema strict absent written as false",
     dict(response_format={"type": "json_schema", "json_schema": {"name": "reply", "schema": PARAMS}}),
     {"text": {"format": {"type": "json_schema", "name": "reply", "schema": PARAMS, "strict": False}}}, []),
    ("json_schema without a schema gets an open object",
     dict(response_format={"type": "json_schema", "json_schema": {"name": "reply"}}),
     {"text": {"format": {"type": "json_schema", "name": "reply", "schema": {"type": "object"}, "strict": False}}},
     ["json_schema_without_schema"]),
    # --- reasoning and sampling
    ("reasoning_effort on a reasoning model", dict(model="o3-mini", reasoning_effort="high"),
     {"reasoning": {"effort": "high"}}, []),
    ("reasoning_effort on another model is left out", dict(model="gpt-4o", reasoning_effort="low"),
     {"reasoning": None}, ["reasoning_effort_dropped"]),
    ("reasoning_effort unknown is left out", dict(model="o3", reasoning_effort="extreme"),
     {"reasoning": None}, ["reasoning_effort_unknown"]),
    ("temperature and top_p kept", dict(temperature=0.2, top_p=0.9), {"temperature": 0.2, "top_p": 0.9}, []),
    ("null sampling parameters omitted", dict(temperature=None, top_p=None), {"temperature": None, "top_p": None}, []),
    ("sampling on a reasoning model is left out", dict(model="o4-mini", temperature=0.2, top_p=0.5),
     {"temperature": None, "top_p": None}, ["sampling_parameter_dropped", "sampling_parameter_dropped"]),
    ("default sampling on a reasoning model is left out quietly", dict(model="gpt-5.1", temperature=1, top_p=1.0),
     {"temperature": None, "top_p": None}, []),
    # --- metadata
    ("metadata kept, source ID added", dict(metadata={"team": "care"}),
     {"metadata": {"team": "care", "source_assistant_id": ID}}, []),
    ("null metadata gets the source ID", dict(metadata=None), {"metadata": {"source_assistant_id": ID}}, []),
    ("fifteen pairs leave room for the source ID", dict(metadata=FIFTEEN),
     {"metadata": {**FIFTEEN, "source_assistant_id": ID}}, []),
    ("sixteen pairs leave no room", dict(metadata=SIXTEEN), {"metadata": SIXTEEN}, ["source_id_not_in_metadata"]),
    ("a taken key is not overwritten", dict(metadata={"source_assistant_id": "asst_older"}),
     {"metadata": {"source_assistant_id": "asst_older"}}, ["source_id_not_in_metadata"]),
    ("the same ID already there is fine", dict(metadata={"source_assistant_id": ID}),
     {"metadata": {"source_assistant_id": ID}}, []),
    # --- the rest
    ("model and instructions kept", dict(model="gpt-4.1", instructions="Hi"),
     {"model": "gpt-4.1", "instructions": "Hi"}, []),
    ("null instructions omitted", dict(instructions=None), {"instructions": None}, []),
    ("empty instructions kept", dict(instructions=""), {"instructions": ""}, []),
]


@pytest.mark.parametrize(("fields", "expected", "codes"), [r[1:] for r in RULES], ids=[r[0] for r in RULES])
def test_each_rule(fields, expected, codes):
    body = assistant(**fields)
    migration = to_responses_request(copy.deepcopy(body))
    for key, value in expected.items():
        if value is None:
            assert key not in migration.request, key
        else:
            assert migration.request[key] == value, key
    assert [w.code for w in migration.warnings] == codes
    assert all(w.code in WARNING_CODES and w.message and "\n" not in w.message for w in migration.warnings)
    assert_valid(migration.request)


def test_the_output_line_keeps_what_has_no_request_field():
    body = assistant(name="Helper", description="Helps", created_at=1_712_345_678)
    line = to_responses_request(body).as_line()
    assert list(line) == ["assistant_id", "name", "description", "created_at", "request", "warnings"]
    assert (line["assistant_id"], line["name"], line["description"], line["created_at"]) == (
        ID, "Helper", "Helps", 1_712_345_678)
    assert set(line["request"]) <= {"model", "instructions", "tools", "text", "reasoning", "temperature", "top_p",
                                    "metadata"}
    assert "input" not in line["request"] and "name" not in line["request"]


def test_the_input_is_not_changed():
    body = assistant(tools=[fn()], metadata=SIXTEEN, response_format={"type": "json_schema",
                                                                      "json_schema": {"name": "x"}})
    before = copy.deepcopy(body)
    to_responses_request(body)
    assert body == before


@pytest.mark.parametrize(("model", "reasoning"), [
    ("o1", True), ("o1-mini", True), ("o1-2024-12-17", True), ("o3", True), ("o3-mini", True), ("o4-mini", True),
    ("o4-mini-2025-04-16", True), ("gpt-5", True), ("gpt-5-mini", True), ("gpt-5.1", True), ("gpt-5.1-codex", True),
    ("gpt-4o", False), ("gpt-4.1", False), ("o10", False), ("gpt-50", False), ("o4", False), ("my-o3", False),
    ("gpt-3.5-turbo-0125", False),
])
def test_reasoning_model_families(model, reasoning):
    assert is_reasoning_model(model) is reasoning


def test_the_reasoning_model_list_is_configurable():
    body = assistant(model="my-reasoner-2", temperature=0.3)
    assert to_responses_request(body).request["temperature"] == 0.3
    migrated = to_responses_request(body, reasoning_models=["my-reasoner"])
    assert "temperature" not in migrated.request
    assert [w.code for w in migrated.warnings] == ["sampling_parameter_dropped"]
    assert "temperature" in to_responses_request(assistant(model="o3", temperature=0.3), reasoning_models=[]).request
    assert reasoning_model_pattern([]) == r"(?!)"
    assert set(REASONING_MODELS) == {"o1", "o3", "o4-mini", "gpt-5"}


# --- every request is valid against the official CreateResponse schema ---------------------------------------------

def assert_valid(request):
    errors = sorted(VALIDATOR.iter_errors(request), key=lambda e: list(e.path))
    assert not errors, f"{errors[0].json_path}: {errors[0].message[:300]}"


def test_every_sandbox_assistant_migrates_to_a_valid_request():
    fixtures = bundled_assistants()
    seen = set()
    for body in fixtures:
        migration = to_responses_request(body)
        assert_valid(migration.request)
        seen.update(w.code for w in migration.warnings)
    assert len(fixtures) == 64
    assert {"file_search_without_vector_store", "json_schema_without_schema"} <= seen


def generation_schema():
    """The Assistant schema, with reasoning_effort (an extra field the archive keeps) generated too."""
    schema = load_assistant_schema()
    schema["properties"]["reasoning_effort"] = {"anyOf": [{"type": "null"}, {"type": "string", "enum": [
        "minimal", "low", "medium", "high", "turbo"]}]}
    schema["properties"]["model"] = {"anyOf": [{"type": "string"}, {"enum": ["o3-mini", "gpt-5", "gpt-4o", "o1"]}]}
    return schema


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(from_schema(generation_schema()))
def test_every_generated_assistant_migrates_to_a_valid_request(body):
    assert validate_assistant({k: v for k, v in body.items() if k != "reasoning_effort"}) == []
    migration = to_responses_request(body)
    assert_valid(migration.request)
    assert migration.assistant_id == body["id"]
    kinds = [t["type"] for t in body["tools"]]
    assert [t["type"] for t in migration.request["tools"]] == [
        k for k in kinds if k != "file_search" or ((body.get("tool_resources") or {}).get("file_search") or {}).get(
            "vector_store_ids")]


def test_the_readme_documents_every_warning_code():
    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Migrating off the Assistants API", 1)[1].split("\n## ", 1)[0]
    documented = set(re.findall(r"^\| `([a-z_]+)` \|", section, flags=re.MULTILINE))
    assert set(WARNING_CODES) <= documented
    assert 'responses.create(**line["request"], input=' in section


def test_foundry_agents_migrate_to_valid_requests_with_a_warning_per_tool_without_an_equivalent():
    from assistants_export.sandbox.foundry import FoundryCatalog

    catalog = FoundryCatalog(30, seed=2)
    for agent in (catalog.build(i) for i in range(len(catalog))):
        migration = to_responses_request(agent)
        assert_valid(migration.request)
        by_tool = {w.message.split(":", 1)[0]: w.code for w in migration.warnings if w.message.startswith("tool ")}
        for index, tool in enumerate(agent["tools"]):
            where = f"tool {index} ({tool['type']})"
            expected = {"bing_grounding": "bing_grounding_unsupported",
                        "azure_ai_search": "azure_ai_search_unsupported",
                        "connected_agent": "connected_agent_unsupported", "openapi": "openapi_unsupported",
                        "azure_function": "azure_function_queues_dropped",
                        "sharepoint_grounding": "tool_unsupported"}.get(tool["type"])
            if expected is not None:
                assert by_tool.get(where) == expected, (agent["id"], where)
        functions = [t["name"] for t in migration.request["tools"] if t["type"] == "function"]
        azure = [t["azure_function"]["function"]["name"] for t in agent["tools"] if t["type"] == "azure_function"]
        assert set(azure) <= set(functions)
