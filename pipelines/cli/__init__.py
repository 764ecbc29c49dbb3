"""``assistants-export``: the command line, one module per command.

Every command takes ``--warehouse DIR`` (default ``$ASSISTANTS_WAREHOUSE`` or
``./data``). Exit status 0 on success; on failure, non-zero and one line on
stderr that says what to fix.
"""

from __future__ import annotations

import errno
import importlib
import math
import os
import sys
import traceback
from collections.abc import Sequence
from types import TracebackType
from typing import Any

import click

from assistants_export import __version__
from assistants_export.connectors.core import settings
from assistants_export.connectors.core import settings_registry as registry
from assistants_export.connectors.core.errors import ConnectorError, SourceBusyError
from assistants_export.connectors.core.settings import DEFAULT_SOURCE

from ..start_date import EARLIEST_START, START_DATE_ENV, check_start_date
from .stdout import silence_stdout

EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130
"""128 + SIGINT, as shells report a command ended by Ctrl-C."""
EXIT_TEMPFAIL = 75
"""EX_TEMPFAIL (sysexits.h): another run is writing the same source; this one wrote nothing, try again later."""


class InterruptedRun(click.ClickException):
    """Ctrl-C (or SIGTERM) ended a snapshot: one line saying what was stored and what not, exit status 130."""

    exit_code = EXIT_INTERRUPTED


class SourceBusy(click.ClickException):
    """Another run holds a source's writer lock (:class:`SourceBusyError`): one line, exit status 75."""

    exit_code = EXIT_TEMPFAIL


class _Share(click.FloatRange):
    """A share from 0 to 1; click's range lets NaN through (no comparison with NaN is true)."""

    name = "share"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        converted = super().convert(value, param, ctx)
        if math.isnan(converted):
            self.fail(f"{value!r} is not a number from 0 to 1", param, ctx)
        return converted


SHARE = _Share(0, 1)
"""The type of the options that take a share (--max-failed-share, --mass-deletion-threshold)."""


def warehouse_option(function: Any) -> Any:
    """The ``--warehouse`` option every command shares."""
    return click.option("--warehouse", type=click.Path(file_okay=False), default=None,
                        help=f"{registry.WAREHOUSE.help} {registry.WAREHOUSE.default_help()}")(function)


def writer_wait_option(function: Any) -> Any:
    """``--writer-wait SECONDS``: how long a run waits for another run of its source (snapshot, backfill)."""
    return click.option(
        "--writer-wait", type=float, metavar="SECONDS", default=None,
        help=f"{registry.WRITER_WAIT.help} {registry.WRITER_WAIT.default_help(f'{settings.WRITER_WAIT:g}')}")(function)


class SourceRuns:
    """Runs a command's work source by source, so that a failing source fails only itself.

    ``with runs.source(name):`` around one source's work: with one source, its failure is the command's (one line,
    exit 1, as ever); with several, it is written as one ``error: source NAME: ...`` line and the next source
    runs; :meth:`finish` then exits 1 if any failed (75 if each failed only because another run was writing it).
    Ctrl-C stops every source.
    """

    def __init__(self, names: Sequence[str]) -> None:
        self.several = len(names) > 1
        self.failed: list[str] = []
        self.busy: list[str] = []
        """The failed sources that failed only because another run was writing them."""
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
        busy = isinstance(error, SourceBusyError | SourceBusy)
        if not self.several:
            raise (SourceBusy if busy else click.ClickException)(message) from None
        click.echo(f"error: {message}", err=True)
        self.failed.append(self._name)
        if busy:
            self.busy.append(self._name)
        return True  # the next source runs

    def succeeded(self, name: str) -> bool:
        return name not in self.failed

    def finish(self, ctx: click.Context) -> None:
        """Exit 1 when a source failed (each has had its line); 75 when every one that failed was busy."""
        if self.failed:
            ctx.exit(EXIT_TEMPFAIL if self.busy == self.failed else EXIT_FAILURE)


