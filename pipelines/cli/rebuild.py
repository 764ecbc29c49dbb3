"""``assistants-export rebuild-duckdb``: build ``assistants.duckdb`` again from the Parquet files.

DuckDB is a cache of the Parquet files; see :mod:`assistants_export.connectors.warehouse.rebuild`. The Responses
mappings that are missing or of an older mapping version are stored again first
(:mod:`assistants_export.connectors.migration.stored`), so the rebuilt view ``responses_migration`` is whole.
"""

from __future__ import annotations

import click

from assistants_export.connectors.migration.responses import MAPPING_VERSION
from assistants_export.connectors.migration.stored import refresh_mappings
from assistants_export.connectors.warehouse.rebuild import rebuild_duckdb
from assistants_export.connectors.warehouse.stores import stored_sources
from assistants_export.connectors.warehouse.writing import opened_for_writing, warehouse_errors

from ..resources import WarehouseResource
from . import cli, warehouse_option


@cli.command("rebuild-duckdb")
@warehouse_option
def rebuild(warehouse: str | None) -> None:
    """Build assistants.duckdb again from the stored Parquet files (no API calls), then swap it in."""
    root = WarehouseResource(path=warehouse).root()
    mapped = 0
    with warehouse_errors(root):
        for name in stored_sources(root):  # the Responses mappings an older version did not store, first
            with opened_for_writing(root, name) as store:  # its writer lock; an older layout upgraded first
                mapped += len(refresh_mappings(store))
        done = rebuild_duckdb(root)
    if not done.dates and not done.history:
        raise click.ClickException(f"nothing stored in {root}: run a snapshot first")
    history = ", and the history" if done.history else ""
    click.echo(f"{done.path}: rebuilt from {done.dates} stored date(s){history} "
               f"({done.rows.get('snapshot_members', 0)} memberships, {done.rows.get('payloads', 0)} payloads; "
               f"{done.bytes / 1e6:.1f} MB)")
    if mapped:
        click.echo(f"mapped the payloads of {mapped} date(s) to Responses API requests again (mapping version "
                   f"{MAPPING_VERSION})")
