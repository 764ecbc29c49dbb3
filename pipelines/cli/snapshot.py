"""``assistants-export snapshot``: fetch, flatten and load one day, running the Dagster assets in-process.

Dagster's own logs appear only with ``--verbose``; on a terminal a progress display shows the phase, the IDs
done by outcome, the rate, the time left and the retries (:mod:`assistants_export.pipelines.progress`).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import math
import os
import signal
import sys
import tempfile
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import click
from click.core import ParameterSource
from dagster import AssetCheckEvaluation, DagsterInstance, Definitions, ExecuteInProcessResult, define_asset_job
from pydantic import Field
from rich.console import Console
from rich.table import Table

from assistants_export.connectors.core import interrupts
from assistants_export.connectors.core import settings as warehouse_settings
from assistants_export.connectors.core.errors import ConfigError, ConnectorError, SourceBusyError
from assistants_export.connectors.core.settings import DEFAULT_SOURCE, SOURCES_FILE_ENV
from assistants_export.connectors.openai_assistants import settings
from assistants_export.connectors.openai_assistants.client import RETRIES_LOGGER
from assistants_export.connectors.openai_assistants.config import AUTH_STYLES, ClientConfig, default, describe
from assistants_export.connectors.openai_assistants.ids import clean_ids, read_ids_file
from assistants_export.connectors.warehouse.location import check_local_folder
from assistants_export.connectors.warehouse.sources import source_root
from assistants_export.connectors.warehouse.writer_lock import writer_lock

from ..assets import DUCKDB_ASSET, build_snapshot_assets
from ..config import SOURCE_TAG
from ..partitions import daily_partitions, fetch_window_message, fetch_window_open, partition_key
from ..progress import ProgressDisplay
from ..resources import AssistantsApiResource, WarehouseResource
from ..sources import ENVIRONMENT_SOURCE, SourceSpec, configured_sources, get_source
from . import EXIT_INTERRUPTED, SHARE, InterruptedRun, SourceBusy, SourceRuns, cli, warehouse_option, writer_wait_option
from .output import results_console, show_table


class SecondsOrNone(click.ParamType):
    """A number of seconds, or ``none`` for no limit (infinity, which the client configuration takes as none)."""

    name = "seconds"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> float:
        if isinstance(value, float | int):
            return float(value)
        if str(value).strip().lower() == "none":
            return math.inf
        try:
            return float(value)
        except ValueError:
            self.fail(f"{value!r} is not a number of seconds (or none)", param, ctx)


SOURCE_OPTIONS = {"ids": "--ids", "ids_file": "--ids-file", "discover": "--discover", "base_url": "--base-url",
                  "auth_style": "--auth-style", "api_version": "--api-version", "api_key_env": "--api-key-env"}
"""Options that set one source's endpoint, identity or IDs: with several sources selected they are ambiguous."""
ENDPOINT_FIELDS = ("base_url", "auth_style", "api_version", "api_key_env")


@cli.command()
@click.option("--date", "snapshot_date", metavar="YYYY-MM-DD", default=None,
              help="Snapshot date (UTC); default today.")
@click.option("--source", "sources", metavar="NAME", multiple=True,
              help=f"Snapshot this source of ${SOURCES_FILE_ENV} (repeatable); default every configured source, "
                   "one after another.")
@click.option("--ids", help="Comma-separated assistant IDs.")
@click.option("--ids-file", type=click.Path(dir_okay=False),
              help="File of IDs: one per line, CSV with an assistant_id column, or a JSON array.")
@click.option("--discover", is_flag=True, help="List every assistant instead of fetching given IDs.")
@click.option("--base-url", help=f"{describe('base_url')} Default ${settings.DEFAULT_BASE_URL_ENV}, else "
                                 f"{default('base_url')}.")
@warehouse_option
@click.option("--concurrency", type=int, default=default("concurrency"), show_default=True,
              help=describe("concurrency"))
@click.option("--requests-per-minute", type=float, default=default("requests_per_minute"),
              help=describe("requests_per_minute"))
@click.option("--auth-style", type=click.Choice(list(AUTH_STYLES)),
              help=f"{describe('auth_style')} Default $ASSISTANTS_AUTH_STYLE, else {default('auth_style')}.")
