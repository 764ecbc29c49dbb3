"""The partitions: one per snapshot date (UTC) and API source, and the window in which a date can be fetched.

Every snapshot asset is partitioned by a :class:`MultiPartitionsDefinition` of two dimensions: ``date``, the
daily partitions below, and ``source``, the configured sources (:mod:`assistants_export.pipelines.sources`; just
``default``
without a sources file). So each source-night is its own run, and a failing source holds no other back.

The first partition is where data can exist: the first snapshot stored in the
warehouse, or yesterday when that is earlier (or nothing is stored yet), so the
partitions are the stored dates plus the days a fetch can still reach. A
partition list that started at the API's launch showed a thousand empty days
and made "Materialize all" a backfill of dates nothing can ever fill.
``ASSISTANTS_START_DATE`` overrides it (to lay out older partitions, say).
"""

from __future__ import annotations

import datetime as dt
import functools
import os
from collections.abc import Sequence

from dagster import DailyPartitionsDefinition, MultiPartitionKey, MultiPartitionsDefinition, StaticPartitionsDefinition

from assistants_export.connectors.core import settings
from assistants_export.connectors.core.errors import ConnectorError
from assistants_export.connectors.core.schemas import SNAPSHOT_RUNS
from assistants_export.connectors.core.settings import DEFAULT_SOURCE
from assistants_export.connectors.warehouse import open_store
from assistants_export.connectors.warehouse.stores import stored_sources

from .start_date import EARLIEST_START as EARLIEST_START
from .start_date import START_DATE_ENV as START_DATE_ENV
from .start_date import check_start_date

FETCH_WINDOW = dt.timedelta(hours=36)
"""How long after a day ends it may still be fetched. The API only shows the present, so a fetch
made later would store today's state under an old date."""


def default_start_date(warehouse: str | None = None, today: dt.date | None = None) -> dt.date:
    """The first stored snapshot of any source of ``warehouse`` (default ``$ASSISTANTS_WAREHOUSE`` or
    ``./data``), or yesterday (UTC) when nothing older is stored: the first day a fetch can still reach."""
    today = today or dt.datetime.now(dt.UTC).date()
    root = warehouse or settings.default_warehouse()
    yesterday = today - dt.timedelta(days=1)
    try:
        stored = [date for name in stored_sources(root)
                  for date in open_store(root, name).dates(SNAPSHOT_RUNS.name)[:1]]
    except (OSError, ConnectorError):  # an unreadable warehouse must not stop the definitions from loading
        stored = []
    return min([yesterday, *stored])


def start_date() -> str:
    """``$ASSISTANTS_START_DATE`` when set (checked: a :class:`ConfigError` in one line), else
    :func:`default_start_date`."""
    value = os.environ.get(START_DATE_ENV, "").strip()
    if not value:
        return default_start_date().isoformat()
    return check_start_date(value).isoformat()


daily_partitions = DailyPartitionsDefinition(
    start_date=start_date(),
    timezone="UTC",
    end_offset=1,  # today is a partition too: a snapshot taken now belongs to today
)


DATE_DIMENSION = "date"
SOURCE_DIMENSION = "source"


def snapshot_partitions(sources: Sequence[str]) -> MultiPartitionsDefinition:
    """The partitions of the snapshot assets: every date of :data:`daily_partitions` for each of ``sources``
    (one definition per list of sources, shared by its assets and its job)."""
    return _snapshot_partitions(tuple(sources))


@functools.cache
def _snapshot_partitions(sources: tuple[str, ...]) -> MultiPartitionsDefinition:
    return MultiPartitionsDefinition({DATE_DIMENSION: daily_partitions,
                                      SOURCE_DIMENSION: StaticPartitionsDefinition(list(sources))})


def partition_sources(partitions: MultiPartitionsDefinition) -> list[str]:
    """The sources of a :func:`snapshot_partitions` definition, in order."""
    (dimension,) = [d for d in partitions.partitions_defs if d.name == SOURCE_DIMENSION]
    return list(dimension.partitions_def.get_partition_keys())


def partition_key(snapshot_date: dt.date | str, source: str = DEFAULT_SOURCE) -> MultiPartitionKey:
    """The partition of one source-night."""
    date = snapshot_date if isinstance(snapshot_date, str) else snapshot_date.isoformat()
    return MultiPartitionKey({DATE_DIMENSION: date, SOURCE_DIMENSION: source})


def date_and_source(key: str | MultiPartitionKey) -> tuple[dt.date, str]:
    """The snapshot date and the source of a partition key (a MultiPartitionKey, or its string form)."""
    if isinstance(key, MultiPartitionKey):
        dimensions = key.keys_by_dimension
    else:  # "2026-11-20|eu": the dimensions' keys in the order of their names (date < source)
        date, _, source = key.partition("|")
        dimensions = {DATE_DIMENSION: date, SOURCE_DIMENSION: source}
    return dt.date.fromisoformat(dimensions[DATE_DIMENSION]), dimensions[SOURCE_DIMENSION]


def fetch_window_open(snapshot_date: dt.date, now: dt.datetime | None = None) -> bool:
    """Whether ``snapshot_date`` ended at most :data:`FETCH_WINDOW` ago (days still running count)."""
    now = now or dt.datetime.now(dt.UTC)
    day_end = dt.datetime.combine(snapshot_date + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC)
    return now <= day_end + FETCH_WINDOW


def fetch_window_message(snapshot_date: dt.date) -> str:
    return (f"{snapshot_date} ended more than {FETCH_WINDOW.total_seconds() / 3600:.0f} hours ago and the API "
            "only shows the present: a fetch now would store today's state under that date. Rebuild it from "
            "the stored payloads with 'assistants-export backfill', or fetch anyway with --force "
            "(Dagster: force: true)")


def skip_message(snapshot_date: dt.date) -> str:
    """Why the fetch step skips an old partition that has nothing stored."""
    return (f"skipped: {snapshot_date} ended more than {FETCH_WINDOW.total_seconds() / 3600:.0f} hours ago and "
            "no snapshot of it is stored, so there is nothing to rebuild and a fetch now would store today's "
            "state under that date (force: true fetches anyway)")
