"""The nightly schedule and the hourly freshness check.

The tick on day D (02:00 UTC by default) snapshots partition D-1: the state of
the assistants at the end of that day. The schedule targets the partitioned job
and each tick's run request carries its partition key, so runs and ticks show
under their partition. (``build_schedule_from_partitioned_job`` would target the
newest partition, which is today's: the partitions end a day ahead so that a
snapshot taken now can belong to today.) Both schedules run by default whenever
the Dagster daemon runs (``dg dev`` included). Change the time with
``ASSISTANTS_SCHEDULE_CRON`` and ``ASSISTANTS_SCHEDULE_TIMEZONE``.
"""

from __future__ import annotations

import datetime as dt
import os

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

from connectors.core.schemas import SNAPSHOT_RUNS

from .checks import SNAPSHOT_FRESHNESS
from .config import DEFAULT_SOURCE, SOURCE_TAG
from .partitions import START_DATE_ENV, daily_partitions

DEFAULT_CRON = "0 2 * * *"
DEFAULT_TIMEZONE = "UTC"
CRON_ENV = "ASSISTANTS_SCHEDULE_CRON"
TIMEZONE_ENV = "ASSISTANTS_SCHEDULE_TIMEZONE"


def partition_for_tick(scheduled: dt.datetime) -> str:
    """The partition a tick snapshots: the day before the tick's date (in the schedule's time zone)."""
    return (scheduled.date() - dt.timedelta(days=1)).isoformat()


def nightly_schedule(job: UnresolvedAssetJobDefinition) -> ScheduleDefinition:
    @schedule(
        name="nightly_snapshot",
        job=job,
        cron_schedule=os.environ.get(CRON_ENV, DEFAULT_CRON),
        execution_timezone=os.environ.get(TIMEZONE_ENV, DEFAULT_TIMEZONE),
        default_status=DefaultScheduleStatus.RUNNING,
        description="Snapshot yesterday's state of every assistant, then update the history.",
    )
    def nightly_snapshot(context: ScheduleEvaluationContext) -> RunRequest | SkipReason:
        partition = partition_for_tick(context.scheduled_execution_time)
        if not daily_partitions.has_partition_key(partition):
            return SkipReason(f"{partition} is before the first partition ({daily_partitions.start:%Y-%m-%d}); "
                              f"set {START_DATE_ENV} to snapshot it")
        return RunRequest(run_key=partition, partition_key=partition, tags={SOURCE_TAG: DEFAULT_SOURCE})

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
