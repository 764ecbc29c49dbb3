"""Compaction and vacuum of a warehouse: fewer, larger files for the closed months, and the replaced ones deleted.

On a folder every night adds one file per stored table (``parquet/<table>/snapshot_date=D/part-0.parquet``).
:func:`compact_folder` merges the dates of each closed month into one file per table,
``parquet/<table>/_compacted/<YYYY-MM>.<id>.parquet`` (one row group or more per date, sorted by date), and
switches readers to it by replacing the table's manifest (:mod:`.manifest`) in one rename. The per-date files
stay where they were, read by nobody once the manifest names the month, until :func:`vacuum_folder` deletes
them (and month files that a later compaction or a re-run replaced) once they are older than the delay, so a
reader that listed them just before the switch can still finish. A kill at any point leaves the old manifest
or the new one: answers never change, and ``recover`` (every run starts with it) deletes the orphans.

On a bucket each Delta table is compacted with ``deltalake``'s ``optimize.compact`` (the small files of each
date's partition merged, a log entry that changes no data) and gets a checkpoint, so a reader replays no long
log; :meth:`LakeStore.vacuum` deletes what no recent version reads.
"""

from __future__ import annotations

import datetime as dt
import shutil
from dataclasses import dataclass
from pathlib import Path

from assistants_export.connectors.core import failpoints
from assistants_export.connectors.core.schemas import ASSISTANT_CHANGES, STORED_DATE_TABLES, TableSpec

from .manifest import COMPACTED_DIR, MANIFEST_FILE, Month, manifest_lock, month_key, now
from .parquet_store import ParquetStore, _fsync_dir

COMPACTED_TABLES: tuple[str, ...] = (*STORED_DATE_TABLES, ASSISTANT_CHANGES.name)
"""The tables stored one partition per date: what compaction merges (``assistant_versions`` is one file)."""

OPEN_MONTHS = 1
"""Months left as they are: the current one. A month is merged on the first night after it ends, so a table keeps
at most 31 per-date files and one file per earlier month (a late re-run of a merged date takes it out of its month's
file again, see :meth:`ParquetStore.uncover`, and the next night merges it back)."""

DEFAULT_RETAIN = dt.timedelta(days=7)
"""How long a replaced file stays readable before the vacuum deletes it (Delta Lake's own default)."""


@dataclass(frozen=True)
class TableCompaction:
    """What compaction did (or would do) to one table: live files and bytes before and after."""

    table: str
    files_before: int
    files_after: int
    bytes_before: int
    bytes_after: int
    months: tuple[str, ...] = ()

    def line(self, dry_run: bool = False) -> str:
        verb = "would merge" if dry_run else "merged"
        months = f" ({verb} {', '.join(self.months)})" if self.months else ""
        return (f"{self.table}: {self.files_before} -> {self.files_after} file(s), "
                f"{_size(self.bytes_before)} -> {_size(self.bytes_after)}{months}")


def first_open_month(today: dt.date, open_months: int = OPEN_MONTHS) -> dt.date:
    """The first day of the oldest month left open: dates before it are in closed months, compacted."""
    year, month = today.year, today.month - (open_months - 1)
    while month < 1:
        year, month = year - 1, month + 12
    return dt.date(year, month, 1)


def closed_months_pending(store: ParquetStore, before: dt.date) -> int:
    """How many months before ``before`` have dates to merge, summed over the tables."""
    return sum(len(_months_to_merge(store, table, before)) for table in COMPACTED_TABLES)


def _months_to_merge(store: ParquetStore, table: str, before: dt.date) -> list[str]:
    """The months before ``before`` whose merge would leave fewer files: two dates or more in their own folders,
    or one beside the month's file (a date re-run since)."""
    manifest = store.manifest(table)
    covered = manifest.covered()
    own: dict[str, int] = {}
    for date in store._folder_dates(table):
        if date < before and date not in covered:
            own[month_key(date)] = own.get(month_key(date), 0) + 1
    return sorted(key for key, count in own.items() if count >= 2 or key in manifest.months)


