"""The DuckDB side of the warehouse: the same tables, loaded from the Parquet partitions.

Parquet is the source of truth. Loading a date deletes that date from every
table and inserts the committed partitions, all in one transaction, so a
reader of ``assistants.duckdb`` sees the old day or the new day, never a mix.
Values reach SQL only as bound parameters or through Arrow.
"""

from __future__ import annotations

import datetime as dt
import re
import time
from collections.abc import Iterable, Mapping
from pathlib import Path

import duckdb
import pyarrow as pa

import sql
from connectors import failpoints
from connectors.openai_assistants import settings
from connectors.openai_assistants.errors import WarehouseLockedError
from connectors.openai_assistants.schemas import (
    ALL_TABLES,
    ASSISTANT_CHANGES,
    ASSISTANT_HISTORY,
    REFERENCE_TABLES,
    TableSpec,
)

from .views import apply_views

_DUCKDB_TYPE = re.compile(r"^[A-Z0-9_(), \[\]]+$")


class DuckDBStore:
    """Opens ``<warehouse>/assistants.duckdb`` and keeps its tables in step with the schemas."""

    def __init__(self, warehouse: str | Path) -> None:
        self.path = Path(warehouse) / settings.DUCKDB_FILENAME

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
                con = duckdb.connect(str(self.path), read_only=read_only,
                                     config={} if read_only else {"memory_limit": settings.DUCKDB_WRITE_MEMORY_LIMIT})
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

    def loaded_runs(self) -> dict[dt.date, str]:
        """The run whose data DuckDB holds for each snapshot date (empty before the first load)."""
        if not self.path.is_file():
            return {}
        with self.connect(read_only=True) as con:
            try:
                rows = con.execute(sql.load("warehouse/loaded_runs")).fetchall()
            except duckdb.CatalogException:
                return {}
        return {date: run_id for date, run_id in rows}

    def ensure_tables(self, con: duckdb.DuckDBPyConnection, specs: Iterable[TableSpec]) -> None:
        """Create missing tables and add columns a newer schema defines."""
        for spec in specs:
            empty = spec.empty()
            con.register("empty_batch", empty)
            try:
                con.execute(sql.render("warehouse/create_table", table=spec.name))
                have = {row[0] for row in con.execute(sql.load("warehouse/table_columns"),
                                                      {"table_name": spec.name}).fetchall()}
                types = dict(con.execute(sql.load("warehouse/arrow_column_types")).fetchall())
            finally:
                con.unregister("empty_batch")
            for column in spec.schema.names:
                if column not in have:
                    con.execute(_add_column_sql(spec.name, column, types[column]))

    def load_date(self, snapshot_date: dt.date, files: Mapping[str, list[Path]]) -> dict[str, int]:
        """Replace ``snapshot_date`` in each named table with its Parquet files, in one transaction.

        Returns the rows now stored for the date, per table.
        """
        specs = [ALL_TABLES[name] for name in files]
        counts: dict[str, int] = {}
        with self.connect() as con:
            self.ensure_tables(con, REFERENCE_TABLES.values())  # every table, so that every view can be created
            con.begin()
            try:
                for spec in specs:
                    counts[spec.name] = self._replace_date(con, spec, snapshot_date, files[spec.name])
                    failpoints.reach("duckdb.table")
                apply_views(con)  # sql/views/, replaced in the same transaction as the data
                failpoints.reach("duckdb.load")
                con.commit()
                failpoints.reach("duckdb.committed")
            except BaseException:
                con.rollback()
                raise
        return counts

    def replace_history(self, history_file: Path, change_files: list[Path]) -> None:
        """Replace the history and the whole change log with their Parquet files, in one transaction.

        Loading all of the change log (not only the replayed dates) costs little
        in DuckDB and means a load missed while the file was locked is made up
        by the next one.
        """
        specs = [ASSISTANT_HISTORY, ASSISTANT_CHANGES]
        with self.connect() as con:
            self.ensure_tables(con, specs)
            con.begin()
            try:
                con.execute(sql.load("history/delete_versions"))
                con.execute(sql.render("warehouse/insert_parquet", table=ASSISTANT_HISTORY.name),
                            {"files": [str(history_file)]})
                con.execute(sql.load("history/delete_changes"))
                if change_files:
                    con.execute(sql.render("warehouse/insert_parquet", table=ASSISTANT_CHANGES.name),
                                {"files": [str(f) for f in change_files]})
                con.commit()
            except BaseException:
                con.rollback()
                raise

    def _replace_date(self, con: duckdb.DuckDBPyConnection, spec: TableSpec, snapshot_date: dt.date,
                      files: list[Path]) -> int:
        con.execute(sql.render("warehouse/delete_date", table=spec.name), {"snapshot_date": snapshot_date})
        if not files:
            return 0
        con.execute(sql.render("warehouse/insert_parquet", table=spec.name),
                    {"files": [str(f) for f in files]})
        row = con.execute(sql.render("warehouse/count_date", table=spec.name),
                          {"snapshot_date": snapshot_date}).fetchone()
        return int(row[0]) if row else 0

    def query(self, statement: str, parameters: Mapping[str, object] | None = None) -> pa.Table:
        """Run a read-only query and return Arrow (for the CLI, tests and the demo)."""
        with self.connect(read_only=True) as con:
            return con.sql(statement, params=parameters or None).to_arrow_table()


def _add_column_sql(table: str, column: str, column_type: str) -> str:
    if not _DUCKDB_TYPE.match(column_type):
        raise ValueError(f"unexpected DuckDB type {column_type!r} for {table}.{column}")
    return sql.load("warehouse/add_column").format(
        table=sql.quote_identifier(table), column=sql.quote_identifier(column), column_type=column_type)
