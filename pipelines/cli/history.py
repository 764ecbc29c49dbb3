"""``assistants-export history``, ``diff`` and ``as-of``: reading the change history.

All three read ``assistants.duckdb`` (read-only) with the ready queries in
``sql/audit/``, or the same views over the stored files while a snapshot is writing the database (they say
so on stderr); they never touch the API.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import click
import duckdb
from rich.console import Console
from rich.table import Table

from assistants_export import sql
from assistants_export.connectors.warehouse.location import duckdb_path, warehouse_root
from assistants_export.connectors.warehouse.views import open_source

from . import cli, warehouse_option
from .output import cut, note, results_console, show_table

VALUE_WIDTH = 60


@cli.command()
@click.argument("assistant_id")
@warehouse_option
def history(assistant_id: str, warehouse: str | None) -> None:
    """The timeline of one assistant: every version and what changed when it began."""
    versions, changes = _queries(warehouse, ("audit/assistant_timeline", {"assistant_id": assistant_id}),
                                 ("audit/changes_of_assistant", {"assistant_id": assistant_id}))
    if not versions:
        raise click.ClickException(f"no history for {assistant_id!r} in the warehouse")
    console = results_console()
    console.print(f"History of {assistant_id}", markup=False)
    named = bool(_source_column(versions))  # the same ID in two sources is two assistants: say whose each version is
    for version in versions:
        until = version["valid_to"] or "now"
        what = "deleted, last seen as" if version["is_deleted"] else f"{version['change_type']}:"
        where = f"{version['source']}: " if named else ""
        console.print(f"\n[bold]{where}{version['valid_from']} → {until}[/bold]  {what} {version['name']!s} "
                      f"({version['model']})", highlight=False)
        rows = [c for c in changes if c["source"] == version["source"] and c["snapshot_date"] == version["valid_from"]
                and c["field"] is not None]
        if rows:
            table = Table("field", "before", "after")
            for change in rows:
                table.add_row(change["field"], _short(change["old_value"], console),
                              _short(change["new_value"], console))
            show_table(console, table)


@cli.command(name="diff")
@click.option("--from", "from_date", required=True, metavar="YYYY-MM-DD", help="Changes after this date...")
@click.option("--to", "to_date", required=True, metavar="YYYY-MM-DD", help="...up to this date (included).")
@warehouse_option
def diff_command(from_date: str, to_date: str, warehouse: str | None) -> None:
    """A summary table of what changed after --from up to --to."""
    start, end = _date(from_date, "--from"), _date(to_date, "--to")
    if end < start:
        raise click.BadParameter("--to must not be before --from", param_hint="--to")
    rows = _query(warehouse, "audit/changes_between", from_date=start, to_date=end)
    source = _source_column(rows)
    console = results_console()
    table = Table(*source, "assistant_id", "name", "change", "fields changed",
                  title=f"Changes after {start} up to {end}")
    for row in rows:
        table.add_row(*(row[c] for c in source), row["assistant_id"], str(row["name"] or ""), row["change_types"],
                      _short(row["fields"] or "", console))
    show_table(console, table)
    console.print(f"{len(rows)} assistant(s) changed")


@cli.command(name="as-of")
@click.argument("date")
@warehouse_option
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line instead of a table.")
def as_of(date: str, warehouse: str | None, as_json: bool) -> None:
    """Time travel: every assistant's configuration as it was on DATE."""
    day = _date(date, "DATE")
    rows = _query(warehouse, "audit/config_as_of", as_of=day)
    if not rows:  # an empty answer is true only on a day the history covers
        first = _query(warehouse, "migration/history_start")[0]["first_date"]
        if first is None:
            raise click.ClickException(f"the history of {warehouse_root(warehouse)} is empty: "
                                       "run assistants-export snapshot first")
        if day < first:
            raise click.ClickException(f"{day} is before the history of {warehouse_root(warehouse)}"
                                       f" begins (it starts on {first})")
    if as_json:
        for row in rows:
            click.echo(json.dumps(row, default=str, ensure_ascii=False))
        return
    source = _source_column(rows)
    table = Table(*source, "assistant_id", "name", "model", "tools", "since", title=f"Assistants as of {day}")
    for row in rows:
        table.add_row(*(row[c] for c in source), row["assistant_id"], str(row["name"] or ""), str(row["model"]),
                      str(row["tool_count"]), str(row["valid_from"]))
    show_table(results_console(), table)


def _source_column(rows: list[dict[str, Any]]) -> list[str]:
    """``["source"]`` when ``rows`` come from more than one API source (the column to show), else nothing."""
    return ["source"] if len({row["source"] for row in rows}) > 1 else []


def _query(warehouse: str | None, name: str, **params: Any) -> list[dict[str, Any]]:
    return _queries(warehouse, (name, params))[0]


def _queries(warehouse: str | None, *queries: tuple[str, dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """The rows of each ``(query name, parameters)``, from one session over the warehouse."""
    root = warehouse_root(warehouse)
    if not duckdb_path(root).is_file():
        raise click.ClickException(f"no warehouse at {root}: run assistants-export snapshot first")
    con, _ = open_source(root, notice=note)  # a snapshot writing the database: the stored files are read
    results = []
    try:
        with con:  # rows as Python values straight from DuckDB: no pyarrow (nor pandas, for time zones) to import
            for name, params in queries:
                cursor = con.execute(sql.load(name), params or None)
                results.append(_rows(cursor.description or [], cursor.fetchall()))
    except duckdb.CatalogException:
        raise click.ClickException(f"{root} has no history yet: run assistants-export snapshot first") from None
    return results


def _rows(columns: list[Any], rows: list[tuple[Any, ...]]) -> list[dict[str, Any]]:
    names = [column[0] for column in columns]
    maps = [i for i, column in enumerate(columns) if getattr(column[1], "id", None) == "map"]
    if maps:  # a MAP as key-value pairs, as in the Parquet files (and as --json has always written it)
        rows = [tuple(list(value.items()) if i in maps and value is not None else value
                      for i, value in enumerate(row)) for row in rows]
    return [dict(zip(names, row, strict=True)) for row in rows]


def _date(value: str, hint: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date like 2026-11-21", param_hint=hint) from None


def _short(value: str | None, console: Console) -> str:
    """A value in a table: cut to :data:`VALUE_WIDTH` on a terminal, whole anywhere else."""
    if value is None:
        return "—"
    return cut(value, VALUE_WIDTH, console)
