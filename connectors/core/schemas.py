"""The Arrow schemas of every table, defined once.

They are used to write Parquet, to build empty batches (so an empty snapshot
still has its columns), to create the DuckDB tables and to render the README's
table reference (``python -m assistants_export.connectors.core.schemas``). Each
column carries its documentation in the field metadata under ``doc``.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa

TIMESTAMP = pa.timestamp("us", tz="UTC")
JSON_TEXT = pa.large_string()
"""JSON documents and raw bodies can be large; 64-bit offsets keep a batch of them safe."""


def col(name: str, type_: pa.DataType, doc: str, *, nullable: bool = True) -> pa.Field:
    return pa.field(name, type_, nullable=nullable, metadata={"doc": doc})


def _key() -> list[pa.Field]:
    return [
        col("snapshot_date", pa.date32(), "The day the snapshot belongs to (the partition).", nullable=False),
        col("assistant_id", pa.string(), "The assistant's ID (`asst_...`).", nullable=False),
    ]


@dataclass(frozen=True)
class TableSpec:
    """A table: its name, what one row is, and its Arrow schema."""

    name: str
    grain: str
    doc: str
    schema: pa.Schema
    key: tuple[str, ...] = ("snapshot_date", "assistant_id")
    """Columns that identify a row; the asset checks hold every table to it."""

    def empty(self) -> pa.Table:
        return self.schema.empty_table()


RAW_ASSISTANTS = TableSpec(
    "raw_assistants",
    "one row per assistant fetched `ok` per snapshot date",
    "The payloads as received; every derived table is rebuilt from these.",
    pa.schema([
        *_key(),
        col("fetched_at", TIMESTAMP, "When the payload was received (UTC).", nullable=False),
        col("attempts", pa.int16(), "HTTP attempts it took (1 = no retry; in discover mode, those of its list page)."),
        col("raw_json", JSON_TEXT, "The response body as first received with this content (stored once per "
            "`content_hash`: a body that differs only in key order or number spelling is the same payload; in "
            "discover mode: the list item, re-serialised compactly).", nullable=False),
    ]),
)

ASSISTANTS = TableSpec(
    "assistants",
    "one row per assistant per snapshot date",
    "Each assistant's configuration, one column per field.",
    pa.schema([
        *_key(),
        col("snapshot_at", TIMESTAMP, "When this assistant was fetched (UTC).", nullable=False),
        col("object", pa.string(), "Always `assistant`."),
        col("created_at", TIMESTAMP, "When the assistant was created (UTC; null if the server sent a "
            "timestamp outside years 1-9999)."),
        col("name", pa.string(), "Name (at most 256 characters) or null."),
        col("description", pa.string(), "Description (at most 512 characters) or null."),
        col("model", pa.string(), "Model ID, e.g. `gpt-4o`."),
        col("instructions", pa.large_string(), "System instructions (at most 256,000 characters) or null."),
        col("temperature", pa.float64(), "Sampling temperature, 0-2, or null."),
        col("top_p", pa.float64(), "Nucleus sampling mass, 0-1, or null."),
        col("response_format_type", pa.string(),
            "`auto`, `text`, `json_object`, `json_schema`, or null when absent or null."),
        col("response_format_json_schema_name", pa.string(), "For `json_schema`: the schema's name."),
        col("response_format_json_schema_description", pa.string(), "For `json_schema`: its description."),
        col("response_format_json_schema_strict", pa.bool_(), "For `json_schema`: strict flag (null if absent)."),
        col("response_format_json_schema", JSON_TEXT, "For `json_schema`: the JSON Schema as canonical "
            "JSON text."),
        col("tool_count", pa.int32(), "Number of tools.", nullable=False),
        col("metadata", pa.map_(pa.string(), pa.string()), "Metadata key-value pairs (null when the API sent null)."),
        col("code_interpreter_file_ids", pa.list_(pa.string()),
            "`tool_resources.code_interpreter.file_ids`, in order (null if absent)."),
        col("file_search_vector_store_ids", pa.list_(pa.string()),
            "`tool_resources.file_search.vector_store_ids`, in order (null if absent)."),
        col("extra_fields", JSON_TEXT, "Fields the API schema does not define, as a JSON object shaped like "
            "the payload but holding only those fields (null when there are none): nothing is lost when the API "
            "grows."),
        col("content_hash", pa.string(), "SHA-256 of the canonical payload (sorted keys, normalised "
            "numbers): equal exactly when the configuration is equal.", nullable=False),
        col("raw_json", JSON_TEXT, "The payload as first received with this content (see `raw_assistants`).",
            nullable=False),
    ]),
)

ASSISTANT_TOOLS = TableSpec(
    "assistant_tools",
    "one row per tool per assistant per snapshot date",
    "The tools of each assistant, in order.",
    pa.schema([
        *_key(),
        col("tool_index", pa.int32(), "Position in the assistant's `tools` list, from 0.", nullable=False),
        col("type", pa.string(), "`code_interpreter`, `file_search` or `function`; Foundry adds `bing_grounding`, "
            "`azure_ai_search`, `connected_agent`, `openapi`, `azure_function` and any type it adds later.",
            nullable=False),
        col("function_name", pa.string(), "Function tools: the function's name."),
        col("function_description", pa.string(), "Function tools: its description (null if absent)."),
        col("function_parameters", JSON_TEXT, "Function tools: the parameters' JSON Schema as canonical "
            "JSON text (null if absent)."),
        col("function_strict", pa.bool_(), "Function tools: strict schema adherence (null if absent)."),
        col("file_search_max_num_results", pa.int32(), "File search tools: `max_num_results` override."),
        col("file_search_ranker", pa.string(), "File search tools: `ranking_options.ranker`."),
        col("file_search_score_threshold", pa.float64(), "File search tools: `ranking_options.score_threshold`."),
        col("bing_connection_id", pa.string(), "Foundry `bing_grounding` tools: the search configuration's "
            "`connection_id`."),
        col("bing_market", pa.string(), "Foundry `bing_grounding` tools: `market` (null if absent)."),
        col("bing_set_lang", pa.string(), "Foundry `bing_grounding` tools: `set_lang` (null if absent)."),
        col("bing_count", pa.int64(), "Foundry `bing_grounding` tools: `count` (null if absent)."),
        col("bing_freshness", pa.string(), "Foundry `bing_grounding` tools: `freshness` (null if absent)."),
        col("openapi_name", pa.string(), "Foundry `openapi` tools: the OpenAPI function's name."),
        col("openapi_description", pa.string(), "Foundry `openapi` tools: its description (null if absent)."),
        col("openapi_spec", JSON_TEXT, "Foundry `openapi` tools: the OpenAPI spec as canonical JSON text."),
        col("openapi_auth_type", pa.string(), "Foundry `openapi` tools: `anonymous`, `connection` or "
            "`managed_identity`."),
        col("openapi_connection_id", pa.string(), "Foundry `openapi` tools with `connection` auth: its connection ID."),
        col("openapi_audience", pa.string(), "Foundry `openapi` tools with `managed_identity` auth: its audience."),
        col("openapi_default_params", pa.list_(pa.string()), "Foundry `openapi` tools: `default_params`."),
        col("openapi_functions", JSON_TEXT, "Foundry `openapi` tools: the read-only `functions` list as "
            "canonical JSON text (null if absent)."),
        col("connected_agent_id", pa.string(), "Foundry `connected_agent` tools: the ID of the agent it calls."),
        col("connected_agent_name", pa.string(), "Foundry `connected_agent` tools: the name it calls it by."),
        col("connected_agent_description", pa.string(), "Foundry `connected_agent` tools: when to call it."),
        col("azure_function_input_queue_endpoint", pa.string(), "Foundry `azure_function` tools: the input "
            "storage queue's service endpoint (the function itself is in the `function_*` columns)."),
        col("azure_function_input_queue_name", pa.string(), "Foundry `azure_function` tools: the input queue's name."),
        col("azure_function_output_queue_endpoint", pa.string(), "Foundry `azure_function` tools: the output "
            "storage queue's service endpoint."),
        col("azure_function_output_queue_name", pa.string(), "Foundry `azure_function` tools: the output queue's "
            "name."),
        col("extra_fields", JSON_TEXT,
            "Fields of the tool the API schema does not define, shaped like the tool (null if none); all but "
            "`type` for a tool type the model does not know."),
    ]),
    key=("snapshot_date", "assistant_id", "tool_index"),
)

ASSISTANT_METADATA = TableSpec(
    "assistant_metadata",
    "one row per metadata key per assistant per snapshot date",
    "Metadata as rows, for filtering and joining on keys.",
    pa.schema([
        *_key(),
        col("key", pa.string(), "Metadata key (at most 64 characters).", nullable=False),
        col("value", pa.string(), "Metadata value (at most 512 characters), stored verbatim.", nullable=False),
    ]),
    key=("snapshot_date", "assistant_id", "key"),
)

ASSISTANT_TOOL_RESOURCES = TableSpec(
    "assistant_tool_resources",
    "one row per file or vector store per assistant per snapshot date",
    "The files and vector stores attached to each assistant's tools.",
    pa.schema([
        *_key(),
        col("resource_type", pa.string(), "`code_interpreter_file` or `file_search_vector_store`; Foundry adds "
            "`code_interpreter_data_source`, `file_search_vector_store_config`, `file_search_data_source` and "
            "`azure_ai_search_index`.", nullable=False),
        col("resource_id", pa.string(), "The file ID (`file-...`) or vector store ID (`vs_...`); a data source's "
            "URI; a vector store configuration's name; a search index's name, else its asset ID, else its "
            "connection ID, else empty.", nullable=False),
        col("position", pa.int32(), "Position in its list, from 0.", nullable=False),
        col("asset_type", pa.string(), "Data sources: `uri_asset` or `id_asset`."),
        col("vector_store_name", pa.string(), "`file_search_data_source` rows: the name of the vector store "
            "configuration the data source belongs to."),
        col("index_connection_id", pa.string(), "Search indexes: `index_connection_id` (null if absent)."),
        col("index_name", pa.string(), "Search indexes: `index_name` (null if absent)."),
        col("index_asset_id", pa.string(), "Search indexes: `index_asset_id` (null if absent)."),
        col("query_type", pa.string(), "Search indexes: `query_type` (null if absent)."),
        col("top_k", pa.int64(), "Search indexes: `top_k` (null if absent)."),
        col("filter", pa.string(), "Search indexes: `filter` (null if absent)."),
    ]),
    key=("snapshot_date", "assistant_id", "resource_type", "position"),
)

FETCH_ERRORS = TableSpec(
    "fetch_errors",
    "one row per ID that did not end `ok` per snapshot date",
    "Every ID that was not found, invalid, failed or rejected, with what the server said (quarantine).",
    pa.schema([
        *_key(),
        col("outcome", pa.string(), "`not_found`, `invalid`, `failed` or `rejected_id`.", nullable=False),
        col("http_status", pa.int16(), "The last HTTP status (null for transport errors and rejected IDs)."),
        col("error_type", pa.string(), "The API's error type, or `timeout`, `connection_error`, "
            "`schema_invalid`, `html_response`, `malformed_json`, `response_too_large`, `unsupported_encoding`, "
            "`undecodable_body`, `malformed_id`."),
        col("message", pa.string(), "What went wrong, in one line (secrets redacted)."),
        col("attempts", pa.int16(), "HTTP attempts made (0 for rejected IDs)."),
        col("body", JSON_TEXT, "The invalid or error body as received (secrets redacted; error bodies "
            "kept up to 64 KiB, invalid bodies whole)."),
        col("fetched_at", TIMESTAMP, "When the ID ended (UTC).", nullable=False),
    ]),
)

SNAPSHOT_RUNS = TableSpec(
    "snapshot_runs",
    "one row per snapshot date: the run that produced its current data",
    "How each date's snapshot was taken. Re-running a date replaces its row.",
    pa.schema([
        col("snapshot_date", pa.date32(), "The day the snapshot belongs to.", nullable=False),
        col("run_id", pa.string(), "Dagster run ID (or a UUID outside Dagster).", nullable=False),
        col("started_at", TIMESTAMP, "When fetching started (UTC).", nullable=False),
        col("finished_at", TIMESTAMP, "When fetching finished (UTC).", nullable=False),
        col("mode", pa.string(), "`ids` (IDs given) or `discover` (list endpoint).", nullable=False),
        col("base_url", pa.string(), "The API root that was queried (without credentials).", nullable=False),
        col("ids_requested", pa.int64(), "Distinct IDs asked for (0 in discover mode).", nullable=False),
        col("duplicate_ids", pa.int64(), "IDs dropped as duplicates of earlier ones.", nullable=False),
        col("ok_count", pa.int64(), "IDs that ended `ok`.", nullable=False),
        col("not_found_count", pa.int64(), "IDs that ended `not_found`.", nullable=False),
        col("invalid_count", pa.int64(), "IDs that ended `invalid` (quarantined).", nullable=False),
        col("failed_count", pa.int64(), "IDs that ended `failed`.", nullable=False),
        col("rejected_id_count", pa.int64(), "Malformed IDs that were never sent.", nullable=False),
        col("requests", pa.int64(), "HTTP requests sent, retries and the preflight included.", nullable=False),
        col("retries", pa.int64(), "Retries made.", nullable=False),
        col("rate_limited", pa.int64(), "Retries caused by HTTP 429.", nullable=False),
        col("unknown_field_count", pa.int64(), "Fields seen that the API schema does not define.",
            nullable=False),
        col("approved_gates", pa.list_(pa.string()), "Blocking gates this snapshot failed and a user approved "
            "(`empty`, `failed_share`, `mass_deletion`); empty when it passed them all, null before they were "
            "recorded."),
        col("approved_by", pa.string(), "Who approved the held-back run this snapshot was stored from "
            "(`assistants-export held approve`: `--by`, else the user running it); null for a run stored when it "
            "ran."),
        col("approved_at", TIMESTAMP, "When that held-back run was approved (UTC); null for a run stored when it "
            "ran."),
    ]),
    key=("snapshot_date",),
)

HISTORY_CONFIG_COLUMNS: tuple[str, ...] = tuple(
    name for name in ASSISTANTS.schema.names
    if name not in ("snapshot_date", "assistant_id", "snapshot_at", "content_hash", "raw_json"))
"""The configuration columns of ``assistants`` that every history version carries: all of them but the key, the
fetch time, the hash and the body (generated from :data:`ASSISTANTS`, so a new flattened column reaches
``payloads`` and ``assistant_history`` by itself)."""

ASSISTANT_HISTORY = TableSpec(
    "assistant_history",
    "one row per version of an assistant",
    "SCD type 2: a version starts when an assistant's content hash changes, when it is deleted (a version "
    "with `is_deleted`) and when it comes back. A version is valid from `valid_from` (inclusive) to "
    "`valid_to` (exclusive). One table over every date, rebuilt from the stored snapshots: materializing "
    "its Dagster partition D replays D and every later stored date.",
    pa.schema([
        col("assistant_id", pa.string(), "The assistant's ID.", nullable=False),
        col("valid_from", pa.date32(), "First snapshot date of this version; its tools are the "
            "`assistant_tools` rows of that date.", nullable=False),
        col("valid_to", pa.date32(), "Snapshot date the next version starts (exclusive); null while current."),
        col("is_current", pa.bool_(), "True for the open version (`valid_to` is null).", nullable=False),
        col("is_deleted", pa.bool_(), "True for a deletion: confirmed `not_found`, or absent from a complete "
            "discover listing. Carries the last configuration seen.", nullable=False),
        col("content_hash", pa.string(), "The version's `content_hash` (for a deletion, the last one seen).",
            nullable=False),
        *(ASSISTANTS.schema.field(name) for name in HISTORY_CONFIG_COLUMNS),
    ]),
    key=("assistant_id", "valid_from"),
)

ASSISTANT_CHANGES = TableSpec(
    "assistant_changes",
    "one row per changed field per assistant per snapshot date (one row for a whole created, deleted or "
    "restored assistant)",
    "The field-level change log between consecutive versions.",
    pa.schema([
        col("snapshot_date", pa.date32(), "The snapshot that revealed the change.", nullable=False),
        col("assistant_id", pa.string(), "The assistant's ID.", nullable=False),
        col("change_type", pa.string(), "`created`, `updated`, `deleted` or `restored`.", nullable=False),
        col("field", pa.string(), "Path of the changed field (`model`, `metadata.team`, "
            "`tools[2].function.parameters`, `tool_resources.file_search.vector_store_ids`, `tools` for a new "
            "order); null for a row about the whole assistant (created, deleted, restored)."),
        col("old_value", JSON_TEXT, "Value before, as canonical JSON text (null when absent)."),
        col("new_value", JSON_TEXT, "Value after, as canonical JSON text (null when absent)."),
    ]),
    key=("snapshot_date", "assistant_id", "change_type", "field"),
)

HISTORY_TABLES: tuple[TableSpec, ...] = (ASSISTANT_HISTORY, ASSISTANT_CHANGES)
"""Derived from every stored snapshot by the history step."""

SNAPSHOT_TABLES: tuple[TableSpec, ...] = (RAW_ASSISTANTS, FETCH_ERRORS, SNAPSHOT_RUNS)
"""Written by the fetch step."""

DERIVED_TABLES: tuple[TableSpec, ...] = (ASSISTANTS, ASSISTANT_TOOLS, ASSISTANT_METADATA,
                                         ASSISTANT_TOOL_RESOURCES)
"""The flattened tables: views over the membership and the payload tables the fetch step fills (and the
flatten step rebuilds from the stored bodies)."""

ALL_TABLES: dict[str, TableSpec] = {t.name: t for t in (*SNAPSHOT_TABLES, *DERIVED_TABLES)}
"""The tables with one snapshot per ``snapshot_date``, as users query them."""

REFERENCE_TABLES: dict[str, TableSpec] = {**ALL_TABLES, **{t.name: t for t in HISTORY_TABLES}}
"""Every table users query (the table reference): stored, or served by a view over the stored tables."""


# --- How the tables are stored -----------------------------------------------------------------------
#
# An archive repeats itself: most assistants are the same tonight as last night. So a payload is stored
# once, under its content hash, in the partition of the snapshot date that first stored it; a date's
# snapshot is its membership (which assistant had which payload, and the fetch facts). ``raw_assistants``,
# ``assistants``, the three child tables and ``assistant_history`` are views joining the membership (or the
# versions) to the payloads: ``sql/stored/``. An unchanged assistant costs one membership row a night.

def _by_payload(spec: TableSpec) -> list[pa.Field]:
    """A child table's columns keyed by payload: the stored key, then its columns after the date and the ID."""
    return [*_stored_key(), *(f for f in spec.schema if f.name not in ("snapshot_date", "assistant_id"))]


