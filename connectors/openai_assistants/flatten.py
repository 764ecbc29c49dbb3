"""From Assistant payloads and fetch results to Arrow tables.

Free-form JSON (function parameters, response JSON schemas) stays JSON text:
structure it in SQL, not in thousands of columns. Every field of a valid payload
lands in a column; fields the API schema does not define land in
``extra_fields`` keyed by path, so nothing the server sends is dropped.

This runs once per stored assistant, so it is written for speed (profile and
numbers in ``benchmarks/README.md``):

* columns are plain Python lists appended to directly and turned into Arrow
  arrays once per batch (no per-row dicts or keyword arguments);
* the columns that are copies of ``raw_assistants`` (the ID, the fetch time, the
  body) are taken from the stored Arrow batch as they are, never converted to
  Python objects and back;
* each body is decoded once, with integral floats made ints by the parser: by the
  client when it is fetched (its :class:`FetchResult` carries the payload and its
  content hash to :func:`stored_batch`), or here by
  :func:`~assistants_export.connectors.core.hashing.loads_normalized` when a stored body is flattened
  again; so the content hash and the canonical JSON columns need no extra walk.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import inspect
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from assistants_export.connectors.core import assistant_model as model
from assistants_export.connectors.core.hashing import (
    canonical_json,
    canonical_json_normalized,
    content_hash_normalized,
    loads_normalized,
)
from assistants_export.connectors.core.schemas import (
    ASSISTANT_METADATA,
    ASSISTANT_TOOL_RESOURCES,
    ASSISTANT_TOOLS,
    ASSISTANTS,
    FETCH_ERRORS,
    PAYLOAD_METADATA,
    PAYLOAD_TOOL_RESOURCES,
    PAYLOAD_TOOLS,
    PAYLOADS,
    RAW_ASSISTANTS,
    SNAPSHOT_MEMBERS,
    TableSpec,
)

from .results import FetchResult

RESOURCE_FILE = "code_interpreter_file"
RESOURCE_VECTOR_STORE = "file_search_vector_store"
RESOURCE_DATA_SOURCE = "code_interpreter_data_source"
RESOURCE_STORE_CONFIG = "file_search_vector_store_config"
RESOURCE_STORE_DATA_SOURCE = "file_search_data_source"
RESOURCE_SEARCH_INDEX = "azure_ai_search_index"
_INDEX_FIELDS = ("index_connection_id", "index_name", "index_asset_id", "query_type", "top_k", "filter")
_FOUNDRY_RESOURCE_COLUMNS = ("asset_type", "vector_store_name", *_INDEX_FIELDS)

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)



@dataclass(frozen=True, slots=True)
class RawAssistant:
    """One stored payload: what the flatten step reads back from ``raw_assistants``."""

    assistant_id: str
    fetched_at: dt.datetime
    raw_json: str


class _Columns:
    """Column-wise accumulator for one table: ``columns[name]`` is appended to directly."""

    def __init__(self, spec: TableSpec) -> None:
        self.spec = spec
        self.columns: dict[str, list[Any]] = {name: [] for name in spec.schema.names}

    def table(self, given: dict[str, pa.Array] | None = None) -> pa.Table:
        """The batch as a table; ``given`` holds columns already built as Arrow arrays."""
        given = given or {}
        arrays = [given[f.name] if f.name in given else pa.array(self.columns[f.name], type=f.type)
                  for f in self.spec.schema]
        return pa.Table.from_arrays(arrays, schema=self.spec.schema)


def flatten(snapshot_date: dt.date, raws: Iterable[RawAssistant]) -> dict[str, pa.Table]:
    """The four derived tables for stored payloads, keyed by table name.

    ``raw_json`` must hold a valid Assistant object (the fetch step quarantines
    anything else before it is stored).
    """
    ids: list[str] = []
    fetched: list[dt.datetime] = []
    bodies: list[str] = []
    for raw in raws:
        ids.append(raw.assistant_id)
        fetched.append(raw.fetched_at)
        bodies.append(raw.raw_json)
    batch = pa.table({
        "assistant_id": pa.array(ids, pa.string()),
        "fetched_at": pa.array(fetched, RAW_ASSISTANTS.schema.field("fetched_at").type),
        "raw_json": pa.array(bodies, pa.large_string()),
    })
    return flatten_batch(snapshot_date, batch)


Decoded = Sequence[tuple[str, dict[str, Any]]]
"""Each row's ``(content hash, payload)``, the payload decoded once with integral floats made ints
(:func:`~assistants_export.connectors.core.hashing.loads_normalized`'s form, as the client decodes a body)."""


def flatten_batch(snapshot_date: dt.date, batch: pa.Table | pa.RecordBatch,
                  decoded: Decoded | None = None) -> dict[str, pa.Table]:
    """The four derived tables for one batch of ``raw_assistants`` rows (at least ``assistant_id``,
    ``fetched_at`` and ``raw_json``), keyed by table name.

    ``decoded`` holds the rows' hashes and payloads when the caller decoded the bodies already (the
    fetch step: the client decoded each body once); without it each body is parsed here.
    """
    id_array = batch.column("assistant_id")
    raw_array = batch.column("raw_json")
    if decoded is None:
        decoded = [(content_hash_normalized(payload), payload)
                   for payload in map(loads_normalized, raw_array.to_pylist())]
    count = len(decoded)

    assistants = _Columns(ASSISTANTS)
    a = assistants.columns
    scalars = [(name, a[column], convert) for name, column, convert in _SCALAR_COLUMNS]
    a_rf_type, a_rf_name = a["response_format_type"], a["response_format_json_schema_name"]
    a_rf_description = a["response_format_json_schema_description"]
    a_rf_strict, a_rf_schema = a["response_format_json_schema_strict"], a["response_format_json_schema"]
    a_tool_count, a_metadata = a["tool_count"], a["metadata"]
    a_files, a_stores = a["code_interpreter_file_ids"], a["file_search_vector_store_ids"]
    a_extra, a_hash = a["extra_fields"], a["content_hash"]

    tools = _Columns(ASSISTANT_TOOLS)
    t = tools.columns
    tool_owner: list[int] = []
    metadata = _Columns(ASSISTANT_METADATA)
    meta_owner: list[int] = []
    m_key, m_value = metadata.columns["key"], metadata.columns["value"]
    resources = _Columns(ASSISTANT_TOOL_RESOURCES)
    resource_owner: list[int] = []
    r_type, r_id, r_position = (resources.columns[n] for n in ("resource_type", "resource_id", "position"))
    r_foundry = [resources.columns[n] for n in _FOUNDRY_RESOURCE_COLUMNS]

    for row, (content_hash, payload) in enumerate(decoded):
        get = payload.get
        extras: dict[str, Any] = {}
        tool_extras: dict[Any, dict[str, Any]] = {}
        for path, value in model.undeclared(payload, model.FLATTENED):
            if path[0] == "tools":  # declared, so this is ("tools", index, ...): the tool row's extras
                _put(tool_extras.setdefault(path[1], {}), path[2:], value)
            else:
                _put(extras, path, value)
        tool_list = get("tools") or []
        for index, tool in enumerate(tool_list):
            tool_owner.append(row)
            _add_tool(t, index, tool, tool_extras.get(index))
        meta = get("metadata")
        if meta:
            meta_owner.extend([row] * len(meta))
            m_key.extend(meta.keys())
            m_value.extend(meta.values())
        file_ids, store_ids = _tool_resources(get("tool_resources"))
        added = len(r_type)
        if file_ids:
            resource_owner.extend([row] * len(file_ids))
            r_type.extend([RESOURCE_FILE] * len(file_ids))
            r_id.extend(file_ids)
            r_position.extend(range(len(file_ids)))
        if store_ids:
            resource_owner.extend([row] * len(store_ids))
            r_type.extend([RESOURCE_VECTOR_STORE] * len(store_ids))
            r_id.extend(store_ids)
            r_position.extend(range(len(store_ids)))
        for column in r_foundry:
            column.extend([None] * (len(r_type) - added))
        foundry_rows = _foundry_resources(get("tool_resources"))
        if foundry_rows:
            resource_owner.extend([row] * len(foundry_rows))
            for kind, resource_id, position, values in foundry_rows:
                r_type.append(kind)
                r_id.append(resource_id)
                r_position.append(position)
                for column, value in zip(r_foundry, values, strict=True):
                    column.append(value)
        for name, column, convert in scalars:
            column.append(convert(get(name)))
        rf_type, rf_name, rf_description, rf_strict, rf_schema = _response_format(get("response_format"))
        a_rf_type.append(rf_type)
        a_rf_name.append(rf_name)
        a_rf_description.append(rf_description)
        a_rf_strict.append(rf_strict)
        a_rf_schema.append(rf_schema)
        a_tool_count.append(len(tool_list))
        a_metadata.append(None if meta is None else list(meta.items()))
        a_files.append(file_ids)
        a_stores.append(store_ids)
        a_extra.append(canonical_json(extras) if extras else None)
        a_hash.append(content_hash)

    date_scalar = pa.scalar(snapshot_date, pa.date32())

    def keys(owner: list[int] | None, length: int) -> dict[str, pa.Array]:
        ids = id_array if owner is None else id_array.take(pa.array(owner, pa.int64()))
        if isinstance(ids, pa.ChunkedArray):
            ids = ids.combine_chunks()
        return {"snapshot_date": pa.repeat(date_scalar, length), "assistant_id": ids.cast(pa.string())}

    fetched = batch.column("fetched_at")
    raw = raw_array
    if isinstance(fetched, pa.ChunkedArray):
        fetched, raw = fetched.combine_chunks(), raw.combine_chunks()
    return {
        ASSISTANTS.name: assistants.table({**keys(None, count), "snapshot_at": fetched.cast(
            ASSISTANTS.schema.field("snapshot_at").type), "raw_json": raw.cast(pa.large_string())}),
        ASSISTANT_TOOLS.name: tools.table(keys(tool_owner, len(tool_owner))),
        ASSISTANT_METADATA.name: metadata.table(keys(meta_owner, len(meta_owner))),
        ASSISTANT_TOOL_RESOURCES.name: resources.table(keys(resource_owner, len(resource_owner))),
    }


def stored_batch(snapshot_date: dt.date, raw: pa.Table, known: set[str],
                 decoded: Decoded | None = None) -> tuple[pa.Table, dict[str, pa.Table]]:
    """What a batch of ``raw_assistants`` rows adds to the stored tables.

    Returns the ``snapshot_members`` rows of every assistant, and the payload tables
    (:func:`payload_tables`) of the payloads whose hash is not in ``known``; their hashes are
    added to ``known``. Only those payloads are flattened. ``decoded`` (see :func:`flatten_batch`)
    is what the fetch step passes: the client's one decode of each body and its hash, so an
    unchanged assistant costs no parse here at all and a new one is flattened from the decoded
    object; without it (the upgrade of an old warehouse) each body is parsed once.
    """
    if decoded is None:
        decoded = [(content_hash_normalized(payload), payload)
                   for payload in map(loads_normalized, raw.column("raw_json").to_pylist())]
    hashes = [h for h, _ in decoded]
    new = []
    for h in hashes:
        fresh = h not in known
        if fresh:
            known.add(h)
        new.append(fresh)
    members = pa.table({
        "snapshot_date": pa.repeat(pa.scalar(snapshot_date, pa.date32()), len(hashes)),
        "assistant_id": raw.column("assistant_id"),
        "content_hash": pa.array(hashes, pa.string()),
        "fetched_at": raw.column("fetched_at"),
        "attempts": raw.column("attempts"),
    }, schema=SNAPSHOT_MEMBERS.schema)
    if all(new):
        return members, payload_tables(flatten_batch(snapshot_date, raw, decoded))
    fresh_rows = raw.filter(pa.array(new, pa.bool_()))
    fresh_decoded = [pair for pair, is_new in zip(decoded, new, strict=True) if is_new]
    return members, payload_tables(flatten_batch(snapshot_date, fresh_rows, fresh_decoded))


def payload_tables(flat: dict[str, pa.Table]) -> dict[str, pa.Table]:
    """The four payload tables (keyed by ``content_hash``) from :func:`flatten_batch`'s output.

    ``snapshot_date`` stays the date being stored: the partition the payloads live in.
    """
    assistants = flat[ASSISTANTS.name]
    by_id = assistants.column("assistant_id")
    hashes = assistants.column("content_hash")
    out = {PAYLOADS.name: assistants.select(PAYLOADS.schema.names).cast(PAYLOADS.schema)}
    for spec, source in ((PAYLOAD_TOOLS, ASSISTANT_TOOLS), (PAYLOAD_METADATA, ASSISTANT_METADATA),
                         (PAYLOAD_TOOL_RESOURCES, ASSISTANT_TOOL_RESOURCES)):
        child = flat[source.name]
        owner = pc.index_in(child.column("assistant_id"), value_set=by_id)
        columns = {name: child.column(name) for name in spec.schema.names if name != "content_hash"}
        columns["content_hash"] = hashes.take(owner)
        out[spec.name] = pa.table([columns[name] for name in spec.schema.names], schema=spec.schema)
    return out


def raw_table(snapshot_date: dt.date, results: Iterable[FetchResult]) -> pa.Table:
    """``raw_assistants`` rows for the ``ok`` results of a batch."""
    table = _Columns(RAW_ASSISTANTS)
    c = table.columns
    ids, fetched, attempts, bodies = c["assistant_id"], c["fetched_at"], c["attempts"], c["raw_json"]
    for r in results:
        if r.ok:
            ids.append(r.assistant_id)
            fetched.append(r.fetched_at)
            attempts.append(r.attempts)
            bodies.append(r.body)
    c["snapshot_date"] = [snapshot_date] * len(ids)
    return table.table()


def errors_table(snapshot_date: dt.date, results: Iterable[FetchResult]) -> pa.Table:
    """``fetch_errors`` rows for every result of a batch that did not end ``ok``."""
    table = _Columns(FETCH_ERRORS)
    c = table.columns
    for r in results:
        if not r.ok:
            c["assistant_id"].append(r.assistant_id)
            c["outcome"].append(str(r.outcome))
            c["http_status"].append(r.http_status)
            c["error_type"].append(r.error_type)
            c["message"].append(r.message)
            c["attempts"].append(r.attempts)
            c["body"].append(r.body)
            c["fetched_at"].append(r.fetched_at)
    c["snapshot_date"] = [snapshot_date] * len(c["assistant_id"])
    return table.table()


_FOUNDRY_TOOL_COLUMNS = tuple(f.name for f in ASSISTANT_TOOLS.schema
                              if f.name.startswith(("bing_", "openapi_", "connected_agent_", "azure_function_")))
"""The columns only Foundry's tool types fill; null on every other row."""


def _add_tool(columns: dict[str, list[Any]], index: int, tool: dict[str, Any], extras: dict[str, Any] | None) -> None:
    """Append one ``assistant_tools`` row (all but the key columns) for ``tool``, its unknown fields ``extras``."""
    tool_type = str(tool.get("type"))
    name = description = parameters = strict = max_results = ranker = threshold = None
    foundry = _foundry_tool(tool_type, tool)
    for column in _FOUNDRY_TOOL_COLUMNS:
        columns[column].append(foundry.get(column))
    if tool_type in ("function", "azure_function"):
        function = (tool.get("function") if tool_type == "function"
                    else (tool.get("azure_function") or {}).get("function")) or {}
        name = function.get("name")
        description = function.get("description")
        if "parameters" in function:
            parameters = canonical_json_normalized(function["parameters"])
        strict = function.get("strict")
    elif tool_type == "file_search":
        overrides = tool.get("file_search") or {}
        ranking = overrides.get("ranking_options") or {}
        max_results = overrides.get("max_num_results")
        ranker = ranking.get("ranker")
        threshold = _float(ranking.get("score_threshold"))
    columns["tool_index"].append(index)
    columns["type"].append(tool_type)
    columns["function_name"].append(name)
    columns["function_description"].append(description)
    columns["function_parameters"].append(parameters)
    columns["function_strict"].append(strict)
    columns["file_search_max_num_results"].append(max_results)
    columns["file_search_ranker"].append(ranker)
    columns["file_search_score_threshold"].append(threshold)
    columns["extra_fields"].append(canonical_json(extras) if extras else None)


def _foundry_tool(tool_type: str, tool: dict[str, Any]) -> dict[str, Any]:
    """The Foundry-only columns of one tool (absent keys are null), by the model's column names."""
    out: dict[str, Any] = {}
    if tool_type == "bing_grounding":
        configurations = (tool.get("bing_grounding") or {}).get("search_configurations") or []
        if configurations:  # at most one (maxItems 1)
            first = configurations[0]
            out = {"bing_connection_id": first.get("connection_id"), "bing_market": first.get("market"),
                   "bing_set_lang": first.get("set_lang"), "bing_count": first.get("count"),
                   "bing_freshness": first.get("freshness")}
    elif tool_type == "openapi":
        openapi = tool.get("openapi") or {}
        auth = openapi.get("auth") or {}
        scheme = auth.get("security_scheme") or {}
        out = {"openapi_name": openapi.get("name"), "openapi_description": openapi.get("description"),
               "openapi_auth_type": auth.get("type"), "openapi_connection_id": scheme.get("connection_id"),
               "openapi_audience": scheme.get("audience"), "openapi_default_params": openapi.get("default_params")}
        for key in ("spec", "functions"):
            if key in openapi:
                out[f"openapi_{key}"] = canonical_json_normalized(openapi[key])
    elif tool_type == "connected_agent":
        agent = tool.get("connected_agent") or {}
        out = {"connected_agent_id": agent.get("id"), "connected_agent_name": agent.get("name"),
               "connected_agent_description": agent.get("description")}
    elif tool_type == "azure_function":
        definition = tool.get("azure_function") or {}
        for direction in ("input", "output"):
            queue = (definition.get(f"{direction}_binding") or {}).get("storage_queue") or {}
            out[f"azure_function_{direction}_queue_endpoint"] = queue.get("queue_service_endpoint")
            out[f"azure_function_{direction}_queue_name"] = queue.get("queue_name")
    return out


def _foundry_resources(resources: Any) -> list[tuple[str, str, int, tuple[Any, ...]]]:
    """Foundry's tool resources as ``assistant_tool_resources`` rows: ``(type, id, position, other columns)``."""
    if not isinstance(resources, dict):
        return []
    rows: list[tuple[str, str, int, tuple[Any, ...]]] = []
    blank = (None,) * len(_INDEX_FIELDS)
    code = resources.get("code_interpreter")
    if isinstance(code, dict):
        for position, source in enumerate(code.get("data_sources") or []):
            rows.append((RESOURCE_DATA_SOURCE, source.get("uri"), position, (source.get("type"), None, *blank)))
    search = resources.get("file_search")
    if isinstance(search, dict):
        for position, store in enumerate(search.get("vector_stores") or []):
            name = store.get("name")
            rows.append((RESOURCE_STORE_CONFIG, name, position, (None, None, *blank)))
            sources = (store.get("configuration") or {}).get("data_sources") or []
            for index, source in enumerate(sources):
                rows.append((RESOURCE_STORE_DATA_SOURCE, source.get("uri"), index,
                             (source.get("type"), name, *blank)))
    indexes = resources.get("azure_ai_search")
    if isinstance(indexes, dict):
        for position, index in enumerate(indexes.get("indexes") or []):
            values = tuple(index.get(key) for key in _INDEX_FIELDS)
            resource_id = index.get("index_name") or index.get("index_asset_id") or index.get("index_connection_id")
            rows.append((RESOURCE_SEARCH_INDEX, resource_id or "", position, (None, None, *values)))
    return rows


def _tool_resources(resources: Any) -> tuple[list[str] | None, list[str] | None]:
    if not isinstance(resources, dict):
        return None, None
    code = resources.get("code_interpreter")
    search = resources.get("file_search")
    file_ids = store_ids = None
    if isinstance(code, dict):
        file_ids = code.get("file_ids")
    if isinstance(search, dict):
        store_ids = search.get("vector_store_ids")
    return file_ids, store_ids


_NO_RESPONSE_FORMAT: tuple[Any, None, None, None, None] = (None, None, None, None, None)


def _response_format(value: Any) -> tuple[Any, Any, Any, Any, str | None]:
    """``(type, json_schema name, description, strict, schema as canonical JSON)``."""
    if value is None or isinstance(value, str):
        return (value, None, None, None, None) if value is not None else _NO_RESPONSE_FORMAT
    schema = value.get("json_schema")
    if not isinstance(schema, dict):
        return value.get("type"), None, None, None, None
    text = canonical_json_normalized(schema["schema"]) if "schema" in schema else None
    return value.get("type"), schema.get("name"), schema.get("description"), schema.get("strict"), text


def _put(extras: dict[Any, Any], path: model.Path, value: Any) -> None:
    """Put an unknown field's ``value`` into ``extras`` at ``path`` (keys of declared objects, then its own key).

    ``extra_fields`` has the payload's own shape, holding only the unknown parts, so it is unambiguous
    whatever characters the unknown keys contain.
    """
    node = extras
    for key in path[:-1]:
        node = node.setdefault(key, {})
    node[path[-1]] = value


def _timestamp(seconds: Any) -> dt.datetime | None:
    if isinstance(seconds, bool) or not isinstance(seconds, int | float):
        return None
    try:
        return _EPOCH + dt.timedelta(seconds=int(seconds))
    except OverflowError:
        return None


def _float(value: Any) -> float | None:
    return None if value is None else float(value)


def _as_is(value: Any) -> Any:
    return value


def _converter(column: str) -> Any:
    """How a JSON value becomes a value of the column, by the column's Arrow type."""
    kind = ASSISTANTS.schema.field(column).type
    if pa.types.is_timestamp(kind):
        return _timestamp
    if pa.types.is_floating(kind):
        return _float
    return _as_is


_SCALAR_COLUMNS = tuple((f.name, f.column, _converter(f.column)) for f in model.ASSISTANT.fields
                        if f.column is not None and isinstance(f.node, model.Text | model.Number | model.Choice))
"""The assistant's own scalar fields and their ``assistants`` columns, from the model's column map."""


def _fingerprint() -> str:
    """What identifies this flattener: its code, the model's, the hashing's and the payload tables' schemas.

    Kept in the metadata of every payload partition it writes (:data:`FLATTENED_BY`), so the flatten step can
    tell a partition this very code wrote (nothing to redo: the nightly flatten step after a fetch) from one
    an older version wrote (flattened again). Any edit of these modules counts as a change, a comment
    included: a needless re-flatten costs a little time, a missed one would keep stale columns.
    """
    from assistants_export.connectors.core import hashing

    digest = hashlib.sha256()
    for module in (sys.modules[__name__], model, hashing):
        digest.update(inspect.getsource(module).encode())
    for spec in (PAYLOADS, PAYLOAD_TOOLS, PAYLOAD_METADATA, PAYLOAD_TOOL_RESOURCES):
        digest.update(str(spec.schema).encode())
    return digest.hexdigest()[:16]


FLATTENED_BY = {"assistants_export.flattened_by": _fingerprint()}
"""The Parquet metadata of a payload partition written by this flattener."""
