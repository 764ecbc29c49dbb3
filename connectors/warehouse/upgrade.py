"""Bring a warehouse written before payloads were stored once into the current layout.

Older versions stored every assistant's row in ``raw_assistants``, ``assistants``
and the three child tables for every date, and the history's configuration
columns in ``assistant_history``. The upgrade rebuilds each date's membership and
payloads from its stored raw bodies (the source of truth, with the same code a
fetch runs), keeps ``fetch_errors``, ``snapshot_runs`` and the change log as they
are, and keeps only the version keys of the history. It runs on its own before
any step writes; the DuckDB file is reloaded from Parquet by the next load.

Each date is converted and then its old partitions removed, so a run killed in
between converts nothing twice: a date whose membership exists only has its old
partitions removed.
"""

from __future__ import annotations

import datetime as dt
import logging
import shutil

import pyarrow as pa
import pyarrow.parquet as pq

from assistants_export.connectors.core import settings
from assistants_export.connectors.core.schemas import (
    ASSISTANT_VERSIONS,
    PAYLOAD_TABLES,
    RAW_ASSISTANTS,
    SNAPSHOT_MEMBERS,
    VIEW_TABLES,
)
from assistants_export.connectors.openai_assistants.flatten import stored_batch

from .parquet_store import ParquetStore
from .store import Store, all_or_none
from .stored import stored_hashes

log = logging.getLogger(__name__)

OLD_DATE_TABLES = tuple(name for name in VIEW_TABLES if name != "assistant_history")
"""The tables an older layout stored per date that are now views."""


def needs_upgrade(store: Store) -> bool:
    """Whether the warehouse holds tables in the layout of an older version (a lake never does: it came later)."""
    if not isinstance(store, ParquetStore):
        return False
    return any((store.parquet_root / name).is_dir() for name in VIEW_TABLES)


def upgrade_warehouse(store: Store, *, batch_size: int = settings.BATCH_SIZE) -> list[str]:
    """Convert an older layout in place (nothing to do on a current one); returns what was done, for the log."""
    if not isinstance(store, ParquetStore) or not needs_upgrade(store):
        return []
    done: list[str] = []
    with store.commit_lock():
        known = stored_hashes(store)
        for date in store.partition_dates(RAW_ASSISTANTS.name):
            if not store.partition_files(SNAPSHOT_MEMBERS.name, date):
                _convert_date(store, date, known, batch_size)
                done.append(f"stored {date} as membership and payloads")
            for name in OLD_DATE_TABLES:
                store.remove_partition(name, date)
        old_history = store.table_file("assistant_history")
        if old_history.is_file():
            table = pq.read_table(old_history, columns=ASSISTANT_VERSIONS.schema.names)
            store.write_table_file(ASSISTANT_VERSIONS, table.cast(ASSISTANT_VERSIONS.schema))
            old_history.unlink()
            done.append("kept the history's versions without their configuration columns")
        for name in VIEW_TABLES:
            folder = store.parquet_root / name
            if folder.is_dir() and next(folder.rglob("*.parquet"), None) is None:  # emptied above
                shutil.rmtree(folder, ignore_errors=True)
    for action in done:
        log.warning("warehouse upgraded: %s", action)
    return done


def _convert_date(store: ParquetStore, date: dt.date, known: set[str], batch_size: int) -> None:
    """One date's membership and new payloads, from its raw bodies, as a fetch would have stored them."""
    members = store.writer(SNAPSHOT_MEMBERS, date)
    payloads = {spec.name: store.writer(spec, date) for spec in PAYLOAD_TABLES}
    with all_or_none([*payloads.values(), members]):  # payloads first, then the membership that names them
        for batch in store.iter_batches(RAW_ASSISTANTS, date, batch_size):
            rows, tables = stored_batch(date, pa.Table.from_batches([batch]), known)
            members.write(rows)
            for name, table in tables.items():
                payloads[name].write(table)
