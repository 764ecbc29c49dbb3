"""Asset checks: declared with the assets, computed by :mod:`assistants_export.connectors.quality`.

=========================  ===========================  ========  =====================================
check                      on                           blocking  fails when
=========================  ===========================  ========  =====================================
``unique_key``             every date-partitioned table no        two rows share the table's key
``required_not_null``      every date-partitioned table no        a not-null column holds a null
``failed_share``           ``raw_assistants``           yes       more than ``max_failed_share`` of the
                                                                  stored IDs ended ``failed``, unapproved
                                                                  (the fetch step's gate holds such a run
                                                                  back before it stores anything)
``mass_deletion_guard``    ``assistant_history``        yes       one snapshot would delete more than the
                                                                  threshold of the live assistants
``schema_drift``           ``assistants``               no (warn) payloads carry fields the schema lacks
``snapshot_freshness``     ``snapshot_runs``            no        the newest snapshot of a configured
                                                                  source finished more than 26 hours ago
=========================  ===========================  ========  =====================================
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Mapping

from dagster import AssetCheckResult, AssetCheckSeverity, AssetCheckSpec, MetadataValue

from assistants_export.connectors import quality
from assistants_export.connectors.core.schemas import RAW_ASSISTANTS, TableSpec
from assistants_export.connectors.gates import FAILED_SHARE_GATE
from assistants_export.connectors.warehouse import Store

UNIQUE_KEY = "unique_key"
REQUIRED_NOT_NULL = "required_not_null"
FAILED_SHARE = "failed_share"
MASS_DELETION_GUARD = "mass_deletion_guard"
SCHEMA_DRIFT = "schema_drift"
SNAPSHOT_FRESHNESS = "snapshot_freshness"

FRESHNESS_LIMIT = dt.timedelta(hours=26)


def table_check_specs(tables: Iterable[TableSpec]) -> list[AssetCheckSpec]:
    """The key and not-null checks of each table."""
    specs = []
    for table in tables:
        key = ", ".join(table.key)
        specs.append(AssetCheckSpec(UNIQUE_KEY, asset=table.name, description=f"No two rows share ({key})."))
        specs.append(AssetCheckSpec(REQUIRED_NOT_NULL, asset=table.name,
                                    description="Columns declared not null hold no nulls."))
    return specs


def table_check_results(store: Store, tables: Iterable[TableSpec],
                        snapshot_date: dt.date) -> Iterator[AssetCheckResult]:
    for table in tables:
        report = quality.key_report(store, table, snapshot_date)
        yield AssetCheckResult(
            check_name=UNIQUE_KEY, asset_key=table.name, passed=report.duplicate_keys == 0,
            description=None if not report.duplicate_keys else
            f"{report.duplicate_keys} key(s) of {table.name} appear more than once on {snapshot_date}",
            metadata={"rows": report.rows, "duplicate_keys": report.duplicate_keys,
                      "sample": MetadataValue.json(report.sample_duplicates)},
        )
        bad = {column: n for column, n in report.nulls.items() if n}
        yield AssetCheckResult(
            check_name=REQUIRED_NOT_NULL, asset_key=table.name, passed=not bad,
            description=None if not bad else f"nulls in required columns of {table.name}: {bad}",
            metadata={"null_counts": MetadataValue.json(bad)},
        )


FAILED_SHARE_SPEC = AssetCheckSpec(FAILED_SHARE, asset=RAW_ASSISTANTS.name, blocking=True,
                                   description="At most max_failed_share of the IDs ended failed; otherwise "
                                   "nothing downstream (flatten, DuckDB, history) runs.")


def failed_share_result(store: Store, snapshot_date: dt.date, limit: float) -> AssetCheckResult:
    """The stored snapshot's failed share against ``limit``; a share a user approved (allow_failures) passes.

    The fetch step holds back a run above the limit before it stores anything, so this fails only for a
    snapshot stored under a higher limit and re-checked (a backfill) under a lower one.
    """
    failed, asked = quality.failed_share(store, snapshot_date)
    share = failed / asked if asked else 0.0
    approved = FAILED_SHARE_GATE in quality.approved_gates(store, snapshot_date)
    passed = share <= limit or approved
    return AssetCheckResult(
        check_name=FAILED_SHARE, asset_key=RAW_ASSISTANTS.name, passed=passed,
        description=None if passed else
        f"{failed} of {asked} IDs ({share:.0%}) ended failed on {snapshot_date}, above the {limit:.0%} limit: "
        "the stored snapshot is not flattened, loaded or applied to the history; see fetch_errors, then "
        "re-run the date (or pass allow_failures)",
        metadata={"failed": failed, "asked": asked, "share": round(share, 4), "limit": limit, "approved": approved},
    )


SCHEMA_DRIFT_DESCRIPTION = (
    "Payloads carry no field the API schema lacks. A warning, never an error: such a field is kept (as JSON in "
    "extra_fields) and nothing is lost; the warning says the API, or a compatible server, serves more than this "
    "version's schema knows (reasoning_effort on o-series assistants, say, which one of the sandbox's bundled "
    "assistants carries on purpose).")


def schema_drift_result(store: Store, snapshot_date: dt.date, asset: str) -> AssetCheckResult:
    found = quality.unknown_fields(store, snapshot_date)
    return AssetCheckResult(
        check_name=SCHEMA_DRIFT, asset_key=asset, passed=not found, severity=AssetCheckSeverity.WARN,
        description=None if not found else
        f"payloads carry {len(found)} field(s) the API schema does not define: {', '.join(sorted(found)[:10])} "
        "(kept as JSON in extra_fields: the API serves more than this version's schema knows)",
        metadata={"unknown_fields": MetadataValue.json(dict(found.most_common()))},
    )


def freshness_result(store: Store, asset: str, now: dt.datetime | None = None) -> AssetCheckResult:
    now = now or dt.datetime.now(dt.UTC)
    newest = quality.newest_snapshot(store)
    if newest is None:
        return AssetCheckResult(check_name=SNAPSHOT_FRESHNESS, asset_key=asset, passed=False,
                                description="no snapshot has been stored yet")
    date, finished = newest
    age = now - finished
    passed = age <= FRESHNESS_LIMIT
    return AssetCheckResult(
        check_name=SNAPSHOT_FRESHNESS, asset_key=asset, passed=passed,
        description=None if passed else
        f"the newest snapshot ({date}) finished {age.total_seconds() / 3600:.0f} hours ago, more than "
        f"{FRESHNESS_LIMIT.total_seconds() / 3600:.0f}: is the nightly schedule running?",
        metadata={"newest_snapshot_date": date.isoformat(), "finished_at": finished.isoformat(),
                  "age_hours": round(age.total_seconds() / 3600, 2)},
    )


def sources_freshness_result(stores: Mapping[str, Store], asset: str,
                             now: dt.datetime | None = None) -> AssetCheckResult:
    """:func:`freshness_result` of each source's store (by name); it passes when every source's does.

    With one source it is that source's result as it is; with several, the failing sources' descriptions,
    one after another, and each source's newest snapshot and age in ``sources``.
    """
    now = now or dt.datetime.now(dt.UTC)
    results = {name: freshness_result(store, asset, now) for name, store in stores.items()}
    if len(results) == 1:
        return next(iter(results.values()))
    stale = {name: result for name, result in results.items() if not result.passed}
    per_source = {name: {key: value.value for key, value in result.metadata.items()}
                  for name, result in results.items()}
    return AssetCheckResult(
        check_name=SNAPSHOT_FRESHNESS, asset_key=asset, passed=not stale,
        description="; ".join(f"source {name}: {result.description}" for name, result in stale.items()) or None,
        metadata={"stale_sources": MetadataValue.json(sorted(stale)), "sources": MetadataValue.json(per_source)},
    )
