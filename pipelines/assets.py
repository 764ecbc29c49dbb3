"""The snapshot as Dagster assets, one partition per snapshot date and API source.

(No ``from __future__ import annotations`` here: Dagster reads the config and
resource types from the functions' annotations when the module loads.)

    raw_assistants ─┐                 ┌ assistants
    fetch_errors   ─┼─ (fetch)        ├ assistant_tools            ─┐
    snapshot_runs  ─┘    raw ───────▶ ├ assistant_metadata          ├─▶ duckdb_warehouse ─▶ assistant_history
                                      └ assistant_tool_resources   ─┘                      assistant_changes

The fetch step is the only one that talks to the API; the flatten and load
steps rebuild a date from what is stored, so re-materializing them (a
backfill) never needs the network. All the work is done by ``connectors``;
these functions wire configuration in and report metadata out.

The assets are built for a list of sources (:func:`build_snapshot_assets`): their partitions are every date for
each source (:func:`assistants_export.pipelines.partitions.snapshot_partitions`), and every step reads the date and
the source from
its partition key. The Dagster definitions build them for the configured sources when they load; the CLI builds
them for the sources it runs.
"""


import contextlib
import datetime as dt
import functools
import os
import time
import warnings
from collections.abc import Iterator, Mapping, Sequence
from typing import NamedTuple

from dagster import (
    AssetCheckKey,
    AssetCheckResult,
    AssetCheckSpec,
    AssetExecutionContext,
    AssetKey,
    AssetObservation,
    AssetsDefinition,
    AssetSpec,
    Failure,
    MaterializeResult,
    MetadataValue,
    MultiPartitionKey,
    MultiPartitionsDefinition,
    PreviewWarning,
    TableColumn,
    TableColumnConstraints,
    TableSchema,
    asset,
    asset_check,
    multi_asset,
)

from assistants_export import __version__
from assistants_export.connectors.core.errors import ConfigError, ConnectorError, SourceBusyError
from assistants_export.connectors.core.schemas import (
    ALL_TABLES,
    ASSISTANT_CHANGES,
    ASSISTANT_HISTORY,
    ASSISTANTS,
    DERIVED_TABLES,
    FETCH_ERRORS,
    RAW_ASSISTANTS,
    SNAPSHOT_RUNS,
    SNAPSHOT_TABLES,
    VIEW_TABLES,
    TableSpec,
    type_name,
)
from assistants_export.connectors.history import MassDeletionError, rebuild_history
from assistants_export.connectors.report.summary import NIGHT_COLUMNS, night_summary
from assistants_export.connectors.snapshot import FetchSummary, fetch_snapshot, flatten_snapshot, load_duckdb
from assistants_export.connectors.warehouse import Store, open_store, pending_loads
from assistants_export.connectors.warehouse.location import parse_warehouse_uri, without_userinfo
from assistants_export.connectors.warehouse.upkeep import nightly_due, upkeep_store
from assistants_export.connectors.warehouse.writer_lock import writer_lock

from . import checks, progress
from .config import HistoryConfig, SnapshotConfig
from .partitions import date_and_source, fetch_window_open, skip_message, snapshot_partitions
from .resources import AssistantsApiResource, WarehouseResource
from .sources import get_source, source_names

GROUP = "assistants_snapshot"
HISTORY_GROUP = "assistants_history"
DUCKDB_ASSET = "duckdb_warehouse"
DUCKDB_POOL = "assistants_duckdb"
"""DuckDB has one writer: every step that writes it takes this pool, whose limit is 1 (dagster.yaml),
so overlapping runs queue for the file instead of failing on its lock."""


# Every asset's definition metadata names the version of the code that writes it.
VERSION_KEY = "assistants_export/version"


def _spec(table: TableSpec, deps: list[str] | None = None, group: str = GROUP, *,
          skippable: bool = False, note: str = "") -> AssetSpec:
    return AssetSpec(
        table.name,
        group_name=group,
        skippable=skippable,
        description=f"{table.doc} Grain: {table.grain}.{note}",
        deps=deps or [],
        metadata={"dagster/column_schema": _column_schema(table), VERSION_KEY: __version__},
        kinds={"parquet"},
    )


