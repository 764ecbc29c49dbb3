"""Check a ``GET /assistants/{id}`` body against the AssistantObject schema.

Hand-written rather than run through ``jsonschema`` for two reasons: it is over a
hundred times faster (every exported assistant goes through it), and its messages say
what to fix (``tools: 129 items, at most 128 allowed``) instead of dumping a schema path.

It accepts exactly what ``schema/assistant_object.schema.json`` accepts, no more and no
less; ``tests/connectors/test_validation.py`` cross-checks the two on generated and
mutated objects. Consequences worth knowing:

* limits the API reference only *describes* (16 metadata pairs, 64-character keys,
  512-character values, the function-name character set) are not enforced;
* JSON Schema types are used: ``true`` is not a number, ``1.0`` is an integer;
* ``NaN`` (accepted by Python's ``json`` module, not by JSON itself) compares false
  with every bound, so, as with ``jsonschema``, it passes ``minimum``/``maximum``.

How it stays fast: every field is first tested inline for the common valid case
(``value.__class__ is str``), which costs no function call; only when that quick test
fails does a full checker run, and that checker decides -- the quick test may send a
valid value to it (``1.0`` for an integer, ``null`` for a nullable field), never the
reverse. The full checkers ignore :data:`_MISSING`: an absent field is only a problem
when it is required, and the enclosing object reports that.
"""

from __future__ import annotations

import json
import re
from typing import Any, Final, TypeGuard

from connectors.openai_assistants.settings import (
    FILE_SEARCH_MAX_RESULTS_RANGE,
    FILE_SEARCH_RANKERS,
    MAX_CODE_INTERPRETER_FILES,
    MAX_DESCRIPTION_LENGTH,
    MAX_INSTRUCTIONS_LENGTH,
    MAX_JSON_DEPTH,
    MAX_NAME_LENGTH,
    MAX_TOOLS,
    MAX_VALIDATION_PROBLEMS,
    MAX_VECTOR_STORES,
    RESPONSE_FORMAT_TYPES,
    SCORE_THRESHOLD_RANGE,
    TEMPERATURE_RANGE,
    TOOL_TYPES,
    TOP_P_RANGE,
)

__all__ = ["nesting_problem", "unknown_fields", "validate_assistant"]

_MISSING: Final[Any] = object()
"""``dict.get`` default for an absent field; typed ``Any`` so it flows through the field checks."""

_SHOWN_CHARS: Final = 40
"""Offending values are quoted up to this length so a huge bad value cannot bloat the report."""

_PLAIN_KEY: Final = re.compile(r"[\w-]+")

_TEMPERATURE_MIN, _TEMPERATURE_MAX = TEMPERATURE_RANGE
_TOP_P_MIN, _TOP_P_MAX = TOP_P_RANGE
_MAX_RESULTS_MIN, _MAX_RESULTS_MAX = FILE_SEARCH_MAX_RESULTS_RANGE
_SCORE_MIN, _SCORE_MAX = SCORE_THRESHOLD_RANGE
_TOOL_TYPES: Final = tuple(sorted(TOOL_TYPES))
_RESPONSE_FORMAT_TYPES: Final = tuple(sorted(RESPONSE_FORMAT_TYPES))
_RANKERS: Final = tuple(sorted(FILE_SEARCH_RANKERS))

# Declared keys of every object the schema describes; anything else is schema drift.
_ASSISTANT_REQUIRED: Final = (
    "id",
    "object",
    "created_at",
    "name",
    "description",
    "model",
    "instructions",
    "tools",
    "metadata",
)
_ASSISTANT_REQUIRED_SET: Final = frozenset(_ASSISTANT_REQUIRED)
_ASSISTANT_KEYS: Final = _ASSISTANT_REQUIRED_SET | {"tool_resources", "temperature", "top_p", "response_format"}
_TOOL_KEYS: Final = {
    "code_interpreter": frozenset({"type"}),
    "file_search": frozenset({"type", "file_search"}),
    "function": frozenset({"type", "function"}),
}
_FILE_SEARCH_KEYS: Final = frozenset({"max_num_results", "ranking_options"})
_RANKING_OPTIONS_KEYS: Final = frozenset({"ranker", "score_threshold"})
_FUNCTION_KEYS: Final = frozenset({"description", "name", "parameters", "strict"})
_TOOL_RESOURCES_KEYS: Final = frozenset({"code_interpreter", "file_search"})
_RESOURCE_LISTS: Final = {
    "code_interpreter": ("file_ids", MAX_CODE_INTERPRETER_FILES),
    "file_search": ("vector_store_ids", MAX_VECTOR_STORES),
}
"""``tool_resources`` members: each an object holding one list of IDs, with its ``maxItems``."""
_RESOURCE_KEYS: Final = {name: frozenset({list_key}) for name, (list_key, _) in _RESOURCE_LISTS.items()}
_RESPONSE_FORMAT_KEYS: Final = {
    "text": frozenset({"type"}),
    "json_object": frozenset({"type"}),
    "json_schema": frozenset({"type", "json_schema"}),
}
_JSON_SCHEMA_KEYS: Final = frozenset({"description", "name", "schema", "strict"})


