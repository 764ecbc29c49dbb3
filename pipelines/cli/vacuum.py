"""``assistants-export vacuum``: delete the files of replaced dates and compacted months.

A bucket's Delta tables keep the files a date's earlier versions read (time travel, and readers mid-query),
so every re-run, every replayed change log and every compaction leaves files behind. A folder replaces a date's
file in place, but keeps the per-date files a compacted month replaced (and month files a re-run replaced) until
this deletes them (:func:`~assistants_export.connectors.warehouse.compaction.vacuum_folder`). Every stored source's
tables are vacuumed, one source after another (each is a warehouse of its own under the root, see
:mod:`assistants_export.pipelines.sources`); a folder's holding the source's writer lock.
"""

from __future__ import annotations

import datetime as dt

import click

from assistants_export.connectors.core.settings import DEFAULT_SOURCE
from assistants_export.connectors.snapshot import warehouse_errors
from assistants_export.connectors.warehouse import ParquetStore, open_store
from assistants_export.connectors.warehouse.compaction import vacuum_folder
from assistants_export.connectors.warehouse.sources import source_root
from assistants_export.connectors.warehouse.stores import stored_sources
from assistants_export.connectors.warehouse.writer_lock import writer_lock

from ..resources import WarehouseResource
from . import cli, warehouse_option

DEFAULT_RETAIN_DAYS = 7
"""Delta Lake's own default retention: a week of versions stays readable."""


@cli.command()
@warehouse_option
@click.option("--retain-days", type=click.FloatRange(min=0), default=DEFAULT_RETAIN_DAYS, show_default=True,
              help="Keep every file a version younger than this reads.")
@click.option("--dry-run", is_flag=True, help="List how many files would go, delete nothing.")
def vacuum(warehouse: str | None, retain_days: float, dry_run: bool) -> None:
    """Delete the files no reader needs any more (replaced dates and compacted months, dead writers' files), for
    every stored source."""
    root = WarehouseResource(path=warehouse).root()
    for name in stored_sources(root) or [DEFAULT_SOURCE]:
        target = source_root(root, name)
        store = open_store(target)
        with warehouse_errors(target):
            if isinstance(store, ParquetStore):  # it rewrites the manifests: one writer at a time
                with writer_lock(root, name):
                    done = vacuum_folder(store, dt.timedelta(days=retain_days), dry_run=dry_run)
            else:  # Delta's vacuum only deletes files no version younger than the delay reads
                done = store.vacuum(dt.timedelta(days=retain_days), dry_run=dry_run)
        total = sum(done.values())
        verb = "would delete" if dry_run else "deleted"
        detail = ", ".join(f"{table} {count}" for table, count in done.items() if count)
        click.echo(f"{target}: {verb} {total} file(s) older than {retain_days:g} day(s)"
                   + (f" ({detail})" if detail else ""))
