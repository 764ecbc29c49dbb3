"""From Assistant payloads and fetch results to Arrow tables.

Free-form JSON (function parameters, response JSON schemas) stays JSON text:
structure it in SQL, not in thousands of columns. Every field of a valid payload
lands in a column; fields the API schema does not define land in
``extra_fields`` keyed by path, so nothing the server sends is dropped.

Columns are accumulated as Python lists and turned into Arrow arrays once per
batch, which is several times faster than building row dicts.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from .hashing import canonical_json, content_hash
from .results import FetchResult
from .schemas import (
    ASSISTANT_METADATA,
    ASSISTANT_TOOL_RESOURCES,
    ASSISTANT_TOOLS,
    ASSISTANTS,
    FETCH_ERRORS,
    RAW_ASSISTANTS,
    TableSpec,
)

TOP_LEVEL_FIELDS = frozenset({
    "id", "object", "created_at", "name", "description", "model", "instructions", "tools",
    "tool_resources", "metadata", "temperature", "top_p", "response_format",
})
TOOL_FIELDS = {"code_interpreter": frozenset({"type"}), "file_search": frozenset({"type", "file_search"}),
               "function": frozenset({"type", "function"})}
FUNCTION_FIELDS = frozenset({"name", "description", "parameters", "strict"})
FILE_SEARCH_FIELDS = frozenset({"max_num_results", "ranking_options"})
RANKING_FIELDS = frozenset({"ranker", "score_threshold"})
TOOL_RESOURCES_FIELDS = frozenset({"code_interpreter", "file_search"})
RESPONSE_FORMAT_FIELDS = frozenset({"type", "json_schema"})
JSON_SCHEMA_FIELDS = frozenset({"name", "description", "schema", "strict"})

RESOURCE_FILE = "code_interpreter_file"
RESOURCE_VECTOR_STORE = "file_search_vector_store"

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


@dataclass(frozen=True, slots=True)
class RawAssistant:
    """One stored payload: what the flatten step reads back from ``raw_assistants``."""

    assistant_id: str
    fetched_at: dt.datetime
    raw_json: str


class _Columns:
    """Column-wise accumulator for one table."""

    def __init__(self, spec: TableSpec) -> None:
        self.spec = spec
        self.data: dict[str, list[Any]] = {name: [] for name in spec.schema.names}

    def add(self, **values: Any) -> None:
        for name, column in self.data.items():
            column.append(values.get(name))

    def table(self) -> pa.Table:
        arrays = [pa.array(self.data[f.name], type=f.type) for f in self.spec.schema]
        return pa.Table.from_arrays(arrays, schema=self.spec.schema)


def flatten(snapshot_date: dt.date, raws: Iterable[RawAssistant]) -> dict[str, pa.Table]:
    """The four derived tables for a batch of stored payloads, keyed by table name.

    ``raw_json`` must hold a valid Assistant object (the fetch step quarantines
    anything else before it is stored).
    """
    assistants = _Columns(ASSISTANTS)
    tools = _Columns(ASSISTANT_TOOLS)
    metadata = _Columns(ASSISTANT_METADATA)
    resources = _Columns(ASSISTANT_TOOL_RESOURCES)
    for raw in raws:
        payload = json.loads(raw.raw_json)
        key = {"snapshot_date": snapshot_date, "assistant_id": raw.assistant_id}
        extras: dict[str, Any] = {}
        _collect_extras(payload, TOP_LEVEL_FIELDS, "", extras)
        tool_list = payload.get("tools") or []
        for index, tool in enumerate(tool_list):
            tools.add(**key, tool_index=index, **_tool_columns(tool))
        meta = payload.get("metadata")
        for meta_key, meta_value in (meta or {}).items():
            metadata.add(**key, key=meta_key, value=meta_value)
        file_ids, store_ids = _tool_resources(payload.get("tool_resources"), extras)
        for position, file_id in enumerate(file_ids or ()):
            resources.add(**key, resource_type=RESOURCE_FILE, resource_id=file_id, position=position)
        for position, store_id in enumerate(store_ids or ()):
            resources.add(**key, resource_type=RESOURCE_VECTOR_STORE, resource_id=store_id, position=position)
        assistants.add(
            **key,
            snapshot_at=raw.fetched_at,
            object=payload.get("object"),
            created_at=_timestamp(payload.get("created_at")),
            name=payload.get("name"),
            description=payload.get("description"),
            model=payload.get("model"),
            instructions=payload.get("instructions"),
            temperature=_float(payload.get("temperature")),
            top_p=_float(payload.get("top_p")),
            **_response_format_columns(payload.get("response_format"), extras),
            tool_count=len(tool_list),
            metadata=None if meta is None else list(meta.items()),
            code_interpreter_file_ids=file_ids,
            file_search_vector_store_ids=store_ids,
            extra_fields=canonical_json(extras) if extras else None,
            content_hash=content_hash(payload),
            raw_json=raw.raw_json,
        )
    return {c.spec.name: c.table() for c in (assistants, tools, metadata, resources)}


def raw_table(snapshot_date: dt.date, results: Iterable[FetchResult]) -> pa.Table:
    """``raw_assistants`` rows for the ``ok`` results of a batch."""
    table = _Columns(RAW_ASSISTANTS)
    for r in results:
        if r.ok:
            table.add(snapshot_date=snapshot_date, assistant_id=r.assistant_id, fetched_at=r.fetched_at,
                      attempts=r.attempts, raw_json=r.body)
    return table.table()


def errors_table(snapshot_date: dt.date, results: Iterable[FetchResult]) -> pa.Table:
    """``fetch_errors`` rows for every result of a batch that did not end ``ok``."""
    table = _Columns(FETCH_ERRORS)
    for r in results:
        if not r.ok:
            table.add(snapshot_date=snapshot_date, assistant_id=r.assistant_id, outcome=str(r.outcome),
                      http_status=r.http_status, error_type=r.error_type, message=r.message,
                      attempts=r.attempts, body=r.body, fetched_at=r.fetched_at)
    return table.table()


def iter_raw(table: pa.Table | pa.RecordBatch) -> Iterator[RawAssistant]:
    """Read ``raw_assistants`` rows back as :class:`RawAssistant` objects."""
    ids = table.column("assistant_id").to_pylist()
    fetched = table.column("fetched_at").to_pylist()
    bodies = table.column("raw_json").to_pylist()
    for assistant_id, fetched_at, raw_json in zip(ids, fetched, bodies, strict=True):
        yield RawAssistant(assistant_id, fetched_at, raw_json)


# --- pieces ---------------------------------------------------------------

def _tool_columns(tool: dict[str, Any]) -> dict[str, Any]:
    tool_type = str(tool.get("type"))
    extras: dict[str, Any] = {}
    _collect_extras(tool, TOOL_FIELDS.get(tool_type, frozenset({"type"})), "", extras)
    columns: dict[str, Any] = {"type": tool_type}
    if tool_type == "function":
        function = tool.get("function") or {}
        _collect_extras(function, FUNCTION_FIELDS, "function.", extras)
        parameters = function.get("parameters")
        columns.update(
            function_name=function.get("name"),
            function_description=function.get("description"),
            function_parameters=canonical_json(parameters) if "parameters" in function else None,
            function_strict=function.get("strict"),
        )
    elif tool_type == "file_search":
        overrides = tool.get("file_search") or {}
        _collect_extras(overrides, FILE_SEARCH_FIELDS, "file_search.", extras)
        ranking = overrides.get("ranking_options") or {}
        _collect_extras(ranking, RANKING_FIELDS, "file_search.ranking_options.", extras)
        columns.update(
            file_search_max_num_results=overrides.get("max_num_results"),
            file_search_ranker=ranking.get("ranker"),
            file_search_score_threshold=_float(ranking.get("score_threshold")),
        )
    columns["extra_fields"] = canonical_json(extras) if extras else None
    return columns


def _tool_resources(resources: Any, extras: dict[str, Any]) -> tuple[list[str] | None, list[str] | None]:
    if not isinstance(resources, dict):
        return None, None
    _collect_extras(resources, TOOL_RESOURCES_FIELDS, "tool_resources.", extras)
    code = resources.get("code_interpreter")
    search = resources.get("file_search")
    file_ids = store_ids = None
    if isinstance(code, dict):
        _collect_extras(code, frozenset({"file_ids"}), "tool_resources.code_interpreter.", extras)
        file_ids = code.get("file_ids")
    if isinstance(search, dict):
        _collect_extras(search, frozenset({"vector_store_ids"}), "tool_resources.file_search.", extras)
        store_ids = search.get("vector_store_ids")
    return file_ids, store_ids


def _response_format_columns(value: Any, extras: dict[str, Any]) -> dict[str, Any]:
    if value is None or isinstance(value, str):
        return {"response_format_type": value}
    _collect_extras(value, RESPONSE_FORMAT_FIELDS, "response_format.", extras)
    columns: dict[str, Any] = {"response_format_type": value.get("type")}
    schema = value.get("json_schema")
    if isinstance(schema, dict):
        _collect_extras(schema, JSON_SCHEMA_FIELDS, "response_format.json_schema.", extras)
        columns.update(
            response_format_json_schema_name=schema.get("name"),
            response_format_json_schema_description=schema.get("description"),
            response_format_json_schema_strict=schema.get("strict"),
            response_format_json_schema=canonical_json(schema["schema"]) if "schema" in schema else None,
        )
    return columns


def _collect_extras(obj: dict[str, Any], known: frozenset[str], path: str, out: dict[str, Any]) -> None:
    """Copy ``obj``'s undeclared fields into ``out``, nested under ``path`` (dot-separated known keys).

    The result has the payload's own shape, holding only the unknown parts, so
    it is unambiguous whatever characters the unknown keys contain.
    """
    unknown = {name: value for name, value in obj.items() if name not in known}
    if not unknown:
        return
    node = out
    for part in filter(None, path.split(".")):
        node = node.setdefault(part, {})
    node.update(unknown)


def _timestamp(seconds: Any) -> dt.datetime | None:
    if isinstance(seconds, bool) or not isinstance(seconds, int | float):
        return None
    try:
        return _EPOCH + dt.timedelta(seconds=int(seconds))
    except OverflowError:
        return None


def _float(value: Any) -> float | None:
    return None if value is None else float(value)