# --- Public API -----------------------------------------------------------


def validate_assistant(obj: object) -> list[str]:
    """Return every way ``obj`` violates the AssistantObject schema; empty when it is valid.

    Each problem reads ``"<path>: <what is wrong>"``, the path being ``$`` for the root,
    ``model``, ``tools[3].function.name``, ``metadata.team`` and so on. At most
    ``MAX_VALIDATION_PROBLEMS`` lines come back; when more were found the last line
    says how many were left out.
    """
    if not isinstance(obj, dict):
        return [f"$: expected object, got {_json_type(obj)}"]
    problems: list[str] = []
    _check_assistant(obj, problems)
    if len(problems) <= MAX_VALIDATION_PROBLEMS:
        return problems
    listed = problems[: MAX_VALIDATION_PROBLEMS - 1]
    listed.append(f"$: {len(problems) - len(listed)} more problems not listed")
    return listed


def nesting_problem(obj: object, text: str, limit: int = MAX_JSON_DEPTH) -> str | None:
    """Why ``obj`` (parsed from ``text``) is nested too deeply to store, or ``None``.

    The one limit beyond the schema (see ``settings.MAX_JSON_DEPTH``). Nesting cannot
    exceed the number of ``{`` and ``[`` in the text, and counting those runs at C speed,
    so only the rare body with more than ``limit`` of them is walked, without recursion.
    """
    if text.count("{") + text.count("[") <= limit or not isinstance(obj, dict | list):
        return None
    stack: list[tuple[dict[str, Any] | list[Any], int]] = [(obj, 1)]
    pop, push = stack.pop, stack.append
    while stack:
        value, depth = pop()
        if depth > limit:
            return f"$: nested deeper than {limit} levels of objects and arrays"
        for child in value.values() if isinstance(value, dict) else value:
            if isinstance(child, dict | list):
                push((child, depth + 1))
    return None


def unknown_fields(obj: dict[str, Any]) -> list[str]:
    """Return the paths of fields in ``obj`` that the schema does not declare.

    Unknown fields are allowed (the raw payload keeps them); counting them shows when the
    API has grown fields the flattened tables do not have yet. Free-form maps holding
    user data -- ``metadata``, a function's ``parameters`` and a JSON-schema response
    format's ``schema`` -- are not looked into. Meant for valid objects; parts of an
    invalid one that do not have the declared shape are skipped.
    """
    found: list[str] = []
    _undeclared(obj, "", _ASSISTANT_KEYS, found)
    tools = obj.get("tools")
    if isinstance(tools, list):
        for index, tool in enumerate(tools):
            _unknown_in_tool(tool, f"tools[{index}]", found)
    resources = obj.get("tool_resources")
    if isinstance(resources, dict):
        _undeclared(resources, "tool_resources", _TOOL_RESOURCES_KEYS, found)
        for name, declared_keys in _RESOURCE_KEYS.items():
            _undeclared(resources.get(name), f"tool_resources.{name}", declared_keys, found)
    response_format = obj.get("response_format")
    if isinstance(response_format, dict):
        kind = response_format.get("type")
        declared = _RESPONSE_FORMAT_KEYS.get(kind) if isinstance(kind, str) else None
        if declared is not None:
            _undeclared(response_format, "response_format", declared, found)
            _undeclared(response_format.get("json_schema"), "response_format.json_schema", _JSON_SCHEMA_KEYS, found)
    return found


# --- The AssistantObject and its parts ------------------------------------


