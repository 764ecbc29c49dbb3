"""The one model of the Assistant agrees with the tables it is flattened into, and derives what it should."""

from __future__ import annotations

from assistants_export.connectors.core import assistant_model as model
from assistants_export.connectors.core.schemas import ASSISTANT_TOOLS, ASSISTANTS


def _columns(node: model.Node) -> set[str]:
    found: set[str] = set()
    objects = [node]
    while objects:
        current = objects.pop()
        if isinstance(current, model.LiteralOr):
            objects.append(current.of)
        elif isinstance(current, model.Tagged):
            objects.extend(current.variants.values())
        elif isinstance(current, model.Items):
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


def test_whole_values_and_extra_containers_are_derived() -> None:
    assert set(model.WHOLE_VALUES) == {"parameters", "schema"}
    assert set(model.EXTRA_CONTAINERS) == {
        "tool_resources", "tool_resources.code_interpreter", "tool_resources.file_search", "response_format",
        "response_format.json_schema", "function", "file_search", "file_search.ranking_options",
    }


def test_required_fields_follow_the_schema_order() -> None:
    assert model.ASSISTANT.required == (
        "id", "object", "created_at", "name", "description", "model", "instructions", "tools", "metadata")
    assert set(model.TOOL_TYPES) == {"code_interpreter", "file_search", "function"}
