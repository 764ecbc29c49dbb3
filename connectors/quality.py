"""Data-quality measurements behind the Dagster asset checks, free of Dagster.

Each function reads the stored Parquet (the source of truth) and returns plain
numbers, so the checks can be tested on crafted partitions and reused outside
Dagster. Counting is done by DuckDB over Arrow tables registered on an
in-memory connection; no value is pasted into SQL text.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import duckdb

from assistants_export import sql
from assistants_export.connectors.core.assistant_model import EXTRA_CONTAINERS
from assistants_export.connectors.core.schemas import (
    ASSISTANT_METADATA,
    ASSISTANT_TOOL_RESOURCES,
    ASSISTANT_TOOLS,
    ASSISTANTS,
    FETCH_ERRORS,
    PAYLOAD_METADATA,
    PAYLOAD_TOOL_RESOURCES,
    PAYLOAD_TOOLS,
    PAYLOADS,
    RAW_ASSISTANTS,
    SNAPSHOT_MEMBERS,
    SNAPSHOT_RUNS,
    TableSpec,
)
from assistants_export.connectors.warehouse import Store


@dataclass(frozen=True)
class KeyReport:
    """Rows sharing a key, and required columns holding nulls, in one partition."""

    rows: int
    duplicate_keys: int
    sample_duplicates: list[dict[str, Any]]
    """Up to five shared keys (values as text) with how many rows share each."""
    nulls: dict[str, int]

    @property
    def ok(self) -> bool:
        return not self.duplicate_keys and not any(self.nulls.values())


STORED_BEHIND: dict[str, tuple[TableSpec, ...]] = {
    RAW_ASSISTANTS.name: (SNAPSHOT_MEMBERS, PAYLOADS),
    ASSISTANTS.name: (SNAPSHOT_MEMBERS, PAYLOADS),
    ASSISTANT_TOOLS.name: (PAYLOAD_TOOLS,),
    ASSISTANT_METADATA.name: (PAYLOAD_METADATA,),
    ASSISTANT_TOOL_RESOURCES.name: (PAYLOAD_TOOL_RESOURCES,),
}
"""The stored partitions a view table's date is made of: its keys are unique and its required columns set
exactly when theirs are (a payload is read from one partition), so the checks read these, not the join."""


def key_report(store: Store, spec: TableSpec, snapshot_date: dt.date) -> KeyReport:
    """Duplicate keys and nulls in not-null columns of one table's partition (for a view table, of the
    stored partitions it is made of, see :data:`STORED_BEHIND`)."""
    if spec.name in STORED_BEHIND:
        reports = [key_report(store, stored, snapshot_date) for stored in STORED_BEHIND[spec.name]]
        return KeyReport(reports[0].rows, sum(r.duplicate_keys for r in reports),
                         [d for r in reports for d in r.sample_duplicates][:5],
                         {column: n for r in reports for column, n in r.nulls.items()})
    required = [f.name for f in spec.schema if not f.nullable]
    table = store.read(spec, snapshot_date, columns=list(dict.fromkeys([*spec.key, *required])))
    with duckdb.connect() as con:
        con.register("partition_rows", table)
        keys = ", ".join(sql.quote_identifier(c) for c in spec.key)
        duplicates = con.execute(sql.load("quality/duplicate_keys").format(keys=keys)).fetchall()
        nulls = {}
        for column in required:
            statement = sql.load("quality/null_count").format(column=sql.quote_identifier(column))
            row = con.execute(statement).fetchone()
            nulls[column] = int(row[0]) if row else 0
    sample = [{k: str(v) for k, v in zip(spec.key, d[:-1], strict=True)} | {"rows": d[-1]} for d in duplicates[:5]]
    return KeyReport(table.num_rows, len(duplicates), sample, nulls)


def failed_share(store: Store, snapshot_date: dt.date) -> tuple[int, int]:
    """``(failed, asked)``: IDs that ended ``failed`` and IDs the snapshot asked about."""
    runs = store.read(SNAPSHOT_RUNS, snapshot_date).to_pylist()
    if not runs:
        return 0, 0
    run = runs[0]
    asked = sum(run[f"{name}_count"] for name in ("ok", "not_found", "invalid", "failed"))
    return run["failed_count"], asked


def approved_gates(store: Store, snapshot_date: dt.date) -> set[str]:
    """The blocking gates the stored snapshot of a date failed and a user approved (see connectors.gates)."""
    column = store.read(SNAPSHOT_RUNS, snapshot_date, columns=["approved_gates"]).column("approved_gates")
    return {gate for gates in column.to_pylist() for gate in (gates or [])}


def unknown_fields(store: Store, snapshot_date: dt.date) -> Counter[str]:
    """Paths the API schema does not define, with how many assistants or tools carry each."""
    found: Counter[str] = Counter()
    for spec, prefix in ((ASSISTANTS, ""), (ASSISTANT_TOOLS, "tools[].")):
        column = store.read(spec, snapshot_date, columns=["extra_fields"]).column("extra_fields")
        for text in column.to_pylist():
            if text:
                found.update(prefix + path for path in _leaf_paths(json.loads(text)))
    return found


def newest_snapshot(store: Store) -> tuple[dt.date, dt.datetime] | None:
    """The newest stored snapshot date and when its fetch finished, or ``None`` when there is none."""
    dates = store.dates(SNAPSHOT_RUNS.name)
    if not dates:
        return None
    finished = store.read(SNAPSHOT_RUNS, dates[-1], columns=["finished_at"]).column("finished_at").to_pylist()
    return dates[-1], max(finished)


def error_outcomes(store: Store, snapshot_date: dt.date) -> Counter[str]:
    """IDs per outcome in ``fetch_errors`` (everything that did not end ``ok``)."""
    outcomes = store.read(FETCH_ERRORS, snapshot_date, columns=["outcome"]).column("outcome").to_pylist()
    return Counter(outcomes)


def _leaf_paths(extras: dict[str, Any], prefix: str = "") -> Iterator[str]:
    """Paths of the unknown fields in an ``extra_fields`` document (nested like the payload)."""
    for key, value in extras.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict) and value and prefix + key in EXTRA_CONTAINERS:
            yield from _leaf_paths(value, path + ".")
        else:
            yield path
