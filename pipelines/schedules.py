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
import zoneinfo
from collections.abc import Mapping, Sequence

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
from dagster._utils.schedules import is_valid_cron_schedule

from assistants_export.connectors.core import settings_registry as registry
from assistants_export.connectors.core.errors import ConfigError
from assistants_export.connectors.core.schemas import SNAPSHOT_RUNS

from .checks import SNAPSHOT_FRESHNESS
from .config import SOURCE_TAG
from .partitions import START_DATE_ENV, daily_partitions, partition_key
from .sources import SourceSpec, get_source, source_names

DEFAULT_CRON = registry.SCHEDULE_CRON.fallback
DEFAULT_TIMEZONE = registry.SCHEDULE_TIMEZONE.fallback
CRON_ENV = registry.SCHEDULE_CRON.variable
TIMEZONE_ENV = registry.SCHEDULE_TIMEZONE.variable


def partition_for_tick(scheduled: dt.datetime) -> str:
    """The date a tick snapshots (for every source): the day before the tick's date (in the schedule's time zone)."""
    return (scheduled.date() - dt.timedelta(days=1)).isoformat()


def schedule_settings(environ: Mapping[str, str] | None = None) -> tuple[str, str]:
    """``$ASSISTANTS_SCHEDULE_CRON`` and ``$ASSISTANTS_SCHEDULE_TIMEZONE`` (or their defaults), checked: a bad value is
    one ConfigError line naming the variable, where Dagster would name only the schedule."""
    env = os.environ if environ is None else environ
    cron = env.get(CRON_ENV, "").strip() or DEFAULT_CRON
    timezone = env.get(TIMEZONE_ENV, "").strip() or DEFAULT_TIMEZONE
    try:
        zoneinfo.ZoneInfo(timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"{TIMEZONE_ENV}={_shown(timezone)}: not a time zone; give an IANA name such as UTC or "
                          "Europe/Paris, or unset it") from None
    if not is_valid_cron_schedule(cron):
        raise ConfigError(f"{CRON_ENV}={_shown(cron)}: not a cron expression; give five fields such as "
                          f"'{DEFAULT_CRON}' (minute, hour, day, month, weekday), or unset it")
    return cron, timezone


def _shown(value: str) -> str:
    return value if len(value) <= 40 and value.isprintable() else f"{value[:40]!r}..."


def nightly_schedule(job: UnresolvedAssetJobDefinition, sources: Sequence[str] | None = None) -> ScheduleDefinition:
    """The nightly schedule of ``job``: one run per source of ``sources`` (default: the configured ones)."""
    names = list(sources) if sources is not None else source_names()
    cron, timezone = schedule_settings()

    @schedule(
        name="nightly_snapshot",
        job=job,
        cron_schedule=cron,
        execution_timezone=timezone,
        default_status=DefaultScheduleStatus.RUNNING,
        description="Snapshot yesterday's state of every assistant of every source (one run per source), then "
        "update the history.",
    )
    def nightly_snapshot(context: ScheduleEvaluationContext) -> list[RunRequest] | SkipReason:
        date = partition_for_tick(context.scheduled_execution_time)
        if not daily_partitions.has_partition_key(date):
            return SkipReason(f"{date} is before the first partition ({daily_partitions.start:%Y-%m-%d}); "
                              f"set {START_DATE_ENV} to snapshot it")
        # A scheduled run has no run config: a source that does not say where its IDs come from could only fail.
        ready: list[SourceSpec] = []
        unset: list[SourceSpec] = []
        for source in names:
            spec = get_source(source)
            (ready if spec.id_source() is not None else unset).append(spec)
        skipped = "; ".join(f"source {spec.name}: {spec.no_ids_message('assistant_ids, ids_file or discover')}"
                            for spec in unset)
        if not ready:
            return SkipReason(f"nothing to snapshot for {date}: {skipped}")
        if unset:
            context.log.warning("skipped for %s: %s", date, skipped)
        return [RunRequest(run_key=str(key), partition_key=key, tags={SOURCE_TAG: spec.name})
                for spec in ready for key in [partition_key(date, spec.name)]]

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
