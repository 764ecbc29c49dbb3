"""``assistants-export query``: SQL over the warehouse, on a terminal or into files (``views`` lists the views).

``query "SQL"`` runs the user's own statement (that is its point), ``query
--file PATH`` one read from a file (the bundled ``sql/audit/`` and
``sql/examples/`` queries, say), and ``query --view NAME`` one of the bundled
views of ``sql/views/``. ``--param name=value`` binds DuckDB named parameters
(``$name``): a value that is an ISO date binds as a DATE, an integer as an
INTEGER, anything else as a VARCHAR; values never become SQL text. Both run in an
in-memory DuckDB session that holds the views, over either the warehouse
database attached read-only or the Parquet files alone (see
:mod:`assistants_export.connectors.warehouse.views`), so nothing a query does can change the
warehouse. The source is the database when it exists, else the Parquet files.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import cast

import click
import duckdb
import pyarrow as pa
from rich.console import Console

from assistants_export import sql
from assistants_export.connectors.warehouse.location import warehouse_root
from assistants_export.connectors.warehouse.read_only import check_statement, refused_path
from assistants_export.connectors.warehouse.views import SOURCES, VIEW_NAMES, Source, get_view, open_source

from . import cli, warehouse_option
from .outfile import OutputTarget
from .output import FORMATS, choose_format, note, write_result

BATCH_ROWS = 10_000
"""Rows per Arrow batch streamed from DuckDB to the output."""


@cli.command()
@click.argument("statement", metavar='"SQL"', required=False)
@click.option("--file", "sql_file", type=click.Path(exists=True, dir_okay=False),
              help="Run the query in this file (one SELECT; comments allowed), e.g. sql/audit/changes_on_date.sql.")
@click.option("--param", "params", metavar="NAME=VALUE", multiple=True,
              help="Bind $NAME in the query (repeatable): ISO dates bind as DATE, integers as INTEGER, "
                   "anything else as VARCHAR.")
@click.option("--view", "view_name", metavar="NAME",
              help=f"Show a bundled view instead of running SQL: {', '.join(VIEW_NAMES)}.")
@click.option("--format", "output_format", type=click.Choice(FORMATS),
              help="Output format (default: from --output's extension, else table).")
@click.option("-o", "--output", metavar="FILE",
              help="Write to this regular file (atomically) instead of the terminal; - for standard output.")
@click.option("--source", type=click.Choice(SOURCES),
              help="Read the DuckDB database or the Parquet files alone (default: the database if it exists).")
@click.option("--allow-read", "allow_read", metavar="PATH", multiple=True,
              type=click.Path(exists=True, file_okay=True, dir_okay=True),
              help="A file or folder outside the warehouse the query may read, e.g. with read_csv (repeatable); "
                   "without it a query reads only the warehouse.")
@warehouse_option
def query(statement: str | None, sql_file: str | None, params: tuple[str, ...], view_name: str | None,
          output_format: str | None, output: str | None, source: str | None, allow_read: tuple[str, ...],
          warehouse: str | None) -> None:
    """Run a SQL query (or a query file, or show a view) over the warehouse and print the result."""
    given = [name for name, value in (('"SQL"', statement), ("--file", sql_file), ("--view", view_name))
             if value is not None]
    if not given:
        raise click.UsageError('nothing to run: give a SQL query ("SELECT ..."), --file PATH or --view NAME '
                               "(assistants-export views lists the views)")
    if len(given) > 1:
        raise click.UsageError(f"give one of a SQL query, --file PATH or --view NAME, not both (got "
                               f"{' and '.join(given)})")
    if view_name is not None:
        if params:
            raise click.UsageError("--param binds parameters of a query; a view takes none")
        statement = sql.render("query/select_view", view=get_view(view_name).name)
    else:
        if sql_file is not None:
            statement = _read_query_file(Path(sql_file))
        assert statement is not None
        check_statement(statement)
    assert statement is not None
    bound = parse_params(params)
    to_stdout = output in (None, "-")
    fmt = choose_format(output_format, None if to_stdout else output)
    if fmt == "parquet" and output is None:
        raise click.UsageError("--format parquet writes a file: add --output FILE (or -o - for standard output)")
    root = warehouse_root(warehouse)
    target = OutputTarget.parse(output, keep_out=_local(root))
    try:
        con, _ = open_source(root, cast(Source | None, source), allow_read=allow_read, notice=note)
    except duckdb.Error as exc:  # locked by a writer, not a DuckDB file, tables too old for the views...
        hint = "" if source == "parquet" else " (--source parquet reads the Parquet files instead)"
        raise click.ClickException(f"could not open the warehouse at {root}: {_one_line(str(exc))}{hint}") from None
    with con:
        reader = _run(con, statement, bound, root=root)
        console = Console()
        if fmt == "table" and target.is_stdout and console.is_terminal:
            with _streaming(root):
                write_result(reader, fmt, None, terminal=console)
            return
        binary = fmt == "parquet"
        with _streaming(root), target.open(binary=binary) as stream:
            if binary:
                write_result(reader, fmt, None, parquet_path=stream)
            else:
                write_result(reader, fmt, stream)


_PARAM_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_INTEGER = re.compile(r"[+-]?[0-9]+")
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1


def parse_value(text: str, name: str = "") -> object:
    """``2026-11-20`` → a date (DATE), ``7`` → an int (INTEGER, BIGINT beyond 32 bits), anything else stays a
    string (VARCHAR). An integer beyond 64 bits is refused in one line (DuckDB would bind it as an unsigned type,
    or not at all)."""
    if _ISO_DATE.fullmatch(text):
        try:
            return dt.date.fromisoformat(text)
        except ValueError:
            raise click.BadParameter(f"{text!r} looks like a date but is not one", param_hint="--param") from None
    if _INTEGER.fullmatch(text):
        digits = text.lstrip("+-").lstrip("0") or "0"
        value = int(text) if len(digits) <= 19 else None  # int() of thousands of digits is refused (and slow)
        if value is None or not _INT64_MIN <= value <= _INT64_MAX:
            shown = (f"{name}=" if name else "") + (text if len(text) <= 40 else
                                                    f"{text[:20]}...({len(digits):,} digits)")
            raise click.BadParameter(f"{shown} is an integer beyond 64 bits ({_INT64_MIN} to {_INT64_MAX}); "
                                     "write such a number into the query itself, e.g. CAST('...' AS HUGEINT)",
                                     param_hint="--param")
        return value
    return text


def parse_params(pairs: tuple[str, ...]) -> dict[str, object]:
    """``("as_of=2026-11-20", "days=7")`` → ``{"as_of": date(2026, 11, 20), "days": 7}``; one line per mistake."""
    bound: dict[str, object] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        name = name.strip().removeprefix("$")
        if not sep or not _PARAM_NAME.fullmatch(name):
            raise click.BadParameter(f"{pair!r} is not NAME=VALUE (e.g. snapshot_date=2026-11-20)",
                                     param_hint="--param")
        if name in bound:
            raise click.BadParameter(f"{name} is given twice", param_hint="--param")
        bound[name] = parse_value(value, name)
    return bound


def _read_query_file(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise click.ClickException(f"cannot read {path}: {getattr(exc, 'strerror', None) or exc}") from None


def _run(con: duckdb.DuckDBPyConnection, statement: str, params: dict[str, object] | None = None, *,
         root: str | None = None) -> pa.RecordBatchReader:
    """The statement's result as a stream of Arrow batches, ``params`` bound by name; a failure is one line."""
    with _streaming(root):
        try:
            relation = con.sql(statement, params=params) if params else con.sql(statement)
        except duckdb.InvalidInputException as exc:
            if "parameter" not in str(exc):
                raise
            raise click.ClickException(f"the query failed: {_one_line(str(exc))} (bind each $NAME of the query "
                                       "with --param NAME=VALUE, and only those)") from None
        if relation is None:
            raise click.ClickException("the statement returned no result: give a query such as SELECT ...")
        return relation.to_arrow_reader(BATCH_ROWS)


