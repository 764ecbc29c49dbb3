"""What makes a query session unable to change anything, or to read beyond the warehouse.

``assistants-export query`` runs SQL that users type, so "a query cannot
change the warehouse" must hold for every statement, not only the polite ones,
and a query must not become a way to read whatever the process can read
(``read_text('/proc/self/environ')`` holds the API key; ``read_blob('/etc/shadow')``
works as root). Three layers:

* :func:`check_statement` accepts exactly one statement, a ``SELECT`` (which
  covers ``WITH``, ``FROM``-first, ``VALUES``, ``DESCRIBE``, ``SHOW``,
  ``SUMMARIZE``, ``PIVOT``) or an ``EXPLAIN`` of one. ``COPY``, ``EXPORT``,
  ``ATTACH``, ``INSTALL``/``LOAD``, ``SET``, ``CALL``, ``PRAGMA`` and every DDL or
  DML statement are refused before they run. (``EXPLAIN ANALYZE`` runs what it
  explains, so an explained ``COPY`` is refused too.)
* :func:`lock_session` confines DuckDB's own file access to :class:`Readable`:
  the warehouse folder and the files or folders the user names
  (``query --allow-read PATH``). It sets ``allowed_directories`` and
  ``allowed_paths``, then turns ``enable_external_access`` off (no other file, no
  URL, no extension), so ``read_csv``, ``read_text``, ``read_blob``, ``glob`` and
  ``read_parquet`` on anything else fail with DuckDB's ``Permission Error``.
  DuckDB resolves symbolic links before it checks, so a link inside the
  warehouse does not lead out of it.
* The same function turns off extension auto-install and locks DuckDB's
  configuration, so nothing can lift these limits later in the session.

What the session already holds stays readable: the warehouse database is
attached ``READ_ONLY`` before the lock, and the Parquet datasets (a folder's or an
object store's) are registered as Arrow datasets, read by Arrow, not by DuckDB's
file system. DuckDB's Python package has no ``getenv()`` (only its shell has one),
so no SQL function reads the environment.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import duckdb

from assistants_export import sql
from assistants_export.connectors.core.errors import ConfigError

_EXPLAIN = re.compile(r"^\s*EXPLAIN\s+(?:ANALYZE\s+|\(\s*[^)]*\)\s*)?", re.IGNORECASE)


def check_statement(statement: str) -> None:
    """Raise :class:`ConfigError` (one line) unless ``statement`` is one read-only query."""
    try:
        statements = duckdb.extract_statements(statement)
    except duckdb.Error as exc:
        raise ConfigError(f"the query failed: {' '.join(str(exc).split())}") from None
    if len(statements) != 1:
        raise ConfigError(f"give exactly one query (got {len(statements)} statements)")
    kind = statements[0].type
    if kind == duckdb.StatementType.EXPLAIN:
        match = _EXPLAIN.match(statements[0].query)
        inner = duckdb.extract_statements(statements[0].query[match.end():]) if match else []
        if len(inner) == 1 and inner[0].type == duckdb.StatementType.SELECT:
            return
    elif kind == duckdb.StatementType.SELECT:
        return
    name = kind.name.replace("_", " ")
    raise ConfigError(f"refused a {name} statement: queries are read-only (give a SELECT; to save a result, "
                      "use --output FILE with --format csv, json or parquet)")


@dataclass(frozen=True)
class Readable:
    """The folders and files a query session may read with DuckDB's own file functions (absolute paths)."""

    directories: tuple[str, ...] = ()
    files: tuple[str, ...] = ()

    @classmethod
    def of(cls, paths: Iterable[str | os.PathLike[str]] = (), *, warehouse: str | os.PathLike[str] | None = None
           ) -> Readable:
        """The warehouse folder (``None`` or an object-store URI adds none) and ``paths``, each a folder or a file.

        Each is given as written (absolute) and as it resolves, symbolic links followed: DuckDB checks the path
        it opens, after resolving links.
        """
        directories: list[str] = []
        files: list[str] = []
        named = [*([warehouse] if warehouse is not None and "://" not in os.fspath(warehouse) else []), *paths]
        for path in named:
            forms = dict.fromkeys([os.path.abspath(path), os.path.realpath(path)])
            (directories if Path(path).is_dir() else files).extend(forms)
        return cls(tuple(dict.fromkeys(directories)), tuple(dict.fromkeys(files)))


def lock_session(con: duckdb.DuckDBPyConnection, readable: Readable | None = None) -> None:
    """Confine DuckDB's file access to ``readable`` (default: nothing); no extension installs, and no setting may
    change from here on."""
    readable = readable or Readable()
    attached = con.execute(sql.load("query/allowed_paths")).fetchone()  # the attached database's files, kept
    values = {"directories": list(readable.directories),
              "paths": [*dict.fromkeys([*(attached[0] if attached and attached[0] else []), *readable.files])]}
    for statement in duckdb.extract_statements(sql.load("query/lock_session")):
        names = [name for name in values if f"${name}" in statement.query]
        con.execute(statement.query, {name: values[name] for name in names} if names else None)


_REFUSED = re.compile(r'Permission Error: Cannot access (?:file|directory) "([^"]*)"')


def refused_path(message: str) -> str | None:
    """The path a DuckDB error says the session may not read, if it is such an error."""
    found = _REFUSED.search(message)
    return found.group(1) if found else None
