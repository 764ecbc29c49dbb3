"""One archived assistant as a ready Responses API request: the mapping, in one function.

:func:`to_responses_request` takes an Assistant object (the payload as the Assistants API
returned it, e.g. ``json.loads(raw_json)`` of a warehouse row) and returns a :class:`Migration`:
the body of ``POST /responses`` without ``input``, which a user can send as it is
(``client.responses.create(**migration.request, input=...)``), plus the warnings that say where
the new request cannot behave exactly like the old assistant. Every rule is written next to its
reason below; ``tests/migration/test_responses.py`` holds one table row per rule.

Not carried over, because the Responses API has no place for them in a request: ``name``,
``description`` and ``created_at`` (they stay in the output line beside ``request``); threads,
messages and runs; the contents of files and vector stores (only their IDs move); the code
behind function tools.

This is the only definition of the mapping. The SQL view ``responses_migration`` reads what this
function made of each payload, stored once per payload in ``responses_mappings``
(:mod:`assistants_export.connectors.migration.stored`) when the payload is first stored. Change a
rule here and raise :data:`MAPPING_VERSION`: ``assistants-export upgrade`` (or ``rebuild-duckdb``)
then maps the stored payloads again.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

Json = dict[str, Any]

MAPPING_VERSION = 1
"""The version of the rules below, stored with every row of ``responses_mappings``: raise it with any change
that alters a request or a warning, so that stored rows of an older version are mapped again."""

REASONING_MODELS: tuple[str, ...] = ("o1", "o3", "o4-mini", "gpt-5")
"""Model families that accept only the default ``temperature`` and ``top_p`` (1) and accept ``reasoning``.

A model belongs to a family when it is the family's name or starts with it followed by ``-`` or
``.`` (``o3`` covers ``o3-mini`` and ``o3-2025-04-16``; ``gpt-5`` covers ``gpt-5-mini`` and
``gpt-5.1``, but not ``gpt-50``). Override per call (``reasoning_models=``) or on the command line
(``--reasoning-models``); the stored mapping (and so the SQL view) uses this default list.
"""

SOURCE_ID_METADATA_KEY = "source_assistant_id"
"""Metadata key that carries the source assistant's ID into the request, when there is room."""

MAX_METADATA_PAIRS = 16
"""The Responses API (like the Assistants API) accepts at most 16 metadata pairs."""

RESPONSES_RANKERS: tuple[str, ...] = ("auto", "default-2024-11-15")
"""``RankerVersionType`` of the CreateResponse schema (the Assistants API had ``auto`` and ``default_2024_08_21``)."""

REASONING_EFFORTS: tuple[str, ...] = ("none", "minimal", "low", "medium", "high", "xhigh", "max")
"""``ReasoningEffort`` of the CreateResponse schema."""

DEFAULT_SAMPLING_VALUE = 1
"""The default of both ``temperature`` and ``top_p``: the only value reasoning models accept."""

EMPTY_PARAMETERS: Json = {"type": "object", "properties": {}, "additionalProperties": False}
"""Parameters of a function that takes none (valid with ``strict`` true or false)."""

OPEN_OBJECT_SCHEMA: Json = {"type": "object"}
"""Stand-in for a ``json_schema`` response format that named no schema."""

WARNING_CODES: dict[str, str] = {
    "file_search_without_vector_store": "a file_search tool had no vector store of its own; the tool is left out",
    "ranker_replaced": "a file_search ranker that the Responses API does not know; `auto` is used",
    "sampling_parameter_dropped": "temperature or top_p other than 1 on a reasoning model; left out",
    "reasoning_effort_dropped": "reasoning_effort on a model that is not a reasoning model; left out",
    "reasoning_effort_unknown": "a reasoning_effort the Responses API does not know; left out",
    "json_schema_without_schema": "a json_schema response format without a schema; an open object schema is used",
    "source_id_not_in_metadata": "no room for source_assistant_id in the metadata (or the key is taken)",
    "tool_unsupported": "a tool type with no Responses API equivalent; left out",
    "azure_function_queues_dropped": "a Foundry azure_function tool becomes a function tool; its storage queues do not "
                                     "carry over",
    "bing_grounding_unsupported": "a Foundry bing_grounding tool (Grounding with Bing Search through a Foundry "
                                  "connection); left out",
    "azure_ai_search_unsupported": "a Foundry azure_ai_search tool (an Azure AI Search index); left out",
    "connected_agent_unsupported": "a Foundry connected_agent tool (another agent called as a tool); left out",
    "openapi_unsupported": "a Foundry openapi tool (an OpenAPI spec the service calls); left out",
}
"""Every warning code, with what it means (the README's table says the same)."""


