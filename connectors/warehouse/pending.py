"""Which snapshot dates are stored in Parquet but not (or not in that version) in DuckDB.

Parquet is written first and is the source of truth; when another process
holds ``assistants.duckdb`` a run still stores its partitions. The next run
compares the run ID of each date's ``snapshot_runs`` partition with the one
DuckDB holds and loads the dates that differ, so nothing stays behind.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from assistants_export.connectors.core import settings
from assistants_export.connectors.core.schemas import SNAPSHOT_RUNS

from .duckdb_store import DuckDBStore
from .stores import open_store


def pending_loads(warehouse: str | Path, *, exclude: dt.date | None = None,
                  source_name: str = settings.DEFAULT_SOURCE) -> list[dt.date]:
    """Dates of the source whose stored snapshot DuckDB does not hold yet, oldest first (``exclude`` left out)."""
    dataset = open_store(warehouse, source_name).dataset(SNAPSHOT_RUNS)
    if dataset is None:
        return []
    table = dataset.to_table(columns=["snapshot_date", "run_id"])
    stored = dict(zip(table.column("snapshot_date").to_pylist(), table.column("run_id").to_pylist(), strict=True))
    loaded = DuckDBStore(warehouse).loaded_runs(source_name)
    return sorted(d for d, run_id in stored.items() if loaded.get(d) != run_id and d != exclude)
