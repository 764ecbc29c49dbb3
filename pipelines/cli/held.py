"""``assistants-export held list|show|approve|discard``: settle the runs a blocking gate held back.

A held run's answers wait under ``held/<date>/<run_id>/`` of its source (:mod:`assistants_export.connectors.held`).
``approve`` stores exactly them (no request to the API) as a fetch stores its answers, then loads the date into
DuckDB and replays the history from it, all under the source's writer lock, as ``snapshot`` does.
"""

from __future__ import annotations

import datetime as dt
import getpass
import os
import uuid
from typing import Any

import click

from assistants_export.connectors.core.errors import ConfigError, InputError
from assistants_export.connectors.core.settings import DEFAULT_SOURCE
from assistants_export.connectors.held import (
    HeldReport,
    HeldRun,
    approve_and_apply,
    describe_held,
    discard_held,
    find_held,
    held_runs,
)
from assistants_export.connectors.warehouse.sources import stored_sources
from assistants_export.connectors.warehouse.writer_lock import writer_lock

from ..resources import WarehouseResource
from ..sources import configured_sources
from . import cli, warehouse_option, writer_wait_option


def _source_option(function: Any) -> Any:
    return click.option("--source", "source", metavar="NAME", default=None,
                        help="The source whose held runs to look at (default: every configured or stored "
                             "source).")(function)


@cli.group()
def held() -> None:
    """List, show, approve or discard the runs a blocking gate held back (their answers wait under held/)."""


def _sources(root: str, source: str | None) -> list[str]:
    if source is not None:
        return [source]
    try:
        configured = list(configured_sources())
    except ConfigError:  # a broken sources file: the held runs of the stored sources can still be settled
        configured = []
    return list(dict.fromkeys([DEFAULT_SOURCE, *configured, *stored_sources(root)]))


def _locate(root: str, run_id: str, source: str | None) -> tuple[str, HeldRun]:
    """The source holding the held run ``run_id`` and the run; one line when no source or several hold it."""
    names = _sources(root, source)
    found: list[tuple[str, HeldRun]] = []
    first_error: InputError | None = None
    for name in names:
        try:
            found.append((name, find_held(root, run_id, name)))
        except InputError as exc:
            if "is not a run ID" in str(exc) or "give more of it" in str(exc):
                raise
            first_error = first_error or exc
    if len(found) == 1:
        return found[0]
    if not found:
        assert first_error is not None
        raise first_error
    raise InputError(f"held run {run_id} is in {len(found)} sources ({', '.join(n for n, _ in found)}): "
                     "add --source NAME")


def _age(delta: dt.timedelta) -> str:
    seconds = max(0, int(delta.total_seconds()))
    if seconds >= 86400:
        return f"{seconds // 86400}d {seconds % 86400 // 3600}h"
    if seconds >= 3600:
        return f"{seconds // 3600}h {seconds % 3600 // 60}m"
    return f"{seconds // 60}m"


