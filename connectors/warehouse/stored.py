"""The tables users query, served from the tables that are stored.

A payload is stored once (``payloads`` and its three child tables, keyed by
``content_hash``, in the partition of the date that first stored it) and a
date's snapshot is its membership (``snapshot_members``: assistant, hash, fetch
facts). ``raw_assistants``, ``assistants``, ``assistant_tools``,
``assistant_metadata``, ``assistant_tool_resources`` and ``assistant_history``
are views joining the two, defined once in ``sql/stored/`` and created the same
way in ``assistants.duckdb`` and over the Parquet files. Two runs (or two
sources) may both store a payload that was new to each; the views read every
payload from one partition only (``payload_home``: the earliest date, then the
first source by name), so no row is ever doubled.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from assistants_export import sql
from assistants_export.connectors.core import settings
from assistants_export.connectors.core.schemas import (
    PAYLOAD_TABLES,
    PAYLOADS,
    SNAPSHOT_MEMBERS,
    STORED_TABLES,
    VIEW_TABLES,
    TableSpec,
)

from .store import Store

if TYPE_CHECKING:  # pyarrow.dataset imports pandas: the read-only commands start without them
    import pyarrow.dataset as ds

STORED_VIEW_NAMES: tuple[str, ...] = ("payload_home", *VIEW_TABLES)
"""The views over the stored tables, in creation order (``sql/stored/<name>.sql``)."""


def apply_stored_views(con: duckdb.DuckDBPyConnection) -> None:
    """Create or replace the views that serve the user-facing tables; the stored tables must exist."""
    for name in STORED_VIEW_NAMES:
        con.execute(sql.load(f"stored/{name}"))


def register_parquet(con: duckdb.DuckDBPyConnection, stores: Mapping[str, Store],
                     tables: Iterable[TableSpec] = STORED_TABLES.values(), *,
                     only: dict[str, pa.Table | ds.Dataset] | None = None) -> None:
    """Make each stored table a relation of ``con`` under its own name: every source's dataset (empty when never
    written) with the source's name as a first column ``source``, as the tables of ``assistants.duckdb`` have it.

    ``stores`` maps each source's name to its store. Each dataset is registered under a name of this code's
    making, and the source's name reaches SQL in a registered one-row Arrow table, so neither a path nor a
    name is pasted into SQL. ``only`` replaces some tables by the given data (one date's membership, for
    instance), for a single store.
    """
    if not stores:
        raise ValueError("no store to register: the callers check that a source is stored first")
    if only and len(stores) != 1:
        raise ValueError("only= replaces the tables of a single store")
    for i, name in enumerate(stores):
        con.register(f"_source_name_{i}", pa.table({"source": pa.array([name], pa.string())}))
    for spec in tables:
        selects = []
        for i, store in enumerate(stores.values()):
            relation = f"_stored_{i}_{spec.name}"
            data = only[spec.name] if only and spec.name in only else store.dataset(spec)
            con.register(relation, data if data is not None else spec.empty())
            selects.append(sql.render("stored/tag_source", relation=relation, source_name=f"_source_name_{i}"))
        con.execute(sql.load("stored/union_sources").format(table=sql.quote_identifier(spec.name),
                                                            union=" UNION ALL BY NAME ".join(selects)))


class ServesViews:
    """What both stores inherit: a table served by a view over the stored tables (``assistants``,
    ``raw_assistants``...) is read through that view, and its dates are its membership's."""

    def dates(self: Store, table: str) -> list[dt.date]:
        """Snapshot dates stored for ``table``, oldest first (for a view over the membership, its dates)."""
        if table in VIEW_TABLES and table != "assistant_history":
            table = SNAPSHOT_MEMBERS.name
        return self.partition_dates(table)

    def read(self: Store, spec: TableSpec, snapshot_date: dt.date, *, columns: list[str] | None = None,
             ids: Iterable[str] | None = None) -> pa.Table:
        """One partition (empty when absent), optionally only some columns and some assistant IDs.

        A table served by a view is read through that view, over this date's membership and the payloads it
        names; a stored table by the store's own :meth:`~Store.read_stored`.
        """
        if spec.name in VIEW_TABLES:
            return read_view_date(self, spec, snapshot_date, columns=columns, ids=ids)
        return self.read_stored(spec, snapshot_date, columns=columns, ids=ids)


