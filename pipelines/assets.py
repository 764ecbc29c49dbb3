"""The snapshot as Dagster assets, one daily partition per snapshot date.

(No ``from __future__ import annotations`` here: Dagster reads the config and
resource types from the functions' annotations when the module loads.)

    raw_assistants ─┐                 ┌ assistants
    fetch_errors   ─┼─ (fetch)        ├ assistant_tools            ─┐
    snapshot_runs  ─┘    raw ───────▶ ├ assistant_metadata          ├─▶ duckdb_warehouse
                                      └ assistant_tool_resources   ─┘

The fetch step is the only one that talks to the API; the flatten and load
steps rebuild a date from what is stored, so re-materializing them (a
backfill) never needs the network. All the work is done by ``connectors``;
these functions wire configuration in and report metadata out.
"""


import datetime as dt
from collections.abc import Iterator, Mapping

from dagster import (
    AssetExecutionContext,
    AssetKey,
    AssetSpec,
    Failure,
    MaterializeResult,
    MetadataValue,
    TableColumn,
    TableSchema,
    asset,
    multi_asset,
)

from connectors.openai_assistants.errors import ConnectorError
from connectors.openai_assistants.schemas import (
    ALL_TABLES,
    DERIVED_TABLES,
    FETCH_ERRORS,
    RAW_ASSISTANTS,
    SNAPSHOT_RUNS,
    TableSpec,
)
from connectors.snapshot import FetchSummary, fetch_snapshot, flatten_snapshot, load_duckdb

from . import progress
from .config import SnapshotConfig
from .partitions import daily_partitions
from .resources import AssistantsApiResource, WarehouseResource

GROUP = "assistants_snapshot"
DUCKDB_ASSET = "duckdb_warehouse"


def _spec(table: TableSpec, deps: list[str] | None = None) -> AssetSpec:
    return AssetSpec(
        table.name,
        group_name=GROUP,
        description=f"{table.doc} Grain: {table.grain}.",
        deps=deps or [],
        metadata={"dagster/column_schema": _column_schema(table)},
        kinds={"parquet"},
    )


def _column_schema(table: TableSpec) -> TableSchema:
    return TableSchema(columns=[
        TableColumn(f.name, str(f.type), description=(f.metadata or {}).get(b"doc", b"").decode())
        for f in table.schema
    ])


def _snapshot_date(context: AssetExecutionContext) -> dt.date:
    return dt.date.fromisoformat(context.partition_key)


def _fail(exc: ConnectorError) -> Failure:
    """A Dagster failure whose description is the connector's one-line message."""
    return Failure(description=str(exc), metadata={"error": type(exc).__name__}, allow_retries=False)


@multi_asset(
    specs=[_spec(RAW_ASSISTANTS), _spec(FETCH_ERRORS), _spec(SNAPSHOT_RUNS)],
    partitions_def=daily_partitions,
    name="fetch_assistants",
    description="Fetch every assistant from the API and store the date's raw payloads and errors.",
)
def fetch_assistants(context: AssetExecutionContext, config: SnapshotConfig, api: AssistantsApiResource,
                     warehouse: WarehouseResource) -> Iterator[MaterializeResult]:
    snapshot_date = _snapshot_date(context)
    try:
        summary = fetch_snapshot(api.client_config(), config.id_source(), snapshot_date, warehouse.root(),
                                 run_id=context.run.run_id, progress=progress.current(),
                                 batch_size=config.batch_size)
    except ConnectorError as exc:
        raise _fail(exc) from None
    context.log.info(_summary_line(summary))
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
        "unknown_fields": MetadataValue.json(dict(summary.unknown_fields.most_common(20))),
        "fetch_seconds": round(summary.seconds, 3),
    })
    yield MaterializeResult(asset_key=FETCH_ERRORS.name, metadata={
        "dagster/row_count": not_ok, "outcomes": MetadataValue.json(outcomes),
        "dagster/column_schema": _column_schema(FETCH_ERRORS)})
    yield MaterializeResult(asset_key=SNAPSHOT_RUNS.name, metadata={
        "dagster/row_count": 1, "run_id": summary.run_id, "dagster/column_schema": _column_schema(SNAPSHOT_RUNS)})


@multi_asset(
    specs=[_spec(t, deps=[RAW_ASSISTANTS.name]) for t in DERIVED_TABLES],
    partitions_def=daily_partitions,
    name="flatten_assistants",
    description="Rebuild the flattened tables of a date from its stored raw payloads (no network).",
)
def flatten_assistants(context: AssetExecutionContext,
                       warehouse: WarehouseResource) -> Iterator[MaterializeResult]:
    try:
        counts = flatten_snapshot(_snapshot_date(context), warehouse.root())
    except ConnectorError as exc:
        raise _fail(exc) from None
    context.log.info("flattened %s", counts)
    for name, rows in counts.items():
        yield MaterializeResult(asset_key=name, metadata={"dagster/row_count": rows,
                                                          "dagster/column_schema": _column_schema(ALL_TABLES[name])})


@asset(
    name=DUCKDB_ASSET,
    group_name=GROUP,
    partitions_def=daily_partitions,
    deps=[AssetKey(name) for name in ALL_TABLES],
    kinds={"duckdb"},
    description="Load the date's Parquet partitions into assistants.duckdb in one transaction.",
)
def duckdb_warehouse(context: AssetExecutionContext, warehouse: WarehouseResource) -> MaterializeResult:
    counts = load_duckdb(_snapshot_date(context), warehouse.root())
    context.log.info("loaded into DuckDB: %s", counts)
    return MaterializeResult(metadata={
        "rows": MetadataValue.json(counts),
        "preview": MetadataValue.md(_counts_markdown(counts)),
    })


def _summary_line(summary: FetchSummary) -> str:
    outcomes = ", ".join(f"{k}={v}" for k, v in sorted(summary.outcomes.items())) or "no IDs"
    return (f"{summary.snapshot_date} ({summary.mode}): {outcomes}; {summary.requests} requests, "
            f"{summary.retries} retries ({summary.rate_limited} rate-limited, "
            f"{summary.waited_seconds:.1f}s waited) in {summary.seconds:.1f}s")


def _counts_markdown(counts: Mapping[str, int]) -> str:
    rows = "\n".join(f"| {name} | {rows} |" for name, rows in counts.items())
    return f"| table | rows |\n| --- | ---: |\n{rows}\n"


snapshot_assets = [fetch_assistants, flatten_assistants, duckdb_warehouse]