def _column_schema(table: TableSpec) -> TableSchema:
    """The table's columns with the table reference's type names, descriptions and not-null constraints."""
    return TableSchema(columns=[
        TableColumn(f.name, type_name(f.type), description=(f.metadata or {}).get(b"doc", b"").decode(),
                    constraints=None if f.nullable else TableColumnConstraints(nullable=False))
        for f in table.schema
    ])


def _check_specs(specs: list[AssetCheckSpec], partitions: MultiPartitionsDefinition) -> list[AssetCheckSpec]:
    """The same checks partitioned like their assets, so each result is tied to the source-date it checked.

    (A partitions_def on a check spec is a Dagster preview feature; its warning is not ours to fix.)
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PreviewWarning)
        return [AssetCheckSpec(s.name, asset=s.asset_key, description=s.description, blocking=s.blocking,
                               partitions_def=partitions) for s in specs]


def _stored_rows(store: Store, table: str, snapshot_date: dt.date | None = None) -> int:
    """Rows stored for ``table`` (one date's partition, or every date), read from the Parquet footers.

    A table served by a view over the membership has one date's rows counted through that view.
    """
    dates = [snapshot_date] if snapshot_date is not None else store.dates(table)
    if table in VIEW_TABLES:
        return sum(store.read(VIEW_TABLES[table], d, columns=["assistant_id"]).num_rows for d in dates)
    return sum(store.partition_rows(table, d) for d in dates)


class _Partition(NamedTuple):
    """What a step works on: the snapshot date and the source of its partition, and the source's stored tables."""

    date: dt.date
    source: str
    root: str
    """The warehouse root, which every connector entry point takes (with the source's name)."""

    def store(self) -> Store:
        """The source's own tables (the root's for ``default``, ``sources/<name>/`` for another)."""
        return open_store(self.root, self.source)

    def where(self) -> dict[str, str]:
        """The metadata naming what a materialization wrote: the warehouse (a folder's absolute path, or the URI
        without any credentials) and the API source."""
        if parse_warehouse_uri(self.root).is_local:
            warehouse = os.path.abspath(self.root)
        else:
            warehouse = without_userinfo(self.root).split("?", 1)[0]
        return {"warehouse": warehouse, "source": self.source}


def _located(part: _Partition,
             results: Iterator[MaterializeResult | AssetCheckResult]) -> Iterator[MaterializeResult | AssetCheckResult]:
    """``results`` with every materialization naming its warehouse and source (the UI shows which one it wrote)."""
    where = part.where()
    for result in results:
        if isinstance(result, MaterializeResult):
            result = result._replace(metadata={**where, **(result.metadata or {})})
        yield result


def _partition(context: AssetExecutionContext, warehouse: WarehouseResource) -> _Partition:
    key = context.partition_key
    date, source = date_and_source(key if isinstance(key, MultiPartitionKey) else str(key))
    return _Partition(date, source, warehouse.root())


def _fail(context: AssetExecutionContext, exc: ConnectorError) -> Failure:
    """A Dagster failure whose description is the connector's one-line message.

    The line is logged first, as an error: it is the first error of the run's event log, ahead of the step failure
    that carries Dagster's stack trace.
    """
    context.log.error(str(exc))
    return Failure(description=str(exc), metadata={"error": type(exc).__name__}, allow_retries=False)


@contextlib.contextmanager
def _writing(context: AssetExecutionContext, warehouse: WarehouseResource, part: _Partition) -> Iterator[None]:
    """Hold the source's writer lock for a step, as this run; another run writing the source makes the step wait
    ``writer_wait`` seconds, then fail with the one line naming that run (:class:`SourceBusyError`).

    The CLI holds the lock for its whole run, so there each step only counts; a Dagster deployment runs each
    step in a process of its own, which takes the lock for that step.
    """
    try:
        wait = warehouse.writer_wait_seconds()
    except ConfigError as exc:
        raise _fail(context, exc) from None
    try:
        with writer_lock(part.root, part.source, run_id=context.run.run_id, wait=wait):
            yield
    except SourceBusyError as exc:
        raise _fail(context, exc) from None


# --- The steps (what each asset runs, whatever its partitions) ------------------------------------------------------


def _fetch_step(context: AssetExecutionContext, config: SnapshotConfig, api: AssistantsApiResource,
                warehouse: WarehouseResource) -> Iterator[MaterializeResult | AssetCheckResult]:
    """The whole fetch runs whatever subset is selected (it writes the three tables together); only the
    selected assets and checks are reported."""
    part = _partition(context, warehouse)
    for result in _located(part, _fetch_results(context, config, api, warehouse, part)):
        assert result.asset_key is not None  # every result here names its asset
        key = AssetKey.from_coercible(result.asset_key)
        if isinstance(result, AssetCheckResult):
            if AssetCheckKey(key, str(result.check_name)) in context.selected_asset_check_keys:
                yield result
        elif key in context.selected_asset_keys:
            yield result


def _fetch_results(context: AssetExecutionContext, config: SnapshotConfig, api: AssistantsApiResource,
                   warehouse: WarehouseResource, part: _Partition) -> Iterator[MaterializeResult | AssetCheckResult]:
    snapshot_date = part.date
    store = part.store()
    if fetch_window_open(snapshot_date) or config.force:
        with _writing(context, warehouse, part):
            yield from _fetch(context, config, api, part)
    elif store.has_partition(SNAPSHOT_RUNS.name, snapshot_date):
        context.log.info("%s (%s) is outside the fetch window: keeping its stored payloads", snapshot_date,
                         part.source)
        for table in SNAPSHOT_TABLES:
            yield MaterializeResult(asset_key=table.name, metadata={
                "rebuilt_from_stored_payloads": True,
                "dagster/row_count": _stored_rows(store, table.name, snapshot_date),
                "dagster/column_schema": _column_schema(table)})
    else:
        # Nothing to keep and nothing a fetch could rightly store: skip, and say why where the UI shows it.
        reason = skip_message(snapshot_date)
        context.log.warning(reason)
        for table in SNAPSHOT_TABLES:
            context.log_event(AssetObservation(asset_key=table.name, partition=context.partition_key,
                                               metadata={"skipped": reason}))
        return
    yield from checks.table_check_results(store, SNAPSHOT_TABLES, snapshot_date)
    yield checks.failed_share_result(store, snapshot_date, config.max_failed_share)


def _fetch(context: AssetExecutionContext, config: SnapshotConfig, api: AssistantsApiResource,
           part: _Partition) -> Iterator[MaterializeResult]:
    try:
        source = get_source(part.source)
        summary = fetch_snapshot(api.client_config(source), config.id_source(source), part.date, part.root,
                                 source_name=part.source, run_id=context.run.run_id, progress=progress.current(),
                                 batch_size=config.batch_size, gates=config.gates(),
                                 held_max_age=config.held_max_age())
    except ConnectorError as exc:  # (a first run that stored nothing leaves no folder: see writer_lock.py)
        raise _fail(context, exc) from None
    context.log.info("%s: %s", part.source, _summary_line(summary))
    if summary.pruned_held:
        context.log.warning("%s: removed %d held-back run(s) older than %g days: %s", part.source,
                            len(summary.pruned_held), config.held_max_age_days, ", ".join(summary.pruned_held))
    outcomes = {k: int(v) for k, v in sorted(summary.outcomes.items())}
    not_ok = sum(v for k, v in outcomes.items() if k != "ok")
    yield MaterializeResult(asset_key=RAW_ASSISTANTS.name, metadata={
        "dagster/row_count": outcomes.get("ok", 0),
        "dagster/column_schema": _column_schema(RAW_ASSISTANTS),
        "outcomes": MetadataValue.json(outcomes),
        "mode": summary.mode,
        "requests": summary.requests,
        "retries": summary.retries,
        "rate_limited": summary.rate_limited,
        "rate_limit_wait_seconds": round(summary.waited_seconds, 3),
        "unknown_fields": MetadataValue.json(dict(summary.unknown_fields.most_common(20))),
        "fetch_seconds": round(summary.seconds, 3),
        "approved_gates": MetadataValue.json(list(summary.approved_gates)),
        "pruned_held_runs": MetadataValue.json(summary.pruned_held),
        "preview": MetadataValue.md(_counts_markdown(outcomes, "outcome", "IDs")),
    })
    yield MaterializeResult(asset_key=FETCH_ERRORS.name, metadata={
        "dagster/row_count": not_ok, "outcomes": MetadataValue.json(outcomes),
        "dagster/column_schema": _column_schema(FETCH_ERRORS)})
    yield MaterializeResult(asset_key=SNAPSHOT_RUNS.name, metadata={
        "dagster/row_count": 1, "run_id": summary.run_id, "dagster/column_schema": _column_schema(SNAPSHOT_RUNS)})


def _flatten_step(context: AssetExecutionContext,
                  warehouse: WarehouseResource) -> Iterator[MaterializeResult | AssetCheckResult]:
    part = _partition(context, warehouse)
    progress.phase("flatten")
    started = time.perf_counter()
    try:
        with _writing(context, warehouse, part):
            stored = flatten_snapshot(part.date, part.root, source_name=part.source)
    except ConnectorError as exc:
        raise _fail(context, exc) from None
    seconds = round(time.perf_counter() - started, 3)
    context.log.info("flattened the payloads %s (%s) first stored in %.1fs: %s", part.date, part.source, seconds,
                     stored)
    store = part.store()
    for spec in DERIVED_TABLES:
        yield MaterializeResult(asset_key=spec.name, metadata={
            "dagster/row_count": _stored_rows(store, spec.name, part.date), "flatten_seconds": seconds,
            "payload_rows_flattened": stored[f"payload_{spec.name.removeprefix('assistant_')}"
                                             if spec is not ASSISTANTS else "payloads"],
            "dagster/column_schema": _column_schema(spec)})
    yield from checks.table_check_results(store, DERIVED_TABLES, part.date)
    yield checks.schema_drift_result(store, part.date, ASSISTANTS.name)


def _load_step(context: AssetExecutionContext, warehouse: WarehouseResource) -> MaterializeResult:
    part = _partition(context, warehouse)
    progress.phase("load")
    started = time.perf_counter()
    try:
        with _writing(context, warehouse, part):
            pending = pending_loads(part.root, exclude=part.date, source_name=part.source)
            for date in pending:
                context.log.info("loading %s (%s), which an earlier run could not load", date, part.source)
                load_duckdb(date, part.root, source_name=part.source)
            counts = load_duckdb(part.date, part.root, source_name=part.source)
    except ConnectorError as exc:
        raise _fail(context, exc) from None
    context.log.info("loaded into DuckDB: %s", counts)
    store = part.store()
    tables = {spec.name: _stored_rows(store, spec.name, part.date) for spec in (*SNAPSHOT_TABLES, *DERIVED_TABLES)}
    return MaterializeResult(metadata={
        "dagster/row_count": sum(counts.values()),
        "rows": MetadataValue.json(counts),
        "table_rows": MetadataValue.json(tables),
        "also_loaded": MetadataValue.json([d.isoformat() for d in pending]),
        "load_seconds": round(time.perf_counter() - started, 3),
        "preview": MetadataValue.md(_counts_markdown(tables, "table", "rows")),
    })


def _history_step(context: AssetExecutionContext, config: HistoryConfig,
                  warehouse: WarehouseResource) -> Iterator[MaterializeResult | AssetCheckResult]:
    part = _partition(context, warehouse)
    progress.phase("history")
    try:
        with _writing(context, warehouse, part):
            result = rebuild_history(part.root, part.date, source_name=part.source,
                                     allow_mass_deletion=config.allow_mass_deletion,
                                     threshold=config.mass_deletion_threshold)
    except MassDeletionError as exc:
        context.log.error(str(exc))
        yield AssetCheckResult(check_name=checks.MASS_DELETION_GUARD, asset_key=ASSISTANT_HISTORY.name,
                               passed=False, description=str(exc))
        return
    except ConnectorError as exc:
        raise _fail(context, exc) from None
    compacted = _nightly_compaction(context, config, warehouse, part)
    replayed = [d.isoformat() for d in result.dates]
    context.log.info("history of %s: replayed %s; %d versions opened, %d closed; changes %s", part.source,
                     replayed or "nothing", result.versions_opened, result.versions_closed, dict(result.changes))
    night = night_summary(part.store().read(ASSISTANT_CHANGES, part.date, columns=list(NIGHT_COLUMNS)), part.date,
                          result.current_live)
    yield MaterializeResult(asset_key=ASSISTANT_HISTORY.name, metadata={
        "dagster/row_count": result.versions_total,
        "versions_opened": result.versions_opened,
        "versions_closed": result.versions_closed,
        "current_live_assistants": result.current_live,
        "replayed_dates": MetadataValue.json(replayed),
        "night_summary": MetadataValue.md(night["markdown"]),
        "night_created": night["created"],
        "night_updated": night["updated"],
        "night_deleted": night["deleted"],
        "night_field_changes": MetadataValue.json(night["by_field"]),
        "report": MetadataValue.text(f"assistants-export report --warehouse {part.where()['warehouse']} --last 90d "
                                     "-o report.html"),
        "compaction": MetadataValue.json(compacted),
    })
    yield MaterializeResult(asset_key=ASSISTANT_CHANGES.name, metadata={
        "dagster/row_count": _stored_rows(part.store(), ASSISTANT_CHANGES.name),
        "changes_by_type": MetadataValue.json(dict(sorted(result.changes.items()))),
        "field_changes": result.field_changes,
        "replayed_dates": MetadataValue.json(replayed),
        "preview": MetadataValue.md(_counts_markdown(result.changes, "change", "assistants")),
    })
    yield AssetCheckResult(check_name=checks.MASS_DELETION_GUARD, asset_key=ASSISTANT_HISTORY.name, passed=True,
                           metadata={"deleted": result.changes.get("deleted", 0)})


def _nightly_compaction(context: AssetExecutionContext, config: HistoryConfig, warehouse: WarehouseResource,
                        part: _Partition) -> list[str]:
    """Compact the source when it is due (:func:`nightly_due`), holding its writer lock; the summary lines, for the
    metadata and the run summary ([] when not due or switched off)."""
    if not config.compact:
        return []
    try:
        with _writing(context, warehouse, part):
            store = part.store()
            if not nightly_due(store, part.date, config.open_months):
                return []
            done = upkeep_store(store, part.source, today=part.date, open_months=config.open_months)
    except ConnectorError as exc:
        raise _fail(context, exc) from None
    lines = [f"{done.files_before} -> {done.files_after} file(s)", *done.lines()]
    context.log.info("compaction of %s: %s", part.source, "; ".join(lines))
    return lines


# --- The assets ------------------------------------------------------------------------------------------------------


HISTORY_NOTE = (" One table over every stored date of its source: its partition (D, source) is the replay of the "
                "source from D onward, and its row count is the source's whole table.")


class SnapshotAssets(NamedTuple):
    """The four assets of a snapshot, partitioned by date and source; iterate it for the list Dagster takes."""

    fetch_assistants: AssetsDefinition
    flatten_assistants: AssetsDefinition
    duckdb_warehouse: AssetsDefinition
    update_history: AssetsDefinition


@functools.cache
def _build(sources: tuple[str, ...]) -> SnapshotAssets:
    partitions = snapshot_partitions(sources)

    @multi_asset(
        specs=[_spec(t, skippable=True) for t in SNAPSHOT_TABLES],
        check_specs=_check_specs([*checks.table_check_specs(SNAPSHOT_TABLES), checks.FAILED_SHARE_SPEC], partitions),
        partitions_def=partitions,
        can_subset=True,  # every output optional, so a skipped date yields none and the steps after it skip
        name="fetch_assistants",
        description="Fetch every assistant of the partition's source from its API and store the date's raw "
        "payloads and errors. For a day that ended more than 36 hours ago it keeps the stored payloads (a "
        "backfill) unless forced, and skips the date (the rest of the run with it) when nothing is stored for it.",
    )
    def fetch_assistants(context: AssetExecutionContext, config: SnapshotConfig, api: AssistantsApiResource,
                         warehouse: WarehouseResource) -> Iterator[MaterializeResult | AssetCheckResult]:
        yield from _fetch_step(context, config, api, warehouse)

    @multi_asset(
        specs=[_spec(t, deps=[RAW_ASSISTANTS.name]) for t in DERIVED_TABLES],
        check_specs=_check_specs([*checks.table_check_specs(DERIVED_TABLES),
                                  AssetCheckSpec(checks.SCHEMA_DRIFT, asset=ASSISTANTS.name,
                                                 description=checks.SCHEMA_DRIFT_DESCRIPTION)], partitions),
        partitions_def=partitions,
        name="flatten_assistants",
        description="Rebuild the flattened tables of a source-date from its stored raw payloads (no network).",
    )
    def flatten_assistants(context: AssetExecutionContext,
                           warehouse: WarehouseResource) -> Iterator[MaterializeResult | AssetCheckResult]:
        yield from _located(_partition(context, warehouse), _flatten_step(context, warehouse))

    @asset(
        name=DUCKDB_ASSET,
        group_name=GROUP,
        partitions_def=partitions,
        deps=[AssetKey(name) for name in ALL_TABLES],
        kinds={"duckdb"},
        metadata={VERSION_KEY: __version__},
        pool=DUCKDB_POOL,
        description="Load the source-date's Parquet partitions (and any date of the source a locked file kept "
        "out) into assistants.duckdb, one transaction per date. Its row count is the date's rows over every table.",
    )
    def duckdb_warehouse(context: AssetExecutionContext, warehouse: WarehouseResource) -> MaterializeResult:
        (result,) = _located(_partition(context, warehouse), iter([_load_step(context, warehouse)]))
        assert isinstance(result, MaterializeResult)
        return result

    @multi_asset(
        specs=[_spec(t, deps=[ASSISTANTS.name, FETCH_ERRORS.name, SNAPSHOT_RUNS.name, DUCKDB_ASSET],
                     group=HISTORY_GROUP, skippable=True, note=HISTORY_NOTE)
               for t in (ASSISTANT_HISTORY, ASSISTANT_CHANGES)],
        check_specs=_check_specs([AssetCheckSpec(
            checks.MASS_DELETION_GUARD, asset=ASSISTANT_HISTORY.name, blocking=True,
            description="No snapshot deletes more than the threshold of the live assistants unless allowed; when "
            "it would, the history is left unchanged.")], partitions),
        partitions_def=partitions,
        pool=DUCKDB_POOL,
        name="update_history",
        description="Replay the source's stored snapshots from this date onward into the SCD2 history and the "
        "change log.",
    )
    def update_history(context: AssetExecutionContext, config: HistoryConfig,
                       warehouse: WarehouseResource) -> Iterator[MaterializeResult | AssetCheckResult]:
        yield from _located(_partition(context, warehouse), _history_step(context, config, warehouse))

    return SnapshotAssets(fetch_assistants, flatten_assistants, duckdb_warehouse, update_history)


def build_snapshot_assets(sources: Sequence[str] | None = None) -> SnapshotAssets:
    """The snapshot assets partitioned by date and ``sources`` (default: the configured sources, read now).

    Built once per list of sources: the definitions and every CLI command that runs the same sources share them.
    """
    names = tuple(sources) if sources is not None else tuple(source_names())
    if not names:
        raise ValueError("the snapshot assets need at least one source")
    return _build(names)


@asset_check(asset=SNAPSHOT_RUNS.name, name=checks.SNAPSHOT_FRESHNESS,
             description="The newest snapshot of every configured source finished at most 26 hours ago (run "
             "hourly by its schedule).")
def snapshot_freshness(warehouse: WarehouseResource) -> AssetCheckResult:
    root = warehouse.root()
    stores = {name: open_store(root, name) for name in source_names()}
    return checks.sources_freshness_result(stores, SNAPSHOT_RUNS.name)


def _summary_line(summary: FetchSummary) -> str:
    outcomes = ", ".join(f"{k}={v}" for k, v in sorted(summary.outcomes.items())) or "no IDs"
    return (f"{summary.snapshot_date} ({summary.mode}): {outcomes}; {summary.requests} requests, "
            f"{summary.retries} retries ({summary.rate_limited} rate-limited, "
            f"{summary.waited_seconds:.1f}s waited) in {summary.seconds:.1f}s")


def _counts_markdown(counts: Mapping[str, int], what: str, unit: str) -> str:
    rows = "\n".join(f"| {name} | {n} |" for name, n in counts.items())
    return f"| {what} | {unit} |\n| --- | ---: |\n{rows}\n"


asset_checks = [snapshot_freshness]