def _stored_key() -> list[pa.Field]:
    return [
        col("snapshot_date", pa.date32(), "The snapshot date whose run first stored this payload (the partition).",
            nullable=False),
        col("content_hash", pa.string(), "The payload's `content_hash`.", nullable=False),
    ]


SNAPSHOT_MEMBERS = TableSpec(
    "snapshot_members",
    "one row per assistant fetched `ok` per snapshot date",
    "A date's snapshot: which assistant had which payload, and when it was fetched.",
    pa.schema([
        *_key(),
        col("content_hash", pa.string(), "The payload's `content_hash` (the key of `payloads`).", nullable=False),
        RAW_ASSISTANTS.schema.field("fetched_at"),
        RAW_ASSISTANTS.schema.field("attempts"),
    ]),
)

PAYLOADS = TableSpec(
    "payloads",
    "one row per distinct payload",
    "Every distinct payload once: its body as first received and its configuration columns.",
    pa.schema([
        *_stored_key(),
        col("assistant_id", pa.string(), "The assistant's ID.", nullable=False),
        *(ASSISTANTS.schema.field(name) for name in HISTORY_CONFIG_COLUMNS),
        ASSISTANTS.schema.field("raw_json"),
    ]),
    key=("snapshot_date", "content_hash"),
)

PAYLOAD_TOOLS = TableSpec(
    "payload_tools", "one row per tool per distinct payload", "The tools of each payload, in order.",
    pa.schema(_by_payload(ASSISTANT_TOOLS)),
    key=("snapshot_date", "content_hash", "tool_index"),
)

