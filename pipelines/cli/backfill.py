"""``assistants-export backfill --from D1 --to D2``: rebuild stored dates without the network.

The API only shows the present, so an old date cannot be fetched again. What
can always be rebuilt is everything derived from its stored raw payloads: the
flattened tables, their DuckDB copy and the history. This runs the same Dagster
assets the UI's backfill runs (flatten, load, history), one partition at a time,
and the history once, from the first date onward: for each source with stored
snapshots (or the ones ``--source`` names), one after another.
"""

from __future__ import annotations

import click

from assistants_export.connectors.core.schemas import RAW_ASSISTANTS
from assistants_export.connectors.core.settings import DEFAULT_SOURCE
from assistants_export.connectors.history import DEFAULT_MASS_DELETION_THRESHOLD
from assistants_export.connectors.warehouse import open_store
from assistants_export.connectors.warehouse.sources import check_source_name
from assistants_export.connectors.warehouse.stores import stored_sources
from assistants_export.connectors.warehouse.writer_lock import writer_lock

from ..assets import build_snapshot_assets
from ..resources import WarehouseResource
from . import SHARE, SourceRuns, cli, warehouse_option, writer_wait_option
from .output import results_console
from .snapshot import parse_date, raise_if_interrupted, run_assets, run_failure


@cli.command()
@click.option("--from", "from_date", required=True, metavar="YYYY-MM-DD", help="First date to rebuild.")
@click.option("--to", "to_date", required=True, metavar="YYYY-MM-DD", help="Last date to rebuild (included).")
@click.option("--source", "sources", metavar="NAME", multiple=True,
              help="Rebuild this source (repeatable); default every source with stored snapshots.")
@warehouse_option
@click.option("--allow-mass-deletion", is_flag=True, help="Let the history apply large deletions.")
@click.option("--mass-deletion-threshold", type=SHARE, default=DEFAULT_MASS_DELETION_THRESHOLD,
              show_default=True, help="Share of the live assistants one snapshot may delete.")
@writer_wait_option
@click.option("-v", "--verbose", is_flag=True, help="Show Dagster's logs.")
@click.pass_context
def backfill(ctx: click.Context, from_date: str, to_date: str, sources: tuple[str, ...], warehouse: str | None,
             allow_mass_deletion: bool, mass_deletion_threshold: float, writer_wait: float | None,
             verbose: bool) -> None:
    """Rebuild the tables and the history of stored dates from their raw payloads (no API calls).

    Each source's rebuild holds the source's writer lock, as a snapshot does (exit status 75 when another run
    keeps it longer than --writer-wait)."""
    start, end = parse_date(from_date), parse_date(to_date)
    if end < start:
        raise click.BadParameter("--to must not be before --from", param_hint="--to")
    root = WarehouseResource(path=warehouse).root()
    names = [check_source_name(name) for name in dict.fromkeys(sources)] or stored_sources(root)
    dates = {name: [d for d in open_store(root, name).dates(RAW_ASSISTANTS.name) if start <= d <= end]
             for name in names}
    if not any(dates.values()):
        which = f" of source {', '.join(names)}" if sources else ""
        raise click.ClickException(f"no stored snapshot{which} between {start} and {end} in {root}")
    if not sources:  # every source with a stored date in the range; a source named with --source must have one
        names = [name for name in names if dates[name]]
    resources = {"warehouse": WarehouseResource(path=warehouse, writer_wait=writer_wait)}
    wait = resources["warehouse"].writer_wait_seconds()
    assets = build_snapshot_assets(names)
    history_config = {"ops": {"update_history": {"config": {"allow_mass_deletion": allow_mass_deletion,
                                                            "mass_deletion_threshold": mass_deletion_threshold}}}}
    console = results_console()
    runs = SourceRuns(names)
    for name in names:
        named = f" ({name})" if len(names) > 1 or name != DEFAULT_SOURCE else ""
        with runs.source(name):
            if not dates[name]:
                raise click.ClickException(f"no stored snapshot between {start} and {end}")
            with writer_lock(root, name, wait=wait):
                for date in dates[name]:
                    result = run_assets([assets.flatten_assistants, assets.duckdb_warehouse], {}, resources, date,
                                        verbose=verbose, source=name)
                    if not result.success:
                        raise_if_interrupted(result)
                        raise run_failure(result, f"{date}: ")
                    console.print(f"rebuilt {date}{named}")
                result = run_assets([assets.update_history], history_config, resources, dates[name][0],
                                    verbose=verbose, source=name)
            if not result.success:
                raise_if_interrupted(result)
                raise run_failure(result)
            console.print(f"history{named} replayed from {dates[name][0]}; {len(dates[name])} date(s) rebuilt")
    runs.finish(ctx)
