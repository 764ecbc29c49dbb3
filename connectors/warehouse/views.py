"""The bundled SQL views, and the two sources they run on: the DuckDB database or the Parquet files alone.

Each view is one file, ``sql/views/<name>.sql``, holding one ``CREATE OR REPLACE
VIEW``; its first comment line is the one-line summary ``assistants-export
views`` prints. The same text is applied in three places, so there is exactly
one definition of every view:

* in ``assistants.duckdb`` after every load (:func:`apply_views`, called by
  :meth:`DuckDBStore.load_date`), for anyone who opens the database directly;
* in a query session over the database attached read-only (:func:`open_duckdb`),
  so ``query`` always sees the views of the installed version, even on a database
  loaded by an older one. The load also records which views it created
  (:func:`record_views`, the table ``view_catalog``): when the database holds this
  version's views, untouched since, the session reads them as they are (one small
  query instead of creating the nineteen views again, most of a quick command's
  work); otherwise it creates them in the session, in memory, as ever;
* in an in-memory session over the Parquet datasets only (:func:`open_parquet`),
  for users who keep just the Parquet files: each table is registered as an
  Arrow dataset under its own name, so the views' ``FROM assistants`` reads the
  files and no path is ever pasted into SQL.

Both query sessions are locked (:mod:`assistants_export.connectors.warehouse.read_only`) once the
views exist: DuckDB's file functions read only the warehouse folder and the paths the
caller allows, no setting can change and no extension is installed from then on.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from assistants_export import sql
from assistants_export.connectors.core import settings
from assistants_export.connectors.core.errors import ConfigError, WarehouseLockedError

from .duckdb_claim import writer_at_work
from .location import duckdb_path, local_root, parse_warehouse_uri

if TYPE_CHECKING:
    import duckdb

    from .read_only import Readable

# DuckDB, pyarrow and the stores are imported where they are used: `assistants-export views` needs none of them, and
# a session over the views the database holds (:func:`open_source`'s usual case) needs DuckDB alone.

VIEW_NAMES: tuple[str, ...] = (
    "current_assistants",
    "current_tools",
    "function_catalog",
    "model_usage",
    "metadata_keys",
    "vector_store_usage",
    "search_indexes",
    "connected_agents",
    "file_usage",
    "response_formats",
    "instruction_stats",
    "responses_migration",
)
"""Every view, in creation order: a view comes after the views it reads (current_tools reads current_assistants)."""

Source = Literal["duckdb", "parquet"]
SOURCES: tuple[Source, ...] = ("duckdb", "parquet")

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class View:
    """One bundled view: its name, the first line of its comment, its ``CREATE OR REPLACE VIEW`` text."""

    name: str
    summary: str
    statement: str


@cache
def views() -> tuple[View, ...]:
    """The bundled views in creation order."""
    return tuple(_load(name) for name in VIEW_NAMES)


def get_view(name: str) -> View:
    """The view called ``name``; a :class:`ConfigError` naming the known ones otherwise."""
    for view in views():
        if view.name == name:
            return view
    raise ConfigError(f"unknown view {name!r}: choose one of {', '.join(VIEW_NAMES)} "
                      "(assistants-export views lists them)")


def _load(name: str) -> View:
    text = sql.load(f"views/{name}")
    comments = [line[2:].strip() for line in text.splitlines() if line.startswith("--")]
    summary = comments[0] if comments else name
    return View(name, summary, text)


def apply_views(con: duckdb.DuckDBPyConnection) -> None:
    """Create or replace every view on ``con``, whose tables (or registered datasets) must all exist."""
    for view in views():
        con.execute(view.statement)


CATALOG_TABLE = "view_catalog"
"""The table of ``assistants.duckdb`` that says which views the last load created, and from which SQL."""


@cache
def catalog_fingerprint() -> str:
    """A digest of every file of ``sql/stored/`` and ``sql/views/`` (names and texts): equal in two versions exactly
    when they define the same views."""
    digest = hashlib.sha256()
    root = resources.files(sql)
    for folder in ("stored", "views"):
        for entry in sorted(root.joinpath(folder).iterdir(), key=lambda entry: entry.name):
            if entry.name.endswith(".sql"):
                digest.update(f"{folder}/{entry.name}\0".encode())
                digest.update(entry.read_bytes())
                digest.update(b"\0")
    return digest.hexdigest()


def record_views(con: duckdb.DuckDBPyConnection) -> None:
    """Record the views just created on ``con`` (a writer's, after :func:`apply_views`, in the same transaction):
    their names in ``view_catalog``, and this version's :func:`catalog_fingerprint` there and as each view's
    comment. A reader uses the database's own views only while every one still carries that comment: a load by
    another version replaces the views (which drops their comments) or records another fingerprint, and the
    reader then creates its own views, as this version defines them."""
    from .stored import STORED_VIEW_NAMES

    fingerprint = catalog_fingerprint()
    if not _HEX_DIGEST.fullmatch(fingerprint):  # it is pasted into COMMENT ON, which takes no parameter
        raise ValueError(f"not a digest: {fingerprint!r}")
    names = [*STORED_VIEW_NAMES, *VIEW_NAMES]
    con.execute(sql.load("query/create_view_catalog"))
    con.execute(sql.load("query/clear_view_catalog"))
    con.execute(sql.load("query/record_view_catalog"), {"names": names, "fingerprint": fingerprint})
    for name in names:
        con.execute(sql.load("query/comment_view").format(view=sql.quote_identifier(name), fingerprint=fingerprint))


_HEX_DIGEST = re.compile(r"[0-9a-f]{64}")


def open_duckdb(warehouse: str | Path, allow_read: Iterable[str | os.PathLike[str]] = (), *,
                wait: float = settings.DUCKDB_LOCK_WAIT) -> duckdb.DuckDBPyConnection:
    """A session over ``<warehouse>/assistants.duckdb`` attached read-only, with the views.

    Names resolve in the session first (the views, as this version defines them), then in the
    database; nothing can be written to the database from this session, and DuckDB's file functions
    read only the warehouse folder and ``allow_read``
    (:func:`~assistants_export.connectors.warehouse.read_only.lock_session`). While a writer holds the database
    (DuckDB lets no other process open it then) this waits up to ``wait`` seconds, then raises
    :class:`WarehouseLockedError`. The views are the database's own when it holds this version's, untouched
    (:func:`record_views`); else they are created in the session.
    """
    import duckdb

    path = duckdb_path(warehouse)
    if not path.is_file():
        raise ConfigError(f"no DuckDB database at {path}: run `assistants-export snapshot` first, "
                          "or use --source parquet")
    deadline = time.monotonic() + wait
    pause = 0.05
    while True:
        try:
            if writer_at_work(path):
                raise _Busy
            return _attach(path, _readable(warehouse, allow_read))
        except (_Busy, duckdb.IOException) as exc:
            if isinstance(exc, duckdb.IOException) and "lock" not in str(exc).lower():
                raise
            if time.monotonic() + pause >= deadline:
                raise WarehouseLockedError(
                    f"{path} is being written by another process (a snapshot's load or history step) and "
                    f"stayed locked for {wait:g} s: query again in a moment, or leave out --source duckdb to "
                    "read the stored files meanwhile") from None
            time.sleep(pause)
            pause = min(pause * 2, 0.5)


class _Busy(Exception):
    """A writer says it is at work on the database (its claim is held)."""


def _attach(path: Path, readable: Readable) -> duckdb.DuckDBPyConnection:
    from .read_only import lock_session

    con = _session()
    try:
        con.execute(sql.load("query/attach_read_only"), {"path": str(path)})
        con.execute(sql.load("query/search_path"))
        if not holds_current_views(con):
            from .stored import apply_stored_views

            apply_stored_views(con)
            apply_views(con)
        lock_session(con, readable)
    except BaseException:
        con.close()
        raise
    return con


def holds_current_views(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether the database attached to ``con`` as ``warehouse`` holds this version's views, each as the last
    load created it (:func:`record_views`): then a session reads them there, and creates none."""
    import duckdb

    try:
        rows = con.execute(sql.load("query/read_view_catalog")).fetchall()
    except duckdb.CatalogException:  # written before the catalog was recorded
        return False
    fingerprint = catalog_fingerprint()
    return (bool(rows) and all(recorded == fingerprint and comment == fingerprint for _, recorded, comment in rows)
            and set(VIEW_NAMES) <= {name for name, _, _ in rows})


def open_parquet(warehouse: str | Path, allow_read: Iterable[str | os.PathLike[str]] = ()
                 ) -> duckdb.DuckDBPyConnection:
    """An in-memory session whose tables are the Parquet datasets of ``warehouse``, with the views.

    A table with no files yet is an empty table of its schema, so every view still works. Each
    dataset is read with the table's schema, so partitions written before a column was added read
    as null in that column. Every source the warehouse holds is read, its name in the ``source`` column.
    The datasets are read by Arrow (a folder's or an object store's alike); DuckDB's file functions read
    only the warehouse folder and ``allow_read``, as in :func:`open_duckdb`.
    """
    from .parquet_store import ParquetStore
    from .read_only import lock_session
    from .stored import apply_stored_views, register_parquet
    from .stores import open_store, stored_sources

    location = parse_warehouse_uri(warehouse)  # once, for every store opened below
    names = stored_sources(location)
    if not names:
        store = open_store(warehouse)
        where = store.parquet_root if isinstance(store, ParquetStore) else store.root
        raise ConfigError(f"no Parquet files under {where}: run `assistants-export snapshot` "
                          "first, or check --warehouse")
    con = _session()
    try:
        # the history tables too, so the audit queries work on the stored files
        register_parquet(con, {name: open_store(location, name) for name in names})
        apply_stored_views(con)
        apply_views(con)
        lock_session(con, _readable(warehouse, allow_read))
    except BaseException:
        con.close()
        raise
    return con


def open_source(warehouse: str | Path, source: Source | None = None,
                allow_read: Iterable[str | os.PathLike[str]] = (), *,
                notice: Callable[[str], None] | None = None) -> tuple[duckdb.DuckDBPyConnection, Source]:
    """A query session on ``source``; by default the DuckDB database, or the Parquet files when it does not exist.

    ``allow_read``: files or folders outside the warehouse that the query may read (``query --allow-read``).
    Readers never fail because a writer is at work: by default, when a writer holds the database (a load or a
    history step, seconds at a time), this waits
    :data:`~assistants_export.connectors.core.settings.DUCKDB_READ_WAIT` seconds and then opens the same views over
    the stored files, saying so through ``notice`` (default: a warning in the log, which reaches stderr). Asked for
    ``"duckdb"`` explicitly, it waits longer and then fails in one line.

    A database that holds this version's views (:func:`holds_current_views`) is opened at once, without importing
    pyarrow or the stores: its last load was this version's, which upgrades an older warehouse before it writes,
    so the check for an older layout is left to the other cases.
    """
    if source in (None, "duckdb"):
        con = _open_current(warehouse, allow_read)
        if con is not None:
            return con, "duckdb"
    from .stores import open_store, stored_sources
    from .upgrade import needs_upgrade

    location = parse_warehouse_uri(warehouse)  # once, for the stores opened here
    store = open_store(location)
    if needs_upgrade(store):
        raise ConfigError(f"the warehouse at {os.path.abspath(warehouse)} was written by an older version, which "
                          "stored every assistant every night: run `assistants-export upgrade --warehouse "
                          f"{warehouse}` once (the next snapshot also does it)")
    chosen = source is not None
    if source is None:
        source = "duckdb" if duckdb_path(warehouse).is_file() else "parquet"
        if source == "parquet" and not stored_sources(location):
            where = store.root if store.is_lake else os.path.abspath(warehouse)
            raise ConfigError(f"no warehouse at {where} (neither {settings.DUCKDB_FILENAME} "
                              "nor parquet/): run `assistants-export snapshot` first, or pass --warehouse DIR")
    if source == "duckdb" and chosen:
        return open_duckdb(warehouse, allow_read), source
    if source == "duckdb":
        try:
            return open_duckdb(warehouse, allow_read, wait=settings.DUCKDB_READ_WAIT), source
        except WarehouseLockedError:
            if not stored_sources(location):
                raise
        (notice or log.warning)(f"{duckdb_path(warehouse)} is being written by a snapshot at the moment: reading "
                                "the same views over the stored files instead")
        return open_parquet(warehouse, allow_read), "parquet"
    if source == "parquet":
        return open_parquet(warehouse, allow_read), source
    raise ConfigError(f"unknown source {source!r}: choose one of {', '.join(SOURCES)}")


def _open_current(warehouse: str | Path, allow_read: Iterable[str | os.PathLike[str]]
                  ) -> duckdb.DuckDBPyConnection | None:
    """A session over the database's own views when it holds this version's and no writer is at work; ``None``
    otherwise (no database, an older one, a writer at work, any error), and :func:`open_source` goes its usual way,
    which waits for a writer, falls back to the stored files and says what is wrong."""
    import duckdb

    from .read_only import lock_session

    path = duckdb_path(warehouse)
    if not path.is_file() or writer_at_work(path):
        return None
    con = _session()
    try:
        con.execute(sql.load("query/attach_read_only"), {"path": str(path)})
        if not holds_current_views(con):
            con.close()
            return None
        con.execute(sql.load("query/search_path"))
        lock_session(con, _readable(warehouse, allow_read))
    except duckdb.Error:
        con.close()
        return None
    except BaseException:
        con.close()
        raise
    return con


def _readable(warehouse: str | Path, allow_read: Iterable[str | os.PathLike[str]]) -> Readable:
    """What a query session may read with DuckDB's file functions: a local warehouse's folder (an object store's
    tables are Arrow datasets, and its DuckDB cache is attached before the lock), and ``allow_read``."""
    from .read_only import Readable

    text = os.fspath(warehouse)
    folder = local_root(text) if "://" not in text or text.lower().startswith("file://") else None
    return Readable.of(allow_read, warehouse=folder)


def _session() -> duckdb.DuckDBPyConnection:
    import duckdb

    con = duckdb.connect(":memory:")
    con.execute(sql.load("warehouse/session_utc"))
    return con
