"""The nightly schedule and the hourly freshness check.

The tick on day D (02:00 UTC by default) snapshots date D-1 of every configured
source: the state of the assistants at the end of that day. The schedule targets
the partitioned job and each tick makes one run request per source, carrying its
(date, source) partition key and the source's run tag, so each source-night is
its own run (a failing source holds no other back) and runs and ticks show under
their partition. (``build_schedule_from_partitioned_job`` would target the
newest partition, which is today's: the partitions end a day ahead so that a
snapshot taken now can belong to today.) Both schedules run by default whenever
the Dagster daemon runs (``dg dev`` included). Change the time with
``ASSISTANTS_SCHEDULE_CRON`` and ``ASSISTANTS_SCHEDULE_TIMEZONE``.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Sequence

from dagster import (
    AssetCheckKey,
    AssetKey,
    AssetSelection,
    DefaultScheduleStatus,
    RunRequest,
    ScheduleDefinition,
    ScheduleEvaluationContext,
    SkipReason,
    define_asset_job,
    schedule,
)
from dagster._core.definitions.unresolved_asset_job_definition import UnresolvedAssetJobDefinition

from assistants_export.connectors.core.schemas import SNAPSHOT_RUNS

from .checks import SNAPSHOT_FRESHNESS
from .config import SOURCE_TAG
from .partitions import START_DATE_ENV, daily_partitions, partition_key
from .sources import source_names

DEFAULT_CRON = "0 2 * * *"
DEFAULT_TIMEZONE = "UTC"
CRON_ENV = "ASSISTANTS_SCHEDULE_CRON"
TIMEZONE_ENV = "ASSISTANTS_SCHEDULE_TIMEZONE"


def partition_for_tick(scheduled: dt.datetime) -> str:
    """The date a tick snapshots (for every source): the day before the tick's date (in the schedule's time zone)."""
    return (scheduled.date() - dt.timedelta(days=1)).isoformat()


def nightly_schedule(job: UnresolvedAssetJobDefinition, sources: Sequence[str] | None = None) -> ScheduleDefinition:
    """The nightly schedule of ``job``: one run per source of ``sources`` (default: the configured ones)."""
    names = list(sources) if sources is not None else source_names()

    @schedule(
        name="nightly_snapshot",
        job=job,
        cron_schedule=os.environ.get(CRON_ENV, DEFAULT_CRON),
        execution_timezone=os.environ.get(TIMEZONE_ENV, DEFAULT_TIMEZONE),
        default_status=DefaultScheduleStatus.RUNNING,
        description="Snapshot yesterday's state of every assistant of every source (one run per source), then "
        "update the history.",
    )
    def nightly_snapshot(context: ScheduleEvaluationContext) -> list[RunRequest] | SkipReason:
        date = partition_for_tick(context.scheduled_execution_time)
        if not daily_partitions.has_partition_key(date):
            return SkipReason(f"{date} is before the first partition ({daily_partitions.start:%Y-%m-%d}); "
                              f"set {START_DATE_ENV} to snapshot it")
        return [RunRequest(run_key=str(key), partition_key=key, tags={SOURCE_TAG: source})
                for source in names for key in [partition_key(date, source)]]

    return nightly_snapshot


freshness_job = define_asset_job(
    "snapshot_freshness_check",
    selection=AssetSelection.checks(AssetCheckKey(AssetKey(SNAPSHOT_RUNS.name), SNAPSHOT_FRESHNESS)),
    description="Check that the newest snapshot is at most 26 hours old.",
)

freshness_schedule = ScheduleDefinition(
    name="hourly_freshness_check",
    job=freshness_job,
    cron_schedule="15 * * * *",
    default_status=DefaultScheduleStatus.RUNNING,
    description="Run the snapshot freshness check every hour.",
)