def _local(root: str) -> list[str]:
    """The warehouse folder, which no output may be written into (none for an object store)."""
    return [] if "://" in root else [root]


@contextmanager
def _streaming(root: str | None = None) -> Iterator[None]:
    """Turn DuckDB's errors (raised when the query runs or, mid-stream, through Arrow) into one line; a read the
    session refuses (outside the warehouse ``root`` and --allow-read) says how to allow it.

    Errors of writing the result are the output's own (:mod:`assistants_export.pipelines.cli.outfile`) and pass through.
    """
    try:
        yield
    except (duckdb.Error, OSError, pa.ArrowException) as exc:
        message = str(exc)
        refused = refused_path(message)
        if refused is not None:
            where = f"the warehouse ({root})" if root is not None and "://" not in root else "the warehouse"
            raise click.ClickException(f"the query may not read {refused}: a query reads only {where} and the "
                                       "files and folders given with --allow-read PATH (add it to read a file of "
                                       "your own)") from None
        if isinstance(exc, OSError) and exc.errno is not None and exc.strerror:  # a read error of the warehouse
            message = exc.strerror
        raise click.ClickException(f"the query failed: {_one_line(message)}") from None


def _one_line(message: str) -> str:
    """DuckDB's message up to its first blank line (the ``LINE 1: ... ^`` pointer is dropped), on one line."""
    head = message.strip().split("\n\n", 1)[0]
    return " ".join(part.strip() for part in head.splitlines() if part.strip())