@dataclass(frozen=True)
class MigrationWarning:
    """Where the migrated request differs from the assistant: a code from :data:`WARNING_CODES` and one line."""

    code: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message}


@dataclass(frozen=True)
class Migration:
    """One assistant, migrated: its request body and what could not be carried over."""

    assistant_id: str
    name: str | None
    description: str | None
    created_at: int | None
    request: Json
    warnings: tuple[MigrationWarning, ...] = field(default=())

    def as_line(self) -> Json:
        """The JSON Lines record ``assistants-export migrate`` writes."""
        return {
            "assistant_id": self.assistant_id,
            "name": self.name,
            "description": self.description,
            "created_at": self.created_at,
            "request": self.request,
            "warnings": [w.as_dict() for w in self.warnings],
        }


def reasoning_model_pattern(families: Iterable[str] = REASONING_MODELS) -> str:
    """The regular expression a whole model ID matches when it belongs to one of ``families``.

    """
    names = sorted({f for f in families if f}, key=lambda f: (-len(f), f))
    if not names:
        return r"(?!)"  # matches nothing
    return "(?s)(" + "|".join(re.escape(name) for name in names) + r")([-.].*)?"


def is_reasoning_model(model: str, families: Iterable[str] = REASONING_MODELS) -> bool:
    """Whether ``model`` belongs to one of the reasoning model ``families``."""
    return re.fullmatch(reasoning_model_pattern(families), model) is not None


