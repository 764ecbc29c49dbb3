"""``assistants-export upgrade``: bring a warehouse written by an older version into the current layout.

Any snapshot, backfill or history run does it first on its own; this command is for a warehouse
that is only queried. See :mod:`connectors.warehouse.upgrade`.
"""

from __future__ import annotations

import click

from connectors.snapshot import load_duckdb, warehouse_errors
from connectors.warehouse import DuckDBStore, open_store, pending_loads
from connectors.warehouse.rebuild import load_history
from connectors.warehouse.upgrade import upgrade_warehouse

from ..resources import WarehouseResource
from . import cli, warehouse_option


@cli.command()
@warehouse_option
def upgrade(warehouse: str | None) -> None:
    """Store each payload once in a warehouse written by an older version, and reload its DuckDB file."""
    root = WarehouseResource(path=warehouse).root()
    store = open_store(root)
    with warehouse_errors(store.root):
        done = upgrade_warehouse(store)
    for date in pending_loads(root):
        load_duckdb(date, root)
    load_history(store, DuckDBStore(root))
    click.echo(f"{root}: " + ("; ".join(done) if done else "already in the current layout"))
