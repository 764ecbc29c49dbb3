"""A warehouse anywhere: a local folder or an object store, with per-date commits that need no rename.

Object stores have no rename, so the local store's swap (stage, ``os.replace``, flock) cannot work there.
Each table is instead a Delta Lake table (``deltalake``), partitioned by ``snapshot_date``:

* a date is committed by writing its Parquet files under new, unique names and then publishing one log
  entry, ``_delta_log/<version>.json``, with a conditional create (``If-None-Match: *`` on S3, the
  equivalent on GCS and Azure, a no-replace link on a local disk). The entry that names the new files and
  removes the date's old ones is the commit: before it, readers see the old date; after it, the new one;
* two writers that read the same version and both replace a date race for the next entry; the store lets
  exactly one create it, and the loser's commit fails (:class:`ConcurrentCommitError`) instead of
  interleaving. Writers of different dates do not conflict: the later one retries on the new version;
* files that no log entry names (a writer that died before its commit) are never read.

Credentials are never read here: ``deltalake`` and ``pyarrow`` take them from the standard provider chain
(``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY``, ``AWS_SESSION_TOKEN``, profiles, instance roles; the
Google and Azure equivalents). This module passes only what is not secret: the endpoint, the region, and
whether the endpoint is plain HTTP. So no object here can show a secret in its ``repr``, a log or an error.
The one exception is Azure's account key for pyarrow (which, unlike deltalake, does not read it from the
environment): :func:`open_filesystem` hands ``AZURE_STORAGE_ACCOUNT_KEY`` to pyarrow's file system and keeps
nothing of it.

See ``docs/object-storage.md`` for the measurements behind this choice.
"""

from __future__ import annotations

import datetime as dt
import os
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.fs as pafs
from deltalake import CommitProperties, DeltaTable, Schema, WriterProperties, write_deltalake
from deltalake.exceptions import CommitFailedError, DeltaError, TableNotFoundError

from assistants_export.connectors.core import settings
from assistants_export.connectors.core.errors import ConfigError, WarehouseUnreachableError, WarehouseWriteError

from .location import OBJECT_STORE_SCHEMES, WarehouseLocation, parse_warehouse_uri

if TYPE_CHECKING:  # pyarrow.dataset imports pandas: the read-only commands start without them
    import pyarrow.dataset as ds

__all__ = ["OBJECT_STORE_SCHEMES", "ConcurrentCommitError", "DeltaDateTable", "DeltaWholeTable", "StorageOptions",
           "WarehouseLocation", "open_filesystem", "parse_warehouse_uri"]

PARTITION_COLUMN = "snapshot_date"
METADATA_PREFIX = "assistants_export."
"""Keys this project keeps in a log entry's commit information (custom metadata)."""
DATE_KEY = METADATA_PREFIX + "snapshot_date"
HISTORY_DEPTH = 50
"""How many of a table's latest log entries :meth:`DeltaDateTable.date_metadata` reads."""
WRITER = WriterProperties(compression=settings.PARQUET_COMPRESSION.upper())  # type: ignore[arg-type]
"""The folder's compression (zstd): deltalake's default, snappy, made a bucket's first night 2.2 times larger."""
TABLE_CONFIGURATION = {"delta.checkpointInterval": "10"}
"""Every table's settings, given when it is created. A reader opens a table from its last checkpoint plus every
log entry after it; Delta's default of a checkpoint per 100 commits made each open cost more night after night
(a nightly run on a bucket went from 8.6 to 17.1 s over ten nights at N = 2,000, `benchmarks/growth.py
--object-store`). Ten bounds it: a checkpoint is a small Parquet file written every ten commits."""


class ConcurrentCommitError(WarehouseWriteError):
    """Another writer committed the same date of the same table first; this writer's files are not published."""


@dataclass(frozen=True)
class StorageOptions:
    """What ``deltalake`` is told besides the provider chain: never a secret (see the module docstring)."""

    options: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_environment(cls, location: WarehouseLocation,
                         environ: Mapping[str, str] | None = None) -> StorageOptions:
        if environ is None:
            drop_empty_cloud_variables()
        env = os.environ if environ is None else environ
        options: dict[str, str] = {}
        if location.scheme == "s3":
            endpoint = env.get("AWS_ENDPOINT_URL_S3") or env.get("AWS_ENDPOINT_URL")
            if endpoint:
                options["AWS_ENDPOINT_URL"] = endpoint
                if endpoint.lower().startswith("http://"):
                    options["AWS_ALLOW_HTTP"] = "true"
            region = env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION")
            if region:
                options["AWS_REGION"] = region
        return cls(options)

    def as_dict(self) -> dict[str, str]:
        return dict(self.options)


