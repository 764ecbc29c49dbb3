"""What makes a query session unable to change anything: the statements it accepts and the settings it locks.

``assistants-export query`` runs SQL that users type, so "a query cannot
change the warehouse" must hold for every statement, not only the polite ones.
Two layers:

* :func:`check_statement` accepts exactly one statement, a ``SELECT`` (which
  covers ``WITH``, ``FROM``-first, ``VALUES``, ``DESCRIBE``, ``SHOW``,
  ``SUMMARIZE``, ``PIVOT``) or an ``EXPLAIN`` of one. ``COPY``, ``EXPORT``,
  ``ATTACH``, ``INSTALL``/``LOAD``, ``SET``, ``CALL``, ``PRAGMA`` and every DDL or
  DML statement are refused before they run. (``EXPLAIN ANALYZE`` runs what it
  explains, so an explained ``COPY`` is refused too.)
* :func:`lock_session` turns off extension auto-install and locks DuckDB's
  configuration, so nothing can lift these limits later in the session.

Reading a user's own files (``read_csv('my_ids.csv')``) stays allowed: joining a
local list with the warehouse is a fair use, and reading writes nothing. The
warehouse database itself is attached ``READ_ONLY``.
"""

from __future__ import annotations

import re

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


def lock_session(con: duckdb.DuckDBPyConnection) -> None:
    """No extension installs, and no setting may change from here on (the limits cannot be lifted)."""
    for statement in duckdb.extract_statements(sql.load("query/lock_session")):
        con.execute(statement.query)
