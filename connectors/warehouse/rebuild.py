"""Rebuild ``assistants.duckdb`` from the Parquet files: DuckDB is a cache of them.

Every row DuckDB holds was loaded from a committed file of one of the warehouse's sources, so the database
can be thrown away and built again at any time: after it was deleted or damaged, on a machine that only has
the Parquet files (a fresh container, a copy of the lake), or to shed the space a long life of deletes left behind.

The new database is built beside the old one in a folder of its own, with the same loads a run does, and
then moved over the old file in one rename, so a reader sees the old database or the new one. The rename
waits for the old file's lock like any writer (a session that keeps the file open ends the command with
one line); a run that loads the old file in the moment between that check and the rename loses its load
to the new file, and the next run loads the date again (:func:`~assistants_export.connectors.warehouse.pending_loads`).
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import shutil
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from assistants_export import sql
from assistants_export.connectors.core import settings
from assistants_export.connectors.core.schemas import ASSISTANT_VERSIONS, SNAPSHOT_RUNS

from .duckdb_store import DuckDBStore
from .stores import Store, open_store, stored_sources
from .writing import ensure_current_layout

log = logging.getLogger(__name__)

REBUILD_PREFIX = ".rebuild-"
"""Folders (under the warehouse) where a new database is built; one left by a killed rebuild is removed."""


@dataclass
class Rebuilt:
    """What a rebuild loaded."""

    path: Path
    dates: int = 0
    rows: dict[str, int] = field(default_factory=dict)
    history: bool = False
    bytes: int = 0


def rebuild_duckdb(warehouse: str | Path) -> Rebuilt:
    """Build ``assistants.duckdb`` again from every source's stored dates and history files, then swap it in."""
    target = DuckDBStore(warehouse)
    ensure_current_layout(warehouse)  # a warehouse of an older layout is brought to the current one first
    home = target.path.parent  # the warehouse folder, or the local cache of a lake's database
    for leftover in home.glob(f"{REBUILD_PREFIX}*"):  # a killed rebuild's half-built database
        shutil.rmtree(leftover, ignore_errors=True)
    folder = home / f"{REBUILD_PREFIX}{uuid.uuid4().hex}"
    folder.mkdir(parents=True)
    try:
        fresh = DuckDBStore(folder)  # the same file name, so the database is attached under the same name
        done = Rebuilt(target.path)
        for source_name in stored_sources(warehouse):
            parquet = open_store(warehouse, source_name)
            for date in parquet.partition_dates(SNAPSHOT_RUNS.name):
                loaded = fresh.load_date(date, parquet.date_sources(date), source_name=source_name)
                for name, count in loaded.items():
                    done.rows[name] = done.rows.get(name, 0) + count
                done.dates += 1
            done.history = load_history(parquet, fresh, source_name) or done.history
        if not done.dates and not done.history:
            return done  # nothing stored: the database (if any) is left as it is
        _swap_in(fresh.path, target)
        done.bytes = target.path.stat().st_size
        return done
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def load_history(parquet: Store, duckdb_store: DuckDBStore, source_name: str = settings.DEFAULT_SOURCE) -> bool:
    """Load a source's history versions and every date of its change log into ``duckdb_store``; False if none is
    stored."""
    if not parquet.has_table_file(ASSISTANT_VERSIONS.name):
        return False
    changes, tokens = parquet.change_sources()
    duckdb_store.replace_history(parquet.versions_source(), changes, dt.date.min, tokens, source_name=source_name)
    return True


def _swap_in(built: Path, target: DuckDBStore) -> None:
    """Move ``built`` over the target's file once no other process holds it, leaving no stale WAL behind."""
    if target.path.exists():
        try:
            with target.writing() as con:  # waits for (or reports) another holder, and empties the WAL
                con.execute(sql.load("warehouse/checkpoint"))
        except duckdb.Error as exc:  # damage (a lock held elsewhere is a WarehouseLockedError, raised on)
            log.warning("replacing %s, which DuckDB cannot open: %s", target.path, exc)
    wal = target.path.with_name(target.path.name + ".wal")
    os.replace(built, target.path)
    wal.unlink(missing_ok=True)
