"""Tables and views as pandas DataFrames or Arrow tables, from Python.

    from assistants_export.connectors.warehouse.read import read_table

    assistants = read_table("assistants", date="2026-11-20")          # one snapshot
    current = read_table("current_assistants")                         # a bundled view
    then = read_table("assistant_history", as_of="2026-11-10")        # every live assistant as it was that day
    errors = read_arrow("fetch_errors", source="parquet")             # Arrow, from the Parquet files alone

Each call opens the same read-only query session as ``assistants-export query``
(:func:`assistants_export.connectors.warehouse.views.open_source`): the DuckDB database attached
read-only with the views, or the Parquet files alone; by default the database
when it exists. ``date`` and ``as_of`` reach SQL as bound parameters.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import pyarrow as pa

from assistants_export import sql
from assistants_export.connectors.core import settings
from assistants_export.connectors.core.errors import ConfigError
from assistants_export.connectors.core.schemas import ASSISTANT_HISTORY, REFERENCE_TABLES

from .views import VIEW_NAMES, Source, open_source

if TYPE_CHECKING:
    import pandas as pd

NAMES: tuple[str, ...] = (*REFERENCE_TABLES, *VIEW_NAMES)
"""Every name :func:`read_table` accepts: the tables of the table reference, then the bundled views."""


def read_arrow(name: str, *, warehouse: str | Path | None = None, date: dt.date | str | None = None,
               as_of: dt.date | str | None = None, source: Source | None = None) -> pa.Table:
    """The rows of a table or view as an Arrow table.

    ``date``: only that snapshot date (tables and views with a ``snapshot_date`` column).
    ``as_of``: for ``assistant_history``, every assistant live on that day in the version valid then (what
    ``assistants-export as-of`` shows); for a table or view with ``snapshot_date``, its latest snapshot on or
    before that day. ``warehouse`` defaults to ``$ASSISTANTS_WAREHOUSE`` or ``./data``; ``source`` to the
    DuckDB database when it exists, else the Parquet files.
    """
    if name not in NAMES:
        raise ConfigError(f"unknown table or view {name!r}: choose one of {', '.join(NAMES)}")
    if date is not None and as_of is not None:
        raise ConfigError("give date or as_of, not both")
    root = warehouse or settings.default_warehouse()
    con, _ = open_source(root, source)
    with con:
        if date is None and as_of is None:
            return _arrow(con, sql.render("read/select_all", relation=name))
        if name == ASSISTANT_HISTORY.name and as_of is not None:
            return _arrow(con, sql.load("audit/config_as_of"), {"as_of": _date(as_of, "as_of")})
        if "snapshot_date" not in con.sql(sql.render("read/select_all", relation=name)).columns:
            raise ConfigError(f"{name} has no snapshot_date column: read it without date or as_of"
                              + (" (as_of works on assistant_history)" if name != ASSISTANT_HISTORY.name else ""))
        if date is not None:
            return _arrow(con, sql.render("read/select_date", relation=name), {"date": _date(date, "date")})
        return _arrow(con, sql.render("read/select_latest_on_or_before", relation=name),
                      {"as_of": _date(as_of, "as_of")})


def _arrow(con: duckdb.DuckDBPyConnection, statement: str, params: dict[str, object] | None = None) -> pa.Table:
    return con.sql(statement, params=params).to_arrow_table()


def read_table(name: str, *, warehouse: str | Path | None = None, date: dt.date | str | None = None,
               as_of: dt.date | str | None = None, source: Source | None = None) -> pd.DataFrame:
    """The rows of a table or view as a pandas DataFrame (see :func:`read_arrow` for the arguments).

    Dates are ``datetime.date`` objects, timestamps are time-zone aware (UTC), lists and maps keep their
    structure (lists, and lists of key-value pairs), and JSON text stays text.
    """
    return read_arrow(name, warehouse=warehouse, date=date, as_of=as_of, source=source).to_pandas()


def _date(value: dt.date | str | None, what: str) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise ConfigError(f"{what}={value!r} is not a date like 2026-11-20") from None
