"""From Assistant payloads and fetch results to Arrow tables.

Free-form JSON (function parameters, response JSON schemas) stays JSON text:
structure it in SQL, not in thousands of columns. Every field of a valid payload
lands in a column; fields the API schema does not define land in
``extra_fields`` keyed by path, so nothing the server sends is dropped.

This runs once per stored assistant, so it is written for speed (profile and
numbers in ``benchmarks/README.md``):

* every column and child row is compiled from the one model
  (:mod:`assistants_export.connectors.core.assistant_model`: ``Field.column``, the tags' columns, the
  ``rows`` of tools, metadata and tool resources) into a plan per table, and read column-wise: Arrow
  converts a batch's bodies (and its tools) into struct arrays of the declared fields in one call each, and
  Arrow compute takes each column out of them, a variant's columns only where its tag says so. What stays
  per body is what must: gathering the tools, the unknown-field walk and the canonical JSON text of
  free-form documents (``python -m benchmarks.flatten_micro`` measures it);
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
from dataclasses import dataclass, field
from typing import Any, Final

import numpy as np
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
    JSON_TEXT,
    PAYLOAD_METADATA,
    PAYLOAD_TOOL_RESOURCES,
    PAYLOAD_TOOLS,
    PAYLOADS,
    RAW_ASSISTANTS,
    SNAPSHOT_MEMBERS,
    TableSpec,
)

from .results import FetchResult


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

    Column-wise: one Python pass per body gathers its tools and walks it for unknown fields (what must be per
    body), then Arrow converts all the bodies (and all the tools) at once into struct arrays of the declared
    fields (:data:`_ASSISTANT_PLAN`, :data:`_TOOL_PLAN`, compiled from the model) and every column is read from
    them with Arrow compute; only free-form JSON values are turned into canonical text one by one.
    """
    id_array = batch.column("assistant_id")
    raw_array = batch.column("raw_json")
    if decoded is None:
        decoded = [(content_hash_normalized(payload), payload)
                   for payload in map(loads_normalized, raw_array.to_pylist())]
    count = len(decoded)

    payloads: list[dict[str, Any]] = []
    hashes: list[str] = []
    extra_column: list[str | None] = []
    tools: list[Any] = []
    tool_owner: list[int] = []
    tool_index: list[int] = []
    tool_count: list[int] = []
    tool_extra: list[str | None] = []
    for row, (content_hash, payload) in enumerate(decoded):
        payloads.append(payload)
        hashes.append(content_hash)
        tool_list = payload.get("tools") or []
        first = len(tools)
        length = len(tool_list)
        tool_count.append(length)
        if length:
            tools.extend(tool_list)
            tool_owner.extend([row] * length)
            tool_index.extend(range(length))
            tool_extra.extend([None] * length)
        extras: dict[str, Any] = {}
        tool_extras: dict[Any, dict[str, Any]] = {}
        for path, value in model.undeclared(payload, model.FLATTENED):
            if path[0] == "tools":  # declared, so this is ("tools", index, ...): the tool row's extras
                _put(tool_extras.setdefault(path[1], {}), path[2:], value)
            else:
                _put(extras, path, value)
        for index, found in tool_extras.items():
            tool_extra[first + index] = canonical_json(found)
        extra_column.append(canonical_json(extras) if extras else None)

    date_scalar = pa.scalar(snapshot_date, pa.date32())
    id_array = id_array.combine_chunks() if isinstance(id_array, pa.ChunkedArray) else id_array
    ids = id_array.cast(pa.string())

    def keys(owner: np.ndarray | None, length: int) -> dict[str, pa.Array]:
        return {"snapshot_date": pa.repeat(date_scalar, length),
                "assistant_id": ids if owner is None else ids.take(pa.array(owner, pa.int64()))}

    main = _ASSISTANT_PLAN.convert(payloads)
    columns = _ASSISTANT_PLAN.columns(main, payloads)
    columns["tool_count"] = pa.array(tool_count, pa.int32())
    columns["extra_fields"] = pa.array(extra_column, JSON_TEXT)
    columns["content_hash"] = pa.array(hashes, pa.string())
    fetched = batch.column("fetched_at")
    raw = raw_array
    if isinstance(fetched, pa.ChunkedArray):
        fetched, raw = fetched.combine_chunks(), raw.combine_chunks()
    columns["snapshot_at"] = fetched.cast(ASSISTANTS.schema.field("snapshot_at").type)
    columns["raw_json"] = raw.cast(pa.large_string())

    tool_struct = _TOOL_PLAN.convert(tools)
    tool_columns = _TOOL_PLAN.columns(tool_struct, tools)
    tool_columns["tool_index"] = pa.array(tool_index, pa.int32())
    tool_columns["extra_fields"] = pa.array(tool_extra, JSON_TEXT)

    metadata = columns["metadata"]
    meta_owner = _parents(metadata)
    meta_start = metadata.offsets.to_numpy()[0] if len(metadata) else 0
    return {
        ASSISTANTS.name: _table(ASSISTANTS, {**keys(None, count), **columns}),
        ASSISTANT_TOOLS.name: _table(ASSISTANT_TOOLS, {
            **keys(np.asarray(tool_owner, np.int64), len(tools)), **tool_columns}),
        ASSISTANT_METADATA.name: _table(ASSISTANT_METADATA, {
            **keys(meta_owner, len(meta_owner)), "key": metadata.keys.slice(meta_start, len(meta_owner)),
            "value": metadata.items.slice(meta_start, len(meta_owner))}),
        ASSISTANT_TOOL_RESOURCES.name: _resource_table(main, keys),
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


def _put(extras: dict[Any, Any], path: model.Path, value: Any) -> None:
    """Put an unknown field's ``value`` into ``extras`` at ``path`` (keys of declared objects, then its own key).

    ``extra_fields`` has the payload's own shape, holding only the unknown parts, so it is unambiguous
    whatever characters the unknown keys contain.
    """
    node = extras
    for key in path[:-1]:
        node = node.setdefault(key, {})
    node[path[-1]] = value


# --- The columns, compiled from the model ---------------------------------------------------------------
#
# Each table's columns are read from Arrow struct arrays built from the decoded bodies in one call per batch
# (``pa.array(bodies, type=...)``, C++ reading each dict): the struct type holds exactly the declared fields that
# land in a column, decide a variant (a tag) or become rows, typed by the columns they land in. A variant's
# columns are read only where its tag says the object is that variant, so a key that another variant declares is
# an unknown field here (in ``extra_fields``), never a column.

Step = str | int
"""A key of an object, or ``0``: the one item of a :attr:`~model.Records.first` list."""

When = tuple[tuple[tuple[Step, ...], str], ...]
"""The tags that must hold for a value to be read: ``(path of the tag, variant)`` pairs."""

_TIMESTAMP_SECONDS = (-62_135_596_800, 253_402_300_799)
"""The Unix times of 0001-01-01 and 9999-12-31T23:59:59: a ``created_at`` outside is null (kept in ``raw_json``)."""


@dataclass(frozen=True, slots=True)
class _Value:
    """One column's value at one place: ``path`` from the plan's object, read where every ``when`` holds."""

    column: str
    path: tuple[Step, ...]
    when: When
    node: model.Node


@dataclass(frozen=True, slots=True)
class _Rows:
    """A list of the plan's object whose items become ``assistant_tool_resources`` rows of one ``kind``."""

    kind: str
    path: tuple[Step, ...]
    node: model.TextList | model.Records
    plan: _Plan | None
    """The item's columns and nested rows (``Records``); ``None`` for a list of strings."""


@dataclass(slots=True)
class _Plan:
    """How one table's columns come out of one kind of object (an assistant, a tool, a response format)."""

    spec: TableSpec
    values: list[_Value] = field(default_factory=list)
    rows: list[_Rows] = field(default_factory=list)
    choices: list[tuple[tuple[Step, ...], model.LiteralOr]] = field(default_factory=list)
    type: pa.StructType = field(init=False)
    subplans: dict[str, _Plan] = field(default_factory=dict)
    """A :class:`~model.LiteralOr`'s object part, by its column."""

    def finish(self, strings: Iterable[tuple[Step, ...]] = ()) -> _Plan:
        """Build the struct type of what the plan reads (``strings``: more text fields it needs)."""
        tree: dict[Any, Any] = {}
        for path in strings:
            _insert(tree, path, pa.string())
        for value in self.values:
            if not _is_json(value.node):
                _insert(tree, value.path, self._arrow_type(value))
            for tag_path, _ in value.when:
                _insert(tree, tag_path, pa.string())
        for rows in self.rows:
            item = pa.string() if rows.plan is None else rows.plan.type
            _insert(tree, rows.path, pa.list_(item))
        self.type = _struct(tree)
        return self

    def _arrow_type(self, value: _Value) -> pa.DataType:
        kind = self.spec.schema.field(value.column).type
        return pa.int64() if pa.types.is_timestamp(kind) else kind

    def convert(self, items: list[Any]) -> pa.StructArray:
        """The items as one struct array of the declared fields (a tool whose keys another variant declares with
        another shape is first cut to its own variant's keys)."""
        try:
            return pa.array(items, self.type)
        except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
            return pa.array([self._cleaned(item) for item in items], self.type)

    def _cleaned(self, item: Any) -> Any:
        """``item`` with what no column may hold left out: for a tool, the keys its variant does not declare; a
        time beyond 64 bits (null in its column anyway)."""
        if item.__class__ is not dict:
            return None
        if self.spec is ASSISTANT_TOOLS:
            tags = model.FLATTENED_TOOL
            variant = tags.variants.get(str(item.get(tags.tag)), tags.fallback)
            item = {key: value for key, value in item.items() if key in variant.keys}
        for value in self.values:
            if pa.types.is_timestamp(self.spec.schema.field(value.column).type) and len(value.path) == 1:
                seconds = item.get(value.path[0])
                if seconds.__class__ is int and not -2**63 <= seconds < 2**63:
                    item = {**item, value.path[0]: None}
        return item

    def columns(self, struct: pa.StructArray, items: list[Any]) -> dict[str, pa.Array]:
        """Every column this plan fills, by name."""
        out: dict[str, pa.Array] = {}
        cache: dict[Any, pa.Array | None] = {}
        by_column: dict[str, list[_Value]] = {}
        for value in self.values:
            by_column.setdefault(value.column, []).append(value)
        for column, values in by_column.items():
            kind = self.spec.schema.field(column).type
            if _is_json(values[0].node):
                out[column] = pa.array(_json_column(struct, values, items, cache), kind)
                continue
            parts = [_masked(_read(struct, v.path, cache), _mask(struct, v.when, cache)) for v in values]
            array = parts[0] if len(parts) == 1 else pc.coalesce(*parts)
            if pa.types.is_timestamp(kind):
                array = _timestamps(array, kind)
            out[column] = array
        for path, choice in self.choices:
            assert choice.column is not None
            found = [_dig(item, path) for item in items]
            tag = choice.of.tag
            out[choice.column] = pa.array(
                [v if v.__class__ is str else v.get(tag) if v.__class__ is dict else None for v in found],
                self.spec.schema.field(choice.column).type)
            objects = [v if v.__class__ is dict else None for v in found]
            sub = self.subplans[choice.column]
            out.update(sub.columns(sub.convert(objects), objects))
        return out


def _is_json(node: model.Node) -> bool:
    return isinstance(node, model.Document | model.Records)


def _insert(tree: dict[Any, Any], path: tuple[Step, ...], kind: pa.DataType) -> None:
    node = tree
    for step in path[:-1]:
        node = node.setdefault(step, {})
        if not isinstance(node, dict):
            raise TypeError(f"the model reads {path} below a value")
    last = path[-1]
    if last in node and node[last] != kind:
        raise TypeError(f"the model reads {path} as {node[last]} and as {kind}")
    node[last] = kind


def _struct(tree: dict[Any, Any]) -> pa.StructType:
    fields = []
    for key, child in tree.items():
        if key == 0:
            continue
        if isinstance(child, dict):
            child = pa.list_(_struct(child[0])) if set(child) == {0} else _struct(child)
        fields.append(pa.field(key, child))
    return pa.struct(fields)


def _compile(spec: TableSpec, node: model.Object | model.Tagged) -> _Plan:
    plan = _Plan(spec)
    _walk(plan, node, (), ())
    return plan.finish()


def _walk(plan: _Plan, node: model.Node, path: tuple[Step, ...], when: When) -> None:
    if isinstance(node, model.Tagged):
        tag_path = (*path, node.tag)
        if node.column:
            plan.values.append(_Value(node.column, tag_path, when, model.Text()))
        for name, variant in node.variants.items():
            _walk(plan, variant, path, (*when, (tag_path, name)))
        return
    if not isinstance(node, model.Object):
        return
    for f in node.fields:
        child, where = f.node, (*path, f.name)
        if isinstance(child, model.Items):
            continue  # its own table (the tool plan); its count is taken while the bodies are gathered
        if isinstance(child, model.LiteralOr):
            assert child.column is not None
            plan.choices.append((where, child))
            plan.subplans[child.column] = _compile(plan.spec, child.of)
            continue
        if f.column is not None:
            plan.values.append(_Value(f.column, where, when, child))
        if isinstance(child, model.TextList) and child.rows:
            plan.rows.append(_Rows(child.rows, where, child, None))
        elif isinstance(child, model.Records) and child.rows:
            item = _Plan(ASSISTANT_TOOL_RESOURCES)
            _walk(item, child.of, (), ())
            carried = [(name,) for nested in item.rows if isinstance(nested.node, model.Records)
                       for _, name in nested.node.carry]
            item.finish([*((name,) for name in child.id_from), *carried])
            plan.rows.append(_Rows(child.rows, where, child, item))
        elif isinstance(child, model.Records) and child.first:
            _walk(plan, child.of, (*where, 0), when)
        elif isinstance(child, model.Object | model.Tagged):
            _walk(plan, child, where, when)


def _read(struct: pa.Array, path: tuple[Step, ...], cache: dict[Any, Any] | None = None) -> pa.Array:
    """The values at ``path`` (null where a step is missing or null); ``cache`` keeps every prefix read."""
    if cache is None:
        cache = {}
    array = struct
    for end, step in enumerate(path, 1):
        known = cache.get(path[:end])
        if known is None:
            known = cache[path[:end]] = _first(array) if step == 0 else pc.struct_field(array, [step])
        array = known
    return array


def _first(lists: pa.Array) -> pa.Array:
    """Each list's first item, null for an empty or null list."""
    offsets = lists.offsets.to_numpy()
    lengths = pc.fill_null(pc.list_value_length(lists), 0).to_numpy(zero_copy_only=False)
    if not len(lists.values):
        return pa.nulls(len(lists), lists.type.value_type)
    return lists.values.take(pa.array(offsets[:-1], mask=lengths == 0))


def _mask(struct: pa.Array, when: When, cache: dict[Any, Any]) -> pa.Array | None:
    """Where every tag of ``when`` holds (``None``: everywhere)."""
    if not when:
        return None
    if ("when", when) not in cache:
        mask = None
        for tag_path, variant in when:
            holds = pc.fill_null(pc.equal(_read(struct, tag_path, cache), variant), False)
            mask = holds if mask is None else pc.and_(mask, holds)
        cache["when", when] = mask
    return cache["when", when]


def _masked(values: pa.Array, mask: pa.Array | None) -> pa.Array:
    return values if mask is None else pc.if_else(mask, values, pa.scalar(None, values.type))


def _dig(item: Any, path: tuple[Step, ...]) -> Any:
    for step in path:
        if step == 0:
            item = item[0] if item.__class__ is list and item else None
        else:
            item = item.get(step) if item.__class__ is dict else None
    return item


def _json_column(struct: pa.Array, values: list[_Value], items: list[Any], cache: dict[Any, Any]) -> list[str | None]:
    """A free-form value as canonical JSON text where it is present (a JSON ``null`` too: ``"null"``), read only
    from the items whose tags say it may be there."""
    out: list[str | None] = [None] * len(items)
    for value in values:
        *steps, key = value.path
        parents = tuple(steps)
        mask = _mask(struct, value.when, cache)
        rows = range(len(items)) if mask is None else np.flatnonzero(mask.to_numpy(zero_copy_only=False)).tolist()
        encode = canonical_json_normalized
        for row in rows:
            holder = _dig(items[row], parents)
            if holder.__class__ is dict and key in holder:
                out[row] = encode(holder[key])
    return out


def _timestamps(seconds: pa.Array, kind: pa.DataType) -> pa.Array:
    """Unix seconds as times, null outside years 1-9999 (where Python's ``datetime`` ends)."""
    valid = pc.and_(pc.greater_equal(seconds, _TIMESTAMP_SECONDS[0]), pc.less_equal(seconds, _TIMESTAMP_SECONDS[1]))
    return pc.multiply(_masked(seconds, valid), 1_000_000).cast(kind)


def _parents(lists: pa.Array) -> np.ndarray:
    """For each item of the lists (or maps), the index of the list that holds it."""
    offsets = lists.offsets.to_numpy()
    return np.repeat(np.arange(len(lists), dtype=np.int64), np.diff(offsets))


def _table(spec: TableSpec, columns: dict[str, pa.Array]) -> pa.Table:
    length = len(columns["snapshot_date"])
    return pa.Table.from_arrays([columns[f.name] if f.name in columns else pa.nulls(length, f.type)
                                 for f in spec.schema], schema=spec.schema)


_RANK = {kind: rank for rank, kind in enumerate(model.RESOURCE_TYPES)}


def _resource_blocks(struct: pa.Array, plan: _Plan, owner: np.ndarray, group: tuple[int, np.ndarray] | None,
                     carried: dict[str, pa.Array]) -> list[dict[str, Any]]:
    """The resource rows of the lists ``plan`` declares in ``struct`` (one item per ``owner`` entry)."""
    blocks = []
    for rows in plan.rows:
        lists = _read(struct, rows.path)
        parent = _parents(lists)
        start = lists.offsets.to_numpy()[0]
        items = lists.values.slice(start, len(parent))
        position = np.arange(len(parent), dtype=np.int64) - (lists.offsets.to_numpy()[:-1] - start)[parent]
        block: dict[str, Any] = {"_owner": owner[parent], "position": position,
                                 "resource_type": pa.repeat(pa.scalar(rows.kind), len(parent))}
        if group is None:
            block["_rank"], block["_group"], block["_sub"] = _RANK[rows.kind], position, -1
        else:
            block["_rank"], block["_group"], block["_sub"] = group[0], group[1][parent], position
        block.update({column: array.take(pa.array(parent)) for column, array in carried.items()})
        if rows.plan is None:
            block["resource_id"] = items
        else:
            block.update(rows.plan.columns(items, []))
            assert isinstance(rows.node, model.Records)
            ids = [pc.if_else(pc.equal(_read(items, (name,)), ""), pa.scalar(None, pa.string()),
                              _read(items, (name,))) for name in rows.node.id_from]
            block["resource_id"] = pc.fill_null(ids[0] if len(ids) == 1 else pc.coalesce(*ids), "")
            for nested in rows.plan.rows:
                assert isinstance(nested.node, model.Records)
                carry = {column: _read(items, (name,)) for column, name in nested.node.carry}
                inner = _Plan(plan.spec, rows=[nested])
                blocks += _resource_blocks(items, inner, owner[parent],
                                           (_RANK[rows.kind], position) if group is None else group, carry)
        blocks.append(block)
    return blocks


def _resource_table(struct: pa.Array, keys: Any) -> pa.Table:
    """``assistant_tool_resources``: every declared resource list's items, an assistant's rows in the model's order."""
    blocks = _resource_blocks(struct, _ASSISTANT_PLAN, np.arange(len(struct), dtype=np.int64), None, {})
    length = sum(len(b["_owner"]) for b in blocks)
    helper = {name: np.concatenate([np.broadcast_to(np.asarray(b[name], np.int64), len(b["_owner"]))
                                    for b in blocks]) if blocks else np.empty(0, np.int64)
              for name in ("_owner", "_rank", "_group", "_sub")}
    order = np.lexsort((helper["_sub"], helper["_group"], helper["_rank"], helper["_owner"]))
    columns: dict[str, pa.Array] = {}
    for f in ASSISTANT_TOOL_RESOURCES.schema:
        if f.name in ("snapshot_date", "assistant_id"):
            continue
        parts = [b[f.name] if f.name in b else pa.nulls(len(b["_owner"]), f.type) for b in blocks]
        parts = [pa.array(p, f.type) if isinstance(p, np.ndarray) else p.cast(f.type) for p in parts]
        joined = pa.concat_arrays(parts) if parts else pa.array([], f.type)
        columns[f.name] = joined.take(pa.array(order))
    return _table(ASSISTANT_TOOL_RESOURCES, {**keys(helper["_owner"][order], length), **columns})


_ASSISTANT_PLAN: Final = _compile(ASSISTANTS, model.FLATTENED)
"""The ``assistants`` columns and the resource rows, from the model's assistant (either dialect's keys)."""

_TOOL_PLAN: Final = _compile(ASSISTANT_TOOLS, model.FLATTENED_TOOL)
"""The ``assistant_tools`` columns, from the model's tool (every tool type of either dialect)."""


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