def _check_assistant(obj: dict[str, Any], problems: list[str]) -> None:
    if not obj.keys() >= _ASSISTANT_REQUIRED_SET:
        _report_missing(obj, "", _ASSISTANT_REQUIRED, problems)
    get = obj.get
    value = get("id", _MISSING)
    if value.__class__ is not str:
        _check_string(value, "id", problems)
    value = get("object", _MISSING)
    if value != "assistant":
        _check_enum(value, "object", ("assistant",), problems)
    value = get("created_at", _MISSING)
    if value.__class__ is not int:
        _check_number(value, "created_at", problems, integer=True)
    value = get("name")
    if value is not None and (value.__class__ is not str or len(value) > MAX_NAME_LENGTH):
        _check_string(value, "name", problems, max_length=MAX_NAME_LENGTH, nullable=True)
    value = get("description")
    if value is not None and (value.__class__ is not str or len(value) > MAX_DESCRIPTION_LENGTH):
        _check_string(value, "description", problems, max_length=MAX_DESCRIPTION_LENGTH, nullable=True)
    value = get("model", _MISSING)
    if value.__class__ is not str:
        _check_string(value, "model", problems)
    value = get("instructions")
    if value is not None and (value.__class__ is not str or len(value) > MAX_INSTRUCTIONS_LENGTH):
        _check_string(value, "instructions", problems, max_length=MAX_INSTRUCTIONS_LENGTH, nullable=True)
    _check_tools(get("tools", _MISSING), problems)
    value = get("tool_resources")
    if value is not None:
        _check_tool_resources(value, problems)
    value = get("metadata")
    if value is not None:
        _check_metadata(value, problems)
    value = get("temperature")
    if value is not None and not (value.__class__ is float and _TEMPERATURE_MIN <= value <= _TEMPERATURE_MAX):
        _check_number(value, "temperature", problems, _TEMPERATURE_MIN, _TEMPERATURE_MAX, nullable=True)
    value = get("top_p")
    if value is not None and not (value.__class__ is float and _TOP_P_MIN <= value <= _TOP_P_MAX):
        _check_number(value, "top_p", problems, _TOP_P_MIN, _TOP_P_MAX, nullable=True)
    value = get("response_format")
    if value is not None and value != "auto":
        _check_response_format(value, problems)


def _check_tools(tools: object, problems: list[str]) -> None:
    if not isinstance(tools, list):
        if tools is not _MISSING:
            problems.append(_wrong_type("tools", "array", tools))
        return
    if len(tools) > MAX_TOOLS:
        problems.append(f"tools: {len(tools)} items, at most {MAX_TOOLS} allowed")
    for index, tool in enumerate(tools):
        _check_tool(tool, f"tools[{index}]", problems)


def _check_tool(tool: object, path: str, problems: list[str]) -> None:
    """The ``oneOf`` of tool kinds: their ``type`` enums are disjoint, so ``type`` picks the one to match."""
    if not isinstance(tool, dict):
        problems.append(_wrong_type(path, "object", tool))
        return
    kind = tool.get("type", _MISSING)
    if kind == "code_interpreter":
        return
    if kind == "function":
        _check_function_like(tool.get("function", _MISSING), f"{path}.function", "parameters", problems)
    elif kind == "file_search":
        overrides = tool.get("file_search", _MISSING)
        if overrides is not _MISSING:
            _check_file_search(overrides, f"{path}.file_search", problems)
    elif kind is _MISSING:
        problems.append(f"{path}.type: required field is missing")
    else:
        _check_enum(kind, f"{path}.type", _TOOL_TYPES, problems)


def _check_file_search(overrides: object, path: str, problems: list[str]) -> None:
    if not isinstance(overrides, dict):
        problems.append(_wrong_type(path, "object", overrides))
        return
    value = overrides.get("max_num_results", _MISSING)
    if not (value.__class__ is int and _MAX_RESULTS_MIN <= value <= _MAX_RESULTS_MAX):
        _check_number(value, f"{path}.max_num_results", problems, _MAX_RESULTS_MIN, _MAX_RESULTS_MAX, integer=True)
    value = overrides.get("ranking_options", _MISSING)
    if value is not _MISSING:
        _check_ranking_options(value, f"{path}.ranking_options", problems)


def _check_ranking_options(options: object, path: str, problems: list[str]) -> None:
    if not isinstance(options, dict):
        problems.append(_wrong_type(path, "object", options))
        return
    ranker = options.get("ranker", _MISSING)
    if ranker.__class__ is not str or ranker not in FILE_SEARCH_RANKERS:
        _check_enum(ranker, f"{path}.ranker", _RANKERS, problems)
    threshold = options.get("score_threshold", _MISSING)
    if threshold is _MISSING:
        problems.append(f"{path}.score_threshold: required field is missing")
    elif not (threshold.__class__ is float and _SCORE_MIN <= threshold <= _SCORE_MAX):
        _check_number(threshold, f"{path}.score_threshold", problems, _SCORE_MIN, _SCORE_MAX)