PAYLOAD_METADATA = TableSpec(
    "payload_metadata", "one row per metadata key per distinct payload", "The metadata of each payload.",
    pa.schema(_by_payload(ASSISTANT_METADATA)),
    key=("snapshot_date", "content_hash", "key"),
)

PAYLOAD_TOOL_RESOURCES = TableSpec(
    "payload_tool_resources", "one row per file or vector store per distinct payload",
    "The files and vector stores of each payload.",
    pa.schema(_by_payload(ASSISTANT_TOOL_RESOURCES)),
    key=("snapshot_date", "content_hash", "resource_type", "position"),
)

ASSISTANT_VERSIONS = TableSpec(
    "assistant_versions",
    "one row per version of an assistant",
    "The SCD2 versions without their configuration (`assistant_history` joins it from `payloads`).",
    pa.schema([f for f in ASSISTANT_HISTORY.schema if f.name not in HISTORY_CONFIG_COLUMNS]),
    key=("assistant_id", "valid_from"),
)

RESPONSES_MAPPINGS = TableSpec(
    "responses_mappings", "one row per distinct payload",
    "Each payload as a Responses API request: what `to_responses_request` (`connectors/migration/responses.py`, "
    "the one definition of the mapping) made of it, written with the payload; the view `responses_migration` "
    "reads it. `assistants-export upgrade` and `rebuild-duckdb` map again the payloads of a warehouse that "
    "predates this table or whose rows an older mapping version wrote.",
    pa.schema([
        *_stored_key(),
        col("mapping_version", pa.int32(), "The version of the mapping that wrote the row (`MAPPING_VERSION`).",
            nullable=False),
        col("name", pa.string(), "The assistant's name, as the mapping's output line has it."),
        col("description", pa.string(), "The assistant's description, as the mapping's output line has it."),
        col("created_at", pa.int64(), "When the assistant was created, in Unix seconds as the API gave it."),
        col("request", JSON_TEXT, "The Responses API request body (without `input`) as JSON text.", nullable=False),
        col("warnings", JSON_TEXT, "The migration warnings as a JSON array of `{\"code\", \"message\"}`.",
            nullable=False),
    ]),
    key=("snapshot_date", "content_hash"),
)