@held.command(name="list")
@warehouse_option
@_source_option
def list_held(warehouse: str | None, source: str | None) -> None:
    """The held runs: run ID, date, the gates that held it, when, and how long ago."""
    root = WarehouseResource(path=warehouse).root()
    rows = [(name, run) for name in _sources(root, source) for run in held_runs(root, name)]
    if not rows:
        click.echo(f"no held-back runs in {root}")
        return
    several = any(name != DEFAULT_SOURCE for name, _ in rows)
    header = ["run_id", "date", "gates", "held_at", "age"] + (["source"] if several else [])
    lines = [header]
    now = dt.datetime.now(dt.UTC)
    for name, run in rows:
        line = [run.run_id, run.snapshot_date.isoformat(), ",".join(run.gates) or "?",
                f"{run.held_at:%Y-%m-%d %H:%M}", _age(run.age(now))]
        lines.append(line + ([name] if several else []))
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    for line in lines:
        click.echo("  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip())


@held.command()
@click.argument("run_id")
@warehouse_option
@_source_option
def show(run_id: str, warehouse: str | None, source: str | None) -> None:
    """What the gates saw of a held run: its deletions, its failures, and a sample diff against the stored date."""
    root = WarehouseResource(path=warehouse).root()
    name, run = _locate(root, run_id, source)
    _print_report(describe_held(root, run.run_id, source_name=name), name)


def _print_report(report: HeldReport, source: str) -> None:
    run = report.run
    echo = click.echo
    named = "" if source == DEFAULT_SOURCE else f" of source {source}"
    echo(f"Held run {run.run_id}{named}, snapshot of {run.snapshot_date}, held {run.held_at:%Y-%m-%d %H:%M} UTC")
    echo(f"  kept in {run.where}")
    for gate, reason in zip(run.gates, run.reasons, strict=False):
        echo(f"  gate {gate}: {reason}")
    echo("  outcomes: " + (", ".join(f"{k} {v}" for k, v in sorted(run.outcomes.items())) or "none"))
    echo(f"Deletions: {len(report.deletions)} of {report.live_before} assistants live the day before"
         + (f": {', '.join(report.deletions[:10])}" + (" ..." if len(report.deletions) > 10 else "")
            if report.deletions else ""))
    echo(f"Failures: {report.failures}")
    for row in report.failure_sample:
        status = row["http_status"] if row["http_status"] is not None else "-"
        echo(f"  {row['assistant_id']}  {status}  {row['error_type'] or '-'}  {row['message'] or ''}")
    if report.stored_run_id is None:
        echo(f"Against the stored snapshot of {run.snapshot_date}: none is stored")
        return
    echo(f"Against the stored snapshot of {run.snapshot_date} (run {report.stored_run_id}, started "
         f"{report.stored_started_at:%Y-%m-%d %H:%M} UTC): {report.unchanged} unchanged, {len(report.changed)} "
         f"changed, {len(report.added)} only in the held run, {len(report.removed)} only in the stored snapshot")
    for label, ids in (("only in the held run", report.added), ("only in the stored snapshot", report.removed)):
        if ids:
            echo(f"  {label}: {', '.join(ids[:5])}" + (" ..." if len(ids) > 5 else ""))
    for assistant_id, changes in report.changes.items():
        echo(f"  {assistant_id}:")
        for change in changes[:10]:
            echo(f"    {change.path}: {_short(change.old)} -> {_short(change.new)}")


def _short(value: str | None, width: int = 60) -> str:
    if value is None:
        return "(absent)"
    return value if len(value) <= width else value[:width - 3] + "..."


@held.command()
@click.argument("run_id")
@warehouse_option
@_source_option
@click.option("--by", "approved_by", metavar="NAME", default=None,
              help="Who approves, recorded in snapshot_runs.approved_by (default: the user running this).")
@click.option("--force", is_flag=True,
              help="Approve even if a run that started after the held one has stored the date since.")
@writer_wait_option
def approve(run_id: str, warehouse: str | None, source: str | None, approved_by: str | None, force: bool,
            writer_wait: float | None) -> None:
    """Store a held run's answers, exactly as held (no request to the API), as its date's snapshot; then load the
    date into DuckDB and replay the history from it. The approval (gates, who, when) is kept in snapshot_runs."""
    resource = WarehouseResource(path=warehouse, writer_wait=writer_wait)
    root = resource.root()
    wait = resource.writer_wait_seconds()
    name, run = _locate(root, run_id, source)
    who = approved_by if approved_by is not None else _user()
    approval, result = approve_and_apply(root, run.run_id, approved_by=who, source_name=name, force=force, wait=wait)
    date = approval.run.snapshot_date
    named = "" if name == DEFAULT_SOURCE else f" of source {name}"
    replaced = f", replacing run {approval.replaced_run_id}" if approval.replaced_run_id else ""
    click.echo(f"Approved held run {run.run_id}{named} by {approval.approved_by} (gates: "
               f"{', '.join(approval.gates) or 'none'}): {approval.assistants} assistants stored as the snapshot of "
               f"{date}{replaced}; loaded into DuckDB; history replayed from "
               f"{result.dates[0] if result.dates else date}")


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no name for this uid (a container): say so rather than guess
        return os.environ.get("USER") or f"uid {os.getuid()}"


@held.command()
@click.argument("run_id")
@warehouse_option
@_source_option
@writer_wait_option
def discard(run_id: str, warehouse: str | None, source: str | None, writer_wait: float | None) -> None:
    """Remove a held run's folder; the date's stored snapshot is not touched."""
    resource = WarehouseResource(path=warehouse, writer_wait=writer_wait)
    root = resource.root()
    wait = resource.writer_wait_seconds()
    name, run = _locate(root, run_id, source)
    with writer_lock(root, name, run_id=str(uuid.uuid4()), wait=wait):
        gone = discard_held(root, run.run_id, source_name=name)
    click.echo(f"Discarded held run {gone.run_id} of {gone.snapshot_date}: removed {gone.where}")
