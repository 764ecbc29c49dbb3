"""``assistants-export report``: the audit report, one self-contained HTML file with charts of the warehouse.

Reads the warehouse only (the same read-only session as ``query``: the database, or ``--source parquet`` the
stored files alone, of a folder or a bucket) with the queries of ``sql/report/``, and writes the page as every
command writes a file (:mod:`assistants_export.pipelines.cli.outfile`): whole, then renamed into place, so a
failure never leaves half a file.
"""

from __future__ import annotations

import datetime as dt
import re
import time
from typing import cast

import click

from assistants_export.connectors.report import build_report
from assistants_export.connectors.warehouse.location import warehouse_root
from assistants_export.connectors.warehouse.views import SOURCES, Source

from . import cli, warehouse_option
from .outfile import OutputTarget
from .output import note

_LAST = re.compile(r"([1-9][0-9]{0,4})d?")


@cli.command()
@click.option("-o", "--output", default="report.html", show_default=True, metavar="FILE",
              help="The HTML file to write (replaced whole once the report is ready); - for standard output.")
@click.option("--from", "from_date", metavar="YYYY-MM-DD",
              help="First snapshot date shown (default: the first stored).")
@click.option("--to", "to_date", metavar="YYYY-MM-DD", help="Last snapshot date shown (default: the newest stored).")
@click.option("--last", "last", metavar="Nd",
              help="The N days up to --to (or the newest snapshot), e.g. 90d; instead of --from.")
@click.option("--source", type=click.Choice(SOURCES),
              help="Read the DuckDB database or the Parquet files alone (default: the database if it exists).")
@warehouse_option
def report(output: str, from_date: str | None, to_date: str | None, last: str | None, source: str | None,
           warehouse: str | None) -> None:
    """Write the audit report: one HTML file with charts of the fleet, its changes, timelines and run health."""
    if last is not None and from_date is not None:
        raise click.UsageError("give --from or --last, not both")
    days = _last(last) if last is not None else None
    first = _date(from_date, "--from") if from_date is not None else None
    final = _date(to_date, "--to") if to_date is not None else None
    if first is not None and final is not None and final < first:
        raise click.BadParameter(f"{final} is before --from {first}", param_hint="--to")
    root = warehouse_root(warehouse)
    target = OutputTarget.parse(output, keep_out=[] if "://" in root else [root])  # refused before any work
    started = time.perf_counter()
    page, data = build_report(root, first=first, last=final, last_days=days, source=cast(Source | None, source),
                              notice=note)
    encoded = page.encode("utf-8")
    with target.open(binary=True) as stream:
        stream.write(encoded)
    if not target.is_stdout:
        click.echo(f"report of {data.range.first} to {data.range.last} ({data.days} snapshot date(s), "
                   f"{len(data.timelines):,} assistants) written to {target}: {len(encoded):,} bytes in "
                   f"{time.perf_counter() - started:.1f} s", err=True)


def _date(value: str, option: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date like 2026-11-21", param_hint=option) from None


def _last(value: str) -> int:
    found = _LAST.fullmatch(value.strip())
    if not found:
        raise click.BadParameter(f"{value!r} is not a number of days like 90d", param_hint="--last")
    return int(found.group(1))