PAYLOAD_TABLES: tuple[TableSpec, ...] = (PAYLOADS, PAYLOAD_TOOLS, PAYLOAD_METADATA, PAYLOAD_TOOL_RESOURCES)
"""A date's new payloads, flattened: written with its snapshot, rebuilt by the flatten step."""

STORED_DATE_TABLES: dict[str, TableSpec] = {t.name: t for t in (SNAPSHOT_MEMBERS, FETCH_ERRORS, SNAPSHOT_RUNS,
                                                                *PAYLOAD_TABLES, RESPONSES_MAPPINGS)}
"""The tables stored with one partition per snapshot date, loaded into DuckDB a date at a time."""

STORED_TABLES: dict[str, TableSpec] = {**STORED_DATE_TABLES, ASSISTANT_VERSIONS.name: ASSISTANT_VERSIONS,
                                       ASSISTANT_CHANGES.name: ASSISTANT_CHANGES}
"""Every table stored in Parquet and DuckDB."""

VIEW_TABLES: dict[str, TableSpec] = {t.name: t for t in (RAW_ASSISTANTS, *DERIVED_TABLES, ASSISTANT_HISTORY)}
"""Tables users query that are views over the stored tables (``sql/stored/<name>.sql``), in creation order."""


SOURCE_ROW = ("| `source` | string (not null) | The API source the row belongs to: `default` for the one source a "
              "warehouse configured by the environment holds (see [Many sources](#many-sources)). In DuckDB and the "
              "query sessions; the stored files have no such column, each source's files being in its own folder. |")