def compact_folder(store: ParquetStore, before: dt.date, *, dry_run: bool = False) -> list[TableCompaction]:
    """Merge, table by table, the dates of every month that ends before ``before`` into one file per month.

    The caller holds the source's writer lock (no run writes meanwhile). A month already compacted is merged again
    only when it has dates of its own folder (a date re-run, or backfilled, since).
    """
    done = []
    for table in COMPACTED_TABLES:
        folder = store.parquet_root / table
        if not folder.is_dir():
            continue
        with manifest_lock(folder):
            manifest = store.manifest(table)
            before_files = store.live_files(table, manifest)
            covered = manifest.covered()
            dates = store.partition_dates(table)
            months = _months_to_merge(store, table, before)
            if not dry_run and months:
                spec = _spec(table)
                for key in months:
                    in_month = tuple(d for d in dates if month_key(d) == key)
                    meta = {d.isoformat(): store.partition_metadata(table, d) for d in in_month}
                    name = store.write_month_file(spec, key, in_month)
                    old = manifest.months.get(key)
                    if old is not None:
                        manifest.replaced.append((old.file, now()))
                    manifest.months[key] = Month(name, in_month, now(), meta)
                    failpoints.reach("compact.month")
                store.write_manifest(table, manifest)
                failpoints.reach("compact.table")
            after_files = store.live_files(table) if not dry_run else _files_after(store, table, before_files,
                                                                                  months, covered, dates)
            done.append(TableCompaction(table, len(before_files), len(after_files), _bytes(before_files),
                                        _bytes(after_files) if not dry_run else _bytes(before_files),
                                        tuple(months)))
    return done


def _files_after(store: ParquetStore, table: str, before_files: list[Path], months: list[str],
                 covered: dict[dt.date, Month], dates: list[dt.date]) -> list[Path]:
    """The live files a compaction of ``months`` would leave (for ``--dry-run``): one per month instead of its
    dates' own and its old month file."""
    merged = {store.partition_dir(table, d) for d in dates if month_key(d) in months and d not in covered}
    old = {store.compacted_file(table, m.file) for key, m in store.manifest(table).months.items() if key in months}
    kept = [p for p in before_files if p.parent not in merged and p not in old]
    return kept + [Path(f"{key}.parquet") for key in months]


def vacuum_folder(store: ParquetStore, retain: dt.timedelta = DEFAULT_RETAIN, *,
                  dry_run: bool = False) -> dict[str, int]:
    """Delete, per table, the files compaction replaced more than ``retain`` ago; files per table.

    Those are the per-date files of a compacted month, month files a later compaction or a re-run replaced, and
    month files no manifest names (a compaction killed before its switch). Files are deleted before the
    manifest forgets them, so a kill in between leaves names of files already gone, which the next vacuum
    skips; no file a reader of the current manifest reads is ever deleted.
    """
    limit = now() - retain
    done: dict[str, int] = {}
    for table in COMPACTED_TABLES:
        folder = store.parquet_root / table
        if not (folder / MANIFEST_FILE).is_file() and not (folder / COMPACTED_DIR).is_dir():
            continue
        with manifest_lock(folder):
            manifest = store.manifest(table)
            doomed: list[Path] = []
            live = {m.file for m in manifest.months.values()}
            for date, month in sorted(manifest.covered().items()):
                if month.at <= limit:
                    doomed.extend(store._own_files(table, date) or
                                  ([store.partition_dir(table, date)] if store.partition_dir(table, date).is_dir()
                                   else []))
            keep_replaced = []
            for name, at in manifest.replaced:
                if at <= limit and name not in live:
                    doomed.append(store.compacted_file(table, name))
                else:
                    keep_replaced.append((name, at))
            named = manifest.named()
            compacted = folder / COMPACTED_DIR
            if compacted.is_dir():
                for path in sorted(compacted.glob("*.parquet")):
                    if path.name not in named and path.stat().st_mtime <= limit.timestamp():
                        doomed.append(path)
            done[table] = sum(1 for p in doomed if p.suffix == ".parquet")
            if dry_run or not doomed:
                continue
            for path in doomed:
                failpoints.reach("vacuum.delete")
                if path.is_dir():
                    shutil.rmtree(path, ignore_errors=True)
                else:
                    path.unlink(missing_ok=True)
                    parent = path.parent
                    if parent.name.startswith("snapshot_date=") and not any(parent.iterdir()):
                        parent.rmdir()
            if keep_replaced != manifest.replaced:
                manifest.replaced = keep_replaced
                store.write_manifest(table, manifest)
            _fsync_dir(folder)
    return done


def _spec(table: str) -> TableSpec:
    return STORED_DATE_TABLES.get(table) or ASSISTANT_CHANGES


def _bytes(paths: list[Path]) -> int:
    total = 0
    for path in paths:
        try:
            total += path.stat().st_size
        except FileNotFoundError:
            continue
    return total


def _size(count: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if count < 1024 or unit == "GB":
            return f"{count:.0f} {unit}" if unit == "B" else f"{count:.1f} {unit}"
        count /= 1024  # type: ignore[assignment]
    return f"{count} B"
