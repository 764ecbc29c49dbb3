"""Daily partitions: one partition per snapshot date (UTC), and the window in which a date can be fetched.

The first partition is where data can exist: the first snapshot stored in the
warehouse, or yesterday when that is earlier (or nothing is stored yet), so the
partitions are the stored dates plus the days a fetch can still reach. A
partition list that started at the API's launch showed a thousand empty days
and made "Materialize all" a backfill of dates nothing can ever fill.
``ASSISTANTS_START_DATE`` overrides it (to lay out older partitions, say).
"""

from __future__ import annotations

import datetime as dt
import os

from dagster import DailyPartitionsDefinition

from connectors.core import settings
from connectors.core.errors import ConnectorError
from connectors.core.schemas import SNAPSHOT_RUNS
from connectors.warehouse import open_store

START_DATE_ENV = "ASSISTANTS_START_DATE"
EARLIEST_START = "2023-11-06"
"""The day the Assistants API was announced: no snapshot can be older. The CLI, which takes explicit dates,
lays its partitions out from here (see :mod:`pipelines.cli`)."""

FETCH_WINDOW = dt.timedelta(hours=36)
"""How long after a day ends it may still be fetched. The API only shows the present, so a fetch
made later would store today's state under an old date."""


def default_start_date(warehouse: str | None = None, today: dt.date | None = None) -> dt.date:
    """The first stored snapshot of ``warehouse`` (default ``$ASSISTANTS_WAREHOUSE`` or ``./data``), or
    yesterday (UTC) when nothing older is stored: the first day a fetch can still reach."""
    today = today or dt.datetime.now(dt.UTC).date()
    root = warehouse or os.environ.get(settings.DEFAULT_WAREHOUSE_ENV) or settings.DEFAULT_WAREHOUSE
    yesterday = today - dt.timedelta(days=1)
    try:
        stored = open_store(root).dates(SNAPSHOT_RUNS.name)
    except (OSError, ConnectorError):  # an unreadable warehouse must not stop the definitions from loading
        stored = []
    return min([yesterday, *stored[:1]])


def start_date() -> str:
    """``$ASSISTANTS_START_DATE`` when set, else :func:`default_start_date`."""
    return os.environ.get(START_DATE_ENV) or default_start_date().isoformat()


daily_partitions = DailyPartitionsDefinition(
    start_date=start_date(),
    timezone="UTC",
    end_offset=1,  # today is a partition too: a snapshot taken now belongs to today
)


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
