"""The load step: :func:`load_duckdb` replaces a source's date in ``assistants.duckdb`` with its stored
partitions."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from assistants_export.connectors.core import settings
from assistants_export.connectors.warehouse import DuckDBStore
from assistants_export.connectors.warehouse.writing import opened_for_writing


def load_duckdb(snapshot_date: dt.date, warehouse: str | Path, *,
                source_name: str = settings.DEFAULT_SOURCE) -> dict[str, int]:
    """Replace the source's date in every stored DuckDB table with its stored partitions, in one transaction."""
    with opened_for_writing(warehouse, source_name) as store:
        return DuckDBStore(warehouse).load_date(snapshot_date, store.date_sources(snapshot_date),
                                                source_name=source_name)
