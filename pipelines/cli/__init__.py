"""``assistants-export``: the command line, one module per command.

Every command takes ``--warehouse DIR`` (default ``$ASSISTANTS_WAREHOUSE`` or
``./data``). Exit status 0 on success; on failure, non-zero and one line on
stderr that says what to fix.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from typing import Any

import click

from connectors.core import settings
from connectors.core.errors import ConnectorError

EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130
"""128 + SIGINT, as shells report a command ended by Ctrl-C."""


def warehouse_option(function: Any) -> Any:
    """The ``--warehouse`` option every command shares."""
    return click.option("--warehouse", type=click.Path(file_okay=False), default=None,
                        help=f"Warehouse folder, or s3://bucket/prefix (gs://, az://) (default "
                             f"${settings.DEFAULT_WAREHOUSE_ENV} or {settings.DEFAULT_WAREHOUSE}).")(function)


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="assistants-export")
def cli() -> None:
    """Export OpenAI Assistants API configurations to Parquet and DuckDB."""


def run(argv: Sequence[str] | None = None) -> int:
    """Run the CLI and return its exit status; every failure is one line on stderr."""
    try:
        cli.main(args=list(argv) if argv is not None else None, prog_name="assistants-export",
                 standalone_mode=False)
    except (click.exceptions.Abort, KeyboardInterrupt):
        click.echo("error: interrupted: a snapshot in progress was not stored (its date is as it was); "
                   "run the command again to finish", err=True)
        return EXIT_INTERRUPTED
    except click.UsageError as exc:
        click.echo(f"error: {exc.format_message()} (see --help)", err=True)
        return EXIT_USAGE
    except click.ClickException as exc:
        click.echo(f"error: {exc.format_message()}", err=True)
        return EXIT_FAILURE
    except ConnectorError as exc:
        click.echo(f"error: {exc}", err=True)
        return EXIT_FAILURE
    return 0


def main() -> None:
    """Console-script entry point."""
    sys.exit(run())



# The CLI takes explicit dates (and refuses a date outside the fetch window unless --force), so its partitions
# reach back to the API's launch; the Dagster UI's start where data can exist (pipelines.partitions). This must
# run before the commands import the assets, which build the partitions.
# (Literals, because importing pipelines.partitions would build the partitions first; a test keeps them equal to
# partitions.START_DATE_ENV and partitions.EARLIEST_START.)
os.environ.setdefault("ASSISTANTS_START_DATE", "2023-11-06")

# Commands register themselves on ``cli`` when imported.
from . import backfill, copying, history, migrate, query, rebuild, snapshot, upgrade, vacuum  # noqa: E402,F401
