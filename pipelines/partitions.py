"""Daily partitions: one partition per snapshot date (UTC)."""

from __future__ import annotations

import os

from dagster import DailyPartitionsDefinition

DEFAULT_START_DATE = "2023-11-06"
"""The day the Assistants API was announced: no snapshot can be older."""

daily_partitions = DailyPartitionsDefinition(
    start_date=os.environ.get("ASSISTANTS_START_DATE", DEFAULT_START_DATE),
    timezone="UTC",
    end_offset=1,  # today is a partition too: a snapshot taken now belongs to today
)
