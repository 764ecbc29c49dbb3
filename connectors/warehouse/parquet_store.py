"""Parquet datasets, one partition per table and snapshot date, replaced atomically.

Layout::

    <warehouse>/parquet/<table>/snapshot_date=YYYY-MM-DD/part-0.parquet
    <warehouse>/.staging/                      (work in progress; never read)
    <warehouse>/held/<date>/<run_id>/<table>/part-0.parquet   (answers of runs a gate held back)

A partition is written whole into ``.staging`` and then renamed into place, so a
reader sees the old partition or the new one, never half of one, and re-running
a date replaces it instead of adding to it. A new partition's folder is renamed
in; an existing one has its file replaced by one ``rename(2)``, so a file a reader
listed never stops existing (it opens the old file or the new one, and a file it
has open stays readable until it closes it). Every file and folder is fsync'ed
before and after its rename, so a power loss cannot leave a visible but empty or
torn file. :meth:`ParquetStore.recover` deletes what a killed run left in staging
(and puts back a partition that an older version's two-rename swap had moved aside).
Readers glob ``parquet/<table>/*/*.parquet``;
``snapshot_date`` is also stored inside each file, so no hive partitioning is needed.

A table whose closed months were compacted has a manifest (:mod:`.manifest`): the dates it covers are read
from their month's file under ``parquet/<table>/_compacted/``, filtered to the date, and every method here
answers for them as for any other date (writing or removing such a date takes it out of its month first).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import logging
import os
import shutil
import uuid
from collections.abc import Iterable, Iterator
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Protocol, Self

import pyarrow as pa
import pyarrow.parquet as pq

from assistants_export.connectors.core import failpoints, settings
from assistants_export.connectors.core.schemas import (
    ASSISTANT_CHANGES,
    ASSISTANT_VERSIONS,
    SNAPSHOT_MEMBERS,
    STORED_DATE_TABLES,
    STORED_TABLES,
    VIEW_TABLES,
    TableSpec,
    conform,
    present,
)

from .location import local_root
from .manifest import COMPACTED_DIR, MANIFEST_FILE, Manifest, Month, manifest_lock, manifest_text, read_manifest
from .stored import read_view_date

if TYPE_CHECKING:  # pyarrow.dataset imports pandas: the read-only commands start without them
    import pyarrow.dataset as ds

log = logging.getLogger(__name__)

PART_FILE = "part-0.parquet"
_OLD_PREFIX = "old__"
_REPLAYING_FILE = ".history-replaying"
"""At a source's root while a history step rewrites the change log (:meth:`ParquetStore.replaying`)."""