COMMANDS: dict[str, tuple[str, str]] = {
    "as-of": ("history", "Time travel: every assistant's configuration as it was on DATE."),
    "backfill": ("backfill", "Rebuild the tables and the history of stored dates from their raw payloads (no API "
                 "calls)."),
    "compact": ("compact", "Merge the small files of closed months into one per table and month (a bucket: Delta's "
                "compaction and a checkpoint), for every stored source; with --keep-days, first remove the "
                "snapshot rows of older dates and the payloads nothing needs any more (retention, off by default)."),
    "copy-warehouse": ("copying", "Copy every stored date and the history to another location, then build its "
                       "DuckDB cache (no API calls)."),
    "diff": ("history", "A summary table of what changed after --from up to --to."),
    "held": ("held", "List, show, approve or discard the runs a blocking gate held back (their answers wait under "
             "held/)."),
    "history": ("history", "The timeline of one assistant: every version and what changed when it began."),
    "migrate": ("migrate", "Write every archived assistant as a Responses API request body (JSON Lines), with "
                "warnings."),
    "query": ("query", "Run a SQL query (or a query file, or show a view) over the warehouse and print the result."),
    "rebuild-duckdb": ("rebuild", "Build assistants.duckdb again from the stored Parquet files (no API calls), then "
                       "swap it in."),
    "report": ("report", "Write the audit report: one HTML file with charts of the fleet, its changes, timelines and "
               "run health."),
    "snapshot": ("snapshot", "Fetch, flatten and load one day's snapshot of each source, then update its history."),
    "upgrade": ("upgrade", "Store each payload once in a warehouse written by an older version, map its payloads "
                "to Responses API requests where an older version did not, and reload its DuckDB file."),
    "vacuum": ("vacuum", "Delete the files no reader needs any more (replaced dates and compacted months, dead "
               "writers' files), for every stored source."),
    "views": ("views", "List the bundled views, one line each (the same views in every warehouse)."),
}
"""Each command's module (in this package) and the first sentence of its help: a command's module is imported
only when the command runs, so ``--help`` and the commands that read the warehouse start without Dagster
(``tests/pipelines/test_startup.py`` keeps these sentences equal to the commands' own)."""