@click.option("--api-version", help=f"{describe('api_version')} Default $OPENAI_API_VERSION.")
@click.option("--api-key-env", default=default("api_key_env"), show_default=True, help=describe("api_key_env"))
@click.option("--max-attempts", type=int, default=default("max_attempts"), show_default=True,
              help=describe("max_attempts"))
@click.option("--no-preflight", is_flag=True, help="Skip the GET /assistants?limit=1 probe.")
@click.option("--run-deadline", type=SecondsOrNone(), metavar="SECONDS|none", default=default("run_deadline"),
              help=describe("run_deadline"))
@click.option("--force", is_flag=True,
              help="Fetch even if the date ended more than 36 hours ago (stores today's state under it).")
@click.option("--max-failed-share", type=SHARE, default=warehouse_settings.DEFAULT_MAX_FAILED_SHARE,
              show_default=True, help="Largest share of failed IDs before the run is held back.")
@click.option("--allow-failures", is_flag=True,
              help="Store the snapshot even if more than --max-failed-share of the IDs failed.")
@click.option("--allow-empty", is_flag=True,
              help="Store the snapshot even if no assistant was answered (an empty ID source or listing).")
@click.option("--allow-mass-deletion", is_flag=True,
              help="Store the snapshot and apply it to the history even if it deletes more than the guard allows.")
@click.option("--mass-deletion-threshold", type=SHARE,
              default=warehouse_settings.DEFAULT_MASS_DELETION_THRESHOLD, show_default=True,
              help="Share of the live assistants one snapshot may delete before the run is held back.")
@click.option("--held-max-age-days", type=click.FloatRange(min=0), metavar="DAYS",
              default=warehouse_settings.HELD_MAX_AGE_DAYS, show_default=True,
              help="Remove the source's held-back runs held longer ago than this before fetching (the summary "
                   "names them).")
