"""Parquet datasets, one partition per table and snapshot date, replaced atomically.

Layout::

    <warehouse>/parquet/<table>/snapshot_date=YYYY-MM-DD/part-0.parquet
    <warehouse>/.staging/                      (work in progress; never read)

A partition is written whole into ``.staging`` and then renamed into place, so a
reader sees the old partition or the new one, never half of one, and re-running
a date replaces it instead of adding to it. The swap is two renames (old out,
new in); if the process dies between them, :meth:`ParquetStore.recover` puts the
old partition back on the next run. Readers glob ``parquet/<table>/*/*.parquet``;
``snapshot_date`` is also stored inside each file, so no hive partitioning is needed.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType

import pyarrow as pa
import pyarrow.parquet as pq

from connectors.openai_assistants import settings
from connectors.openai_assistants.schemas import TableSpec

log = logging.getLogger(__name__)

PART_FILE = "part-0.parquet"
_OLD_PREFIX = "old__"


class ParquetStore:
    """Reads and writes the Parquet side of a warehouse folder."""

    def __init__(self, warehouse: str | Path) -> None:
        self.root = Path(warehouse)
        self.parquet_root = self.root / "parquet"
        self.staging = self.root / ".staging"

    def partition_dir(self, table: str, snapshot_date: dt.date) -> Path:
        return self.parquet_root / table / f"snapshot_date={snapshot_date.isoformat()}"

    def partition_files(self, table: str, snapshot_date: dt.date) -> list[Path]:
        """The committed files of one partition (empty when the date was never written)."""
        folder = self.partition_dir(table, snapshot_date)
        return sorted(folder.glob("*.parquet")) if folder.is_dir() else []

    def table_glob(self, table: str) -> str:
        """A glob over every committed partition of ``table``, for DuckDB's ``read_parquet``."""
        return str(self.parquet_root / table / "*" / "*.parquet")

    def dates(self, table: str) -> list[dt.date]:
        """Snapshot dates stored for ``table``, oldest first."""
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

    def writer(self, spec: TableSpec, snapshot_date: dt.date) -> PartitionWriter:
        """A writer whose partition appears only when it is committed."""
        return PartitionWriter(self, spec, snapshot_date)

    def write(self, spec: TableSpec, snapshot_date: dt.date, table: pa.Table) -> Path:
        """Replace one partition with ``table`` in one step."""
        with self.writer(spec, snapshot_date) as out:
            out.write(table)
        return self.partition_dir(spec.name, snapshot_date)

    def read(self, spec: TableSpec, snapshot_date: dt.date) -> pa.Table:
        """One partition as a table with the spec's schema (empty when absent)."""
        files = self.partition_files(spec.name, snapshot_date)
        if not files:
            return spec.empty()
        return pa.concat_tables(pq.read_table(f, schema=spec.schema) for f in files)

    def iter_batches(self, spec: TableSpec, snapshot_date: dt.date,
                     batch_size: int = settings.BATCH_SIZE) -> Iterator[pa.RecordBatch]:
        """Stream one partition in bounded batches."""
        for path in self.partition_files(spec.name, snapshot_date):
            with pq.ParquetFile(path) as parquet:
                yield from parquet.iter_batches(batch_size=batch_size)

    def recover(self) -> list[str]:
        """Undo what a killed run left behind; returns what was done, for the log.

        A partition moved aside but not replaced is moved back; every other
        staging leftover (half-written files) is deleted.
        """
        actions: list[str] = []
        if not self.staging.is_dir():
            return actions
        for job in sorted(self.staging.iterdir()):
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


class PartitionWriter:
    """Streams batches into a staged file; :meth:`commit` swaps it into place.

    Used as a context manager it commits on success and discards on error.
    An empty partition is still written, with the schema, so "no rows that day"
    is distinguishable from "never ran".
    """

    def __init__(self, store: ParquetStore, spec: TableSpec, snapshot_date: dt.date) -> None:
        self.store = store
        self.spec = spec
        self.snapshot_date = snapshot_date
        self.rows = 0
        self._job = store.staging / uuid.uuid4().hex
        self._stage = self._job / "new"
        self._stage.mkdir(parents=True)
        self._writer = pq.ParquetWriter(self._stage / PART_FILE, spec.schema,
                                        compression=settings.PARQUET_COMPRESSION)

    def write(self, table: pa.Table | pa.RecordBatch) -> None:
        if table.num_rows:
            if isinstance(table, pa.RecordBatch):
                table = pa.Table.from_batches([table])
            self._writer.write_table(table.cast(self.spec.schema))
            self.rows += table.num_rows

    def commit(self) -> Path:
        self._writer.close()
        target = self.store.partition_dir(self.spec.name, self.snapshot_date)
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.exists():
            aside = self._job / f"{_OLD_PREFIX}{self.spec.name}__{target.name}"
            os.replace(target, aside)
        os.replace(self._stage, target)
        _fsync_dir(target.parent)
        shutil.rmtree(self._job, ignore_errors=True)
        return target

    def discard(self) -> None:
        self._writer.close()
        shutil.rmtree(self._job, ignore_errors=True)

    def __enter__(self) -> PartitionWriter:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if exc_type is None:
            self.commit()
        else:
            self.discard()


def _fsync_dir(path: Path) -> None:
    """Make the rename durable: a crash right after commit must not lose the partition."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        log.debug("fsync of %s not supported", path)
    finally:
        os.close(fd)
