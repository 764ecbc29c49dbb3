"""A night's summary for Dagster: what changed on one date of one source, as numbers and a markdown table.

Counted with the report's own queries (``sql/report/creations_deletions.sql``, ``changes_by_field.sql`` and
``updated_assistants.sql``) over the date's change log alone (one source's), so the UI and the report count alike.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import duckdb
import pyarrow as pa

from .data import query

NIGHT_COLUMNS = ("snapshot_date", "assistant_id", "change_type", "field")
"""The columns of ``assistant_changes`` :func:`night_summary` reads."""


def night_summary(changes: pa.Table, day: dt.date, live: int) -> dict[str, Any]:
    """``changes``: the rows of ``assistant_changes`` of ``day`` (``snapshot_date``, ``assistant_id``,
    ``change_type``, ``field``).

    Returns ``{"created", "updated", "deleted", "restored", "field_changes", "by_field", "markdown"}``.
    """
    con = duckdb.connect(":memory:")
    try:
        con.register("assistant_changes", changes.select(list(NIGHT_COLUMNS))
                     .append_column("source", pa.array(["-"] * changes.num_rows, pa.string())))
        whole = {r["change_type"]: int(r["assistants"])
                 for r in query(con, "creations_deletions", from_date=day, to_date=day).records()}
        by_field = {r["kind"]: int(r["changes"])
                    for r in query(con, "changes_by_field", from_date=day, to_date=day).records()}
        updated = query(con, "updated_assistants", from_date=day, to_date=day).column("assistants")
    finally:
        con.close()
    counts = {"live": live, "created": whole.get("created", 0), "deleted": whole.get("deleted", 0),
              "restored": whole.get("restored", 0), "updated": int(sum(updated)),
              "field_changes": sum(by_field.values())}
    lines = [f"| {day} | assistants |", "| --- | ---: |", *(f"| {k.replace('_', ' ')} | {v:,} |"
                                                          for k, v in counts.items())]
    if by_field:
        lines += ["", "| field changed | changes |", "| --- | ---: |",
                  *(f"| {k} | {v:,} |" for k, v in sorted(by_field.items(), key=lambda kv: (-kv[1], kv[0])))]
    return {**counts, "by_field": by_field, "markdown": "\n".join(lines) + "\n"}
