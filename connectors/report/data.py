"""What the report shows, read with the queries of ``sql/report/`` (one file per chart, values bound as parameters).

Every chart keeps the table behind it (:class:`Table`: its SQL file, columns and rows), so the page can show the
numbers and offer them as CSV, and tests can hold them against the views.
"""

from __future__ import annotations

import datetime as dt
import difflib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import duckdb

from assistants_export import sql
from assistants_export.connectors.core.errors import ConfigError
from assistants_export.connectors.core.settings import DEFAULT_SOURCE

TOP = 20
"""Rows of the "most" charts (most-changed assistants, shared functions, shared resources)."""
VALUE_BUDGET = 4_000_000
"""Characters of change values (old and new, diffs) the timelines embed; past it the newest changes keep theirs."""
VALUE_CHARS = 600
"""A value longer than this is cut in the timeline (the full value is one `assistants-export history` away)."""
DIFF_CONTEXT = 1
"""Unchanged lines shown around each changed line of an instructions diff."""

_PARAM = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")


@dataclass(frozen=True)
class ReportRange:
    """The dates a report covers (both included)."""

    first: dt.date
    last: dt.date


@dataclass(frozen=True)
class Table:
    """The result of one ``sql/report/`` query: the table behind a chart."""

    sql_file: str
    columns: tuple[str, ...]
    rows: tuple[tuple[Any, ...], ...]

    def column(self, name: str) -> list[Any]:
        index = self.columns.index(name)
        return [row[index] for row in self.rows]

    def records(self) -> list[dict[str, Any]]:
        return [dict(zip(self.columns, row, strict=True)) for row in self.rows]


