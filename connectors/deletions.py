"""The deletion rules the fetch's gate and the history's replay share.

A snapshot deletes the assistants a complete listing misses or the API confirms gone (:func:`snapshot_deletions`);
the live assistants it is measured against are the stored history's on the day before (:func:`live_before`); and
too many deletions at once hold the fetch back or stop the replay (:func:`mass_deletion_problem`). Both
:mod:`assistants_export.connectors.gates` (before a snapshot is stored) and
:mod:`assistants_export.connectors.history.engine` (before a stored snapshot is replayed) import them from here,
so the fetch does not depend on the history it feeds.
"""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pyarrow.compute as pc

from assistants_export.connectors.core.schemas import ASSISTANT_CHANGES, ASSISTANT_VERSIONS
from assistants_export.connectors.warehouse import Store

DELETED = "deleted"
"""The ``change_type`` of a deletion in ``assistant_changes``."""

MASS_DELETION_GATE = "mass_deletion"
"""The name ``snapshot_runs.approved_gates`` records when a run's deletions were approved."""


def mass_deletion_problem(store: Store, date: dt.date, deletions: list[str], live: int,
                          threshold: float) -> str | None:
    """What is wrong when ``deletions`` are too many of ``live`` assistants, else ``None``.

    The one rule both guards share: the fetch step's gate (before a snapshot is stored) and the
    history step's (before a stored snapshot is replayed). Deletions that the change log already
    records for the date were applied, and approved, when it was first replayed.
    """
    if not live or len(deletions) <= threshold * live:
        return None
    recorded = store.read(ASSISTANT_CHANGES, date, columns=["assistant_id", "change_type"]).to_pylist()
    if set(deletions) <= {r["assistant_id"] for r in recorded if r["change_type"] == DELETED}:
        return None
    return (f"the snapshot of {date} would delete {len(deletions)} of {live} current assistants "
            f"({len(deletions) / live:.0%}, above the {threshold:.0%} guard)")


def live_before(store: Store, date: dt.date) -> set[str]:
    """The assistants the stored history holds live on the day before ``date``.

    The same versions :func:`assistants_export.connectors.history.engine._resume` reopens when a replay starts
    at ``date``; the fetch step's gate uses them to count what a new snapshot of ``date`` would delete.
    """
    table = store.read_table_file(ASSISTANT_VERSIONS, columns=["assistant_id", "valid_from", "valid_to", "is_deleted"])
    if table is None:
        return set()
    start = pa.scalar(date, pa.date32())
    open_then = pc.and_(pc.less(table.column("valid_from"), start),
                        pc.fill_null(pc.greater_equal(table.column("valid_to"), start), True))
    live = table.filter(pc.and_(open_then, pc.invert(table.column("is_deleted"))))
    return set(live.column("assistant_id").to_pylist())


def snapshot_deletions(live: set[str], *, present: set[str], not_found: set[str], unknown: set[str],
                       complete: bool) -> list[str]:
    """Live assistants a snapshot deletes: confirmed not found, or missing from a complete listing."""
    if complete:
        return sorted(i for i in live if i not in present and i not in unknown)
    return sorted(i for i in live if i in not_found)