def _check_function_like(value: object, path: str, schema_key: str, problems: list[str]) -> None:
    """A FunctionObject, or a JSON-schema response format's ``json_schema``: the two share a shape.

    Both are objects with a required string ``name``, an optional string
    ``description``, a free-form JSON Schema object (``parameters`` or ``schema``,
    whose contents are the user's) and a nullable boolean ``strict``. Both are
    required where they appear, so an absent one is reported here.
    """
    if value is _MISSING:
        problems.append(f"{path}: required field is missing")
        return
    if not isinstance(value, dict):
        problems.append(_wrong_type(path, "object", value))
        return
    get = value.get
    name = get("name", _MISSING)
    if name is _MISSING:
        problems.append(f"{path}.name: required field is missing")
    elif name.__class__ is not str:
        _check_string(name, f"{path}.name", problems)
    description = get("description", _MISSING)
    if description.__class__ is not str:
        _check_string(description, f"{path}.description", problems)
    schema = get(schema_key, _MISSING)
    if schema is not _MISSING and not isinstance(schema, dict):
        problems.append(_wrong_type(f"{path}.{schema_key}", "object", schema))
    strict = get("strict")
    if strict is not None and strict.__class__ is not bool:
        problems.append(_wrong_type(f"{path}.strict", "boolean or null", strict))


def _check_tool_resources(resources: object, problems: list[str]) -> None:
    if not isinstance(resources, dict):
        problems.append(_wrong_type("tool_resources", "object or null", resources))
        return
    for name, (list_key, max_items) in _RESOURCE_LISTS.items():
        holder = resources.get(name, _MISSING)
        if holder is _MISSING:
            continue
        path = f"tool_resources.{name}"
        if not isinstance(holder, dict):
            problems.append(_wrong_type(path, "object", holder))
            continue
        ids = holder.get(list_key, _MISSING)
        if ids is not _MISSING:
            _check_string_list(ids, f"{path}.{list_key}", max_items, problems)


def _check_metadata(metadata: object, problems: list[str]) -> None:
    """``additionalProperties: {type: string}``; pair count and lengths are only documented."""
    if not isinstance(metadata, dict):
        problems.append(_wrong_type("metadata", "object or null", metadata))
        return
    for key, value in metadata.items():
        if not isinstance(value, str):
            problems.append(_wrong_type(_join("metadata", key), "string", value))


def _check_response_format(value: object, problems: list[str]) -> None:
    """The ``oneOf`` of ``"auto"`` and format objects told apart by a constant ``type``."""
    if isinstance(value, dict):
        kind = value.get("type", _MISSING)
        if kind == "json_schema":
            _check_function_like(value.get("json_schema", _MISSING), "response_format.json_schema", "schema", problems)
        elif kind is _MISSING:
            problems.append("response_format.type: required field is missing")
        else:  # "text" and "json_object" declare nothing but their type.
            _check_enum(kind, "response_format.type", _RESPONSE_FORMAT_TYPES, problems)
    elif isinstance(value, str):
        if value != "auto":
            problems.append(f'response_format: expected "auto", object or null, got {_show(value)}')
    elif value is not None:
        problems.append(_wrong_type("response_format", '"auto", object or null', value))


# --- Full checks for single values ----------------------------------------


def _report_missing(obj: dict[str, Any], path: str, required: tuple[str, ...], problems: list[str]) -> None:
    problems.extend(f"{_join(path, key)}: required field is missing" for key in required if key not in obj)


def _check_string(
    value: object, path: str, problems: list[str], *, max_length: int | None = None, nullable: bool = False
) -> None:
    """``type: string`` with an optional ``maxLength`` counted in code points, as ``len`` counts."""
    if value is _MISSING or (nullable and value is None):
        return
    if isinstance(value, str):
        if max_length is not None and len(value) > max_length:
            problems.append(f"{path}: {len(value)} characters, at most {max_length} allowed")
    else:
        problems.append(_wrong_type(path, "string or null" if nullable else "string", value))


