"""The Assistant object's shape, defined once: fields, types, limits, nesting and columns.

Everything else that must know the shape is derived from :data:`ASSISTANT` and its ``foundry`` dialect,
:data:`FOUNDRY_AGENT` (Azure AI Foundry Agent Service's Agent: the same object with more tool types and tool
resources, checked against the vendored slice ``schema/foundry_agent.swagger.json``; see :data:`DIALECTS`):

* the validator (:mod:`assistants_export.connectors.openai_assistants.validation`) compiles its checks from
  this tree;
* what is an unknown field is defined once, by :func:`undeclared` below: the client reports
  their paths and the flattener keeps their values in ``extra_fields``;
* the flattener (:mod:`assistants_export.connectors.openai_assistants.flatten`) compiles every column and
  every child row from it: ``Field.column`` (a value's column), ``Tagged.column``/``LiteralOr.column`` (a tag's
  column), ``Items.rows``/``Items.count`` (the tool rows and the tool count), ``TextMap.rows`` (the metadata
  rows), ``TextList.rows``/``Records.rows`` (the tool-resource rows, in :data:`RESOURCE_TYPES`' order) and
  ``Records.first`` (a one-item list whose item's columns sit on its owner's row);
* the quality check's :data:`EXTRA_CONTAINERS` and the history diff's :data:`WHOLE_VALUES`
  are computed from it below.

It lives in ``connectors/core`` because every layer needs it (the source to validate and
flatten, the history to diff, the checks to read ``extra_fields``), and the core is the one
package they may all import. ``schema/assistant_object.schema.json`` (the vendored official
JSON Schema) stays the reference: ``tests/connectors/test_validation.py`` checks that the
validator built from this model accepts exactly what the schema accepts, and that the limits
here equal the schema's.

Why a declarative tree of our own rather than pydantic models or msgspec Structs: measured on
the sandbox's bundled and invalid assistants (commit message of the change that introduced
this module, README "Layout"), neither library meets JSON Schema's semantics (``1.0`` is an
integer, ``NaN`` passes ``minimum``, every problem listed at once) with messages in the user's
terms, and validation was never the cost of a body (decoding and hashing are).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Final

# --- Limits (from the API reference; the schema's keywords where it has them) ----------------------

MAX_NAME_LENGTH: Final = 256
MAX_DESCRIPTION_LENGTH: Final = 512
MAX_INSTRUCTIONS_LENGTH: Final = 256_000
MAX_TOOLS: Final = 128
MAX_CODE_INTERPRETER_FILES: Final = 20
MAX_VECTOR_STORES: Final = 1
MAX_METADATA_PAIRS: Final = 16
"""Documented, not a schema keyword: not enforced (the schema is what the API may answer)."""
MAX_METADATA_KEY_LENGTH: Final = 64
MAX_METADATA_VALUE_LENGTH: Final = 512
MAX_FUNCTION_NAME_LENGTH: Final = 64
TEMPERATURE_RANGE: Final = (0.0, 2.0)
TOP_P_RANGE: Final = (0.0, 1.0)
FILE_SEARCH_MAX_RESULTS_RANGE: Final = (1, 50)
SCORE_THRESHOLD_RANGE: Final = (0.0, 1.0)
FILE_SEARCH_RANKERS: Final = frozenset({"auto", "default_2024_08_21"})


# --- The kinds of node ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Text:
    """``type: string``, with an optional ``maxLength`` counted in code points."""

    max_length: int | None = None


@dataclass(frozen=True, slots=True)
class Number:
    """``type: number`` (or ``integer``: an int or a float with no fraction), optional inclusive bounds."""

    minimum: float | None = None
    maximum: float | None = None
    integer: bool = False


@dataclass(frozen=True, slots=True)
class Choice:
    """``type: string`` with an ``enum``."""

    values: frozenset[str]


@dataclass(frozen=True, slots=True)
class Flag:
    """``type: boolean``."""


@dataclass(frozen=True, slots=True)
class TextList:
    """An array of strings with ``maxItems`` (file and vector store IDs); ``None``: no limit.

    ``rows``: each string is also one ``assistant_tool_resources`` row of this ``resource_type`` (the string its
    ``resource_id``, its index its ``position``).
    """

    max_items: int | None
    rows: str | None = None


@dataclass(frozen=True, slots=True)
class TextMap:
    """An object of user-chosen keys and string values (``metadata``): user data, never searched for unknown keys.

    ``rows``: each pair is also one row (``key``, ``value``) of that table.
    """

    rows: str | None = None


@dataclass(frozen=True, slots=True)
class Document:
    """A free-form JSON object (a JSON Schema the user wrote): stored as JSON text and compared whole.

    ``any_type``: any JSON value, not only an object (a Swagger property with no ``type``: an OpenAPI ``spec``).
    """

    any_type: bool = False


@dataclass(frozen=True, slots=True)
class Field:
    """One declared key of an object.

    ``column`` names the column of the table the flattener puts the value in: ``assistants`` for the
    assistant's own fields, its response format and its tool resources' ID lists, ``assistant_tools`` for a
    tool's, ``assistant_tool_resources`` for a field of an object that is a resource row (``Records.rows``).
    A free-form value (:class:`Document`, or :class:`Records` with a column) lands as canonical JSON text; a
    value that becomes rows only, or nothing, has none.
    """

    name: str
    node: Node
    required: bool = False
    nullable: bool = False
    column: str | None = None


@dataclass(frozen=True, slots=True)
class Object:
    """``type: object`` with declared ``properties``; any other key is allowed and reported as unknown.

    ``containers`` are the fields whose values hold declared objects (where unknown keys may hide).
    """

    fields: tuple[Field, ...]
    keys: frozenset[str] = field(init=False)
    required: tuple[str, ...] = field(init=False)
    containers: tuple[Field, ...] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "keys", frozenset(f.name for f in self.fields))
        object.__setattr__(self, "required", tuple(f.name for f in self.fields if f.required))
        containers = tuple(f for f in self.fields if isinstance(f.node, Object | Tagged | Items | Records | LiteralOr))
        object.__setattr__(self, "containers", containers)

    def __getitem__(self, name: str) -> Field:
        return next(f for f in self.fields if f.name == name)


@dataclass(frozen=True, slots=True)
class Tagged:
    """A ``oneOf`` of objects told apart by a constant, required ``tag`` field (``type``).

    ``open`` is a discriminated base type (Swagger's ``discriminator``, Foundry's ``ToolDefinition``): a
    tag no variant names is valid too, read as :attr:`fallback` (the tag alone declared, any other key
    unknown), so a tool type the service adds later lands as a typed row with its JSON kept.
    """

    tag: str
    variants: dict[str, Object]
    open: bool = False
    column: str | None = None
    """The column the tag lands in (a tool's ``type``, an OpenAPI tool's ``openapi_auth_type``)."""
    fallback: Object = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "fallback", Object((Field(self.tag, Text(), required=True),)))


@dataclass(frozen=True, slots=True)
class Items:
    """An array of ``of`` with ``maxItems`` (``None``: no limit, as Foundry's ``tools``).

    ``rows``: the table with one row per item (its index the ``index`` column); ``count``: the owner's column
    holding how many there are.
    """

    of: Tagged
    max_items: int | None
    rows: str | None = None
    index: str | None = None
    count: str | None = None


@dataclass(frozen=True, slots=True)
class Records:
    """An array of one kind of declared object with an optional ``maxItems`` (Foundry's index and data source lists).

    ``rows``: each item is one ``assistant_tool_resources`` row of this ``resource_type``, its fields in their
    columns, its ``resource_id`` the first non-empty of the ``id_from`` fields (else empty), its index its
    ``position``; ``carry`` puts a field of the item that holds the list into a column of each row
    (``(column, field)``). ``first``: at most one item, whose columns sit on the owner's row (null without one).
    """

    of: Object
    max_items: int | None = None
    rows: str | None = None
    id_from: tuple[str, ...] = ()
    carry: tuple[tuple[str, str], ...] = ()
    first: bool = False


@dataclass(frozen=True, slots=True)
class LiteralOr:
    """A ``oneOf`` of one string constant and tagged objects (``response_format``: ``"auto"`` or a format).

    ``column``: the column holding the constant, or the object's tag.
    """

    literal: str
    of: Tagged
    column: str | None = None


Node = Text | Number | Choice | Flag | TextList | TextMap | Document | Object | Tagged | Items | Records | LiteralOr


# --- The Assistant object -----------------------------------------------------------------------------

FUNCTION = Object((
    Field("name", Text(), required=True, column="function_name"),
    Field("description", Text(), column="function_description"),
    Field("parameters", Document(), column="function_parameters"),
    Field("strict", Flag(), nullable=True, column="function_strict"),
))
"""A FunctionObject."""

RANKING_OPTIONS = Object((
    Field("score_threshold", Number(*SCORE_THRESHOLD_RANGE), required=True, column="file_search_score_threshold"),
    Field("ranker", Choice(FILE_SEARCH_RANKERS), column="file_search_ranker"),
))

FILE_SEARCH = Object((
    Field("max_num_results", Number(*FILE_SEARCH_MAX_RESULTS_RANGE, integer=True),
          column="file_search_max_num_results"),
    Field("ranking_options", RANKING_OPTIONS),
))
"""A file search tool's overrides."""


def _type(value: str) -> Field:
    return Field("type", Choice(frozenset({value})), required=True)


TOOL = Tagged("type", {
    "code_interpreter": Object((_type("code_interpreter"),)),
    "file_search": Object((_type("file_search"), Field("file_search", FILE_SEARCH))),
    "function": Object((_type("function"), Field("function", FUNCTION, required=True))),
}, column="type")
"""One item of ``tools``: the ``oneOf`` of tool kinds; the tool's ``type`` is the ``assistant_tools.type`` column."""

# The kinds of ``assistant_tool_resources`` row, in the order an assistant's rows are written.
RESOURCE_FILE: Final = "code_interpreter_file"
RESOURCE_VECTOR_STORE: Final = "file_search_vector_store"
RESOURCE_DATA_SOURCE: Final = "code_interpreter_data_source"
RESOURCE_STORE_CONFIG: Final = "file_search_vector_store_config"
RESOURCE_STORE_DATA_SOURCE: Final = "file_search_data_source"
RESOURCE_SEARCH_INDEX: Final = "azure_ai_search_index"
RESOURCE_TYPES: Final = (RESOURCE_FILE, RESOURCE_VECTOR_STORE, RESOURCE_DATA_SOURCE, RESOURCE_STORE_CONFIG,
                         RESOURCE_STORE_DATA_SOURCE, RESOURCE_SEARCH_INDEX)
"""An assistant's resource rows come in this order; a vector store configuration's data sources follow it."""

CODE_INTERPRETER_FILE_IDS = Field("file_ids", TextList(MAX_CODE_INTERPRETER_FILES, rows=RESOURCE_FILE),
                                  column="code_interpreter_file_ids")
VECTOR_STORE_IDS = Field("vector_store_ids", TextList(MAX_VECTOR_STORES, rows=RESOURCE_VECTOR_STORE),
                         column="file_search_vector_store_ids")
CODE_INTERPRETER_RESOURCES = Object((CODE_INTERPRETER_FILE_IDS,))
FILE_SEARCH_RESOURCES = Object((VECTOR_STORE_IDS,))
TOOL_RESOURCES = Object((
    Field("code_interpreter", CODE_INTERPRETER_RESOURCES),
    Field("file_search", FILE_SEARCH_RESOURCES),
))

JSON_SCHEMA = Object((
    Field("name", Text(), required=True, column="response_format_json_schema_name"),
    Field("description", Text(), column="response_format_json_schema_description"),
    Field("schema", Document(), column="response_format_json_schema"),
    Field("strict", Flag(), nullable=True, column="response_format_json_schema_strict"),
))
"""A JSON-schema response format's ``json_schema``: the same shape as a FunctionObject."""

RESPONSE_FORMAT = LiteralOr("auto", Tagged("type", {
    "text": Object((_type("text"),)),
    "json_object": Object((_type("json_object"),)),
    "json_schema": Object((_type("json_schema"), Field("json_schema", JSON_SCHEMA, required=True))),
}), column="response_format_type")
"""``"auto"`` or a format object; ``"auto"`` or the object's ``type`` is the ``response_format_type`` column."""

ASSISTANT = Object((
    Field("id", Text(), required=True),
    Field("object", Choice(frozenset({"assistant"})), required=True, column="object"),
    Field("created_at", Number(integer=True), required=True, column="created_at"),
    Field("name", Text(MAX_NAME_LENGTH), required=True, nullable=True, column="name"),
    Field("description", Text(MAX_DESCRIPTION_LENGTH), required=True, nullable=True, column="description"),
    Field("model", Text(), required=True, column="model"),
    Field("instructions", Text(MAX_INSTRUCTIONS_LENGTH), required=True, nullable=True, column="instructions"),
    Field("tools", Items(TOOL, MAX_TOOLS, rows="assistant_tools", index="tool_index", count="tool_count"),
          required=True),
    Field("tool_resources", TOOL_RESOURCES, nullable=True),
    Field("metadata", TextMap(rows="assistant_metadata"), required=True, nullable=True, column="metadata"),
    Field("temperature", Number(*TEMPERATURE_RANGE), nullable=True, column="temperature"),
    Field("top_p", Number(*TOP_P_RANGE), nullable=True, column="top_p"),
    Field("response_format", RESPONSE_FORMAT, nullable=True),
))
"""The AssistantObject (``GET /assistants/{id}``), fields in the schema's order."""


# --- Foundry's Agent (the ``foundry`` dialect) --------------------------------------------------------------
#
# Azure AI Foundry Agent Service serves the same protocol with more tool types and tool resources. Its facts
# come from the vendored slice ``connectors/openai_assistants/schema/foundry_agent.swagger.json`` (the
# ``Agent`` definition and what it references; ``tests/connectors/test_foundry_model.py`` checks this tree
# against it). The Foundry tree declares every key the OpenAI tree does, so one flattener, one set of columns
# and one history diff serve both sources; only validation and the unknown-field counts follow the dialect.

FOUNDRY_MAX_INDEXES: Final = 1
FOUNDRY_MAX_SEARCH_CONFIGURATIONS: Final = 1
FOUNDRY_MAX_DATA_SOURCES: Final = 20
FOUNDRY_QUERY_TYPES: Final = frozenset({"simple", "semantic", "vector", "vector_simple_hybrid",
                                        "vector_semantic_hybrid"})
FOUNDRY_ASSET_TYPES: Final = frozenset({"uri_asset", "id_asset"})
FOUNDRY_OPENAPI_AUTH_TYPES: Final = frozenset({"anonymous", "connection", "managed_identity"})

FOUNDRY_FUNCTION = Object((
    Field("name", Text(), required=True, column="function_name"),
    Field("description", Text(), column="function_description"),
    Field("parameters", Document(any_type=True), required=True, column="function_parameters"),
    Field("strict", Flag(), nullable=True, column="function_strict"),
))
"""Foundry's FunctionDefinition: ``parameters`` required and of any type; ``strict`` as OpenAI's (not in the slice)."""

FOUNDRY_FILE_SEARCH = Object((
    Field("max_num_results", Number(*FILE_SEARCH_MAX_RESULTS_RANGE, integer=True),
          column="file_search_max_num_results"),
    Field("ranking_options", Object((
        Field("ranker", Text(), required=True, column="file_search_ranker"),
        Field("score_threshold", Number(), required=True, column="file_search_score_threshold"),
    ))),
))
"""FileSearchToolDefinitionDetails: the ranker is any string and the threshold unbounded in Foundry's slice."""

BING_SEARCH_CONFIGURATION = Object((
    Field("connection_id", Text(), required=True, column="bing_connection_id"),
    Field("market", Text(), column="bing_market"),
    Field("set_lang", Text(), column="bing_set_lang"),
    Field("count", Number(integer=True), column="bing_count"),
    Field("freshness", Text(), column="bing_freshness"),
))

OPENAPI_AUTH = Tagged("type", {
    "anonymous": Object((_type("anonymous"),)),
    "connection": Object((_type("connection"), Field("security_scheme", Object((
        Field("connection_id", Text(), required=True, column="openapi_connection_id"),)), required=True))),
    "managed_identity": Object((_type("managed_identity"), Field("security_scheme", Object((
        Field("audience", Text(), required=True, column="openapi_audience"),)), required=True))),
}, column="openapi_auth_type")
"""OpenApiAuthDetails; its ``type`` is the ``openapi_auth_type`` column."""

OPENAPI = Object((
    Field("name", Text(), required=True, column="openapi_name"),
    Field("description", Text(), column="openapi_description"),
    Field("spec", Document(any_type=True), required=True, column="openapi_spec"),
    Field("auth", OPENAPI_AUTH, required=True),
    Field("default_params", TextList(None), column="openapi_default_params"),
    Field("functions", Records(Object((
        Field("name", Text(), required=True),
        Field("description", Text()),
        Field("parameters", Document(any_type=True), required=True),
    ))), column="openapi_functions"),
))
"""OpenApiFunctionDefinition; ``functions`` (read-only, filled in by the service from the spec) is validated item
by item and stored whole as JSON in one column."""


def _queue(column_prefix: str) -> Object:
    return Object((
        _type("storage_queue"),
        Field("storage_queue", Object((
            Field("queue_service_endpoint", Text(), required=True, column=f"{column_prefix}_queue_endpoint"),
            Field("queue_name", Text(), required=True, column=f"{column_prefix}_queue_name"),
        )), required=True),
    ))


AZURE_FUNCTION = Object((
    Field("function", FOUNDRY_FUNCTION, required=True),
    Field("input_binding", _queue("azure_function_input"), required=True),
    Field("output_binding", _queue("azure_function_output"), required=True),
))
"""AzureFunctionDefinition: the function (the ``function_*`` columns) and its two storage queues."""

CONNECTED_AGENT = Object((
    Field("id", Text(), required=True, column="connected_agent_id"),
    Field("name", Text(), required=True, column="connected_agent_name"),
    Field("description", Text(), required=True, column="connected_agent_description"),
))

FOUNDRY_TOOL = Tagged("type", {
    "code_interpreter": Object((_type("code_interpreter"),)),
    "file_search": Object((_type("file_search"), Field("file_search", FOUNDRY_FILE_SEARCH))),
    "function": Object((_type("function"), Field("function", FOUNDRY_FUNCTION, required=True))),
    "bing_grounding": Object((_type("bing_grounding"), Field("bing_grounding", Object((
        Field("search_configurations", Records(BING_SEARCH_CONFIGURATION, FOUNDRY_MAX_SEARCH_CONFIGURATIONS,
                                               first=True), required=True),)), required=True))),
    "azure_ai_search": Object((_type("azure_ai_search"),)),
    "connected_agent": Object((_type("connected_agent"), Field("connected_agent", CONNECTED_AGENT, required=True))),
    "openapi": Object((_type("openapi"), Field("openapi", OPENAPI, required=True))),
    "azure_function": Object((_type("azure_function"), Field("azure_function", AZURE_FUNCTION, required=True))),
}, open=True, column="type")
"""Foundry's ToolDefinition family: a discriminated base, so a type not listed is valid (kept, not quarantined)."""

DATA_SOURCE = Object((
    Field("uri", Text(), required=True),
    Field("type", Choice(FOUNDRY_ASSET_TYPES), required=True, column="asset_type"),
))
"""VectorStoreDataSource: one ``assistant_tool_resources`` row (``resource_id`` the URI, ``asset_type``)."""

SEARCH_INDEX = Object((
    Field("index_connection_id", Text(), column="index_connection_id"),
    Field("index_name", Text(), column="index_name"),
    Field("query_type", Choice(FOUNDRY_QUERY_TYPES), column="query_type"),
    Field("top_k", Number(integer=True), column="top_k"),
    Field("filter", Text(), column="filter"),
    Field("index_asset_id", Text(), column="index_asset_id"),
))
"""AISearchIndexResource: one ``azure_ai_search_index`` row of ``assistant_tool_resources``, a column per field."""

FOUNDRY_TOOL_RESOURCES = Object((
    Field("code_interpreter", Object((
        CODE_INTERPRETER_FILE_IDS,
        Field("data_sources", Records(DATA_SOURCE, FOUNDRY_MAX_DATA_SOURCES, rows=RESOURCE_DATA_SOURCE,
                                      id_from=("uri",))),
    ))),
    Field("file_search", Object((
        VECTOR_STORE_IDS,
        Field("vector_stores", Records(Object((
            Field("name", Text(), required=True),
            Field("configuration", Object((Field("data_sources", Records(
                DATA_SOURCE, rows=RESOURCE_STORE_DATA_SOURCE, id_from=("uri",),
                carry=(("vector_store_name", "name"),)), required=True),)), required=True),
        )), MAX_VECTOR_STORES, rows=RESOURCE_STORE_CONFIG, id_from=("name",))),
    ))),
    Field("azure_ai_search", Object((Field("indexes", Records(
        SEARCH_INDEX, FOUNDRY_MAX_INDEXES, rows=RESOURCE_SEARCH_INDEX,
        id_from=("index_name", "index_asset_id", "index_connection_id"))),))),
))
"""Foundry's ToolResources: OpenAI's two plus data sources, vector store configurations and search indexes."""

_FOUNDRY_REQUIRED: Final = frozenset({"tool_resources", "temperature", "top_p"})

_TOOLS = ASSISTANT["tools"].node
assert isinstance(_TOOLS, Items)

FOUNDRY_AGENT = Object(tuple(
    Field(f.name, dataclasses.replace(_TOOLS, of=FOUNDRY_TOOL, max_items=None) if f.name == "tools"
          else FOUNDRY_TOOL_RESOURCES if f.name == "tool_resources" else f.node,
          required=f.required or f.name in _FOUNDRY_REQUIRED, nullable=f.nullable, column=f.column)
    for f in ASSISTANT.fields))
"""Foundry's Agent (``GET {endpoint}/assistants/{id}``): the AssistantObject's fields, Foundry's tools and
resources, and ``tool_resources``, ``temperature`` and ``top_p`` required (nullable) as its slice says."""

Dialect = str
"""``openai`` or ``foundry``: which source's schema a body is validated against."""

DIALECTS: Final[dict[str, Object]] = {"openai": ASSISTANT, "foundry": FOUNDRY_AGENT}

FLATTENED: Final = FOUNDRY_AGENT
"""The tree the flattener reads any stored body with: it declares every key either dialect declares."""

FLATTENED_TOOL: Final = FOUNDRY_TOOL
"""The tool the flattener reads each item of ``tools`` as: every tool type either dialect declares."""


# --- What the other modules derive ----------------------------------------------------------------------

TOOL_TYPES: Final = frozenset(TOOL.variants)
FOUNDRY_TOOL_TYPES: Final = frozenset(FOUNDRY_TOOL.variants)
RESPONSE_FORMAT_TYPES: Final = frozenset(RESPONSE_FORMAT.of.variants)


def _walk(node: Node, path: str) -> Iterator[tuple[str, Node]]:
    """Every node under ``node`` (itself included) with its dotted path; a tool's nodes are relative to the tool."""
    yield path, node
    if isinstance(node, Object):
        for f in node.fields:
            yield from _walk(f.node, f"{path}.{f.name}" if path else f.name)
    elif isinstance(node, Tagged):
        for variant in node.variants.values():
            for f in variant.fields:
                yield from _walk(f.node, f"{path}.{f.name}" if path else f.name)
    elif isinstance(node, Records | LiteralOr):
        yield from _walk(node.of, path)


Path = tuple[str | int, ...]
"""Where a value sits in a payload: its keys and list indexes from the root (``("tools", 3, "function", "x")``)."""


def undeclared(value: dict[str, Any], node: Node = ASSISTANT) -> list[tuple[Path, Any]]:
    """Every key of ``value`` (read as ``node``) and below it that the model does not declare, as ``(path, value)``.

    The one definition of an unknown field: the client counts their paths, the flattener keeps their values
    in ``extra_fields``. Declared objects are looked into (a tagged object as the variant its tag names, a list
    item by item); free-form values -- ``metadata``, a function's ``parameters``, a format's ``schema`` -- are
    user data and never are. Meant for valid payloads: a part without the declared shape is skipped.
    """
    found: list[tuple[Path, Any]] = []
    _undeclared(node, value, (), found)
    return found


def _undeclared(node: Node, value: Any, path: Path, found: list[tuple[Path, Any]]) -> None:
    if isinstance(node, LiteralOr):
        node = node.of
    if isinstance(node, Tagged):
        if not isinstance(value, dict):
            return
        kind = value.get(node.tag)
        variant = node.variants.get(kind) if kind.__class__ is str else None
        if variant is None:
            if not node.open or kind.__class__ is not str:
                return
            variant = node.fallback
        node = variant
    elif isinstance(node, Items | Records):
        if isinstance(value, list):
            for index, item in enumerate(value):
                _undeclared(node.of, item, (*path, index), found)
        return
    if not isinstance(node, Object) or not isinstance(value, dict):
        return
    keys = node.keys
    if not value.keys() <= keys:
        found.extend(((*path, key), item) for key, item in value.items() if key not in keys)
    for f in node.containers:
        item = value.get(f.name)
        if item is not None:
            _undeclared(f.node, item, (*path, f.name), found)


_ROOTS: Final = (ASSISTANT, TOOL, FOUNDRY_AGENT, FOUNDRY_TOOL)

WHOLE_VALUES: Final = frozenset(path.rpartition(".")[2] for root in _ROOTS
                                for path, node in _walk(root, "") if isinstance(node, Document))
"""Keys whose values are free-form JSON documents, compared (and stored) as one value: ``parameters``, ``schema``,
an OpenAPI tool's ``spec``."""

EXTRA_CONTAINERS: Final = frozenset(path for root in _ROOTS for path, node in _walk(root, "")
                                    if path and isinstance(node, Object | Tagged | LiteralOr))
"""Declared objects inside which ``extra_fields`` nests the unknown keys, by path from the assistant (for its
``extra_fields``) or from the tool (for a tool's): ``tool_resources.file_search``, ``function``, ..."""