@writer_wait_option
@click.option("-v", "--verbose", is_flag=True, help="Show Dagster's logs.")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar, no retry lines and no summary.")
@click.pass_context
def snapshot(ctx: click.Context, snapshot_date: str | None, sources: tuple[str, ...], ids: str | None,
             ids_file: str | None, discover: bool, base_url: str | None, warehouse: str | None, concurrency: int,
             requests_per_minute: float | None, auth_style: str | None, api_version: str | None,
             api_key_env: str, max_attempts: int, no_preflight: bool, run_deadline: float | None,
             force: bool, max_failed_share: float, allow_failures: bool, allow_empty: bool,
             allow_mass_deletion: bool, mass_deletion_threshold: float, held_max_age_days: float,
             writer_wait: float | None, verbose: bool, quiet: bool) -> None:
    """Fetch, flatten and load one day's snapshot of each source, then update its history.

    With several sources (a sources file), each runs on its own, one after another: one that fails is named on
    stderr, one line each, the others still run, and the command exits 1.

    Each source's run holds the source's writer lock from start to end: another run of it makes this one wait
    up to --writer-wait seconds, then end with one line naming that run and exit status 75, having written
    nothing.
    """
    date = parse_date(snapshot_date)
    if not force and not fetch_window_open(date):
        raise click.ClickException(fetch_window_message(date))
    given_ids = _id_config(ids, ids_file, discover)
    chosen = choose_sources(sources)
    given = [name for name in SOURCE_OPTIONS if ctx.get_parameter_source(name) is ParameterSource.COMMANDLINE]
    if len(chosen) > 1 and given:
        options = ", ".join(SOURCE_OPTIONS[name] for name in given)
        raise click.UsageError(f"{options} set one source's endpoint or IDs, and {len(chosen)} sources are selected "
                               f"({', '.join(spec.name for spec in chosen)}): add --source NAME, or set it in "
                               f"the sources file")
    api_fields: dict[str, Any] = {
        "base_url": base_url, "concurrency": concurrency, "requests_per_minute": requests_per_minute,
        "auth_style": auth_style, "api_version": api_version, "api_key_env": api_key_env,
        "max_attempts": max_attempts, "preflight": False if no_preflight else None, "run_deadline": run_deadline,
    }
    api_fields = {k: v for k, v in api_fields.items() if v is not None}
    api = _CommandLineApi(given=[name for name in ENDPOINT_FIELDS if name in given], **api_fields)
    root = WarehouseResource(path=warehouse).root()  # a warehouse that cannot be used fails here, in one line
    warehouse_resource = WarehouseResource(path=warehouse, writer_wait=writer_wait)
    wait = warehouse_resource.writer_wait_seconds()  # a bad --writer-wait or $ASSISTANTS_WRITER_WAIT: one line
    resources = {"api": api, "warehouse": warehouse_resource}
    gates = {"force": force, "max_failed_share": max_failed_share, "allow_failures": allow_failures,
             "allow_empty": allow_empty, "allow_mass_deletion": allow_mass_deletion,
             "mass_deletion_threshold": mass_deletion_threshold, "held_max_age_days": held_max_age_days}
    history = {"allow_mass_deletion": allow_mass_deletion, "mass_deletion_threshold": mass_deletion_threshold}
    assets = build_snapshot_assets([spec.name for spec in chosen])
    console = Console(stderr=True)
    runs = SourceRuns([spec.name for spec in chosen])
    ended: dict[str, str] = {}
    """Each source's run as an interrupt found it (see :func:`_interrupted_message`)."""
    with _interrupts_recorded():
        for spec in chosen:
            if interrupts.requested():
                break
            with runs.source(spec.name):
                api.client_config(spec)  # a bad setting or a missing key fails here, in one line, before Dagster
                id_config = {**(given_ids or _source_ids(spec)), **gates}
                run_config = {"ops": {"fetch_assistants": {"config": id_config},
                                      "update_history": {"config": history}}}
                run_id = str(uuid.uuid4())
                try:
                    with writer_lock(root, spec.name, run_id=run_id, wait=wait), \
                            _progress_display(console, id_config, enabled=not quiet and console.is_terminal), \
                            _retry_lines(enabled=not quiet and not console.is_terminal):
                        result = run_assets(assets, run_config, resources, date, verbose=verbose, source=spec.name,
                                            run_id=run_id)
                except interrupts.Interrupted:  # while it waited for another run of the source: nothing written
                    ended[spec.name] = "not stored"
                    break
                if interrupts.requested():
                    ended[spec.name] = _ended(result)
                    break
                if not result.success:
                    raise_if_interrupted(result)
                    raise run_failure(result)
                ended[spec.name] = "stored before"
                if not quiet:
                    _print_summary(result, date, source_root(root, spec.name), spec)
        if interrupts.requested():
            raise InterruptedRun(_interrupted_message(date, [spec.name for spec in chosen], ended))
    runs.finish(ctx)


@contextmanager
def _interrupts_recorded() -> Iterator[None]:
    """For the runs' length, Ctrl-C and SIGTERM are recorded, not raised, and acted on where that is safe
    (:mod:`assistants_export.connectors.core.interrupts`): before a run's commit it stops at once, the date untouched;
    once the
    commit began it finishes, so Parquet and DuckDB agree. A second signal stops the process at once."""
    if threading.current_thread() is not threading.main_thread():  # signals reach the main thread only
        yield
        return
    kinds = (signal.SIGINT, signal.SIGTERM)
    previous = {kind: signal.getsignal(kind) for kind in kinds}

    def record(signum: int, frame: object) -> None:
        first, committing = interrupts.request(signum)
        if not first:
            _stop_at_once(committing)

    with interrupts.handling():
        try:
            for kind in kinds:
                signal.signal(kind, record)
            yield
        finally:
            for kind, handler in previous.items():
                signal.signal(kind, handler)


def _stop_at_once(committing: bool) -> None:
    """A second Ctrl-C: end the process now, as a kill would, saying what that leaves (a re-run repairs it)."""
    text = ("error: interrupted again: stopped at once while the snapshot was being stored; Parquet may hold it "
            "before DuckDB does: run the command again to finish it" if committing else
            "error: interrupted again: stopped at once; nothing of the snapshot was stored (its date is as it was)")
    with contextlib.suppress(OSError, ValueError):
        if sys.stderr.isatty():
            os.write(2, b"\x1b[?25h")  # the progress display hid the cursor
        os.write(2, f"\n{text}\n".encode())
    os._exit(EXIT_INTERRUPTED)