"""Every table and view users query starts with ``source`` (added when served, see ``connectors.warehouse``)."""


def conform(data: pa.Table | pa.RecordBatch, schema: pa.Schema) -> pa.Table | pa.RecordBatch:
    """``data`` in ``schema``: a nullable column an older writer did not know yet (Foundry's tool columns, say)
    is added as nulls, so a warehouse written before a column existed keeps opening; then cast."""
    have = set(data.schema.names)
    missing = [f for f in schema if f.name not in have]
    if missing:
        arrays = {name: data.column(name) for name in data.schema.names}
        for f in missing:
            if not f.nullable:
                raise ValueError(f"column {f.name} is missing and may not be null")
            arrays[f.name] = pa.nulls(data.num_rows, f.type)
        build = pa.Table.from_arrays if isinstance(data, pa.Table) else pa.RecordBatch.from_arrays
        data = build([arrays[f.name] for f in schema], schema=schema)
    elif data.schema.names != schema.names:
        data = data.select(schema.names)
    return data.cast(schema)


def present(schema: pa.Schema, available: pa.Schema) -> list[str]:
    """The columns of ``schema`` that a file or dataset of schema ``available`` has (what can be read from it)."""
    return [name for name in schema.names if name in set(available.names)]


def table_reference_markdown() -> str:
    """The README's table reference, generated from the schemas so it cannot drift."""
    out: list[str] = []
    stored_only = [spec for name, spec in STORED_TABLES.items() if name not in REFERENCE_TABLES]
    for spec in [*REFERENCE_TABLES.values(), *stored_only]:
        key = ", ".join(f"`{c}`" for c in spec.key)
        if spec is stored_only[0]:
            out += ["### How they are stored", "",
                    "The views above join these stored tables (see [The warehouse](#the-warehouse)); "
                    "other engines can read them directly.", ""]
        served = f" A view over the stored tables (`sql/stored/{spec.name}.sql`)." if spec.name in VIEW_TABLES else ""
        heading = "####" if spec in stored_only else "###"
        out += [f"{heading} `{spec.name}`", "", f"{spec.doc}{served} Grain: {spec.grain}. Key: `source`, {key}.",
                "", "| column | type | description |", "| --- | --- | --- |", SOURCE_ROW]
        for field in spec.schema:
            doc = (field.metadata or {}).get(b"doc", b"").decode()
            required = "" if field.nullable else " (not null)"
            out.append(f"| `{field.name}` | {type_name(field.type)}{required} | {doc} |")
        out.append("")
    return "\n".join(out)


def type_name(type_: pa.DataType) -> str:
    """The readable type name the table reference (and Dagster's column schema) shows: ``string``,
    ``date``, ``timestamp (UTC)``, ``list<string>``..."""
    names = {"large_string": "string", "date32[day]": "date", "timestamp[us, tz=UTC]": "timestamp (UTC)"}
    text = str(type_)
    if pa.types.is_map(type_):
        return "map<string, string>"
    if pa.types.is_list(type_):
        return "list<string>"
    return names.get(text, text)


if __name__ == "__main__":
    print(table_reference_markdown())