def _show(value: Any) -> str:
    """A value as JSON text in a warning."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


_FOUNDRY_UNSUPPORTED: dict[str, Any] = {
    "bing_grounding": lambda tool: (
        "Grounding with Bing Search through a Foundry connection has no Responses API tool; the tool is left out: "
        "the web_search tool searches without that connection"),
    "azure_ai_search": lambda tool: (
        "the Responses API has no Azure AI Search tool; the tool is left out: reach the index through a function "
        "tool or an MCP server"),
    "connected_agent": lambda tool: (
        f"calls the agent {_show((tool.get('connected_agent') or {}).get('id'))}; the Responses API has no connected "
        "agents, so the tool is left out: call the other agent's request from your code"),
    "openapi": lambda tool: (
        f"the OpenAPI tool {_show((tool.get('openapi') or {}).get('name'))} has no Responses API equivalent; the "
        "tool is left out: describe its operations as function tools"),
}
"""Foundry's tools with no Responses API equivalent: the message of each one's warning (``<type>_unsupported``)."""


def to_responses_request(assistant: Mapping[str, Any], *,
                         reasoning_models: Sequence[str] = REASONING_MODELS) -> Migration:
    """The Responses API request body (without ``input``) equivalent to one Assistant object.

    ``assistant`` is a valid Assistant object (as stored in the warehouse). The request is valid
    against the official CreateResponse schema; where it cannot reproduce the assistant exactly,
    a :class:`MigrationWarning` says what changed.
    """
    warnings: list[MigrationWarning] = []
    model: str = assistant["model"]
    reasoning = is_reasoning_model(model, reasoning_models)
    resources = assistant.get("tool_resources") or {}
    file_ids = list((resources.get("code_interpreter") or {}).get("file_ids") or [])
    vector_store_ids = list((resources.get("file_search") or {}).get("vector_store_ids") or [])

    request: Json = {"model": model}

    # instructions: the same field with the same meaning; null means none, so it is left out.
    if assistant.get("instructions") is not None:
        request["instructions"] = assistant["instructions"]

    tools: list[Json] = []
    for index, tool in enumerate(assistant.get("tools") or []):
        kind = tool.get("type")
        where = f"tool {index} ({kind})"
        if kind in ("function", "azure_function"):
            # A Foundry azure_function is a function whose calls the service put on a storage queue for an Azure
            # Function to answer: the function carries over, the queues do not (the caller runs the function).
            function = (tool.get("function") if kind == "function"
                        else (tool.get("azure_function") or {}).get("function")) or {}
            if kind == "azure_function":
                queue = ((tool.get("azure_function") or {}).get("input_binding") or {}).get("storage_queue") or {}
                warnings.append(MigrationWarning(
                    "azure_function_queues_dropped",
                    f"{where}: kept as the function tool {_show(function.get('name'))}; its storage queue "
                    f"{_show(queue.get('queue_name'))} does not carry over: your code must call the Azure Function "
                    "and return its output"))
            # Assistants nested the definition under "function"; Responses wants it flat on the tool.
            out: Json = {"type": "function", "name": function["name"]}
            if function.get("description") is not None:
                out["description"] = function["description"]
            # Responses requires parameters; an Assistants function without them took no arguments,
            # which is exactly the empty object schema (closed, so it is valid under strict mode too).
            parameters = function.get("parameters")
            out["parameters"] = dict(EMPTY_PARAMETERS) if parameters is None else parameters
            # strict is always written out: a missing strict means true in Responses but meant false in
            # Assistants, so the assistant's behaviour is kept only by saying false explicitly.
            out["strict"] = function.get("strict") is True
            tools.append(out)
        elif kind == "file_search":
            options = tool.get("file_search") or {}
            # Responses requires vector_store_ids on the tool; Assistants took them from
            # tool_resources, or from the thread. Without any of its own the tool cannot be sent.
            if not vector_store_ids:
                warnings.append(MigrationWarning(
                    "file_search_without_vector_store",
                    f"{where}: the assistant had no vector store of its own (it searched stores attached to "
                    "threads); the Responses API needs vector_store_ids on the tool, so the tool is left out: "
                    "add it with the stores to search"))
                continue
            out = {"type": "file_search", "vector_store_ids": vector_store_ids}
            # max_num_results: same name, same 1-50 range.
            if options.get("max_num_results") is not None:
                out["max_num_results"] = options["max_num_results"]
            ranking_options = options.get("ranking_options")
            if ranking_options is not None:
                ranking: Json = {}
                ranker = ranking_options.get("ranker")
                if ranker is not None:
                    # Ranker names differ (Assistants: default_2024_08_21; Responses: default-2024-11-15):
                    # keep a name Responses knows, else fall back to auto, which Responses resolves itself.
                    if ranker in RESPONSES_RANKERS:
                        ranking["ranker"] = ranker
                    else:
                        ranking["ranker"] = "auto"
                        warnings.append(MigrationWarning(
                            "ranker_replaced",
                            f"{where}: ranker {_show(ranker)} does not exist in the Responses API; \"auto\" is used"))
                # score_threshold: same meaning, same 0-1 range.
                if ranking_options.get("score_threshold") is not None:
                    ranking["score_threshold"] = ranking_options["score_threshold"]
                out["ranking_options"] = ranking
            tools.append(out)
        elif kind == "code_interpreter":
            # Responses runs code in a container; "auto" creates one per request holding the files the
            # assistant attached in tool_resources.code_interpreter.file_ids.
            tools.append({"type": "code_interpreter", "container": {"type": "auto", "file_ids": file_ids}})
        elif kind in _FOUNDRY_UNSUPPORTED:
            warnings.append(MigrationWarning(f"{kind}_unsupported", f"{where}: {_FOUNDRY_UNSUPPORTED[kind](tool)}"))
        else:
            warnings.append(MigrationWarning(
                "tool_unsupported", f"{where}: no Responses API equivalent is known; the tool is left out"))
    request["tools"] = tools

    # response_format becomes text.format: "auto" and null mean the default (text) and are left out;
    # text and json_object are the same objects; json_schema is flattened (its fields move up one level).
    response_format = assistant.get("response_format")
    if isinstance(response_format, Mapping) and response_format.get("type") in ("text", "json_object"):
        request["text"] = {"format": {"type": response_format["type"]}}
    elif isinstance(response_format, Mapping) and response_format.get("type") == "json_schema":
        spec = response_format.get("json_schema") or {}
        fmt: Json = {"type": "json_schema", "name": spec["name"]}
        if spec.get("description") is not None:
            fmt["description"] = spec["description"]
        schema = spec.get("schema")
        if schema is None:
            # Responses requires a schema; an object schema admits what json_object mode did.
            schema = dict(OPEN_OBJECT_SCHEMA)
            warnings.append(MigrationWarning(
                "json_schema_without_schema",
                "response_format json_schema has no schema; {\"type\":\"object\"} is used: add the schema the "
                "output must follow"))
        fmt["schema"] = schema
        # strict is written out like a function's: false when the assistant did not say true.
        fmt["strict"] = spec.get("strict") is True
        request["text"] = {"format": fmt}

    # reasoning_effort (not in the Assistants schema version the archive checks against, so it is an
    # extra field when present) becomes reasoning.effort, for reasoning models only: others reject it.
    effort = assistant.get("reasoning_effort")
    if effort is not None:
        if not isinstance(effort, str) or effort not in REASONING_EFFORTS:
            warnings.append(MigrationWarning(
                "reasoning_effort_unknown",
                f"reasoning_effort {_show(effort)} is not a Responses API effort; left out (the model's default "
                "applies)"))
        elif not reasoning:
            warnings.append(MigrationWarning(
                "reasoning_effort_dropped",
                f"reasoning_effort {_show(effort)} left out: the model is not a reasoning model, and the "
                "Responses API rejects reasoning settings for it"))
        else:
            request["reasoning"] = {"effort": effort}

    # temperature and top_p: same names and ranges. Reasoning models reject any value but the default,
    # so for them both are left out (which is the default); a warning when that changes the value.
    for name in ("temperature", "top_p"):
        value = assistant.get(name)
        if value is None:
            continue
        if not reasoning:
            request[name] = value
        elif value != DEFAULT_SAMPLING_VALUE:
            warnings.append(MigrationWarning(
                "sampling_parameter_dropped",
                f"{name} left out: the model is a reasoning model, which accepts only the default "
                f"({DEFAULT_SAMPLING_VALUE}), and the assistant had another value"))

    # metadata: the same 16 string pairs. The source assistant's ID is always in the output line; it
    # goes into metadata as source_assistant_id too (so responses can be traced back) only when
    # there is room and the key is free: the assistant's own pairs are never dropped or overwritten.
    metadata: dict[str, str] = dict(assistant.get("metadata") or {})
    existing = metadata.get(SOURCE_ID_METADATA_KEY)
    if existing is None and len(metadata) < MAX_METADATA_PAIRS:
        metadata[SOURCE_ID_METADATA_KEY] = assistant["id"]
    elif existing != assistant["id"]:
        reason = ("the key already holds another value" if existing is not None
                  else f"the metadata already holds {MAX_METADATA_PAIRS} pairs")
        warnings.append(MigrationWarning(
            "source_id_not_in_metadata",
            f"{SOURCE_ID_METADATA_KEY} not added to the metadata: {reason} (the ID is in the output line)"))
    request["metadata"] = metadata

    return Migration(
        assistant_id=assistant["id"],
        name=assistant.get("name"),
        description=assistant.get("description"),
        created_at=assistant.get("created_at"),
        request=request,
        warnings=tuple(warnings),
    )
