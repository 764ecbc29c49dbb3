"""The warehouse on object storage: the same tables as :class:`ParquetStore`, each a Delta Lake table.

Layout under ``s3://bucket/prefix`` (or ``gs://``, ``az://``)::

    delta/<table>/                     one Delta table per stored table, partitioned by snapshot_date
    delta/assistant_versions/          the SCD2 versions, one unpartitioned Delta table replaced whole
    held/<date>/<run_id>/<table>/part-0.parquet   answers of runs a gate held back (plain files)

The store has the methods of :class:`~assistants_export.connectors.warehouse.parquet_store.ParquetStore` that the
snapshot, the
history and the views use, with the same promises kept another way:

* a partition is replaced by one Delta log entry
(:class:`~assistants_export.connectors.warehouse.objectstore.DeltaDateTable`),
  so a reader sees the old date or the new one; the staged rows are written first under unique names that
  no reader looks at until that entry names them;
* :meth:`commit_lock` cannot be a lock (there is none shared between containers). It is an optimistic
  transaction: it notes each table's version when it is first read or written inside the block, reads
  at that version, and commits with it as the read version, so a writer that replaced the same date of the
  same table in between makes this commit fail with :class:`ConcurrentCommitError` instead of the two
  interleaving. The loser's run fails in one line; running it again is safe;
* nothing needs recovering after a crash: files that no log entry names are never read.

One difference shows: Delta lists no partition for a date whose commit held no rows, so an empty date of a
table is absent rather than empty. Whether a date ran is taken from ``snapshot_runs``, which always has a row.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import shutil
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.fs as pafs
import pyarrow.parquet as pq

from assistants_export.connectors.core import failpoints, settings
from assistants_export.connectors.core.errors import WarehouseWriteError
from assistants_export.connectors.core.schemas import (
    ASSISTANT_CHANGES,
    ASSISTANT_VERSIONS,
    SNAPSHOT_MEMBERS,
    SNAPSHOT_RUNS,
    STORED_DATE_TABLES,
    STORED_TABLES,
    VIEW_TABLES,
    TableSpec,
    conform,
    present,
)

from .compaction import TableCompaction
from .location import WarehouseLocation
from .objectstore import ConcurrentCommitError, DeltaDateTable, DeltaWholeTable, open_filesystem
from .parquet_store import CommitOnExit
from .stored import read_view_date
from .writer_lock import check_not_lost

if TYPE_CHECKING:  # pyarrow.dataset imports pandas: the read-only commands start without them
    import pyarrow.dataset as ds

log = logging.getLogger(__name__)

__all__ = ["ConcurrentCommitError", "LakePartitionWriter", "LakeStore"]

PART_FILE = "part-0.parquet"
REPLAYED = "history_replayed"
"""A Delta table of the dates the history has replayed, a row each (``delta/history_replayed/``).