CLOUD_VARIABLE_PREFIXES = ("AWS_", "GOOGLE_", "AZURE_")


def drop_empty_cloud_variables() -> list[str]:
    """Unset every ``AWS_*``, ``GOOGLE_*`` and ``AZURE_*`` variable whose value is empty; returns their names.

    Deployments often write optional settings as ``${AWS_SESSION_TOKEN:-}``, which sets them to "". The
    cloud SDKs take an empty value as a value (an empty session token, an endpoint of ""), and the request
    fails as "Generic S3 error"; an empty setting here means "not set", as it does everywhere else.
    """
    empty = [name for name, value in os.environ.items() if name.startswith(CLOUD_VARIABLE_PREFIXES) and not value]
    for name in empty:
        del os.environ[name]
    return empty


def open_filesystem(location: WarehouseLocation,
                    environ: Mapping[str, str] | None = None) -> tuple[pafs.FileSystem, str]:
    """A pyarrow file system and the warehouse's root path on it (to read or write plain Parquet files).

    ``S3FileSystem()`` ignores ``AWS_ENDPOINT_URL`` (measured with pyarrow 26), so the endpoint is passed
    explicitly; keys still come from the AWS SDK's own provider chain.
    """
    if location.is_local:
        return pafs.LocalFileSystem(), location.root
    if location.scheme == "s3":
        options = StorageOptions.from_environment(location, environ).options
        endpoint = options.get("AWS_ENDPOINT_URL")
        kwargs: dict[str, str] = {}
        if endpoint:
            parts = urlsplit(endpoint)
            kwargs["endpoint_override"] = parts.netloc
            kwargs["scheme"] = parts.scheme or "https"
        if "AWS_REGION" in options:
            kwargs["region"] = options["AWS_REGION"]
        return pafs.S3FileSystem(**kwargs), location.root
    if location.scheme == "az":  # pyarrow knows abfs://, not the az:// deltalake and the other engines use
        env = os.environ if environ is None else environ
        account = env.get("AZURE_STORAGE_ACCOUNT_NAME")
        if not account:
            raise ConfigError(f"warehouse {location.uri}: set AZURE_STORAGE_ACCOUNT_NAME to the storage account "
                              "holding the container")
        # The key, when the environment has one, goes to pyarrow and nowhere else (Azure's other credentials,
        # service principals and managed identities, pyarrow finds by itself).
        key = env.get("AZURE_STORAGE_ACCOUNT_KEY") or None
        return pafs.AzureFileSystem(account_name=account, account_key=key), location.root
    filesystem, path = pafs.FileSystem.from_uri(location.uri)
    return filesystem, path


