"""``assistants-export migrate --to responses``: every archived assistant as a ready Responses API request.

Reads the warehouse only (never the API), through
:func:`assistants_export.connectors.migration.warehouse.migrate_warehouse`,
and writes JSON Lines: one line per assistant, ``{"source", "assistant_id", "name", "description",
"created_at", "request", "warnings"}``, sorted by source and assistant ID. A file given with ``-o`` is
written as every command writes one (:mod:`assistants_export.pipelines.cli.outfile`): a regular file only,
appearing whole once every line is written.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from typing import IO, cast

import click

from assistants_export.connectors.migration.responses import REASONING_MODELS
from assistants_export.connectors.migration.warehouse import MigratedAssistant, migrate_warehouse
from assistants_export.connectors.openai_assistants.ids import read_ids_file
from assistants_export.connectors.warehouse.location import warehouse_root
from assistants_export.connectors.warehouse.views import SOURCES, Source

from . import cli, warehouse_option
from .outfile import OutputTarget

TARGETS = ("responses",)


@cli.command()
@click.option("--to", "target", type=click.Choice(TARGETS), required=True,
              help="The API to migrate to (only the Responses API for now).")
@click.option("--as-of", "--date", "as_of", metavar="YYYY-MM-DD",
              help="Migrate the configurations valid on this day (default: the current ones).")
@click.option("--ids", metavar="A,B", help="Only these assistants (comma-separated).")
@click.option("--ids-file", type=click.Path(dir_okay=False), metavar="FILE",
              help="Only the assistants in this file (one per line, CSV with assistant_id, or a JSON array).")
@click.option("-o", "--output", default="-", show_default=True, metavar="PATH",
              help="JSON Lines file to write; - for standard output.")
@click.option("--reasoning-models", metavar="A,B", default=",".join(REASONING_MODELS), show_default=True,
              help="Model families that take reasoning settings and only the default temperature and top_p "
                   "(a model matches its family's name, or the name followed by - or .).")
@click.option("--source", type=click.Choice(SOURCES),
              help="Read the DuckDB database or the Parquet files alone (default: the database if it exists).")
@warehouse_option
def migrate(target: str, as_of: str | None, ids: str | None, ids_file: str | None, output: str,
            reasoning_models: str, source: str | None, warehouse: str | None) -> None:
    """Write every archived assistant as a Responses API request body (JSON Lines), with warnings."""
    if ids is not None and ids_file is not None:
        raise click.UsageError("give --ids or --ids-file, not both")
    day = _date(as_of) if as_of is not None else None
    wanted: Iterable[str] | None = None
    if ids is not None:
        wanted = [part for part in ids.split(",") if part.strip()]  # "a,b," is two IDs, not an empty third
    elif ids_file is not None:
        wanted = list(read_ids_file(ids_file))
    families = [name.strip() for name in reasoning_models.split(",") if name.strip()]
    root = warehouse_root(warehouse)
    destination = OutputTarget.parse(output, keep_out=[] if "://" in root else [root])  # refused before any work
    migrated = migrate_warehouse(root, as_of=day, ids=wanted, reasoning_models=families,
                                 source=cast(Source | None, source))
    with destination.open() as stream:
        _write(migrated, stream)
    if destination.is_stdout:
        return
    warnings = sum(len(m.migration.warnings) for m in migrated)
    click.echo(f"{len(migrated)} assistant(s) migrated to {output}, {warnings} warning(s)", err=True)


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date like 2026-11-21", param_hint="--as-of") from None


def _write(migrated: list[MigratedAssistant], stream: IO[str]) -> None:
    for item in migrated:
        stream.write(json.dumps(item.as_line(), ensure_ascii=False) + "\n")