A folder's change-log partition marks its date replayed even when empty; Delta keeps no empty partition, and
most nights change nothing, so without this mark every night would replay from the first quiet one.
"""
REPLAYED_SCHEMA = pa.schema([pa.field("snapshot_date", pa.date32(), nullable=False),
                             pa.field("replayed_at", pa.timestamp("us", tz="UTC"), nullable=False)])


class LakeStore:
    """Reads and writes a warehouse kept as Delta tables in an object store."""

    is_lake = True

    def __init__(self, location: WarehouseLocation, environ: Mapping[str, str] | None = None) -> None:
        self.location = location
        self.root = location.uri
        """What errors and logs name: the URI, which never holds a credential (see :mod:`.location`)."""
        self._environ = environ
        self._tables: dict[str, DeltaDateTable] = {}
        self._whole: dict[str, DeltaWholeTable] = {}
        self._pinned: dict[str, int | None] | None = None
        """Inside :meth:`commit_lock`: the version each table was first read or written at."""

    def __repr__(self) -> str:
        return f"LakeStore({self.root!r})"

    # --- the Delta tables ---------------------------------------------------------------

    def date_table(self, name: str) -> DeltaDateTable:
        if name not in self._tables:
            schema = REPLAYED_SCHEMA if name == REPLAYED else STORED_TABLES[name].schema
            self._tables[name] = DeltaDateTable(self.location, name, schema, self._environ)
        return self._tables[name]

    def replayed_dates(self) -> list[dt.date]:
        """The dates the history has replayed (their change log is written, rows or none)."""
        return self.date_table(REPLAYED).dates()

    def mark_replayed(self, snapshot_date: dt.date) -> None:
        """Record that the date's change log is complete (committed after it: the mark is the commit point)."""
        now = pa.scalar(dt.datetime.now(dt.UTC), pa.timestamp("us", tz="UTC"))
        self.date_table(REPLAYED).commit_date(snapshot_date, pa.table(
            {"snapshot_date": pa.array([snapshot_date], pa.date32()), "replayed_at": pa.array([now])},
            schema=REPLAYED_SCHEMA))

    def whole_table(self, name: str) -> DeltaWholeTable:
        if name not in self._whole:
            self._whole[name] = DeltaWholeTable(self.location, name, STORED_TABLES[name].schema, self._environ)
        return self._whole[name]

    def _version(self, name: str) -> int | None:
        """The version to read ``name`` at: pinned inside a transaction, else the latest."""
        if self._pinned is None:
            return None
        if name not in self._pinned:
            self._pinned[name] = self.date_table(name).version()
        return self._pinned[name]

    def exists(self) -> bool:
        """Whether a run has stored a snapshot here (a writer creates the tables empty before its first commit)."""
        return bool(self.date_table(SNAPSHOT_RUNS.name).dates())

    # --- reading ------------------------------------------------------------------------

    def dataset(self, spec: TableSpec) -> ds.Dataset | None:
        """Every committed row of a stored table as an Arrow dataset (``None`` before its first commit)."""
        if spec.name in STORED_DATE_TABLES or spec.name == ASSISTANT_CHANGES.name:
            name = spec.name
            return self.date_table(name).dataset(version=self._version(name))
        return self.whole_table(spec.name).dataset()

    def dates(self, table: str) -> list[dt.date]:
        """Snapshot dates stored for ``table`` (for a view over the membership, its dates)."""
        if table in VIEW_TABLES and table != "assistant_history":
            table = SNAPSHOT_MEMBERS.name
        return self.partition_dates(table)

    def partition_dates(self, table: str) -> list[dt.date]:
        """The dates with rows in ``table``, oldest first (read at the pinned version inside a transaction)."""
        version = self._version(table)
        if version is None and self._pinned is not None:
            return []
        return self.date_table(table).dates(version=version)

    def membership_dates(self) -> list[dt.date]:
        """The dates whose membership is stored, rows or none, oldest first.

        Delta lists no partition for a membership without rows (every ID answered 404); a run is committed
        after its membership, so a date with a recorded run has its membership too.
        """
        return sorted({*self.partition_dates(SNAPSHOT_MEMBERS.name), *self.partition_dates(SNAPSHOT_RUNS.name)})

    def has_partition(self, table: str, snapshot_date: dt.date) -> bool:
        """Whether the date has rows in ``table`` (Delta keeps no empty partitions: see the module docstring)."""
        return snapshot_date in self.partition_dates(table)

    def partition_rows(self, table: str, snapshot_date: dt.date) -> int:
        dataset = self.dataset(STORED_TABLES[table])
        if dataset is None:
            return 0
        return dataset.count_rows(filter=_on(snapshot_date))

    def partition_metadata(self, table: str, snapshot_date: dt.date) -> list[dict[str, str]]:
        """The metadata the date's latest commit was given, as a one-element list (empty when not found).

        Kept in the Delta log entry (Delta's writer does not keep Parquet key-value metadata); only the table's
        recent entries are searched, so for an old date this may say nothing, and a flatten then rebuilds.
        """
        found = self.date_table(table).date_metadata(snapshot_date)
        return [found] if found else []

    def read(self, spec: TableSpec, snapshot_date: dt.date, *, columns: list[str] | None = None,
             ids: Iterable[str] | None = None) -> pa.Table:
        """One partition (empty when absent), optionally only some columns and some assistant IDs."""
        if spec.name in VIEW_TABLES:
            return read_view_date(self, spec, snapshot_date, columns=columns, ids=ids)
        schema = spec.schema if columns is None else pa.schema([spec.schema.field(c) for c in columns])
        wanted = None if ids is None else list(ids)
        dataset = self.dataset(spec)
        if dataset is None or (wanted is not None and not wanted):
            return schema.empty_table()
        where = _on(snapshot_date)
        if wanted is not None:
            where = where & pc.field("assistant_id").isin(pa.array(wanted, pa.string()))
        have = set(dataset.schema.names)
        table = dataset.to_table(columns=[name for name in schema.names if name in have], filter=where)
        # A column a newer version added that no writer has added to the table yet reads as null.
        columns = [table.column(f.name) if f.name in have else pa.nulls(table.num_rows, f.type) for f in schema]
        return pa.Table.from_arrays(columns, names=schema.names).cast(schema)

    def iter_batches(self, spec: TableSpec, snapshot_date: dt.date, batch_size: int = settings.BATCH_SIZE, *,
                     columns: list[str] | None = None) -> Iterator[pa.RecordBatch]:
        """Stream one partition in bounded batches (optionally only some columns)."""
        dataset = self.dataset(spec)
        if dataset is None:
            return
        schema = spec.schema if columns is None else pa.schema([spec.schema.field(c) for c in columns])
        scanner = dataset.scanner(columns=present(schema, dataset.schema), filter=_on(snapshot_date),
                                  batch_size=batch_size, use_threads=False, batch_readahead=1, fragment_readahead=1)
        for batch in scanner.to_batches():
            if batch.num_rows:
                yield conform(batch, schema)

    def read_table_file(self, spec: TableSpec, columns: list[str] | None = None) -> pa.Table | None:
        """A whole unpartitioned table (the SCD2 versions), or ``None`` when it was never written."""
        return self.whole_table(spec.name).read(columns)

    def has_table_file(self, table: str) -> bool:
        return self.whole_table(table).dataset() is not None

    # --- what DuckDB loads ---------------------------------------------------------------

    def date_sources(self, snapshot_date: dt.date) -> dict[str, ds.Dataset | list[Path]]:
        """Each table stored per date, as what a DuckDB load of one date reads: only that date's files.

        Filtered here rather than left to the load's ``WHERE``: a whole table handed to DuckDB was read whole,
        so the load took longer with every night stored.
        """
        found: dict[str, ds.Dataset | list[Path]] = {}
        for name, spec in STORED_DATE_TABLES.items():
            dataset = self.dataset(spec)
            found[name] = dataset.filter(_on(snapshot_date)) if dataset is not None else []
        return found

    def change_sources(self) -> tuple[dict[dt.date, ds.Dataset | list[Path]], dict[dt.date, str]]:
        """The change log per replayed date, and a token per date that changes whenever that date is rewritten."""
        table = self.date_table(ASSISTANT_CHANGES.name)
        dataset = table.dataset()
        if dataset is None:
            return {}, {}
        import pyarrow.dataset as ds  # here: it imports pandas, which the read-only commands never need

        tokens: dict[dt.date, list[str]] = {}
        for fragment in dataset.get_fragments():
            date = ds.get_partition_keys(fragment.partition_expression).get("snapshot_date")
            if date is not None:
                tokens.setdefault(date if isinstance(date, dt.date) else dt.date.fromisoformat(str(date)),
                                  []).append(fragment.path.rsplit("/", 1)[-1])
        return ({d: dataset.filter(_on(d)) for d in tokens},
                {d: ";".join(sorted(names)) for d, names in tokens.items()})

    def versions_source(self) -> ds.Dataset | list[Path]:
        dataset = self.whole_table(ASSISTANT_VERSIONS.name).dataset()
        return dataset if dataset is not None else []

    # --- writing ------------------------------------------------------------------------

    def writer(self, spec: TableSpec, snapshot_date: dt.date, *,
               metadata: dict[str, str] | None = None) -> LakePartitionWriter:
        """A writer whose partition appears only when it is committed (``metadata``: kept in its log entry)."""
        return LakePartitionWriter(self, spec, snapshot_date, metadata)

    def write(self, spec: TableSpec, snapshot_date: dt.date, table: pa.Table) -> str:
        """Replace one partition with ``table`` in one log entry."""
        self._commit(spec.name, snapshot_date, table)
        return self.date_table(spec.name).uri

    def write_table_file(self, spec: TableSpec, table: pa.Table) -> str:
        """Replace an unpartitioned table whole, in one log entry."""
        self.whole_table(spec.name).replace(table)
        return self.whole_table(spec.name).uri

    @contextlib.contextmanager
    def replaying(self, start: dt.date, keep: Iterable[dt.date]) -> Iterator[None]:
        """Rewrite the history from ``start`` on inside the block: every change-log date from ``start`` on is
        unmarked first (its replayed mark and its rows removed, each in one log entry), so a run killed inside
        the block leaves them to the next one. A reader of the change log reads one version of the table, so
        it never misses a file (``keep``: what the folder's store keeps in place; here the block rewrites it)."""
        for date in sorted(set(self.dates(ASSISTANT_CHANGES.name)) | set(self.replayed_dates())):
            if date >= start:
                self.remove_partition(ASSISTANT_CHANGES.name, date)
        yield

    def remove_partition(self, table: str, snapshot_date: dt.date) -> None:
        """Delete one partition (commit the date with no rows); for the change log, its replayed mark first."""
        if table == ASSISTANT_CHANGES.name:
            self.date_table(REPLAYED).commit_date(snapshot_date, REPLAYED_SCHEMA.empty_table())
        self._commit(table, snapshot_date, STORED_TABLES[table].empty())

    def _commit(self, name: str, snapshot_date: dt.date, data: pa.Table | pa.RecordBatchReader,
                metadata: dict[str, str] | None = None) -> None:
        check_not_lost(self.root)  # a run whose writer lease was taken over commits nothing more
        version = self._version(name)
        self.date_table(name).commit_date(snapshot_date, data, read_version=version, metadata=metadata)
        if self._pinned is not None:  # this transaction's own commit is what it reads from now on
            self._pinned[name] = self.date_table(name).version()

    @contextlib.contextmanager
    def commit_lock(self) -> Iterator[None]:
        """An optimistic transaction over every table stored per date (see the module docstring).

        Every such table is created if missing and its version pinned on entry, so a writer that commits
        any of them for the same date after that makes this transaction's commit of it fail.
        """
        if self._pinned is not None:
            yield
            return
        self._pinned = {name: self.date_table(name).create() for name in STORED_DATE_TABLES}
        try:
            yield
        finally:
            self._pinned = None

    def vacuum(self, retain: dt.timedelta, *, dry_run: bool = False) -> dict[str, int]:
        """Delete every table's files that no version younger than ``retain`` reads; files per table.

        A date replaced by a later run, or a writer that died before its commit, leaves files that readers of
        the latest version never look at; they cost storage until vacuumed.
        """
        done = {}
        for name in (*STORED_DATE_TABLES, ASSISTANT_CHANGES.name, REPLAYED):
            failpoints.reach("vacuum.delete")
            done[name] = len(self.date_table(name).vacuum(retain, dry_run=dry_run))
        done[ASSISTANT_VERSIONS.name] = len(self.whole_table(ASSISTANT_VERSIONS.name).vacuum(retain, dry_run=dry_run))
        lease = DeltaWholeTable(self.location, settings.WRITER_LEASE_TABLE, pa.schema([]), self._environ)
        done[settings.WRITER_LEASE_TABLE] = len(lease.vacuum(retain, dry_run=dry_run))  # the writer lease's old rows
        return done

    def compact(self, *, dry_run: bool = False) -> list[TableCompaction]:
        """Compact every Delta table of the source (``optimize.compact`` and a checkpoint); one result per table.

        A Delta table is partitioned by date, so its files are at least one per date; compaction merges the files
        a partition gathered (a date written in parts, or appended to) and keeps the log short.
        """
        done = []
        tables: list[DeltaDateTable | DeltaWholeTable] = [
            *(self.date_table(name) for name in (*STORED_DATE_TABLES, ASSISTANT_CHANGES.name, REPLAYED)),
            self.whole_table(ASSISTANT_VERSIONS.name)]
        for table in tables:
            files_before, bytes_before, files_after, bytes_after = table.compact(dry_run=dry_run)
            if files_before or files_after:
                done.append(TableCompaction(table.name, files_before, files_after, bytes_before, bytes_after))
            failpoints.reach("lake.compact")
        return done

    def recover(self) -> list[str]:
        """Nothing to undo: a dead writer's files are named by no log entry, so no reader ever sees them."""
        return []

    # --- held-back runs -----------------------------------------------------------------

    def held_dir(self, snapshot_date: dt.date, run_id: str) -> str:
        """Where a held-back run keeps its answers, in the bucket."""
        return self.location.child(settings.HELD_FOLDER, snapshot_date.isoformat(), run_id)

    def held_staging(self, snapshot_date: dt.date, run_id: str) -> Path:
        """A local folder to assemble a held run's files in before :meth:`keep_held` uploads them."""
        return Path(tempfile.mkdtemp(prefix="assistants-held-"))

    def keep_held(self, local: Path, snapshot_date: dt.date, run_id: str) -> str:
        """Upload a held run's folder to ``held/<date>/<run_id>/`` and remove the local copy; returns where."""
        filesystem, root = open_filesystem(self.location, self._environ)
        target = f"{root}/{settings.HELD_FOLDER}/{snapshot_date.isoformat()}/{run_id}"
        try:
            pafs.copy_files(str(local), target, source_filesystem=pafs.LocalFileSystem(),
                            destination_filesystem=filesystem)
        except OSError as exc:
            raise WarehouseWriteError(f"{self.held_dir(snapshot_date, run_id)}: cannot keep the held run ({exc})") \
                from None
        finally:
            shutil.rmtree(local, ignore_errors=True)
        return self.held_dir(snapshot_date, run_id)


