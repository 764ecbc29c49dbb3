"""``assistants-export copy-warehouse``: copy a warehouse to another location (a folder into a bucket)."""

from __future__ import annotations

import click

from assistants_export.connectors.warehouse.copy import copy_warehouse
from assistants_export.connectors.warehouse.rebuild import rebuild_duckdb
from assistants_export.connectors.warehouse.writing import warehouse_errors

from ..resources import WarehouseResource
from . import cli, warehouse_option


@cli.command("copy-warehouse")
@warehouse_option
@click.option("--to", "target", required=True, metavar="DIR|URI",
              help="Where to copy it: an empty folder or s3://bucket/prefix (gs://, az://).")
def copy(warehouse: str | None, target: str) -> None:
    """Copy every stored date and the history to another location, then build its DuckDB cache (no API calls)."""
    root = WarehouseResource(path=warehouse).root()
    destination = WarehouseResource(path=target).root()
    with warehouse_errors(destination):
        done = copy_warehouse(root, destination)
        built = rebuild_duckdb(destination)
    history = f", and the history of {done.history_dates} date(s)" if done.history_dates else ""
    sources = f" of {len(done.sources)} sources ({', '.join(done.sources)})" if len(done.sources) > 1 else ""
    click.echo(f"{destination}: copied {len(done.dates)} date(s){sources}{history} from {root} "
               f"({done.rows.get('snapshot_members', 0)} memberships, {done.rows.get('payloads', 0)} payloads); "
               f"DuckDB cache at {built.path}")
