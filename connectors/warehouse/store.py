"""What a warehouse store is: the one interface the folder and the bucket implement, and the commit context both
writers share.

:class:`~assistants_export.connectors.warehouse.parquet_store.ParquetStore` (Parquet files in a local folder) and
:class:`~assistants_export.connectors.warehouse.lake_store.LakeStore` (Delta tables in an object store) are each a
:class:`Store`; :func:`~assistants_export.connectors.warehouse.stores.open_store` returns one, typed as the protocol,
so mypy checks that both keep every method the snapshot, the history and the views call. What only a folder has
(paths of partitions, ``parquet_root``) is reached after an ``isinstance`` check. This module sits below both
stores and imports neither: the views over the stored tables (:mod:`.stored`) and the stores themselves import it.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Protocol, Self

import pyarrow as pa
import pyarrow.parquet as pq

from assistants_export.connectors.core import settings
from assistants_export.connectors.core.schemas import TableSpec

if TYPE_CHECKING:  # pyarrow.dataset imports pandas: the read-only commands start without them
    import pyarrow.dataset as ds


class Committable(Protocol):
    """A staged partition of either store: committed or discarded whole."""

    def commit(self) -> object: ...

    def discard(self) -> None: ...


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


class StagedFile(CommitOnExit):
    """A partition staged in one local Parquet file, as both stores' writers stage it: written a batch at a time,
    read back to be merged with what another run stored. The subclass opens ``_writer`` on ``_staged_path``."""

    spec: TableSpec
    rows: int
    _staged_path: Path
    _writer: pq.ParquetWriter | None

    def write(self, table: pa.Table | pa.RecordBatch) -> None:
        if table.num_rows:
            if isinstance(table, pa.RecordBatch):
                table = pa.Table.from_batches([table])
            assert self._writer is not None, "a staged partition was written after it was finished"
            self._writer.write_table(table.cast(self.spec.schema))
            self.rows += table.num_rows

    def _finish(self) -> None:
        """Close the staged file (once; later calls do nothing)."""
        if self._writer is not None:
            self._writer.close()
            self._writer = None

    def staged_batches(self, batch_size: int = settings.BATCH_SIZE) -> Iterator[pa.RecordBatch]:
        """Finish the staged file and stream it back (to merge it with what another run stored)."""
        self._finish()
        with pq.ParquetFile(self._staged_path) as parquet:
            yield from parquet.iter_batches(batch_size=batch_size)


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


class Writer(Committable, Protocol):
    """A partition being written: batches streamed into a staged file that appears whole when committed."""

    spec: TableSpec
    snapshot_date: dt.date
    rows: int

    def write(self, table: pa.Table | pa.RecordBatch) -> None: ...

    def staged_batches(self, batch_size: int = settings.BATCH_SIZE) -> Iterator[pa.RecordBatch]: ...

    def hold(self, folder: Path) -> Path: ...

    def __enter__(self) -> Self: ...

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None: ...


class Store(Protocol):
    """The stored tables of one source of a warehouse, wherever they are kept.

    A table stored per date is read and written a partition (a date) at a time; ``assistant_versions`` is one
    unpartitioned table replaced whole. A table served by a view (``assistants``, ``raw_assistants``...) is read
    through that view (:class:`~assistants_export.connectors.warehouse.stored.ServesViews`, which both stores
    inherit).
    """

    @property
    def root(self) -> Path | str:
        """What errors and logs name: the folder, or the URI (which never holds a credential)."""

    @property
    def is_lake(self) -> bool:
        """Whether the tables are Delta tables in an object store (an empty date is then absent, not empty)."""

    def exists(self) -> bool: ...

    def dataset(self, spec: TableSpec) -> ds.Dataset | None: ...

    def dates(self, table: str) -> list[dt.date]: ...

    def partition_dates(self, table: str) -> list[dt.date]: ...

    def membership_dates(self) -> list[dt.date]: ...

    def replayed_dates(self) -> list[dt.date]: ...

    def has_partition(self, table: str, snapshot_date: dt.date) -> bool: ...

    def partition_rows(self, table: str, snapshot_date: dt.date) -> int: ...

    def partition_metadata(self, table: str, snapshot_date: dt.date) -> list[dict[str, str]]: ...

    def read(self, spec: TableSpec, snapshot_date: dt.date, *, columns: list[str] | None = None,
             ids: Iterable[str] | None = None) -> pa.Table: ...

    def read_stored(self, spec: TableSpec, snapshot_date: dt.date, *, columns: list[str] | None = None,
                    ids: Iterable[str] | None = None) -> pa.Table: ...

    def iter_batches(self, spec: TableSpec, snapshot_date: dt.date, batch_size: int = settings.BATCH_SIZE, *,
                     columns: list[str] | None = None) -> Iterator[pa.RecordBatch]: ...

    def has_table_file(self, table: str) -> bool: ...

    def read_table_file(self, spec: TableSpec, columns: list[str] | None = None) -> pa.Table | None: ...

    def date_sources(self, snapshot_date: dt.date) -> Mapping[str, ds.Dataset | list[Path]]: ...

    def change_sources(self) -> tuple[Mapping[dt.date, ds.Dataset | list[Path]], Mapping[dt.date, str] | None]: ...

    def versions_source(self) -> ds.Dataset | list[Path]: ...

    def writer(self, spec: TableSpec, snapshot_date: dt.date, *,
               metadata: dict[str, str] | None = None) -> Writer: ...

    def write(self, spec: TableSpec, snapshot_date: dt.date, table: pa.Table) -> Path | str: ...

    def write_table_file(self, spec: TableSpec, table: pa.Table) -> Path | str: ...

    def remove_partition(self, table: str, snapshot_date: dt.date) -> None: ...

    def replaying(self, start: dt.date, keep: Iterable[dt.date]) -> contextlib.AbstractContextManager[None]: ...

    def commit_lock(self) -> contextlib.AbstractContextManager[None]: ...

    def recover(self) -> list[str]: ...

    def held_dir(self, snapshot_date: dt.date, run_id: str) -> Path | str: ...

    def held_staging(self, snapshot_date: dt.date, run_id: str) -> Path: ...

    def keep_held(self, local: Path, snapshot_date: dt.date, run_id: str) -> str: ...
