"""Daily partitions: one partition per snapshot date (UTC), and the window in which a date can be fetched."""

from __future__ import annotations

import datetime as dt
import os

from dagster import DailyPartitionsDefinition

DEFAULT_START_DATE = "2023-11-06"
"""The day the Assistants API was announced: no snapshot can be older."""

FETCH_WINDOW = dt.timedelta(hours=36)
"""How long after a day ends it may still be fetched. The API only shows the present, so a fetch
made later would store today's state under an old date."""

daily_partitions = DailyPartitionsDefinition(
    start_date=os.environ.get("ASSISTANTS_START_DATE", DEFAULT_START_DATE),
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
