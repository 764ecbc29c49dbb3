"""The DuckDB side of the warehouse: the same tables, loaded from the Parquet partitions.

Parquet is the source of truth. Loading a date deletes that date from every
table and inserts the committed partitions, all in one transaction, so a
reader of ``assistants.duckdb`` sees the old day or the new day, never a mix.
Values reach SQL only as bound parameters or through Arrow.

One database serves every source of the warehouse (:mod:`.sources`): each table
starts with a column ``source``, and a load replaces one source's date only.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import re
import time
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, TypeAlias

import duckdb
import pyarrow as pa

from assistants_export import sql
from assistants_export.connectors.core import failpoints, settings
from assistants_export.connectors.core.errors import WarehouseLockedError
from assistants_export.connectors.core.schemas import (
    ASSISTANT_CHANGES,
    ASSISTANT_VERSIONS,
    STORED_DATE_TABLES,
    STORED_TABLES,
    VIEW_TABLES,
    TableSpec,
)

from .duckdb_claim import claim, writer_claim_path
from .location import duckdb_path
from .stored import apply_stored_views
from .views import apply_views, record_views

if TYPE_CHECKING:  # pyarrow.dataset imports pandas: the read-only commands start without them
    import pyarrow.dataset as ds

_DUCKDB_TYPE = re.compile(r"^[A-Z0-9_(), \[\]]+$")


class DuckDBStore:
    """Opens the warehouse's ``assistants.duckdb`` and keeps its tables in step with the schemas.

    For a folder it is ``<warehouse>/assistants.duckdb``; for an object store, a local cache file
    (:func:`~assistants_export.connectors.warehouse.location.duckdb_path`).
    """

    def __init__(self, warehouse: str | Path) -> None:
        self.path = duckdb_path(warehouse)
        self.claim_path = writer_claim_path(self.path)
        """``assistants.duckdb.writer``: a writer holds an OS lock on it while it writes (:meth:`writing`), so
        readers that would have to wait for the database read the stored files at once instead."""

    @contextlib.contextmanager
    def writing(self, *, lock_wait: float = settings.DUCKDB_LOCK_WAIT) -> Iterator[duckdb.DuckDBPyConnection]:
        """A connection that writes, for the block; readers are told a writer is at work for as long.

        The claim is taken before the database is opened: from then on new readers read the stored files
        instead (:func:`~assistants_export.connectors.warehouse.views.open_source`), and the readers already in it have
        ``lock_wait`` seconds to finish, so a reader that queries again and again cannot keep a load out.
        """
        with claim(self.claim_path, lock_wait), self.connect(lock_wait=lock_wait) as con:
            yield con

    def connect(self, *, read_only: bool = False,
                lock_wait: float = settings.DUCKDB_LOCK_WAIT) -> duckdb.DuckDBPyConnection:
        """A connection with UTC timestamps; :class:`WarehouseLockedError` if another process holds the file.

        A lock held by another process is waited for, up to ``lock_wait`` seconds, before giving up.
        """
        self.path.parent.mkdir(parents=True, exist_ok=True)
        deadline = time.monotonic() + lock_wait
        pause = 0.05
        while True:
            try:
                con = duckdb.connect(str(self.path), read_only=True) if read_only else self._open_for_writing()
                break
            except duckdb.IOException as exc:
                if "lock" not in str(exc).lower():
                    raise
                if time.monotonic() + pause < deadline:
                    time.sleep(pause)
                    pause = min(pause * 2, 1.0)
                    continue
                holder = re.search(r"\(PID \d+\)", str(exc))
                raise WarehouseLockedError(
                    f"{self.path} is locked by another process{' ' + holder.group(0) if holder else ''}: the Parquet "
                    "partitions are stored and the next run loads them into DuckDB (close the other connection)"
                ) from None
        con.execute(sql.load("warehouse/session_utc"))
        return con

    def _open_for_writing(self) -> duckdb.DuckDBPyConnection:
        """A session with the database attached under its own name and made the default.

        Attached rather than opened, so the write options apply: small row groups let DuckDB write a load's
        rows to the file as they are inserted instead of holding the whole date in memory until the commit
        (a 20,000-assistant date needed over 256 MB otherwise; 64 MB is enough now), and a new file gets
        small blocks.
        """
        con = duckdb.connect(":memory:", config={"memory_limit": settings.DUCKDB_WRITE_MEMORY_LIMIT,
                                                 "default_block_size": str(settings.DUCKDB_BLOCK_SIZE)})
        try:
            con.execute(sql.render("warehouse/attach_for_writing", database=self.path.stem),
                        {"path": str(self.path), "row_group_size": settings.DUCKDB_ROW_GROUP_SIZE})
            con.execute(sql.render("warehouse/use_database", database=self.path.stem))
        except BaseException:
            con.close()
            raise
        return con

    def loaded_runs(self, source_name: str = settings.DEFAULT_SOURCE) -> dict[dt.date, str]:
        """The run whose data DuckDB holds for each snapshot date of the source (empty before the first load)."""
        if not self.path.is_file():
            return {}
        with self.connect(read_only=True) as con:
            if _old_layout_tables(con):  # every date is loaded again (see ensure_tables)
                return {}
            try:
                rows = con.execute(sql.load("warehouse/loaded_runs"), {"source": source_name}).fetchall()
            except duckdb.BinderException:  # a database of before the source column: it holds the default source
                if source_name != settings.DEFAULT_SOURCE:
                    return {}
                rows = con.execute(sql.load("warehouse/loaded_runs_before_sources")).fetchall()
            except duckdb.CatalogException:
                return {}
        return {date: run_id for date, run_id in rows}

    def ensure_tables(self, con: duckdb.DuckDBPyConnection, specs: Iterable[TableSpec]) -> None:
        """Create missing tables, with the ``source`` column first, and add columns a newer schema defines.

        A table written before there were sources is rebuilt once with the column, every row named the
        default source's (the only one an older version wrote).

        A database written before payloads were stored once holds ``assistants`` and the other view
        tables as tables: they are dropped (the Parquet files hold every row) together with
        ``snapshot_runs``, so every date counts as not loaded and is loaded again in the new layout.
        """
        old = _old_layout_tables(con)
        if old:
            for name in [*old, "snapshot_runs"]:
                con.execute(sql.render("warehouse/drop_table", table=name))
        for spec in specs:
            empty = spec.empty()
            con.register("empty_batch", empty)
            try:
                types = dict(con.execute(sql.load("warehouse/arrow_column_types")).fetchall())
                con.execute(_create_table_sql(spec, types))
                have = {row[0] for row in con.execute(sql.load("warehouse/table_columns"),
                                                      {"table_name": spec.name}).fetchall()}
            finally:
                con.unregister("empty_batch")
            for column in spec.schema.names:
                if column not in have:
                    con.execute(_add_column_sql(spec.name, column, types[column]))
            if SOURCE_COLUMN not in have:
                _put_source_first(con, spec, types)

    def load_date(self, snapshot_date: dt.date, files: Mapping[str, Loadable], *,
                  source_name: str = settings.DEFAULT_SOURCE) -> dict[str, int]:
        """Replace the source's ``snapshot_date`` in each named table with its stored rows, in one transaction.

        ``files``: per table, its Parquet files for the date, or an Arrow dataset (a Delta table) of which the
        date's rows are read.

        Returns the rows now stored for the date, per table.
        """
        specs = [STORED_DATE_TABLES[name] for name in files]
        counts: dict[str, int] = {}
        with self.writing() as con:
            self.ensure_tables(con, STORED_TABLES.values())  # every table, so that every view can be created
            con.begin()
            try:
                for spec in specs:
                    counts[spec.name] = self._replace_date(con, spec, snapshot_date, files[spec.name], source_name)
                    failpoints.reach("duckdb.table")
                apply_stored_views(con)  # sql/stored/ and sql/views/, replaced in the same transaction as the data
                apply_views(con)
                record_views(con)  # which views, so that readers use them as they are
                failpoints.reach("duckdb.load")
                con.commit()
                failpoints.reach("duckdb.committed")
            except BaseException:
                _rollback(con)
                raise
            con.execute(sql.load("warehouse/checkpoint"))
        return counts

    def replace_history(self, versions: Loadable, change_files: Mapping[dt.date, Loadable],
                        replayed_from: dt.date, tokens: Mapping[dt.date, str] | None = None, *,
                        source_name: str = settings.DEFAULT_SOURCE) -> None:
        """Replace the source's versions, and its change log from ``replayed_from`` on, with what its store holds.

        One transaction. Change-log dates before ``replayed_from`` are loaded too when DuckDB does not
        hold them as the store does (a load missed while the file was locked is made up by the next one):
        each date's rows are tagged with a token of what they came from: ``tokens`` when given (a lake's
        file names), else the size and modification time of the date's Parquet files.
        """
        with self.writing() as con:
            self.ensure_tables(con, [ASSISTANT_VERSIONS, ASSISTANT_CHANGES])
            have = {row[0] for row in con.execute(sql.load("warehouse/table_columns"),
                                                  {"table_name": "history_change_files"}).fetchall()}
            if have and SOURCE_COLUMN not in have:
                con.execute(sql.load("history/drop_old_change_files"))
            con.execute(sql.load("history/create_change_files"))
            source = {"source": source_name}
            loaded = dict(con.execute(sql.load("history/loaded_change_files"), source).fetchall())
            if tokens is None:
                tokens = {date: _files_token(files) for date, files in change_files.items()
                          if isinstance(files, list)}
            stale = sorted({d for d in loaded if d not in tokens or d >= replayed_from}
                           | {d for d, token in tokens.items() if loaded.get(d) != token or d >= replayed_from})
            con.begin()
            try:
                con.execute(sql.load("history/delete_versions"), source)
                _insert(con, ASSISTANT_VERSIONS, versions, None, source_name)
                for date in stale:
                    con.execute(sql.render("warehouse/delete_date", table=ASSISTANT_CHANGES.name),
                                {"snapshot_date": date, **source})
                    con.execute(sql.load("history/forget_change_files"), {"snapshot_date": date, **source})
                    if date in tokens and _insert(con, ASSISTANT_CHANGES, change_files[date], date, source_name):
                        con.execute(sql.load("history/remember_change_files"),
                                    {"snapshot_date": date, "token": tokens[date], **source})
                apply_stored_views(con)
                apply_views(con)
                record_views(con)
                con.commit()
            except BaseException:
                _rollback(con)
                raise
            con.execute(sql.load("warehouse/checkpoint"))

    def _replace_date(self, con: duckdb.DuckDBPyConnection, spec: TableSpec, snapshot_date: dt.date,
                      files: Loadable, source_name: str) -> int:
        key = {"snapshot_date": snapshot_date, "source": source_name}
        con.execute(sql.render("warehouse/delete_date", table=spec.name), key)
        if not _insert(con, spec, files, snapshot_date, source_name):
            return 0
        row = con.execute(sql.render("warehouse/count_date", table=spec.name), key).fetchone()
        return int(row[0]) if row else 0

    def query(self, statement: str, parameters: Mapping[str, object] | None = None) -> pa.Table:
        """Run a read-only query and return Arrow (for the CLI, tests and the demo)."""
        with self.connect(read_only=True) as con:
            return con.sql(statement, params=parameters or None).to_arrow_table()


Loadable: TypeAlias = "list[Path] | ds.Dataset"
"""What a load reads for one table: its Parquet files (a folder warehouse) or an Arrow dataset (a Delta table)."""

_ARROW_SOURCE = "_stored_rows"
SOURCE_COLUMN = "source"
"""The column every table of the database starts with: the name of the API source its row belongs to."""
SOURCE_TYPE = "VARCHAR"


def _insert(con: duckdb.DuckDBPyConnection, spec: TableSpec, source: Loadable, snapshot_date: dt.date | None,
            source_name: str) -> bool:
    """Insert ``source``'s rows (of ``snapshot_date`` only, for a dataset) into ``spec``'s table, tagged with
    ``source_name``; False if there are none."""
    tag = {"source": source_name}
    if isinstance(source, list):
        if not source:
            return False
        con.execute(sql.render("warehouse/insert_parquet", table=spec.name),
                    {"files": [str(f) for f in source], **tag})
        return True
    con.register(_ARROW_SOURCE, source)
    try:
        if snapshot_date is None:
            con.execute(sql.render("warehouse/insert_arrow", table=spec.name, source=_ARROW_SOURCE), tag)
        else:
            con.execute(sql.render("warehouse/insert_arrow_date", table=spec.name, source=_ARROW_SOURCE),
                        {"snapshot_date": snapshot_date, **tag})
    finally:
        con.unregister(_ARROW_SOURCE)
    return True


def _put_source_first(con: duckdb.DuckDBPyConnection, spec: TableSpec, types: Mapping[str, str]) -> None:
    """Rebuild a table of before there were sources with ``source`` as its first column, in one transaction.

    Rebuilt rather than altered (``ADD COLUMN`` would put the column last), so that every table of every
    database starts with ``source`` as the views do, whichever version created it.
    """
    staging = f"{spec.name}_with_source"
    con.begin()
    try:
        con.execute(sql.render("warehouse/drop_table", table=staging))
        con.execute(_create_table_sql(spec, types, name=staging))
        con.execute(sql.render("warehouse/copy_rows_with_source", staging=staging, table=spec.name),
                    {"source": settings.DEFAULT_SOURCE})
        con.execute(sql.render("warehouse/drop_table", table=spec.name))
        con.execute(sql.render("warehouse/rename_table", staging=staging, table=spec.name))
        con.commit()
    except BaseException:
        _rollback(con)
        raise


def _old_layout_tables(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Tables an older layout stored that are views now (empty for a current database)."""
    return [name for (name,) in con.execute(sql.load("warehouse/base_tables")).fetchall() if name in VIEW_TABLES]