@dataclass
class ReportData:
    """Everything the page draws, for one range of one warehouse."""

    range: ReportRange
    days: int
    stored: ReportRange
    warehouse: str
    tables: dict[str, Table] = field(default_factory=dict)
    timelines: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Per ``source/assistant_id``: ID, name, source, versions and changes, compact (see :func:`_timelines`)."""
    values_left_out: int = 0
    """Changes whose values were left out of the timelines to keep the file small."""
    held_runs: dict[str, int] = field(default_factory=dict)
    """Runs held back per date (ISO), for a folder warehouse; empty for a bucket (not listed)."""
    held_counted: bool = True


def query(con: duckdb.DuckDBPyConnection, name: str, **params: Any) -> Table:
    """Run ``sql/report/<name>.sql`` with the parameters it names (``$from_date``...) bound."""
    text = sql.load(f"report/{name}")
    body = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("--"))
    wanted = dict.fromkeys(_PARAM.findall(body))
    missing = [p for p in wanted if p not in params]
    if missing:
        raise ValueError(f"sql/report/{name}.sql needs {', '.join(missing)}")
    cursor = con.execute(text, {p: params[p] for p in wanted} if wanted else None)
    columns = tuple(d[0] for d in cursor.description or ())
    return Table(f"sql/report/{name}.sql", columns, tuple(tuple(r) for r in cursor.fetchall()))


def resolve_range(con: duckdb.DuckDBPyConnection, first: dt.date | None, last: dt.date | None,
                  last_days: int | None) -> tuple[ReportRange, int, ReportRange]:
    """The range asked for (``--from/--to`` or ``--last N`` days up to the newest snapshot), the number of snapshot
    dates in it and the range the warehouse holds; a :class:`ConfigError` (one line) when there is nothing to show."""
    stored = query(con, "days", from_date=dt.date.min, to_date=dt.date.max).records()[0]
    if stored["stored_last"] is None:
        raise ConfigError("the warehouse holds no snapshot yet: run `assistants-export snapshot` first")
    held = ReportRange(stored["stored_first"], stored["stored_last"])
    end = last or held.last
    start = end - dt.timedelta(days=last_days - 1) if last_days is not None else first or held.first
    if end < start:
        raise ConfigError(f"--to {end} is before --from {start}")
    found = query(con, "days", from_date=start, to_date=end).records()[0]
    if not found["days"]:
        raise ConfigError(f"no snapshot from {start} to {end}: the warehouse holds {held.first} to {held.last}")
    return ReportRange(start, end), int(found["days"]), held


def collect(con: duckdb.DuckDBPyConnection, span: ReportRange, days: int, stored: ReportRange, warehouse: str,
            *, held_runs: Mapping[str, int] | None = None) -> ReportData:
    """Run every report query over ``con`` for ``span``."""
    dates = {"from_date": span.first, "to_date": span.last}
    data = ReportData(span, days, stored, warehouse, held_runs=dict(held_runs or {}),
                      held_counted=held_runs is not None)
    for name in ("fleet_by_model", "creations_deletions", "changes_by_field", "tool_types", "run_health"):
        data.tables[name] = query(con, name, **dates)
    data.tables["most_changed"] = query(con, "most_changed", top=TOP, **dates)
    for name in ("shared_functions", "shared_resources"):
        data.tables[name] = query(con, name, top=TOP)
    migration = query(con, "migration")
    totals = [r for r in migration.rows if r[0] is None]
    data.tables["migration_readiness"] = Table(migration.sql_file, ("assistants", "ready", "with_warnings"),
                                               tuple(tuple(r[1:4]) for r in totals))
    by_code = sorted((r for r in migration.rows if r[0] is not None), key=lambda r: (-r[4], r[0]))
    data.tables["migration_warnings"] = Table(migration.sql_file, ("code", "warnings", "assistants"),
                                              tuple((r[0], r[4], r[1]) for r in by_code))
    versions = query(con, "timeline_versions", **dates)
    changes = query(con, "timeline_changes", **dates)
    data.timelines, data.values_left_out = _timelines(versions, changes)
    return data


def _timelines(versions: Table, changes: Table) -> tuple[dict[str, dict[str, Any]], int]:
    """Per ``source/assistant_id``, compact (the page holds one per assistant): ``{"i": ID, "n": name, "s": source
    (absent for the default one), "v": [[from, to, deleted, model, name]...], "c": [...]}``, a version's name
    null when it is the assistant's ``n``. A change is ``[date, type]`` for a whole assistant (created, deleted,
    restored) and ``[date, type, field, old, new, diff, kept]`` for a field: values cut to :data:`VALUE_CHARS`, an
    instructions change as text-diff lines in ``diff``, and past :data:`VALUE_BUDGET` characters (newest changes
    first) no values, ``kept`` false."""
    out: dict[str, dict[str, Any]] = {}
    for row in versions.records():
        key = f"{row['source']}/{row['assistant_id']}"
        entry = out.setdefault(key, {"i": row["assistant_id"], "n": None, "v": [], "c": []})
        if row["source"] != DEFAULT_SOURCE:
            entry["s"] = row["source"]
        entry["v"].append([_iso(row["valid_from"]), _iso(row["valid_to"]), int(bool(row["is_deleted"])),
                           row["model"], row["name"]])
        entry["n"] = row["name"] if row["name"] is not None else entry["n"]
    for entry in out.values():
        for version in entry["v"]:
            if version[4] == entry["n"]:
                version[4] = None
    budget = VALUE_BUDGET
    left_out = 0
    for row in changes.records():  # newest first
        found = out.get(f"{row['source']}/{row['assistant_id']}")
        if found is None:
            continue
        if row["field"] is None:
            found["c"].append([_iso(row["day"]), row["change_type"]])
            continue
        old, new, diff = row["old_value"], row["new_value"], None
        if row["field"] == "instructions":
            diff = instructions_diff(_text(old), _text(new))
            old = new = None
        cost = sum(len(v) for v in (old or "", new or "")) + sum(len(line) for line in diff or ())
        kept = not cost or cost <= budget
        if kept:
            budget -= cost
        else:
            left_out += 1
            old = new = diff = None
        found["c"].append([_iso(row["day"]), row["change_type"], row["field"], _cut(old), _cut(new), diff,
                           int(kept)])
    for entry in out.values():
        entry["c"].reverse()  # oldest first, as the timeline reads
    return out, left_out


def instructions_diff(old: str, new: str) -> list[str]:
    """The lines of a unified diff of two instructions texts (``+``, ``-`` or `` `` first); hunks are set apart
    by a `` …`` line."""
    lines: list[str] = []
    for line in difflib.unified_diff(old.splitlines(), new.splitlines(), lineterm="", n=DIFF_CONTEXT):
        if line.startswith(("---", "+++")):
            continue
        if line.startswith("@@"):
            if lines:
                lines.append(" …")
            continue
        lines.append(_cut(line) or "")
    return lines


def _text(value: str | None) -> str:
    """A change value (canonical JSON text) as the text it holds."""
    if value is None:
        return ""
    try:
        decoded = json.loads(value)
    except ValueError:
        return value
    return decoded if isinstance(decoded, str) else json.dumps(decoded, ensure_ascii=False)


def _cut(value: str | None) -> str | None:
    if value is None or len(value) <= VALUE_CHARS:
        return value
    return value[:VALUE_CHARS] + f"… ({len(value):,} characters)"


def _iso(value: dt.date | None) -> str | None:
    return value.isoformat() if value is not None else None


def pivot(table: Table, x: str, series: str, value: str, xs: Sequence[Any] | None = None
          ) -> tuple[list[Any], dict[str, list[float]]]:
    """Long rows → the x values (``xs`` or those of the table, in order) and one list of values per series, zeros
    where a series has no row; series ordered by their total, largest first."""
    order = list(xs) if xs is not None else list(dict.fromkeys(table.column(x)))
    where = {v: i for i, v in enumerate(order)}
    out: dict[str, list[float]] = {}
    for row in table.records():
        if row[x] not in where:
            continue
        out.setdefault(str(row[series]), [0.0] * len(order))[where[row[x]]] += float(row[value] or 0)
    ranked = sorted(out.items(), key=lambda item: (-sum(item[1]), item[0]))
    return order, dict(ranked)


def top_series(series: Mapping[str, list[float]], keep: int, other: str = "other") -> dict[str, list[float]]:
    """The ``keep - 1`` largest series and the rest summed as ``other`` (a chart stays readable, its colours
    distinct)."""
    items = list(series.items())
    if len(items) <= keep:
        return dict(items)
    head, tail = items[: keep - 1], items[keep - 1:]
    rest = [sum(values) for values in zip(*(v for _, v in tail), strict=True)]
    return {**dict(head), f"{other} ({len(tail)})": rest}


def all_days(*tables: Table, column: str = "day") -> list[dt.date]:
    """The dates any of ``tables`` names, in order."""
    found: set[dt.date] = set()
    for table in tables:
        if column in table.columns:
            found.update(table.column(column))
    return sorted(found)