class ParquetStore:
    """Reads and writes the Parquet side of a warehouse folder.

    :class:`~assistants_export.connectors.warehouse.lake_store.LakeStore` has the same methods for a warehouse in an
    object
    store, except those that hand out local paths; :func:`open_store` picks one from the warehouse location.
    """

    is_lake = False

    def __init__(self, warehouse: str | Path) -> None:
        self.root = local_root(warehouse)
        self.parquet_root = self.root / "parquet"
        self.staging = self.root / ".staging"

    def exists(self) -> bool:
        """Whether any run has stored anything here."""
        return self.parquet_root.is_dir()

    def has_partition(self, table: str, snapshot_date: dt.date) -> bool:
        """Whether the date was committed for ``table`` (an empty partition counts: the date ran)."""
        return bool(self.partition_files(table, snapshot_date))

    def replayed_dates(self) -> list[dt.date]:
        """The dates the history has replayed: each has a change-log partition, empty when nothing changed, and
        is not among the dates a history step began to rewrite and did not finish (:meth:`replaying`)."""
        dates = self.partition_dates(ASSISTANT_CHANGES.name)
        since = self._replaying_since()
        return dates if since is None else [d for d in dates if d < since]

    @contextlib.contextmanager
    def replaying(self, start: dt.date, keep: Iterable[dt.date]) -> Iterator[None]:
        """Rewrite the history from ``start`` on inside the block; the change-log dates from ``start`` on that are
        not in ``keep`` are removed when it ends.

        A marker (``.history-replaying``, holding ``start``) is written first and removed last: while it exists
        the dates from ``start`` on count as not replayed, so a run killed inside the block leaves them to the
        next one, and their change-log partitions stay in place meanwhile (each replaced whole by the block,
        never removed first), so a reader sees each one old or new.
        """
        marker = self.root / _REPLAYING_FILE
        staged = self.root / f"{_REPLAYING_FILE}.{uuid.uuid4().hex}"
        since = self._replaying_since()
        staged.write_text(min(start, since or start).isoformat(), encoding="utf-8")
        _fsync_file(staged)
        os.replace(staged, marker)
        _fsync_dir(self.root)
        yield
        wanted = set(keep)
        for date in self.partition_dates(ASSISTANT_CHANGES.name):
            if date >= start and date not in wanted:
                self.remove_partition(ASSISTANT_CHANGES.name, date)
        marker.unlink()
        _fsync_dir(self.root)

    def _replaying_since(self) -> dt.date | None:
        """The first date of a history rewrite that began and did not end (its marker), else ``None``."""
        try:
            return dt.date.fromisoformat(
                (self.root / _REPLAYING_FILE).read_text(encoding="utf-8").strip())
        except FileNotFoundError:
            return None
        except ValueError:  # unreadable: take every date as not replayed, the safe side
            return dt.date.min

    def membership_dates(self) -> list[dt.date]:
        """The dates whose membership is stored, rows or none (an empty partition is kept), oldest first."""
        return self.partition_dates(SNAPSHOT_MEMBERS.name)

    def has_table_file(self, table: str) -> bool:
        return self.table_file(table).is_file()

    def dataset(self, spec: TableSpec) -> ds.Dataset | None:
        """Every stored file of a table as one Arrow dataset read with its schema; ``None`` when none is stored."""
        folder = self.parquet_root / spec.name
        if not folder.is_dir():
            return None
        import pyarrow.dataset as ds  # here: it imports pandas, which the read-only commands never need

        manifest = self.manifest(spec.name)
        if not manifest.months:
            if next(folder.rglob("*.parquet"), None) is None:
                return None
            return ds.dataset(folder, schema=spec.schema, format="parquet")
        return ds.dataset([str(p) for p in self.live_files(spec.name, manifest)], schema=spec.schema,
                          format="parquet")

    def manifest(self, table: str) -> Manifest:
        """The table's compacted months (none when it was never compacted)."""
        return read_manifest(self.parquet_root / table)

    def compacted_file(self, table: str, name: str) -> Path:
        return self.parquet_root / table / COMPACTED_DIR / name

    def live_files(self, table: str, manifest: Manifest | None = None) -> list[Path]:
        """Every file a reader of the table reads: each compacted month's, and the others dates' own."""
        manifest = self.manifest(table) if manifest is None else manifest
        covered = manifest.covered()
        files = [self.compacted_file(table, m.file) for _, m in sorted(manifest.months.items())]
        for date in self._folder_dates(table):
            if date not in covered:
                files.extend(self._own_files(table, date))
        return files

    def _covering_file(self, table: str, snapshot_date: dt.date) -> Path | None:
        month = self.manifest(table).covering(snapshot_date)
        return None if month is None else self.compacted_file(table, month.file)

    def date_sources(self, snapshot_date: dt.date) -> dict[str, list[Path] | ds.Dataset]:
        """The committed files of each table stored per date, for one date: what a DuckDB load of it reads (for a
        date of a compacted month, its month's file as a dataset, of which the load reads the date's rows)."""
        return {name: self._date_source(name, snapshot_date) for name in STORED_DATE_TABLES}

    def _date_source(self, table: str, snapshot_date: dt.date) -> list[Path] | ds.Dataset:
        month_file = self._covering_file(table, snapshot_date)
        if month_file is None:
            return self.partition_files(table, snapshot_date)
        import pyarrow.dataset as ds

        return ds.dataset([str(month_file)], schema=STORED_TABLES[table].schema, format="parquet")

    def change_sources(self) -> tuple[dict[dt.date, list[Path] | ds.Dataset], dict[dt.date, str] | None]:
        """The change log's committed files per replayed date, what DuckDB's history load reads; no tokens
        (DuckDB derives them from the files' sizes and times) unless some dates are compacted: then every date's
        token is given (a compacted date's names its month's file, whose name changes with its content)."""
        name = ASSISTANT_CHANGES.name
        dates = self.partition_dates(name)
        manifest = self.manifest(name)
        if not manifest.months:
            return {d: self.partition_files(name, d) for d in dates}, None
        sources: dict[dt.date, list[Path] | ds.Dataset] = {}
        tokens: dict[dt.date, str] = {}
        for date in dates:
            month = manifest.covering(date)
            if month is None:
                files = self.partition_files(name, date)
                sources[date] = files
                tokens[date] = ";".join(f"{p.name}:{p.stat().st_size}:{p.stat().st_mtime_ns}" for p in files)
            else:
                sources[date] = self._date_source(name, date)
                tokens[date] = f"{month.file}:{date.isoformat()}"
        return sources, tokens

    def versions_source(self) -> list[Path]:
        path = self.table_file(ASSISTANT_VERSIONS.name)
        return [path] if path.is_file() else []

    def held_staging(self, snapshot_date: dt.date, run_id: str) -> Path:
        """Where a held run's files are assembled: here, their final folder (see :meth:`keep_held`)."""
        return self.held_dir(snapshot_date, run_id)

    def keep_held(self, local: Path, snapshot_date: dt.date, run_id: str) -> str:
        """Nothing to move: the files were written in place. Returns where they are."""
        return str(local)

    def partition_dir(self, table: str, snapshot_date: dt.date) -> Path:
        return self.parquet_root / table / f"snapshot_date={snapshot_date.isoformat()}"

    def partition_files(self, table: str, snapshot_date: dt.date) -> list[Path]:
        """The committed files holding one partition (empty when the date was never written): for a date of a
        compacted month, its month's file, which holds other dates too (read it filtered by ``snapshot_date``)."""
        month_file = self._covering_file(table, snapshot_date)
        return [month_file] if month_file is not None else self._own_files(table, snapshot_date)

    def _own_files(self, table: str, snapshot_date: dt.date) -> list[Path]:
        folder = self.partition_dir(table, snapshot_date)
        return sorted(folder.glob("*.parquet")) if folder.is_dir() else []

    def dates(self, table: str) -> list[dt.date]:
        """Snapshot dates stored for ``table``, oldest first (for a view over the membership, its dates)."""
        if table in VIEW_TABLES and table != "assistant_history":
            table = SNAPSHOT_MEMBERS.name
        return self.partition_dates(table)

    def partition_dates(self, table: str) -> list[dt.date]:
        """The dates stored under ``parquet/<table>/`` (their folders', and a compacted month's), oldest first."""
        manifest = self.manifest(table)
        return sorted(set(self._folder_dates(table)) | set(manifest.covered()))

    def _folder_dates(self, table: str) -> list[dt.date]:
        """The dates of the partition folders stored under ``parquet/<table>/``, oldest first."""
        folder = self.parquet_root / table
        if not folder.is_dir():
            return []
        found = []
        for child in folder.iterdir():
            name = child.name
            if child.is_dir() and name.startswith("snapshot_date="):
                try:
                    found.append(dt.date.fromisoformat(name.split("=", 1)[1]))
                except ValueError:
                    continue
        return sorted(found)

    def held_dir(self, snapshot_date: dt.date, run_id: str) -> Path:
        """Where a held-back run keeps its answers (one folder per table, as in ``parquet/``)."""
        return self.root / settings.HELD_FOLDER / snapshot_date.isoformat() / run_id

    def writer(self, spec: TableSpec, snapshot_date: dt.date, *,
               metadata: dict[str, str] | None = None) -> PartitionWriter:
        """A writer whose partition appears only when it is committed (``metadata``: kept in the file's schema)."""
        return PartitionWriter(self, spec, snapshot_date, metadata)

    def partition_metadata(self, table: str, snapshot_date: dt.date) -> list[dict[str, str]]:
        """The key-value metadata of each committed file of one partition (a footer read, no data)."""
        month = self.manifest(table).covering(snapshot_date)
        if month is not None:
            return [dict(m) for m in month.meta.get(snapshot_date.isoformat(), [])]
        found = []
        for path in self.partition_files(table, snapshot_date):
            raw = pq.read_schema(path).metadata or {}
            found.append({k.decode(): v.decode() for k, v in raw.items() if not k.startswith(b"ARROW:")})
        return found

    def partition_rows(self, table: str, snapshot_date: dt.date) -> int:
        """Rows of one partition, from the files' footers (a compacted date's, from its month's column)."""
        month_file = self._covering_file(table, snapshot_date)
        if month_file is not None:
            return pq.read_table(month_file, columns=["snapshot_date"],
                                 filters=[("snapshot_date", "=", snapshot_date)]).num_rows
        return sum(pq.read_metadata(path).num_rows for path in self.partition_files(table, snapshot_date))

    def write(self, spec: TableSpec, snapshot_date: dt.date, table: pa.Table) -> Path:
        """Replace one partition with ``table`` in one step."""
        with self.writer(spec, snapshot_date) as out:
            out.write(table)
        return self.partition_dir(spec.name, snapshot_date)

    def read(self, spec: TableSpec, snapshot_date: dt.date, *, columns: list[str] | None = None,
             ids: Iterable[str] | None = None) -> pa.Table:
        """One partition (empty when absent), optionally only some columns and some assistant IDs.

        A table served by a view over the stored tables (``assistants``, ``raw_assistants``, ...) is read
        through that view, over this date's membership and the payloads it names.
        """
        if spec.name in VIEW_TABLES:
            return read_view_date(self, spec, snapshot_date, columns=columns, ids=ids)
        files = self.partition_files(spec.name, snapshot_date)
        schema = spec.schema if columns is None else pa.schema([spec.schema.field(c) for c in columns])
        if not files:
            return schema.empty_table()
        filters: list[tuple[str, str, object]] = []
        if ids is not None:
            wanted = list(ids)
            if not wanted:
                return schema.empty_table()
            filters.append(("assistant_id", "in", wanted))
        if self._covering_file(spec.name, snapshot_date) is not None:  # a month's file: this date's rows
            filters.append(("snapshot_date", "=", snapshot_date))
        return pa.concat_tables(pq.read_table(f, schema=spec.schema, columns=columns, filters=filters or None)
                                for f in files)

    def table_file(self, table: str) -> Path:
        """The single file of a table that is not partitioned by date (the SCD2 history)."""
        return self.parquet_root / table / PART_FILE

    def read_table_file(self, spec: TableSpec, columns: list[str] | None = None) -> pa.Table | None:
        """A whole unpartitioned table (optionally some columns), or ``None`` when it was never written."""
        path = self.table_file(spec.name)
        return pq.read_table(path, schema=spec.schema, columns=columns) if path.is_file() else None

    def write_table_file(self, spec: TableSpec, table: pa.Table) -> Path:
        """Replace an unpartitioned table's file in one rename: readers see the old or the new file."""
        job = StagingJob(self.staging)
        try:
            staged = job.path / PART_FILE
            pq.write_table(table.cast(spec.schema), staged, compression=settings.PARQUET_COMPRESSION)
            _fsync_file(staged)
            target = self.table_file(spec.name)
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(staged, target)
            _fsync_dir(target.parent)
        finally:
            job.close()
        return target

    def remove_partition(self, table: str, snapshot_date: dt.date) -> None:
        """Delete one partition (a date whose snapshot no longer exists), out of its compacted month too."""
        self.uncover(table, snapshot_date)
        shutil.rmtree(self.partition_dir(table, snapshot_date), ignore_errors=True)

    def uncover(self, table: str, snapshot_date: dt.date) -> None:
        """Take ``snapshot_date`` out of its compacted month (if it is in one), so that its own folder (written
        just before, or about to be removed) holds the date again.

        The month's file is rewritten without the date, and the manifest then names the new file and no longer
        covers the date, in one rename: a reader sees the date's old rows (the old month file, kept until the
        vacuum) or its folder's. A kill before that rename leaves the month as it was.
        """
        folder = self.parquet_root / table
        with manifest_lock(folder):
            manifest = self.manifest(table)
            month = manifest.covering(snapshot_date)
            if month is None:
                return
            key = snapshot_date.strftime("%Y-%m")
            rest = tuple(d for d in month.dates if d != snapshot_date)
            if rest:
                name = self.write_month_file(STORED_TABLES[table], key, rest)
                manifest.months[key] = Month(name, rest, month.at,
                                                   {d: v for d, v in month.meta.items()
                                                    if d != snapshot_date.isoformat()})
            else:
                del manifest.months[key]
            manifest.replaced.append((month.file, _now()))
            failpoints.reach("compact.uncover")
            self.write_manifest(table, manifest)

    def write_manifest(self, table: str, manifest: Manifest) -> None:
        """Replace the table's manifest in one rename (durably: the file, then the rename)."""
        folder = self.parquet_root / table
        staged = folder / f"{MANIFEST_FILE}.{uuid.uuid4().hex}.tmp"
        staged.write_text(manifest_text(manifest), encoding="utf-8")
        _fsync_file(staged)
        os.replace(staged, folder / MANIFEST_FILE)
        _fsync_dir(folder)

    def write_month_file(self, spec: TableSpec, key: str, dates: tuple[dt.date, ...]) -> str:
        """Write the rows of ``dates`` (as this store reads them now) into a new file of month ``key``; returns
        its name. Written in staging and renamed into ``_compacted/`` whole; no reader looks at it until a
        manifest names it."""
        name = f"{key}.{uuid.uuid4().hex[:12]}.parquet"
        job = StagingJob(self.staging)
        try:
            staged = job.path / name
            with pq.ParquetWriter(staged, spec.schema, compression=settings.PARQUET_COMPRESSION) as writer:
                for date in sorted(dates):  # one row group or more per date, never two dates in one
                    for batch in self.iter_batches(spec, date):
                        writer.write_batch(batch.cast(spec.schema))
            _fsync_file(staged)
            target = self.parquet_root / spec.name / COMPACTED_DIR
            _mkdirs_durably(target)
            os.replace(staged, target / name)
            _fsync_dir(target)
        finally:
            job.close()
        return name

    def iter_batches(self, spec: TableSpec, snapshot_date: dt.date, batch_size: int = settings.BATCH_SIZE, *,
                     columns: list[str] | None = None) -> Iterator[pa.RecordBatch]:
        """Stream one partition in bounded batches (optionally only some columns).

        Decoded on the calling thread: with Arrow's threads, a consumer slowed by a busy machine let decoded
        row groups pile up ahead of it (the history's peak RSS rose by 11 MB at 4,000 assistants, sometimes).
        """
        schema = spec.schema if columns is None else pa.schema([spec.schema.field(c) for c in columns])
        month_file = self._covering_file(spec.name, snapshot_date)
        if month_file is not None:
            yield from _date_batches(month_file, schema, snapshot_date, batch_size)
            return
        for path in self.partition_files(spec.name, snapshot_date):
            with pq.ParquetFile(path) as parquet:
                have = parquet.schema_arrow
                if set(schema.names) <= set(have.names):
                    yield from parquet.iter_batches(batch_size=batch_size, columns=columns, use_threads=False)
                    continue
                # written before a column existed: read what it has, the rest is null
                for batch in parquet.iter_batches(batch_size=batch_size, columns=present(schema, have),
                                                  use_threads=False):
                    yield conform(batch, schema)

    @contextlib.contextmanager
    def commit_lock(self) -> Iterator[None]:
        """Hold the warehouse's commit lock: a date's payloads and membership are committed by one run at a time.

        Payload partitions are shared by every date that names them, so two runs committing at once
        could each keep a payload the other drops; the lock makes the read-merge-commit one step.
        """
        self.root.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.root / ".commit.lock", os.O_CREAT | os.O_RDWR, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)

    def recover(self) -> list[str]:
        """Undo what a killed run left behind; returns what was done, for the log.

        A partition moved aside but not replaced is moved back; every other
        staging leftover (half-written files) is deleted. Jobs whose lock is still
        held belong to a run that is alive (another date, another process) and
        are left alone.
        """
        actions: list[str] = self._recover_compaction()
        if not self.staging.is_dir():
            return actions
        for job in sorted(p for p in self.staging.iterdir() if p.is_dir()):
            with _claim(self.staging / f"{job.name}{_LOCK_SUFFIX}") as claimed:
                if not claimed:
                    continue
                for old in sorted(job.glob(f"{_OLD_PREFIX}*")):
                    table, _, partition = old.name[len(_OLD_PREFIX):].partition("__")
                    target = self.parquet_root / table / partition
                    if not target.exists():
                        target.parent.mkdir(parents=True, exist_ok=True)
                        os.replace(old, target)
                        actions.append(f"restored {table}/{partition}")
                shutil.rmtree(job, ignore_errors=True)
                actions.append(f"removed staging {job.name}")
        return actions


    def _recover_compaction(self) -> list[str]:
        """Delete what a compaction or an uncover killed before its manifest's rename left: a staged manifest, and
        month files no manifest names (no reader can have opened them). Called under the source's writer lock,
        so no compaction is under way."""
        actions: list[str] = []
        if not self.parquet_root.is_dir():
            return actions
        for folder in sorted(p for p in self.parquet_root.iterdir() if p.is_dir()):
            for staged in folder.glob(f"{MANIFEST_FILE}.*.tmp"):
                staged.unlink(missing_ok=True)
                actions.append(f"removed {folder.name}/{staged.name}")
            compacted = folder / COMPACTED_DIR
            if not compacted.is_dir():
                continue
            named = self.manifest(folder.name).named()
            for path in sorted(compacted.glob("*.parquet")):
                if path.name not in named:
                    path.unlink(missing_ok=True)
                    actions.append(f"removed unnamed {folder.name}/{COMPACTED_DIR}/{path.name}")
        return actions


