"""``assistants-export upgrade``: bring a warehouse written by an older version into the current layout.

Any snapshot, backfill or history run converts the layout first on its own; this command is for a warehouse
that is only queried. It also maps again the payloads whose stored Responses mapping (``responses_mappings``,
read by the view ``responses_migration``) is missing or of an older mapping version
(:mod:`assistants_export.connectors.migration.stored`). See :mod:`assistants_export.connectors.warehouse.upgrade`.
Every stored source is upgraded and reloaded, one after another.
"""

from __future__ import annotations

import click

from assistants_export.connectors.core.settings import DEFAULT_SOURCE
from assistants_export.connectors.migration.responses import MAPPING_VERSION
from assistants_export.connectors.migration.stored import remap_warehouse
from assistants_export.connectors.snapshot import load_duckdb
from assistants_export.connectors.warehouse import DuckDBStore, pending_loads
from assistants_export.connectors.warehouse.rebuild import load_history
from assistants_export.connectors.warehouse.sources import source_root
from assistants_export.connectors.warehouse.stores import stored_sources
from assistants_export.connectors.warehouse.writing import opened_for_writing

from ..resources import WarehouseResource
from . import cli, warehouse_option


@cli.command()
@warehouse_option
def upgrade(warehouse: str | None) -> None:
    """Store each payload once in a warehouse written by an older version, map its payloads to Responses API
    requests where an older version did not, and reload its DuckDB file."""
    root = WarehouseResource(path=warehouse).root()
    for name in stored_sources(root) or [DEFAULT_SOURCE]:
        done: list[str] = []
        # the source's one writer, as a snapshot (waits $ASSISTANTS_WRITER_WAIT); opening it upgrades it
        with opened_for_writing(root, name, upgraded=done) as store:
            mapped = remap_warehouse(root, store, name)
            if mapped:
                done.append(f"mapped the payloads of {len(mapped)} date(s) to Responses API requests again "
                            f"(mapping version {MAPPING_VERSION})")
            for date in pending_loads(root, source_name=name):
                load_duckdb(date, root, source_name=name)
            load_history(store, DuckDBStore(root), name)
        click.echo(f"{source_root(root, name)}: " + ("; ".join(done) if done else "already in the current layout"))