def read_view_date(store: Store, spec: TableSpec, snapshot_date: dt.date, *,
                   columns: list[str] | None = None, ids: Iterable[str] | None = None) -> pa.Table:
    """One date of a view table (or the whole ``assistant_history``), read from the stored Parquet files."""
    names = columns if columns is not None else spec.schema.names
    schema = pa.schema([spec.schema.field(c) for c in names])
    wanted = None if ids is None else list(ids)
    if wanted is not None and not wanted:
        return schema.empty_table()
    only: dict[str, pa.Table | ds.Dataset] = {}
    if "snapshot_date" in spec.schema.names:
        members = store.read(SNAPSHOT_MEMBERS, snapshot_date, ids=wanted)
        if not members.num_rows:
            return schema.empty_table()
        only[SNAPSHOT_MEMBERS.name] = members
        # Only the payloads this date names (every stored copy of each, so payload_home still picks one),
        # read in one streaming pass: the join then works on one date's rows, whatever the archive's size.
        hashes = pc.unique(members.column("content_hash"))
        needed = {*names, *spec.key, "snapshot_date", "content_hash"}
        for payload_spec in PAYLOAD_TABLES:
            joined = payload_spec is PAYLOADS or payload_spec.name == _CHILD_OF.get(spec.name)
            only[payload_spec.name] = _stored_rows_of(store, payload_spec, hashes, needed) if joined \
                else payload_spec.empty()
    with duckdb.connect(":memory:") as con:
        con.execute(sql.load("warehouse/session_utc"))
        register_parquet(con, {settings.DEFAULT_SOURCE: store}, only=only)  # the source's name is not read
        apply_stored_views(con)
        select = ", ".join(sql.quote_identifier(c) for c in names)
        keys = [sql.quote_identifier(c) for c in spec.key if c in names]
        order = f" ORDER BY {', '.join(keys)}" if keys else ""
        table = con.sql(f"SELECT {select} FROM {sql.quote_identifier(spec.name)}{order}").to_arrow_table()
    return table.cast(schema)


_CHILD_OF = {"assistant_tools": "payload_tools", "assistant_metadata": "payload_metadata",
             "assistant_tool_resources": "payload_tool_resources"}
"""The payload child table each view joins besides ``payloads`` (see ``sql/stored/``); the others are not read."""


def _stored_rows_of(store: Store, spec: TableSpec, hashes: pa.Array, needed: set[str]) -> pa.Table:
    """The rows of a payload table whose ``content_hash`` is one of ``hashes``, from every partition.

    Only the ``needed`` columns are read (the bodies are most of the bytes); the others are nulls, there
    so that the views still bind.
    """
    dataset = store.dataset(spec)
    if dataset is None:
        return spec.empty()
    columns = [name for name in spec.schema.names if name in needed]
    table = dataset.to_table(columns=columns, filter=pc.field("content_hash").isin(hashes),
                             batch_readahead=1, fragment_readahead=1)
    return pa.table({f.name: table.column(f.name) if f.name in columns else pa.nulls(table.num_rows, f.type)
                     for f in spec.schema})


def stored_hashes(store: Store) -> set[str]:
    """The content hashes of every stored payload (what a run need not store again)."""
    dataset = store.dataset(PAYLOADS)
    if dataset is None:
        return set()
    column = dataset.to_table(columns=["content_hash"])
    return set(column.column("content_hash").to_pylist())


def payload_bodies(store: Store, hashes: Iterable[str] | pa.Array | pa.ChunkedArray) -> pa.Table:
    """``content_hash`` and ``raw_json`` of the stored payloads among ``hashes`` (each once)."""
    schema = pa.schema([PAYLOADS.schema.field("content_hash"), PAYLOADS.schema.field("raw_json")])
    dataset = store.dataset(PAYLOADS)
    if dataset is None:
        return schema.empty_table()
    wanted = hashes if isinstance(hashes, pa.Array | pa.ChunkedArray) else pa.array(list(hashes), pa.string())
    found = dataset.to_table(columns=["content_hash", "raw_json"], filter=pc.field("content_hash").isin(wanted),
                             batch_readahead=1, fragment_readahead=1)
    if found.num_rows > len(set(found.column("content_hash").to_pylist())):  # stored by two runs: keep one
        found = found.group_by("content_hash").aggregate([("raw_json", "min")]) \
            .rename_columns(["content_hash", "raw_json"])
    return found.cast(schema)
