"""``ASSISTANTS_START_DATE``, the first day of the partitions, checked without Dagster: the CLI checks it when it
starts, for every command, and :mod:`assistants_export.pipelines.partitions` lays the partitions out from it."""

from __future__ import annotations

import datetime as dt
import re

from assistants_export.connectors.core import settings_registry as registry
from assistants_export.connectors.core.errors import ConfigError

START_DATE_ENV = registry.START_DATE.variable
EARLIEST_START = "2023-11-06"
"""The day the Assistants API was announced: no snapshot can be older. The CLI, which takes explicit dates,
lays its partitions out from here (see :mod:`assistants_export.pipelines.cli`)."""


def check_start_date(value: str, today: dt.date | None = None) -> dt.date:
    """``value`` as the first partition's date: ``YYYY-MM-DD``, today (UTC) or earlier."""
    shown = value if len(value) <= 40 and value.isprintable() else f"{value[:40]!r}..."
    try:
        if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value):
            raise ValueError(value)
        date = dt.date.fromisoformat(value)
    except ValueError:
        raise ConfigError(f"{START_DATE_ENV}={shown}: not a date like {EARLIEST_START}; set it to the first day the "
                          "partitions should start (YYYY-MM-DD), or unset it") from None
    today = today or dt.datetime.now(dt.UTC).date()
    if date > today:
        raise ConfigError(f"{START_DATE_ENV}={shown}: in the future (today is {today} in UTC), so there would be no "
                          "partition to snapshot; set it to today or an earlier day, or unset it")
    return date
