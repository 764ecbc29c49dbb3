"""``assistants-export rebuild-duckdb``: build ``assistants.duckdb`` again from the Parquet files.

DuckDB is a cache of the Parquet files; see :mod:`assistants_export.connectors.warehouse.rebuild`.
"""

from __future__ import annotations

import click

from assistants_export.connectors.warehouse.rebuild import rebuild_duckdb
from assistants_export.connectors.warehouse.writing import warehouse_errors

from ..resources import WarehouseResource
from . import cli, warehouse_option


@cli.command("rebuild-duckdb")
@warehouse_option
def rebuild(warehouse: str | None) -> None:
    """Build assistants.duckdb again from the stored Parquet files (no API calls), then swap it in."""
    root = WarehouseResource(path=warehouse).root()
    with warehouse_errors(root):
        done = rebuild_duckdb(root)
    if not done.dates and not done.history:
        raise click.ClickException(f"nothing stored in {root}: run a snapshot first")
    history = ", and the history" if done.history else ""
    click.echo(f"{done.path}: rebuilt from {done.dates} stored date(s){history} "
               f"({done.rows.get('snapshot_members', 0)} memberships, {done.rows.get('payloads', 0)} payloads; "
               f"{done.bytes / 1e6:.1f} MB)")
