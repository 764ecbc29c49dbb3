"""Compaction and vacuum of one source, on either layout: what ``assistants-export compact`` and the nightly run do.

The work holds the source's writer lock (:mod:`.writer_lock`), as a run does: a run of the source that starts
meanwhile waits for it, and a compaction waits for a run. A folder is first recovered (what a killed run or
compaction left is deleted), then its closed months are merged (:func:`.compaction.compact_folder`); a bucket's
Delta tables are compacted and checkpointed (:meth:`LakeStore.compact`). With ``vacuum``, replaced files older than
``retain`` are deleted afterwards.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, field

from assistants_export.connectors.core import settings

from .compaction import (
    DEFAULT_RETAIN,
    OPEN_MONTHS,
    TableCompaction,
    closed_months_pending,
    compact_folder,
    first_open_month,
    vacuum_folder,
)
from .parquet_store import ParquetStore
from .stores import Store, open_store
from .writer_lock import writer_lock


@dataclass
class Upkeep:
    """What compaction (and the vacuum) did to one source."""

    source: str
    tables: list[TableCompaction] = field(default_factory=list)
    vacuumed: dict[str, int] | None = None
    dry_run: bool = False

    @property
    def files_before(self) -> int:
        return sum(t.files_before for t in self.tables)

    @property
    def files_after(self) -> int:
        return sum(t.files_after for t in self.tables)

    def lines(self) -> list[str]:
        """One line per table (files before -> after, bytes), then the vacuum's count."""
        out = [t.line(self.dry_run) for t in self.tables]
        if self.vacuumed is not None:
            total = sum(self.vacuumed.values())
            detail = ", ".join(f"{table} {count}" for table, count in self.vacuumed.items() if count)
            verb = "would delete" if self.dry_run else "deleted"
            out.append(f"vacuum: {verb} {total} replaced file(s)" + (f" ({detail})" if detail else ""))
        return out


def upkeep_store(store: Store, source: str = settings.DEFAULT_SOURCE, *, today: dt.date,
                 open_months: int = OPEN_MONTHS, vacuum: bool = False, retain: dt.timedelta = DEFAULT_RETAIN,
                 dry_run: bool = False) -> Upkeep:
    """Compact (and vacuum) one source's store; the caller holds the source's writer lock."""
    done = Upkeep(source, dry_run=dry_run)
    if isinstance(store, ParquetStore):
        if not dry_run:
            store.recover()
        done.tables = compact_folder(store, first_open_month(today, open_months), dry_run=dry_run)
        if vacuum:
            done.vacuumed = vacuum_folder(store, retain, dry_run=dry_run)
    else:
        done.tables = store.compact(dry_run=dry_run)
        if vacuum:
            done.vacuumed = store.vacuum(retain, dry_run=dry_run)
    return done


def compact_source(root: str | os.PathLike[str], source: str = settings.DEFAULT_SOURCE, *, today: dt.date,
                   open_months: int = OPEN_MONTHS, vacuum: bool = False, retain: dt.timedelta = DEFAULT_RETAIN,
                   dry_run: bool = False, wait: float | None = None) -> Upkeep:
    """Compact (and vacuum) one source of the warehouse at ``root``, holding its writer lock (waiting up to
    ``wait`` seconds for a run of it, then :class:`SourceBusyError`)."""
    with writer_lock(root, source, wait=wait):
        return upkeep_store(open_store(root, source), source, today=today, open_months=open_months, vacuum=vacuum,
                            retain=retain, dry_run=dry_run)


def nightly_due(store: Store, snapshot_date: dt.date, open_months: int = OPEN_MONTHS) -> bool:
    """Whether the nightly run of ``snapshot_date`` compacts: on a folder, when a closed month has dates not merged
    yet (the first night after a month closes, or after a re-run or backfill of a closed month); on a bucket, on
    the first night of each month."""
    if isinstance(store, ParquetStore):
        return closed_months_pending(store, first_open_month(snapshot_date, open_months)) > 0
    return snapshot_date.day == 1
