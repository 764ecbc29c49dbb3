"""The Responses mapping of every stored payload, kept beside it: the table ``responses_mappings``.

The mapping is written once, in Python (:func:`~assistants_export.connectors.migration.responses.to_responses_request`).
The SQL view ``responses_migration`` does not map anything: it joins the live assistants to the rows this module
stores, one per payload (keyed by ``content_hash``, in the partition of the date that first stored the payload,
like ``payloads``), so a night costs one mapping per *new* payload, what the changes cost.

* :func:`mapping_rows` maps a batch of payloads (``content_hash``, ``raw_json``); the fetch step writes its rows
  with the payloads it stores, in the same commit.
* :func:`stale_dates` finds the payload dates whose mappings are missing (a warehouse that predates the table) or
  were written by another :data:`~assistants_export.connectors.migration.responses.MAPPING_VERSION`;
  :func:`refresh_mappings` maps them again from the stored bodies, and :func:`remap_warehouse` also reloads them
  into ``assistants.duckdb``. ``assistants-export upgrade`` and ``rebuild-duckdb`` call them.

The same code runs on a folder's Parquet files and on a bucket's Delta tables (both stores have the methods used).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Iterable
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from assistants_export.connectors.core import settings
from assistants_export.connectors.core.schemas import PAYLOADS, RESPONSES_MAPPINGS
from assistants_export.connectors.warehouse import DuckDBStore, Store
from assistants_export.connectors.warehouse.location import duckdb_path

from .responses import MAPPING_VERSION, to_responses_request

log = logging.getLogger(__name__)


def _json(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def mapping_rows(snapshot_date: dt.date, payloads: pa.Table | pa.RecordBatch) -> pa.Table:
    """The ``responses_mappings`` rows of ``payloads`` (columns ``content_hash`` and ``raw_json``), stored on
    ``snapshot_date``.

    A body the mapping cannot take (it raises) gets no row, and a warning in the log names its hash: the view
    then shows that assistant with a null request, and ``migrate`` raises the same error.
    """
    rows: dict[str, list[object]] = {name: [] for name in RESPONSES_MAPPINGS.schema.names}
    for digest, raw in zip(payloads.column("content_hash").to_pylist(), payloads.column("raw_json").to_pylist(),
                           strict=True):
        try:
            line = to_responses_request(json.loads(raw)).as_line()
        except Exception as exc:  # one odd body must not stop a night's archive
            log.warning("payload %s could not be mapped to a Responses API request (%s); the view "
                        "responses_migration shows it with a null request", digest, type(exc).__name__)
            continue
        created_at = line["created_at"]
        values = {"snapshot_date": snapshot_date, "content_hash": digest, "mapping_version": MAPPING_VERSION,
                  "name": line["name"], "description": line["description"],
                  "created_at": int(created_at) if isinstance(created_at, int | float) else None,
                  "request": _json(line["request"]), "warnings": _json(line["warnings"])}
        for name, value in values.items():
            rows[name].append(value)
    return pa.table(rows, schema=RESPONSES_MAPPINGS.schema)


def stale_dates(store: Store) -> list[dt.date]:
    """The dates whose stored payloads are not all mapped by this version of the mapping, oldest first.

    Read from two narrow columns of ``payloads`` and ``responses_mappings`` (no body is read): a date is stale
    when its count of mapped payloads at :data:`MAPPING_VERSION` differs from its count of payloads, or when a
    row of another version remains.
    """
    payloads = store.dataset(PAYLOADS)
    if payloads is None:
        return []
    wanted = _distinct_per_date(payloads.to_table(columns=["snapshot_date", "content_hash"]))
    mapped = store.dataset(RESPONSES_MAPPINGS)
    current: dict[dt.date, int] = {}
    other: set[dt.date] = set()
    if mapped is not None:
        table = mapped.to_table(columns=["snapshot_date", "content_hash", "mapping_version"])
        is_current = pc.equal(table.column("mapping_version"), MAPPING_VERSION)
        current = _distinct_per_date(table.filter(is_current))
        other = set(table.filter(pc.invert(is_current)).column("snapshot_date").to_pylist())
    return sorted(date for date, count in wanted.items() if current.get(date, 0) != count or date in other)


def _distinct_per_date(table: pa.Table) -> dict[dt.date, int]:
    counted = table.group_by("snapshot_date").aggregate([("content_hash", "count_distinct")])
    return dict(zip(counted.column("snapshot_date").to_pylist(),
                    counted.column("content_hash_count_distinct").to_pylist(), strict=True))


def refresh_mappings(store: Store, dates: Iterable[dt.date] | None = None, *,
                     batch_size: int = settings.BATCH_SIZE) -> list[dt.date]:
    """Map again the payloads of ``dates`` (default: :func:`stale_dates`) from their stored bodies, replacing each
    date's ``responses_mappings`` partition in one commit; returns the dates rewritten.

    The caller holds the source's writer lock (:func:`~assistants_export.connectors.warehouse.writer_lock.writer_lock`).
    """
    with store.commit_lock():
        todo = stale_dates(store) if dates is None else sorted(set(dates))
        for date in todo:
            with store.writer(RESPONSES_MAPPINGS, date) as out:
                for batch in store.iter_batches(PAYLOADS, date, batch_size, columns=["content_hash", "raw_json"]):
                    out.write(mapping_rows(date, batch))
    if todo:
        log.info("mapped the payloads of %d date(s) again (mapping version %d)", len(todo), MAPPING_VERSION)
    return todo


def remap_warehouse(warehouse: str | Path, store: Store, source_name: str = settings.DEFAULT_SOURCE, *,
                    batch_size: int = settings.BATCH_SIZE) -> list[dt.date]:
    """:func:`refresh_mappings` of one source's store, then the rewritten dates reloaded into ``assistants.duckdb``
    where it already holds them (a date it does not hold yet is loaded whole by the next load)."""
    done = refresh_mappings(store, batch_size=batch_size)
    if done and duckdb_path(warehouse).is_file():
        database = DuckDBStore(warehouse)
        loaded = database.loaded_runs(source_name)
        for date in done:
            if date in loaded:
                database.load_date(date, {RESPONSES_MAPPINGS.name: store.date_sources(date)[RESPONSES_MAPPINGS.name]},
                                   source_name=source_name)
    return done