def _ended(result: ExecuteInProcessResult) -> str:
    """How a run the interrupt reached ended: stored whole after all, stopped before its commit, or failed."""
    if not interrupts.commit_began():
        return "not stored"
    if result.success:
        return "finished"
    return "failed: " + failure_message(result)


def _interrupted_message(date: dt.date, names: list[str], ended: dict[str, str]) -> str:
    """The one line of an interrupted snapshot: what became of each source's run (exit status 130 either way)."""
    several = len(names) > 1 or names != [DEFAULT_SOURCE]
    clauses = []
    for name in names:
        what = f"the snapshot of {date}" + (f" of source {name}" if several else "")
        state = ended.get(name, "not started")
        if state == "stored before":
            if several:
                clauses.append(f"{what} was stored before it")
            else:
                clauses.append(f"{what} was stored before it (Parquet and DuckDB both hold it)")
        elif state == "finished":
            clauses.append(f"{what} was being stored, and the run finished storing it first: Parquet and DuckDB "
                           "both hold it, with its history")
        elif state == "not stored":
            clauses.append(f"{what} was not stored: its date is as it was in Parquet and DuckDB (run the command "
                           "again to take it)")
        elif state == "not started":
            clauses.append(f"{what} was not started")
        else:
            clauses.append(f"{what} was being stored, and the run then {state}")
    return "interrupted: " + "; ".join(clauses)


class _CommandLineApi(AssistantsApiResource):
    """The API resource of a CLI run: the endpoint options given on the command line (``given``) override the
    source's own settings, which override the other options and the environment's variables."""

    given: list[str] = Field(default_factory=list)

    def client_config(self, source: SourceSpec = ENVIRONMENT_SOURCE) -> ClientConfig:
        fields = self.client_fields()
        fields.pop("given")
        return source.client_config(defaults=fields, overrides={name: fields[name] for name in self.given})


def choose_sources(names: Sequence[str]) -> list[SourceSpec]:
    """The configured sources ``names`` picks (each once, in the order given), or every configured one."""
    configured = configured_sources()
    if not names:
        return list(configured.values())
    return [get_source(name) for name in dict.fromkeys(names)]


def _source_ids(spec: SourceSpec) -> dict[str, Any]:
    """The run config of a source's own IDs (its table's, else the environment's), when no option gives any."""
    found = spec.id_source()
    if found is None:
        raise ConfigError(spec.no_ids_message("--ids, --ids-file or --discover"))
    if found.discover:
        return {"discover": True}
    return {"ids_file": os.path.abspath(str(found.ids_file))}


# --- helpers ----------------------------------------------------------------

def parse_date(value: str | None) -> dt.date:
    if value is None:
        return dt.datetime.now(dt.UTC).date()
    try:
        date = dt.date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date like 2026-11-21", param_hint="--date") from None
    today = dt.datetime.now(dt.UTC).date()
    if date > today:
        raise click.BadParameter(f"{date} is in the future (today is {today} in UTC): a snapshot can be taken "
                                 "for today or an earlier day", param_hint="--date")
    keys = daily_partitions.get_partition_keys()
    if date.isoformat() not in keys:
        raise click.BadParameter(f"{date} is outside the partitions ({keys[0]} to {keys[-1]}); "
                                 "set ASSISTANTS_START_DATE for older dates", param_hint="--date")
    return date


def _id_config(ids: str | None, ids_file: str | None, discover: bool) -> dict[str, Any] | None:
    """The run config of the IDs the options give; None when they give none (the source's own then apply)."""
    given = [name for name, value in (("--ids", ids), ("--ids-file", ids_file), ("--discover", discover)) if value]
    if len(given) > 1:
        raise click.UsageError(f"give only one of --ids, --ids-file, --discover (got {', '.join(given)})")
    if ids is not None:  # `--ids ""` is an empty list (an error unless --allow-empty), not one empty ID
        return {"assistant_ids": ids.split(",") if ids.strip() else []}
    if ids_file is not None:
        return {"ids_file": os.path.abspath(ids_file)}
    if discover:
        return {"discover": True}
    return None


