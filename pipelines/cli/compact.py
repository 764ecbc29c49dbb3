"""``assistants-export compact``: merge the closed months' small files, and optionally vacuum the replaced ones.

For each stored source (or the ones ``--source`` names), one after another, holding the source's writer lock as a
run does (exit status 75 when a run keeps it longer than ``--writer-wait``). A folder's closed months (every month
before the current one, ``--open-months``) become one file per table and month; a bucket's Delta tables are
compacted and checkpointed. One line per table: files before -> after, bytes.
"""

from __future__ import annotations

import datetime as dt

import click

from assistants_export.connectors.core.settings import DEFAULT_SOURCE
from assistants_export.connectors.snapshot import warehouse_errors
from assistants_export.connectors.warehouse.compaction import DEFAULT_RETAIN, OPEN_MONTHS
from assistants_export.connectors.warehouse.sources import check_source_name, source_root
from assistants_export.connectors.warehouse.stores import stored_sources
from assistants_export.connectors.warehouse.upkeep import compact_source

from ..resources import WarehouseResource
from . import SourceRuns, cli, warehouse_option, writer_wait_option


@cli.command()
@warehouse_option
@click.option("--source", "sources", metavar="NAME", multiple=True,
              help="Compact this source (repeatable); default every stored source.")
@click.option("--open-months", type=click.IntRange(min=1), default=OPEN_MONTHS, show_default=True,
              help="Months left as they are, the current one included (a folder's older months are merged).")
@click.option("--vacuum", is_flag=True, help="Then delete the files compaction and re-runs replaced, once older "
              "than --retain-days.")
@click.option("--retain-days", type=click.FloatRange(min=0), default=DEFAULT_RETAIN.days, show_default=True,
              help="With --vacuum: keep replaced files this long (a reader that listed them can finish).")
@click.option("--dry-run", is_flag=True, help="Say what would be merged and deleted; change nothing.")
@writer_wait_option
@click.pass_context
def compact(ctx: click.Context, warehouse: str | None, sources: tuple[str, ...], open_months: int, vacuum: bool,
            retain_days: float, dry_run: bool, writer_wait: float | None) -> None:
    """Merge the small files of closed months into one per table and month (a bucket: Delta's compaction and a
    checkpoint), for every stored source."""
    resource = WarehouseResource(path=warehouse, writer_wait=writer_wait)
    root = resource.root()
    wait = resource.writer_wait_seconds()
    names = [check_source_name(name) for name in dict.fromkeys(sources)] or stored_sources(root) or [DEFAULT_SOURCE]
    today = dt.datetime.now(dt.UTC).date()
    runs = SourceRuns(names)
    for name in names:
        target = source_root(root, name)
        with runs.source(name), warehouse_errors(target):
            done = compact_source(root, name, today=today, open_months=open_months, vacuum=vacuum,
                                  retain=dt.timedelta(days=retain_days), dry_run=dry_run, wait=wait)
            click.echo(f"{target}: {done.files_before} -> {done.files_after} file(s)"
                       + (" (dry run: nothing changed)" if dry_run else ""))
            for line in done.lines():
                click.echo(f"  {line}")
    runs.finish(ctx)