def _check_number(
    value: object,
    path: str,
    problems: list[str],
    minimum: float | None = None,
    maximum: float | None = None,
    *,
    integer: bool = False,
    nullable: bool = False,
) -> None:
    """``type: number`` or ``integer`` with optional inclusive ``minimum`` and ``maximum``."""
    if value is _MISSING or (nullable and value is None):
        return
    if _is_number(value) and (not integer or _is_integer(value)):
        if minimum is not None and value < minimum:
            problems.append(f"{path}: {_show(value)} is below the minimum {_show(minimum)}")
        elif maximum is not None and value > maximum:
            problems.append(f"{path}: {_show(value)} is above the maximum {_show(maximum)}")
    else:
        expected = "integer" if integer else "number"
        problems.append(_wrong_type(path, f"{expected} or null" if nullable else expected, value))


def _check_enum(value: object, path: str, allowed: tuple[str, ...], problems: list[str]) -> None:
    """``type: string`` with an ``enum``."""
    if value is _MISSING or (isinstance(value, str) and value in allowed):
        return
    listed = ", ".join(json.dumps(choice) for choice in allowed)
    expected = listed if len(allowed) == 1 else f"one of {listed}"
    got = _show(value) if isinstance(value, str) else _json_type(value)
    problems.append(f"{path}: expected {expected}, got {got}")


def _check_string_list(value: object, path: str, max_items: int, problems: list[str]) -> None:
    """``type: array`` of strings with ``maxItems``: the file and vector store ID lists."""
    if not isinstance(value, list):
        problems.append(_wrong_type(path, "array", value))
        return
    if len(value) > max_items:
        problems.append(f"{path}: {len(value)} items, at most {max_items} allowed")
    for index, item in enumerate(value):
        if not isinstance(item, str):
            problems.append(_wrong_type(f"{path}[{index}]", "string", item))


def _is_number(value: object) -> TypeGuard[float]:
    """JSON Schema ``number``: any int or float, but not a bool."""
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _is_integer(value: float) -> bool:
    """JSON Schema ``integer``, for a value that is a ``number``: an int, or a float with no fraction."""
    return not isinstance(value, float) or value.is_integer()


# --- Unknown fields -------------------------------------------------------


def _unknown_in_tool(tool: object, path: str, found: list[str]) -> None:
    if not isinstance(tool, dict):
        return
    kind = tool.get("type")
    declared = _TOOL_KEYS.get(kind) if isinstance(kind, str) else None
    if declared is None:
        return
    _undeclared(tool, path, declared, found)
    if kind == "function":
        _undeclared(tool.get("function"), f"{path}.function", _FUNCTION_KEYS, found)
    elif kind == "file_search":
        overrides = tool.get("file_search")
        _undeclared(overrides, f"{path}.file_search", _FILE_SEARCH_KEYS, found)
        if isinstance(overrides, dict):
            ranking = overrides.get("ranking_options")
            _undeclared(ranking, f"{path}.file_search.ranking_options", _RANKING_OPTIONS_KEYS, found)


def _undeclared(obj: object, path: str, declared: frozenset[str], found: list[str]) -> None:
    """Append the paths of ``obj``'s keys outside ``declared``; anything but an object has none."""
    if isinstance(obj, dict) and not obj.keys() <= declared:
        found.extend(_join(path, key) for key in obj if key not in declared)


# --- Formatting -----------------------------------------------------------


def _join(parent: str, key: object) -> str:
    """Path of a key that may be user data: ``metadata.team``, but ``metadata["a b"]``.

    Keys of decoded JSON are strings; any other key (from a Python caller) is shown as JSON.
    """
    if isinstance(key, str) and _PLAIN_KEY.fullmatch(key):
        return f"{parent}.{key}" if parent else key
    return f"{parent or '$'}[{json.dumps(key, ensure_ascii=False, default=repr)}]"


def _wrong_type(path: str, expected: str, value: object) -> str:
    return f"{path}: expected {expected}, got {_json_type(value)}"


def _json_type(value: object) -> str:
    """Name a Python value by its JSON type, as the schema's ``type`` keyword would."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return f"non-JSON {type(value).__name__}"


def _show(value: object) -> str:
    """Quote a value for a message, shortened; numbers lose a trailing ``.0`` (``2.0`` -> ``2``)."""
    if isinstance(value, str):
        text = value if len(value) <= _SHOWN_CHARS else value[:_SHOWN_CHARS] + "…"
        return json.dumps(text, ensure_ascii=False)
    text = repr(value).removesuffix(".0")
    return text if len(text) <= _SHOWN_CHARS else text[:_SHOWN_CHARS] + "…"