def run_assets(assets: Iterable[Any], run_config: dict[str, Any], resources: dict[str, Any], date: dt.date, *,
               verbose: bool, source: str = DEFAULT_SOURCE, run_id: str | None = None) -> ExecuteInProcessResult:
    """Materialize ``assets`` for one source-date partition in this process, the run tagged with its source;
    Dagster's console logs only if ``verbose``.

    What :func:`dagster.materialize` does, with the run's ID chosen by the caller (``run_id``): the one the
    source's writer lock names while the run holds it, and the one ``snapshot_runs`` records.
    """
    if not verbose:
        run_config = {**run_config, "loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}
    definitions = Definitions(jobs=[define_asset_job(_EPHEMERAL_JOB)], assets=list(assets), resources=resources)
    job = definitions.resolve_job_def(_EPHEMERAL_JOB)

    def execute() -> ExecuteInProcessResult:
        with _instance() as instance:
            return job.execute_in_process(run_config=run_config, instance=instance,
                                          partition_key=partition_key(date, source), raise_on_error=False,
                                          tags={SOURCE_TAG: source}, run_id=run_id)

    if not interrupts.watching():
        return execute()
    return _in_a_thread(execute)


def _in_a_thread(work: Callable[[], ExecuteInProcessResult]) -> ExecuteInProcessResult:
    """``work()`` in a thread of its own while this (main) thread waits, so signals reach the CLI's handler only.

    Dagster replaces the main thread's SIGINT handler while a run executes and raises wherever the step is;
    off the main thread it leaves signals alone, and DuckDB does not interrupt a query either.
    """
    outcome: dict[str, Any] = {}

    def target() -> None:
        try:
            outcome["result"] = work()
        except BaseException as exc:  # handed to the waiting thread, which raises it
            outcome["error"] = exc

    thread = threading.Thread(target=target, name="snapshot-run", daemon=True)
    thread.start()
    while thread.is_alive():
        thread.join(0.1)  # wakes to let the signal handler run
    if "error" in outcome:
        raise outcome["error"]
    return outcome["result"]


_EPHEMERAL_JOB = "__ephemeral_asset_job__"
"""The name :func:`dagster.materialize` gives its job, kept so the runs a ``DAGSTER_HOME`` records look the same."""


@contextmanager
def _instance() -> Iterator[DagsterInstance]:
    """The instance under ``$DAGSTER_HOME`` when it is set (runs are recorded), else a throwaway one."""
    home = os.environ.get("DAGSTER_HOME")
    if home:
        fix = "set it to a folder for Dagster's records (created if missing), or unset it"
        check_local_folder(home, "DAGSTER_HOME", fix)
        try:
            os.makedirs(home, exist_ok=True)  # Dagster insists that the folder exists; a new one is fine
        except OSError as exc:
            raise ConfigError(f"DAGSTER_HOME {home}: cannot create it ({exc.strerror}): {fix}") from None
        with DagsterInstance.get() as instance:
            yield instance
        return
    with tempfile.TemporaryDirectory(prefix="assistants-export-") as tmp, \
            DagsterInstance.ephemeral(tempdir=tmp) as instance:
        yield instance


def count_ids(id_config: dict[str, Any]) -> int | None:
    """How many IDs the fetch will finish (distinct, malformed ones included): a cheap pass over the list or
    file; ``None`` in discover mode or when the file cannot be read (the fetch then says why)."""
    try:
        if "assistant_ids" in id_config:
            raw: Iterator[str] = iter(id_config["assistant_ids"])
        elif "ids_file" in id_config:
            raw = read_ids_file(id_config["ids_file"])
        else:
            return None
        return sum(1 for _ in clean_ids(raw))
    except (ConnectorError, OSError, UnicodeDecodeError):
        return None


@contextmanager
def _retry_lines(*, enabled: bool) -> Iterator[None]:
    """One line per retry wave on stderr (the client's :data:`RETRIES_LOGGER`) while no progress display shows
    the retries: when stderr is not a terminal."""
    if not enabled:
        yield
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    logger = logging.getLogger(RETRIES_LOGGER)
    logger.addHandler(handler)
    try:
        yield
    finally:
        logger.removeHandler(handler)


@contextmanager
def _progress_display(console: Console, id_config: dict[str, Any], *, enabled: bool) -> Iterator[None]:
    if not enabled:
        yield
        return
    with ProgressDisplay(console, total=count_ids(id_config), discover=bool(id_config.get("discover"))):
        yield


_INTERRUPTS = {"DagsterExecutionInterruptedError", "KeyboardInterrupt"}


def raise_if_interrupted(result: ExecuteInProcessResult) -> None:
    """Dagster turns Ctrl-C into a failed step; turn it back into the interrupt it was (exit status 130)."""
    for event in result.all_events:
        data = event.step_failure_data if event.is_step_failure else None
        error = data.error if data is not None else None
        while error is not None:
            if error.cls_name in _INTERRUPTS:
                raise KeyboardInterrupt
            error = error.cause


def run_failure(result: ExecuteInProcessResult, prefix: str = "") -> click.ClickException:
    """The one line of a failed run (``prefix`` before it), as the exception to raise: exit status 75 when a step
    met another run writing its source (:class:`SourceBusyError`), else 1."""
    busy = any(event.is_step_failure and event.step_failure_data is not None
               and event.step_failure_data.user_failure_data is not None
               and getattr(event.step_failure_data.user_failure_data.metadata.get("error"), "value", None)
               == SourceBusyError.__name__
               for event in result.all_events)
    return (SourceBusy if busy else click.ClickException)(prefix + failure_message(result))


def failure_message(result: ExecuteInProcessResult) -> str:
    """One line for a failed run: a failed blocking check's description, the connector's message, or Dagster's."""
    for event in result.all_events:
        evaluation = event.event_specific_data
        if isinstance(evaluation, AssetCheckEvaluation) and evaluation.blocking and not evaluation.passed \
                and evaluation.description:
            return evaluation.description
    for event in result.all_events:
        if not event.is_step_failure or event.step_failure_data is None:
            continue
        data = event.step_failure_data
        if data.user_failure_data is not None and data.user_failure_data.description:
            return data.user_failure_data.description
        error = data.error
        while error is not None and error.cause is not None:
            error = error.cause
        if error is not None:
            return error.message.strip().splitlines()[0]
    return "the run failed; re-run with --verbose for Dagster's logs"


def _print_summary(result: ExecuteInProcessResult, date: dt.date, warehouse: str, source: SourceSpec) -> None:
    console = results_console()
    named = f" of source {source.name}" if source.file is not None else ""
    where = warehouse if "://" in warehouse else os.path.abspath(warehouse)
    console.print(f"Snapshot {date}{named} written to {where}")
    for title, asset, key, heading in (("IDs by outcome", "raw_assistants", "outcomes", "outcome"),
                                       ("Rows for the date", DUCKDB_ASSET, "table_rows", "table")):
        table = Table(heading, "count", title=title)
        for name, count in _json_metadata(result, asset, key).items():
            table.add_row(name, str(count))
        show_table(console, table)
    compaction = _metadata_value(result, "assistant_history", "compaction")
    if compaction:
        console.print(f"Compacted the closed months: {compaction[0]}", highlight=False)
    pruned = _metadata_value(result, "raw_assistants", "pruned_held_runs")
    if pruned:
        console.print(f"Removed {len(pruned)} held-back run(s) older than the held runs' age limit: "
                      f"{', '.join(map(str, pruned))}", highlight=False)


def _metadata_value(result: ExecuteInProcessResult, asset: str, key: str) -> Any:
    """A metadata entry's value of an asset's materialization in this run (``None`` when absent)."""
    for event in result.get_asset_materialization_events():
        materialization = event.materialization
        if materialization.asset_key.to_user_string() == asset:
            return getattr(materialization.metadata.get(key), "data", None)
    return None


def _json_metadata(result: ExecuteInProcessResult, asset: str, key: str) -> dict[str, Any]:
    """A JSON metadata entry of an asset's materialization in this run ({} when absent)."""
    for event in result.get_asset_materialization_events():
        materialization = event.materialization
        if materialization.asset_key.to_user_string() == asset:
            value = getattr(materialization.metadata.get(key), "data", None)
            return dict(value) if isinstance(value, Mapping) else {}
    return {}