def _date_batches(path: Path, schema: pa.Schema, snapshot_date: dt.date, batch_size: int
                  ) -> Iterator[pa.RecordBatch]:
    """The rows of one date of a compacted month's file (one row group per date: the others are skipped)."""
    import pyarrow.compute as pc

    with pq.ParquetFile(path) as parquet:
        have = parquet.schema_arrow
        columns = [n for n in schema.names if n in have.names]
        read = [*columns, "snapshot_date"] if "snapshot_date" not in columns else columns
        groups = []
        index = have.get_field_index("snapshot_date")
        column = parquet.schema.column(index) if index >= 0 else None
        for i in range(parquet.num_row_groups):
            stats = parquet.metadata.row_group(i).column(index).statistics if column is not None else None
            if stats is not None and stats.has_min_max and not (stats.min <= snapshot_date <= stats.max):
                continue
            groups.append(i)
        if not groups:
            return
        for batch in parquet.iter_batches(batch_size=batch_size, row_groups=groups, columns=read,
                                          use_threads=False):
            batch = batch.filter(pc.equal(batch.column("snapshot_date"), pa.scalar(snapshot_date, pa.date32())))
            if batch.num_rows:
                yield conform(batch.select(columns), schema)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class CommitOnExit:
    """A staged partition used as a context manager: committed when the block ends, discarded if it raises."""

    def commit(self) -> object:
        raise NotImplementedError

    def discard(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if exc_type is None:
            self.commit()
        else:
            self.discard()


class PartitionWriter(CommitOnExit):
    """Streams batches into a staged file; :meth:`commit` swaps it into place.

    Used as a context manager it commits on success and discards on error.
    An empty partition is still written, with the schema, so "no rows that day"
    is distinguishable from "never ran".
    """

    def __init__(self, store: ParquetStore, spec: TableSpec, snapshot_date: dt.date,
                 metadata: dict[str, str] | None = None) -> None:
        self.store = store
        self.spec = spec
        self.snapshot_date = snapshot_date
        self.rows = 0
        self._job = StagingJob(store.staging)
        self._stage = self._job.path / "new"
        self._stage.mkdir()
        schema = spec.schema.with_metadata(metadata) if metadata else spec.schema
        self._writer = pq.ParquetWriter(self._stage / PART_FILE, schema, compression=settings.PARQUET_COMPRESSION)

    def write(self, table: pa.Table | pa.RecordBatch) -> None:
        if table.num_rows:
            if isinstance(table, pa.RecordBatch):
                table = pa.Table.from_batches([table])
            self._writer.write_table(table.cast(self.spec.schema))
            self.rows += table.num_rows

    def staged_batches(self, batch_size: int = settings.BATCH_SIZE) -> Iterator[pa.RecordBatch]:
        """Finish the staged file and stream it back (to merge it with what another run stored)."""
        self._writer.close()
        with pq.ParquetFile(self._stage / PART_FILE) as parquet:
            yield from parquet.iter_batches(batch_size=batch_size)

    def commit(self) -> Path:
        """Make the staged partition the date's: one rename, so the partition's file name never stops existing.

        A new partition's folder is renamed into place whole. An existing partition keeps its folder and has
        its file replaced by the staged one in one ``rename(2)``: a reader that listed the old file and opens it
        now gets the new one, whole; a reader that had it open goes on reading the old one (the kernel keeps
        it until it is closed). Moving the folder aside first, as this did before, left a moment in which a
        listed file did not exist, and a reader failed with ``FileNotFoundError``.
        """
        self._close_durably()
        failpoints.reach("parquet.staged")
        target = self.store.partition_dir(self.spec.name, self.snapshot_date)
        _mkdirs_durably(target.parent)
        if target.exists():
            failpoints.reach("parquet.swap")
            _replace_files(self._stage, target)
        else:
            os.replace(self._stage, target)
            _fsync_dir(target.parent)
        self._job.close()
        self.store.uncover(self.spec.name, self.snapshot_date)  # a date of a compacted month: its folder's again
        return target

    def hold(self, folder: Path) -> Path:
        """Move the staged partition to ``folder/<table>/`` instead of committing it (a held-back run)."""
        self._close_durably()
        target = folder / self.spec.name
        _mkdirs_durably(folder)
        shutil.rmtree(target, ignore_errors=True)
        os.replace(self._stage, target)
        _fsync_dir(folder)
        self._job.close()
        return target

    def _close_durably(self) -> None:
        """Finish the staged file and make it and its folder durable before any rename makes it visible."""
        self._writer.close()
        _fsync_file(self._stage / PART_FILE)
        _fsync_dir(self._stage)

    def discard(self) -> None:
        self._writer.close()
        self._job.close()


@contextlib.contextmanager
def all_or_none(writers: Iterable[Committable]) -> Iterator[None]:
    """Commit every writer, in the order given, when the block ends; discard them all if it raises.

    Writers already committed when a later commit fails stay committed (each partition is whole either way).
    """
    writers = list(writers)
    try:
        yield
        for writer in writers:
            writer.commit()
    except BaseException:
        for writer in writers:
            writer.discard()
        raise


class Committable(Protocol):
    """A staged partition of either store: committed or discarded whole."""

    def commit(self) -> object: ...

    def discard(self) -> None: ...


_LOCK_SUFFIX = ".lock"


class StagingJob:
    """A folder under ``.staging`` that belongs to a live writer.

    Its lock file (``<job>.lock`` beside it) is created and flock'ed *before*
    the folder exists and released only after the folder is gone. The kernel
    drops the lock when the process dies, SIGKILL included, so
    :meth:`ParquetStore.recover` can tell a dead run's leftovers from the work
    of a run that is still going.
    """

    def __init__(self, staging: Path) -> None:
        staging.mkdir(parents=True, exist_ok=True)
        name = uuid.uuid4().hex
        self._lock_path = staging / f"{name}{_LOCK_SUFFIX}"
        self._fd = os.open(self._lock_path, os.O_CREAT | os.O_RDWR, 0o644)
        fcntl.flock(self._fd, fcntl.LOCK_EX)
        self.path = staging / name
        self.path.mkdir()

    def close(self) -> None:
        if self._fd < 0:
            return
        shutil.rmtree(self.path, ignore_errors=True)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self._lock_path)
        os.close(self._fd)
        self._fd = -1


