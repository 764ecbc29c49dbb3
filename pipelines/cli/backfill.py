"""``assistants-export backfill --from D1 --to D2``: rebuild stored dates without the network.

The API only shows the present, so an old date cannot be fetched again. What
can always be rebuilt is everything derived from its stored raw payloads: the
flattened tables, their DuckDB copy and the history. This runs the same Dagster
assets the UI's backfill runs (flatten, load, history), one partition at a time,
and the history once, from the first date onward.
"""

from __future__ import annotations

import click
from rich.console import Console

from connectors.core.schemas import RAW_ASSISTANTS
from connectors.history import DEFAULT_MASS_DELETION_THRESHOLD
from connectors.warehouse import open_store

from ..assets import duckdb_warehouse, flatten_assistants, update_history
from ..resources import WarehouseResource
from . import cli, warehouse_option
from .snapshot import failure_message, parse_date, raise_if_interrupted, run_assets


@cli.command()
@click.option("--from", "from_date", required=True, metavar="YYYY-MM-DD", help="First date to rebuild.")
@click.option("--to", "to_date", required=True, metavar="YYYY-MM-DD", help="Last date to rebuild (included).")
@warehouse_option
@click.option("--allow-mass-deletion", is_flag=True, help="Let the history apply large deletions.")
@click.option("--mass-deletion-threshold", type=click.FloatRange(0, 1), default=DEFAULT_MASS_DELETION_THRESHOLD,
              show_default=True, help="Share of the live assistants one snapshot may delete.")
@click.option("-v", "--verbose", is_flag=True, help="Show Dagster's logs.")
def backfill(from_date: str, to_date: str, warehouse: str | None, allow_mass_deletion: bool,
             mass_deletion_threshold: float, verbose: bool) -> None:
    """Rebuild the tables and the history of stored dates from their raw payloads (no API calls)."""
    start, end = parse_date(from_date), parse_date(to_date)
    if end < start:
        raise click.BadParameter("--to must not be before --from", param_hint="--to")
    root = WarehouseResource(path=warehouse).root()
    dates = [d for d in open_store(root).dates(RAW_ASSISTANTS.name) if start <= d <= end]
    if not dates:
        raise click.ClickException(f"no stored snapshot between {start} and {end} in {root}")
    resources = {"warehouse": WarehouseResource(path=warehouse)}
    console = Console()
    for date in dates:
        result = run_assets([flatten_assistants, duckdb_warehouse], {}, resources, date, verbose=verbose)
        if not result.success:
            raise_if_interrupted(result)
            raise click.ClickException(f"{date}: {failure_message(result)}")
        console.print(f"rebuilt {date}")
    history_config = {"ops": {"update_history": {"config": {"allow_mass_deletion": allow_mass_deletion,
                                                            "mass_deletion_threshold": mass_deletion_threshold}}}}
    result = run_assets([update_history], history_config, resources, dates[0], verbose=verbose)
    if not result.success:
        raise_if_interrupted(result)
        raise click.ClickException(failure_message(result))
    console.print(f"history replayed from {dates[0]}; {len(dates)} date(s) rebuilt")