class _LazyGroup(click.Group):
    """The command group; a command's module is imported when the command is looked up, and ``--help`` lists
    :data:`COMMANDS` without importing any."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in COMMANDS:
            importlib.import_module(f"{__name__}.{COMMANDS[cmd_name][0]}")  # registers it on ``cli``
        return self.commands.get(cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        limit = formatter.width - 6 - max(len(name) for name in COMMANDS)
        rows = [(name, click.Command(name, help=COMMANDS[name][1]).get_short_help_str(limit))
                for name in sorted(COMMANDS)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


def all_commands() -> dict[str, click.Command]:
    """Every command, each module imported (for the documentation tests, which read every option)."""
    context = click.Context(cli)
    for name in COMMANDS:
        cli.get_command(context, name)
    return dict(cli.commands)


@click.group(cls=_LazyGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="assistants-export")
def cli() -> None:
    """Export OpenAI Assistants API configurations to Parquet and DuckDB."""


DEBUG_ENV = registry.DEBUG.variable
"""Set to 1 to see the traceback of an unexpected failure (on stderr, before its one line)."""


def run(argv: Sequence[str] | None = None) -> int:
    """Run the CLI and return its exit status; every failure is one line on stderr (a command that runs several
    sources writes one line per failed source itself and exits with ``ctx.exit``).

    What no command foresaw ends in one line too (:func:`unexpected`), with its traceback under
    ``ASSISTANTS_DEBUG=1``: an error message is for users, a traceback for whoever fixes the bug.
    """
    if _SETTINGS_ERROR is not None:
        click.echo(f"error: {_SETTINGS_ERROR}", err=True)
        return EXIT_FAILURE
    arguments = list(argv) if argv is not None else sys.argv[1:]
    try:
        _import_command(arguments)
        status = cli.main(args=arguments, prog_name="assistants-export", standalone_mode=False)
    except (click.exceptions.Abort, KeyboardInterrupt):
        click.echo("error: interrupted: a snapshot in progress was not stored (its date is as it was); "
                   "run the command again to finish", err=True)
        return EXIT_INTERRUPTED
    except click.UsageError as exc:
        click.echo(f"error: {exc.format_message()} (see --help)", err=True)
        return EXIT_USAGE
    except click.ClickException as exc:
        click.echo(f"error: {exc.format_message()}", err=True)
        return exc.exit_code
    except ConnectorError as exc:
        click.echo(f"error: {exc}", err=True)
        return EXIT_TEMPFAIL if isinstance(exc, SourceBusyError) else EXIT_FAILURE
    except BrokenPipeError:  # a reader that went away (`views | head -1`): stop quietly, as other tools do
        silence_stdout()
        return 0
    except Exception as exc:
        if os.environ.get(DEBUG_ENV, "").strip() not in ("", "0"):
            traceback.print_exc()
        click.echo(f"error: {unexpected(exc)}", err=True)
        return EXIT_FAILURE
    return status if isinstance(status, int) else 0


def _import_command(arguments: Sequence[str]) -> None:
    """Import the module of the command ``arguments`` name before click parses them: a Ctrl-C or a bad setting
    while it is imported (Dagster, for some) then ends in run()'s one line, not inside click's parsing."""
    name = next((argument for argument in arguments if not argument.startswith("-")), None)
    if name in COMMANDS:
        importlib.import_module(f"{__name__}.{COMMANDS[name][0]}")


_ERRNO_HINTS = {
    errno.ENOSPC: "the disk is full: free space and run the command again",
    errno.EDQUOT: "the disk quota is exceeded: free space and run the command again",
    errno.EIO: "the device reported an input/output error: check the disk (dmesg)",
    errno.EROFS: "the file system is read-only: use a writable folder",
    errno.EACCES: "permission denied: run as a user who may, or use another folder",
    errno.EPERM: "permission denied: run as a user who may, or use another folder",
}


def unexpected(exc: BaseException) -> str:
    """One line for a failure no command turned into its own message: what the system said and what to do, or
    the exception's first line and where to look."""
    if isinstance(exc, OSError) and exc.strerror:
        where = f"{exc.filename}: " if exc.filename is not None else ""
        hint = _ERRNO_HINTS.get(exc.errno or 0)
        return f"{where}{exc.strerror}" + (f" ({hint})" if hint else "")
    if isinstance(exc, UnicodeEncodeError):
        return (f"cannot write {exc.object[exc.start:exc.end]!r} in the {exc.encoding} encoding: use a UTF-8 "
                "locale or set PYTHONIOENCODING=utf-8")
    if isinstance(exc, MemoryError):
        return "out of memory: give the process more memory, or run it with less at once"
    text = " ".join(str(exc).split())
    if len(text) > 300:
        text = text[:300] + "..."
    return (f"unexpected {type(exc).__name__}" + (f": {text}" if text else "") +
            f" (a bug, or a case nobody foresaw: run it again with {DEBUG_ENV}=1 for the traceback, and report it)")


def main() -> None:
    """Console-script entry point. Standard output is flushed here, so a full disk behind it (or a reader that
    went away) ends in one line, not in the interpreter's own message at exit."""
    status = run()
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        silence_stdout()
    except OSError as exc:
        silence_stdout()
        click.echo(f"error: could not write standard output: {unexpected(exc)}", err=True)
        status = status or EXIT_FAILURE
    sys.exit(status)



# The CLI takes explicit dates (and refuses a date outside the fetch window unless --force), so its partitions
# reach back to the API's launch; the Dagster UI's start where data can exist (pipelines.partitions). This must
# run before the commands import the assets, which build the partitions.
if not os.environ.get(START_DATE_ENV, "").strip():  # unset or empty: the CLI's own start
    os.environ[START_DATE_ENV] = EARLIEST_START

# A setting every command depends on that is wrong fails every command with its one line, from run(), before any
# command's module is imported (a bad ASSISTANTS_START_DATE lays out no partitions).
_SETTINGS_ERROR: ConnectorError | None = None
try:
    check_start_date(os.environ[START_DATE_ENV].strip())
    # the crash points are read when their module is imported: import it here, so that a bad
    # ASSISTANTS_FAILPOINTS fails every command the same way, including those that never reach a crash point
    importlib.import_module("assistants_export.connectors.core.failpoints")
except ConnectorError as _error:
    _SETTINGS_ERROR = _error
