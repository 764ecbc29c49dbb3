"""The flatten step: :func:`flatten_snapshot` rebuilds a date's payload tables from the bodies it stored (no
network), unless this very flattener wrote them (:func:`flattened_by_this_code`)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pyarrow as pa

from assistants_export.connectors.core import failpoints, settings
from assistants_export.connectors.core.errors import ConfigError
from assistants_export.connectors.core.schemas import PAYLOAD_TABLES, PAYLOADS, RAW_ASSISTANTS
from assistants_export.connectors.openai_assistants.flatten import FLATTENED_BY, flatten_batch, payload_tables
from assistants_export.connectors.warehouse import Store
from assistants_export.connectors.warehouse.store import all_or_none
from assistants_export.connectors.warehouse.writing import opened_for_writing


def flatten_snapshot(snapshot_date: dt.date, warehouse: str | Path, *, source_name: str = settings.DEFAULT_SOURCE,
                     batch_size: int = settings.BATCH_SIZE, force: bool = False) -> dict[str, int]:
    """Rebuild the payload tables of a date from the payload bodies it stored; rows per table.

    A date's payloads are flattened when they are fetched; this step rebuilds them (after an upgrade
    that changes the flattening, or for a backfill) without asking the API. Partitions this very
    flattener wrote (the nightly case: the fetch step just wrote them) would come out the same, so
    they are left as they are unless ``force`` is given.
    """
    with opened_for_writing(warehouse, source_name) as store:
        failpoints.reach("flatten")
        if snapshot_date not in store.membership_dates():
            raise ConfigError(f"no raw snapshot stored for {snapshot_date}: fetch that date first")
        with store.commit_lock():
            if not force and flattened_by_this_code(store, snapshot_date):
                return {spec.name: store.partition_rows(spec.name, snapshot_date) for spec in PAYLOAD_TABLES}
            return _flatten(store, snapshot_date, batch_size)


def flattened_by_this_code(store: Store, snapshot_date: dt.date) -> bool:
    """Whether every payload partition of the date exists and was written by this flattener."""
    for spec in PAYLOAD_TABLES:
        found = store.partition_metadata(spec.name, snapshot_date)
        if not found or any(not FLATTENED_BY.items() <= metadata.items() for metadata in found):
            return False
    return True


def _flatten(store: Store, snapshot_date: dt.date, batch_size: int) -> dict[str, int]:
    writers = {spec.name: store.writer(spec, snapshot_date, metadata=FLATTENED_BY) for spec in PAYLOAD_TABLES}
    epoch = pa.scalar(dt.datetime(1970, 1, 1, tzinfo=dt.UTC), RAW_ASSISTANTS.schema.field("fetched_at").type)
    try:
        with all_or_none(writers.values()):
            for batch in store.iter_batches(PAYLOADS, snapshot_date, batch_size):
                raw = pa.table({"assistant_id": batch.column("assistant_id"),
                                "fetched_at": pa.repeat(epoch, batch.num_rows),
                                "raw_json": batch.column("raw_json")})
                for name, table in payload_tables(flatten_batch(snapshot_date, raw)).items():
                    writers[name].write(table)
    finally:
        # Arrow's allocator keeps freed blocks for reuse; hand them back before the DuckDB load needs memory.
        pa.default_memory_pool().release_unused()
    return {name: writer.rows for name, writer in writers.items()}
