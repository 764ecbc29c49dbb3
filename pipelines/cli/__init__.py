"""``assistants-export``: the command line, one module per command.

Every command takes ``--warehouse DIR`` (default ``$ASSISTANTS_WAREHOUSE`` or
``./data``). Exit status 0 on success; on failure, non-zero and one line on
stderr that says what to fix.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from types import TracebackType
from typing import Any

import click

from assistants_export import __version__
from assistants_export.connectors.core import settings
from assistants_export.connectors.core.errors import ConnectorError
from assistants_export.connectors.core.settings import DEFAULT_SOURCE

EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130
"""128 + SIGINT, as shells report a command ended by Ctrl-C."""


def warehouse_option(function: Any) -> Any:
    """The ``--warehouse`` option every command shares."""
    return click.option("--warehouse", type=click.Path(file_okay=False), default=None,
                        help=f"Warehouse folder, or s3://bucket/prefix (gs://, az://) (default "
                             f"${settings.DEFAULT_WAREHOUSE_ENV} or {settings.DEFAULT_WAREHOUSE}).")(function)


class SourceRuns:
    """Runs a command's work source by source, so that a failing source fails only itself.

    ``with runs.source(name):`` around one source's work: with one source, its failure is the command's (one line,
    exit 1, as ever); with several, it is written as one ``error: source NAME: ...`` line and the next source
    runs; :meth:`finish` then exits 1 if any failed. Ctrl-C stops every source.
    """

    def __init__(self, names: Sequence[str]) -> None:
        self.several = len(names) > 1
        self.failed: list[str] = []
        self._name = DEFAULT_SOURCE

    def source(self, name: str) -> SourceRuns:
        self._name = name
        return self

    def __enter__(self) -> SourceRuns:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> bool:
        if not isinstance(error, ConnectorError | click.ClickException) or isinstance(error, click.UsageError):
            return False
        message = error.format_message() if isinstance(error, click.ClickException) else str(error)
        if (self.several or self._name != DEFAULT_SOURCE) and not message.startswith(f"source {self._name} "):
            message = f"source {self._name}: {message}"
        if not self.several:
            raise click.ClickException(message) from None
        click.echo(f"error: {message}", err=True)
        self.failed.append(self._name)
        return True  # the next source runs

    def succeeded(self, name: str) -> bool:
        return name not in self.failed

    def finish(self, ctx: click.Context) -> None:
        """Exit 1 when a source failed (each has had its line)."""
        if self.failed:
            ctx.exit(EXIT_FAILURE)


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="assistants-export")
def cli() -> None:
    """Export OpenAI Assistants API configurations to Parquet and DuckDB."""


def run(argv: Sequence[str] | None = None) -> int:
    """Run the CLI and return its exit status; every failure is one line on stderr (a command that runs several
    sources writes one line per failed source itself and exits with ``ctx.exit``)."""
    try:
        status = cli.main(args=list(argv) if argv is not None else None, prog_name="assistants-export",
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
    return status if isinstance(status, int) else 0


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
