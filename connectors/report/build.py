"""The report of a warehouse: open a read-only session (as ``query`` does), pick the range, collect, render."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from assistants_export.connectors.core import settings
from assistants_export.connectors.warehouse.location import local_root, parse_warehouse_uri
from assistants_export.connectors.warehouse.sources import source_root, stored_sources
from assistants_export.connectors.warehouse.views import Source, open_source

from .data import ReportData, collect, resolve_range
from .page import render_html


def build_report(warehouse: str, *, first: dt.date | None = None, last: dt.date | None = None,
                 last_days: int | None = None, source: Source | None = None,
                 notice: Callable[[str], None] | None = None) -> tuple[str, ReportData]:
    """The page and its data for ``warehouse`` (a folder, or a bucket URI) over the range asked for.

    ``source``: ``duckdb`` or ``parquet`` as for ``query`` (default the database if it exists). Raises
    :class:`~assistants_export.connectors.core.errors.ConfigError` (one line) for a missing or empty warehouse and a
    range without a snapshot.
    """
    con, _ = open_source(warehouse, source, notice=notice)
    with con:
        span, days, stored = resolve_range(con, first, last, last_days)
        data = collect(con, span, days, stored, shown_warehouse(warehouse), held_runs=held_runs(warehouse))
    return render_html(data), data


def shown_warehouse(warehouse: str) -> str:
    """The warehouse as the page names it: a folder's absolute path, a URI without credentials."""
    return parse_warehouse_uri(warehouse).uri


def held_runs(warehouse: str) -> dict[str, int] | None:
    """Runs held back per date, every source's ``held/<date>/<run_id>/`` of a folder warehouse; ``None`` for a
    bucket (its held runs are not listed)."""
    if not parse_warehouse_uri(warehouse).is_local:
        return None
    counts: dict[str, int] = {}
    for name in stored_sources(warehouse) or [settings.DEFAULT_SOURCE]:
        folder = local_root(source_root(warehouse, name)) / settings.HELD_FOLDER
        if not folder.is_dir():
            continue
        for day in folder.iterdir():
            if day.is_dir():
                runs = sum(1 for run in day.iterdir() if run.is_dir())
                if runs:
                    counts[day.name] = counts.get(day.name, 0) + runs
    return counts