class LakePartitionWriter(CommitOnExit):
    """Streams batches into a local staged file; :meth:`commit` publishes it as the date's partition.

    The staged file is on the local disk (a temporary folder), so a date of any size is written in bounded
    memory and streamed to the object store by the commit.
    """

    def __init__(self, store: LakeStore, spec: TableSpec, snapshot_date: dt.date,
                 metadata: dict[str, str] | None = None) -> None:
        self.store = store
        self.spec = spec
        self.snapshot_date = snapshot_date
        self.metadata = metadata
        self.rows = 0
        self._folder = Path(tempfile.mkdtemp(prefix="assistants-stage-"))
        self._path = self._folder / PART_FILE
        self._writer: pq.ParquetWriter | None = pq.ParquetWriter(self._path, spec.schema,
                                                                  compression=settings.PARQUET_COMPRESSION)

    def write(self, table: pa.Table | pa.RecordBatch) -> None:
        if table.num_rows:
            if isinstance(table, pa.RecordBatch):
                table = pa.Table.from_batches([table])
            assert self._writer is not None
            self._writer.write_table(table.cast(self.spec.schema))
            self.rows += table.num_rows

    def _close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None

    def staged_batches(self, batch_size: int = settings.BATCH_SIZE) -> Iterator[pa.RecordBatch]:
        """Finish the staged file and stream it back (to merge it with what another run stored)."""
        self._close()
        with pq.ParquetFile(self._path) as parquet:
            yield from parquet.iter_batches(batch_size=batch_size)

    def commit(self) -> str:
        self._close()
        failpoints.reach("parquet.staged")
        with pq.ParquetFile(self._path) as parquet:
            reader = pa.RecordBatchReader.from_batches(
                self.spec.schema, (b.cast(self.spec.schema) for b in parquet.iter_batches(settings.BATCH_SIZE)))
            self.store._commit(self.spec.name, self.snapshot_date, reader, self.metadata)
        if self.spec.name == ASSISTANT_CHANGES.name:
            self.store.mark_replayed(self.snapshot_date)
        self.discard()
        return self.store.date_table(self.spec.name).uri

    def hold(self, folder: Path) -> Path:
        """Move the staged file to ``folder/<table>/`` (a local folder :meth:`LakeStore.keep_held` uploads)."""
        self._close()
        target = folder / self.spec.name
        target.mkdir(parents=True, exist_ok=True)
        shutil.move(str(self._path), target / PART_FILE)
        self.discard()
        return target

    def discard(self) -> None:
        self._close()
        shutil.rmtree(self._folder, ignore_errors=True)


def _on(snapshot_date: dt.date) -> ds.Expression:
    return pc.field("snapshot_date") == pa.scalar(snapshot_date, pa.date32())