@contextlib.contextmanager
def _claim(lock_path: Path) -> Iterator[bool]:
    """Hold a staging job's lock if nobody does (yields False when a live writer holds it)."""
    fd = os.open(lock_path, os.O_CREAT | os.O_RDWR, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        yield True
        with contextlib.suppress(FileNotFoundError):
            os.unlink(lock_path)
    finally:
        os.close(fd)


def _replace_files(staged: Path, target: Path) -> None:
    """Replace the files of the partition folder ``target`` with those of ``staged``, each in one rename.

    A partition holds one file, ``part-0.parquet``, so this is one rename; a Parquet file of another name (put
    there by hand, or by another tool) is removed after it, so no reader sees a row twice.
    """
    names = {path.name for path in staged.iterdir()}
    for name in sorted(names):
        os.replace(staged / name, target / name)
    _fsync_dir(target)
    strays = [path for path in target.glob("*.parquet") if path.name not in names]
    for path in strays:
        path.unlink()
    if strays:
        _fsync_dir(target)


def _fsync_file(path: Path) -> None:
    """Flush a file's data to the disk (on macOS with F_FULLFSYNC, which plain fsync does not do)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        _flush(fd)
    finally:
        os.close(fd)


def _fsync_dir(path: Path) -> None:
    """Make the renames inside ``path`` durable: a crash right after a commit must not lose them."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:  # platforms that cannot open a folder (Windows) make renames durable on their own
        return
    try:
        _flush(fd)
    except OSError:
        log.debug("fsync of %s not supported", path)
    finally:
        os.close(fd)


def _flush(fd: int) -> None:
    full = getattr(fcntl, "F_FULLFSYNC", None)
    if full is not None:
        try:
            fcntl.fcntl(fd, full)
            return
        except OSError:  # not every file system supports it; plain fsync is the next best
            pass
    os.fsync(fd)


def _mkdirs_durably(path: Path) -> None:
    """Create ``path`` and its missing parents, each recorded durably in its own parent."""
    missing = []
    while not path.exists():
        missing.append(path)
        path = path.parent
    for folder in reversed(missing):
        folder.mkdir(exist_ok=True)
        _fsync_dir(folder.parent)