def _rollback(con: duckdb.DuckDBPyConnection) -> None:
    """Roll back, unless the failed statement was the COMMIT itself (DuckDB has then ended the transaction):
    the error that stopped the load is the one to report."""
    with contextlib.suppress(duckdb.TransactionException):
        con.rollback()


def _files_token(files: list[Path]) -> str:
    """What identifies a partition's files as written: their names, sizes and modification times."""
    parts = []
    for path in files:
        stat = path.stat()
        parts.append(f"{path.name}:{stat.st_size}:{stat.st_mtime_ns}")
    return ";".join(parts)


def _add_column_sql(table: str, column: str, column_type: str) -> str:
    return sql.load("warehouse/add_column").format(
        table=sql.quote_identifier(table), column=sql.quote_identifier(column),
        column_type=_column_type(table, column, column_type))


def _create_table_sql(spec: TableSpec, types: Mapping[str, str], name: str | None = None) -> str:
    """``CREATE TABLE IF NOT EXISTS`` with the schema's columns; long text (JSON, bodies, instructions) zstd-compressed.

    DuckDB's default string compression keeps JSON text at several times its Parquet size; zstd brings it to
    about Parquet's, so the database stays the size of its data.
    """
    columns = ", ".join([f"{sql.quote_identifier(SOURCE_COLUMN)} {SOURCE_TYPE}",
                         *(f"{sql.quote_identifier(f.name)} {_column_type(spec.name, f.name, types[f.name])}"
                           for f in spec.schema)])
    return sql.load("warehouse/create_table").format(table=sql.quote_identifier(name or spec.name), columns=columns)


def _column_type(table: str, column: str, column_type: str) -> str:
    if column == SOURCE_COLUMN:
        return column_type
    if not _DUCKDB_TYPE.match(column_type):
        raise ValueError(f"unexpected DuckDB type {column_type!r} for {table}.{column}")
    field = STORED_TABLES[table].schema.field(column) if table in STORED_TABLES else None
    if field is not None and pa.types.is_large_string(field.type):
        return f"{column_type} USING COMPRESSION zstd"
    return column_type
