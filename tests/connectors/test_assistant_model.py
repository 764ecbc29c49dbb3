"""The one model of the Assistant agrees with the tables it is flattened into, and derives what it should."""

from __future__ import annotations

from assistants_export.connectors.core import assistant_model as model
from assistants_export.connectors.core.schemas import ASSISTANT_TOOL_RESOURCES, ASSISTANT_TOOLS, ASSISTANTS


def _columns(node: model.Node) -> set[str]:
    found: set[str] = set()
    objects = [node]
    while objects:
        current = objects.pop()
        if isinstance(current, model.LiteralOr):
            objects.append(current.of)
        elif isinstance(current, model.Tagged):
            objects.extend(current.variants.values())
        elif isinstance(current, model.Items | model.Records):
            objects.append(current.of)
        elif isinstance(current, model.Object):
            found.update(f.column for f in current.fields if f.column is not None)
            objects.extend(f.node for f in current.fields)
    return found


def test_every_column_the_model_names_is_a_column_of_its_table() -> None:
    assistant_columns = _columns(model.ASSISTANT) - _columns(model.TOOL)
    assert assistant_columns <= set(ASSISTANTS.schema.names)
    assert _columns(model.TOOL) <= set(ASSISTANT_TOOLS.schema.names)
    assert {"function_name", "file_search_score_threshold"} <= _columns(model.TOOL)
    assert {"response_format_json_schema", "code_interpreter_file_ids", "created_at"} <= assistant_columns
    foundry_tool_columns = _columns(model.FOUNDRY_TOOL)
    assert foundry_tool_columns <= set(ASSISTANT_TOOLS.schema.names)
    # Foundry's agent adds the columns of its tool-resource rows (an Azure AI Search index's), columns of their table
    resource_columns = _columns(model.FOUNDRY_AGENT) - foundry_tool_columns - assistant_columns
    assert resource_columns <= set(ASSISTANT_TOOL_RESOURCES.schema.names)
    assert {"index_connection_id", "index_name", "top_k", "filter"} <= resource_columns
    assert assistant_columns <= _columns(model.FOUNDRY_AGENT)
    assert {"bing_connection_id", "openapi_connection_id", "connected_agent_id",
            "azure_function_output_queue_name"} <= foundry_tool_columns


def test_the_foundry_tree_declares_every_key_the_openai_tree_does() -> None:
    """The flattener reads every stored body with the Foundry tree, so nothing OpenAI declares becomes "extra"."""
    def paths(root: model.Node) -> set[str]:
        return {path for path, _ in model._walk(root, "")}

    assert paths(model.ASSISTANT) <= paths(model.FOUNDRY_AGENT)
    assert paths(model.TOOL) <= paths(model.FOUNDRY_TOOL)
    assert model.FLATTENED is model.FOUNDRY_AGENT


def test_whole_values_and_extra_containers_are_derived() -> None:
    assert set(model.WHOLE_VALUES) == {"parameters", "schema", "spec"}
    assert set(model.EXTRA_CONTAINERS) == {
        "tool_resources", "tool_resources.code_interpreter", "tool_resources.file_search", "response_format",
        "response_format.json_schema", "function", "file_search", "file_search.ranking_options",
        # Foundry's
        "tool_resources.code_interpreter.data_sources", "tool_resources.file_search.vector_stores",
        "tool_resources.file_search.vector_stores.configuration",
        "tool_resources.file_search.vector_stores.configuration.data_sources",
        "tool_resources.azure_ai_search", "tool_resources.azure_ai_search.indexes",
        "bing_grounding", "bing_grounding.search_configurations", "connected_agent", "openapi", "openapi.auth",
        "openapi.auth.security_scheme", "openapi.functions", "azure_function", "azure_function.function",
        "azure_function.input_binding", "azure_function.input_binding.storage_queue",
        "azure_function.output_binding", "azure_function.output_binding.storage_queue",
    }


def test_required_fields_follow_the_schema_order() -> None:
    assert model.ASSISTANT.required == (
        "id", "object", "created_at", "name", "description", "model", "instructions", "tools", "metadata")
    assert set(model.TOOL_TYPES) == {"code_interpreter", "file_search", "function"}
