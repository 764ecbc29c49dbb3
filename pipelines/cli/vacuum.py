"""``assistants-export vacuum``: delete the files of replaced dates from a warehouse in an object store.

A bucket's Delta tables keep the files a date's earlier versions read (time travel, and readers mid-query),
so every re-run and every replayed change log leaves files behind. A folder deletes them at the swap and has
nothing to vacuum. Every stored source's tables are vacuumed, one source after another (each is a warehouse of
its own under the root, see :mod:`assistants_export.pipelines.sources`).
"""

from __future__ import annotations

import datetime as dt

import click

from assistants_export.connectors.core.settings import DEFAULT_SOURCE
from assistants_export.connectors.warehouse import open_store
from assistants_export.connectors.warehouse.sources import source_root
from assistants_export.connectors.warehouse.stores import stored_sources
from assistants_export.connectors.warehouse.writing import warehouse_errors

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
    """Delete files no recent version of a bucket's tables reads (replaced dates, dead writers' files), for every
    stored source."""
    root = WarehouseResource(path=warehouse).root()
    from assistants_export.connectors.warehouse.lake_store import LakeStore  # imports deltalake: only for a bucket

    if not isinstance(open_store(root), LakeStore):
        click.echo(f"{root}: a folder replaces a partition's file in place (the old one goes once no reader has "
                   "it open); nothing to vacuum")
        return
    for name in stored_sources(root) or [DEFAULT_SOURCE]:
        target = source_root(root, name)
        store = open_store(target)
        assert isinstance(store, LakeStore)  # a source of a bucket is a prefix of that bucket
        with warehouse_errors(target):
            done = store.vacuum(dt.timedelta(days=retain_days), dry_run=dry_run)
        total = sum(done.values())
        verb = "would delete" if dry_run else "deleted"
        detail = ", ".join(f"{table} {count}" for table, count in done.items() if count)
        click.echo(f"{target}: {verb} {total} file(s) older than {retain_days:g} day(s)"
                   + (f" ({detail})" if detail else ""))