class _DeltaTable:
    """What the warehouse's two kinds of Delta table share: where the table is, opening it, vacuuming it."""

    def __init__(self, location: WarehouseLocation, name: str, schema: pa.Schema,
                 environ: Mapping[str, str] | None = None) -> None:
        self.location = location
        self.name = name
        self.schema = schema
        self.uri = location.child("delta", name)
        self._options = StorageOptions.from_environment(location, environ).as_dict()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.uri!r})"

    def vacuum(self, retain: dt.timedelta, *, dry_run: bool = False) -> list[str]:
        """Delete the files no version younger than ``retain`` reads (replaced partitions, dead writers' files).

        Returns the files deleted (or, with ``dry_run``, that would be). Readers of a version older than
        ``retain`` (time travel, or a run that pinned it that long ago) can no longer read it.
        """
        table = self._open()
        if table is None:
            return []
        try:
            return list(table.vacuum(retention_hours=int(retain.total_seconds() // 3600), dry_run=dry_run,
                                     enforce_retention_duration=False))
        except OSError as exc:
            raise WarehouseWriteError(f"{self.uri}: cannot vacuum ({exc})") from None

    def compact(self, *, dry_run: bool = False) -> tuple[int, int, int, int]:
        """Merge the small files of each partition (``optimize.compact``: one log entry that changes no data) and
        write a checkpoint, so a reader replays no long log; returns files and bytes before and after.

        Readers of an earlier version still read its files until :meth:`vacuum` deletes them.
        """
        table = self._open()
        if table is None:
            return 0, 0, 0, 0
        before = _files_and_bytes(table)
        if dry_run:
            return (*before, *before)
        try:
            table.optimize.compact(writer_properties=WRITER)
            table.create_checkpoint()
        except OSError as exc:
            raise WarehouseWriteError(f"{self.uri}: cannot compact ({exc})") from None
        after = _latest_table(self.location, self.uri, self._options)
        return (*before, *(_files_and_bytes(after) if after is not None else (0, 0)))

    def _open(self, version: int | None = None) -> DeltaTable | None:
        """The table at ``version`` (default the latest); the latest is reused when it is that version (see
        :func:`_latest_table`), which it is unless another writer committed since."""
        latest = _latest_table(self.location, self.uri, self._options)
        if version is None or (latest is not None and latest.version() == version):
            return latest
        return _open_table(self.location, self.uri, self._options, version)


class DeltaDateTable(_DeltaTable):
    """One warehouse table as a Delta table partitioned by ``snapshot_date``; each date replaced whole."""

    def __init__(self, location: WarehouseLocation, name: str, schema: pa.Schema,
                 environ: Mapping[str, str] | None = None) -> None:
        if PARTITION_COLUMN not in schema.names:
            raise ValueError(f"{name}: a date table needs a {PARTITION_COLUMN} column")
        super().__init__(location, name, schema, environ)

    def version(self) -> int | None:
        """The latest committed version, ``None`` before the first commit."""
        table = self._open()
        return None if table is None else table.version()

    def create(self) -> int:
        """Create the table empty if it does not exist yet; returns its latest version.

        A writer creates every table before it pins versions (:meth:`LakeStore.commit_lock`), so its reads and
        commits always have a version to conflict on, even on the night a warehouse is born.
        """
        table = self._open()
        if table is not None:
            return self._add_new_columns(table)
        try:
            DeltaTable.create(self.uri, self.schema, mode="ignore", partition_by=[PARTITION_COLUMN],
                              configuration=TABLE_CONFIGURATION, storage_options=self._options)
        except CommitFailedError:  # another writer created it in the same moment: theirs is as good
            pass
        except OSError as exc:
            raise WarehouseWriteError(f"{self.uri}: cannot write ({exc})") from None
        version = self.version()
        assert version is not None
        return version

    def _add_new_columns(self, table: DeltaTable) -> int:
        """Add the columns the schema defines and the table lacks (nullable ones, added by a newer version: the
        approval columns of ``snapshot_runs``, say); returns the latest version. Rows stored before read them as
        null."""
        have = {f.name for f in table.schema().fields}
        missing = [f for f in self.schema if f.name not in have]
        if not missing:
            return table.version()
        try:
            table.alter.add_columns(list(Schema.from_arrow(pa.schema(missing)).fields))
        except CommitFailedError:  # another writer added them in the same moment
            pass
        except OSError as exc:
            raise WarehouseWriteError(f"{self.uri}: cannot write ({exc})") from None
        latest = self._open()
        assert latest is not None
        return latest.version()

    def commit_date(self, snapshot_date: dt.date, data: pa.Table | pa.RecordBatchReader, *,
                    read_version: int | None = None, metadata: Mapping[str, str] | None = None) -> int:
        """Replace ``snapshot_date`` with ``data`` in one log entry; returns the version that entry created.

        ``data`` may be a stream of batches (a staged file read back): it is written as it is read, so a large
        date never has to fit in memory.

        ``read_version`` is the version the caller read before computing ``data`` (a read-merge-write): the
        commit fails with :class:`ConcurrentCommitError` if any writer replaced the same date after it. Without
        it the commit conflicts only with writers that race it for the same date.

        ``metadata`` is kept in the log entry, with the date; :meth:`date_metadata` finds it again.
        """
        checked = _Checked(self.name, self.schema, snapshot_date, data)
        recorded = CommitProperties(custom_metadata={DATE_KEY: snapshot_date.isoformat(), **(metadata or {})})
        if read_version is not None:
            target: str | DeltaTable = self._open(read_version) or self.uri
        else:
            target = self._open() or self.uri
        try:
            write_deltalake(target, checked.reader, mode="overwrite", partition_by=[PARTITION_COLUMN],
                            configuration=TABLE_CONFIGURATION, writer_properties=WRITER,
                            predicate=f"{PARTITION_COLUMN} = '{snapshot_date.isoformat()}'",
                            commit_properties=recorded, storage_options=self._options)
        except CommitFailedError as exc:
            raise ConcurrentCommitError(
                f"{self.name} {snapshot_date}: another writer committed this date first; nothing of this run was "
                f"published (run it again to replace the date) [{str(exc).splitlines()[0]}]") from None
        except OSError as exc:
            raise WarehouseWriteError(f"{self.uri}: cannot write ({exc})") from None
        except Exception:
            if checked.problem is not None:
                raise checked.problem from None
            raise
        latest = self._open()
        assert latest is not None
        return latest.version()

    def date_metadata(self, snapshot_date: dt.date, *, depth: int = HISTORY_DEPTH) -> dict[str, str] | None:
        """The ``metadata`` of the latest commit of ``snapshot_date`` among the last ``depth`` log entries.

        ``None`` when none of them committed the date (an older commit is not looked for: the caller then
        does its work again, which is always correct).
        """
        table = self._open()
        if table is None:
            return None
        wanted = snapshot_date.isoformat()
        # The nightly case (the fetch step's commit, read by the flatten step) is among the last few entries;
        # each entry read is a request, so the deeper search is only made when the shallow one found nothing.
        for limit in sorted({min(5, depth), depth}):
            entries = table.history(limit)  # newest first
            for entry in entries:
                if entry.get(DATE_KEY) == wanted:
                    return {k: str(v) for k, v in entry.items() if k.startswith(METADATA_PREFIX) and k != DATE_KEY}
            if len(entries) < limit:
                break
        return None

    def dates(self, *, version: int | None = None) -> list[dt.date]:
        """The dates with a committed partition, oldest first (at ``version``, by default the latest)."""
        table = self._open(version)
        if table is None:
            return []
        found = {dt.date.fromisoformat(values[PARTITION_COLUMN]) for values in table.partitions()}
        return sorted(found)

    def read_date(self, snapshot_date: dt.date, *, version: int | None = None) -> pa.Table:
        """The committed rows of one date (empty with the schema when the date was never committed)."""
        dataset = self.dataset(version=version)
        if dataset is None:
            return self.schema.empty_table()
        table = dataset.to_table(filter=pc.field(PARTITION_COLUMN) == pa.scalar(snapshot_date, pa.date32()))
        columns = [table.column(f.name) if f.name in table.column_names else pa.nulls(table.num_rows, f.type)
                   for f in self.schema]  # a column a newer version added and no writer has added yet: null
        return pa.Table.from_arrays(columns, names=self.schema.names).cast(self.schema)

    def dataset(self, *, version: int | None = None) -> ds.Dataset | None:
        """Every committed row as an Arrow dataset (what DuckDB registers; its ``httpfs``/``delta`` need a download)."""
        table = self._open(version)
        return None if table is None else table.to_pyarrow_dataset()

class _Checked:
    """``data`` as a stream in ``schema`` that stops at any row of another date (it would land in the wrong place).

    The stream is read inside ``deltalake``, which reports a failure of ours as its own error; :attr:`problem`
    keeps ours, to be raised instead.
    """

    def __init__(self, name: str, schema: pa.Schema, snapshot_date: dt.date,
                 data: pa.Table | pa.RecordBatchReader) -> None:
        self.problem: ValueError | None = None
        day = pa.scalar(snapshot_date, pa.date32())
        source = data.to_reader() if isinstance(data, pa.Table) else data

        def batches() -> Iterator[pa.RecordBatch]:
            for batch in source:
                batch = batch.cast(schema) if batch.schema != schema else batch
                if batch.num_rows and not pc.all(pc.equal(batch.column(PARTITION_COLUMN), day)).as_py():
                    self.problem = ValueError(f"{name}: rows of another date given to the commit of {snapshot_date}")
                    raise self.problem
                yield batch

        self.reader = pa.RecordBatchReader.from_batches(schema, batches())


class DeltaWholeTable(_DeltaTable):
    """A warehouse table that is not partitioned by date (the SCD2 versions), replaced whole in one log entry."""

    def replace(self, data: pa.Table) -> int:
        """Replace every row with ``data``; returns the new version."""
        try:
            write_deltalake(self.uri, data.cast(self.schema), mode="overwrite", configuration=TABLE_CONFIGURATION,
                            writer_properties=WRITER, storage_options=self._options)
        except CommitFailedError as exc:
            raise ConcurrentCommitError(f"{self.name}: another writer replaced it first; run again "
                                        f"[{str(exc).splitlines()[0]}]") from None
        except OSError as exc:
            raise WarehouseWriteError(f"{self.uri}: cannot write ({exc})") from None
        table = self._open()
        assert table is not None
        return table.version()

    def read(self, columns: list[str] | None = None) -> pa.Table | None:
        """Every row (``None`` before the first commit)."""
        dataset = self.dataset()
        if dataset is None:
            return None
        table = dataset.to_table(columns=columns or self.schema.names)
        return table.cast(pa.schema([self.schema.field(c) for c in table.column_names]))

    def dataset(self) -> ds.Dataset | None:
        table = self._open()
        return None if table is None else table.to_pyarrow_dataset()


_OPENED = threading.local()
"""The tables this thread opened, by URI and options (a DeltaTable is not shared between threads)."""


def _files_and_bytes(table: DeltaTable) -> tuple[int, int]:
    """How many data files the table's version reads, and their bytes."""
    actions = table.get_add_actions(flatten=True)
    if "size_bytes" not in actions.column_names:
        return actions.num_rows, 0
    return actions.num_rows, sum(int(size) for size in actions.column("size_bytes").to_pylist())


def _latest_table(location: WarehouseLocation, uri: str, options: dict[str, str]) -> DeltaTable | None:
    """The latest version of the table at ``uri``, from the one this thread already opened when there is one.

    A fresh open reads the last checkpoint and every log entry after it; bringing a known table up to date reads
    only the entries added since. A nightly run opens its tables about ninety times over its steps, which run
    on one thread; with a fresh open each time, the night took longer the more nights the log held.
    """
    opened: dict[tuple[str, tuple[tuple[str, str], ...]], DeltaTable] = _OPENED.__dict__.setdefault("tables", {})
    key = (uri, tuple(sorted(options.items())))
    table = opened.get(key)
    if table is not None:
        try:
            table.update_incremental()
            return table
        except (OSError, DeltaError):
            del opened[key]
    table = _open_table(location, uri, options, None)
    if table is not None:
        opened[key] = table
    return table


def _open_table(location: WarehouseLocation, uri: str, options: dict[str, str],
                version: int | None) -> DeltaTable | None:
    """The Delta table at ``uri`` (``None`` before its first commit); a store that cannot be read is one line."""
    try:
        return DeltaTable(uri, version=version, storage_options=options)
    except TableNotFoundError:
        return None
    except (OSError, DeltaError) as exc:
        raise WarehouseUnreachableError(unreachable_message(location, exc)) from None


def unreachable_message(location: WarehouseLocation, exc: BaseException) -> str:
    """What to fix when the store refused or failed a request: the bucket, the credentials, or the endpoint.

    deltalake's own message is often just "Generic S3 error"; asking the bucket itself (with pyarrow) tells a
    missing bucket from refused credentials. The message names no credential: the URI holds none.
    """
    detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    bucket = location.root.split("/", 1)[0]
    try:
        filesystem, _ = open_filesystem(location)
        info = filesystem.get_file_info(bucket)
    except OSError as probe:
        text = str(probe)
        if any(word in text for word in ("AccessDenied", "403", "InvalidAccessKeyId", "SignatureDoesNotMatch")):
            return (f"cannot read the warehouse at {location.uri}: access denied (check the credentials in the "
                    f"environment and their permissions on {bucket!r})")
        return f"cannot reach the warehouse at {location.uri}: {text.splitlines()[0] if text else detail}"
    if info.type == pafs.FileType.NotFound:
        return (f"cannot use the warehouse at {location.uri}: the bucket {bucket!r} does not exist (create it, or "
                "fix --warehouse)")
    return f"cannot read the warehouse at {location.uri}: {detail}"
