"""Query results out of the CLI: a table for people, CSV, JSON or Parquet for programs.

Results stream as Arrow record batches, so CSV, JSON and Parquet never hold a
whole result in memory; a table shows at most :data:`TABLE_MAX_ROWS` rows (the
rest is counted, not printed). Values that have no text form of their own are
written the same way everywhere: dates, timestamps and intervals in ISO 8601
(timestamps with their UTC offset), lists and maps as JSON, booleans as ``true``/``false``.
JSON keeps types (numbers, booleans, null, arrays, objects); in CSV a null is an
empty field, in a table it reads ``NULL``.
"""

from __future__ import annotations

import base64
import csv
import datetime as dt
import decimal
import json
import math
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import click
from rich import box
from rich.cells import cell_len, set_cell_size
from rich.console import Console
from rich.table import Table
from rich.text import Text

from .stdout import silence_stdout as silence_stdout

if TYPE_CHECKING:  # imported where used: history, diff and as-of print their tables without pyarrow
    import pyarrow as pa

FORMATS: tuple[str, ...] = ("table", "csv", "json", "parquet")
TABLE_MAX_ROWS = 1000
"""Rows a table shows; CSV, JSON and Parquet write every row."""
CELL_WIDTH = 60
"""Terminal cells a table value may take before it is cut with an ellipsis."""
NULL = "NULL"

_SUFFIX_FORMATS = {".csv": "csv", ".json": "json", ".parquet": "parquet", ".txt": "table"}


WHOLE_WIDTH = 1_000_000
"""The width of a console whose output is not a terminal: wide enough that rich never wraps or cuts a line."""


def results_console(*, stderr: bool = False) -> Console:
    """The console a command prints its results (or, ``stderr``, its remarks) on.

    On a terminal, rich as it is: the terminal's width, colour, tables that fold to fit. Anywhere else (a pipe, a
    file) nothing is ever cut: lines as long as their text (a hint stays on one line), no colour and tables in
    plain ASCII (:func:`show_table`), whole whatever ``COLUMNS`` says.
    """
    stream = sys.stderr if stderr else sys.stdout
    console = Console(file=stream)
    if console.is_terminal:
        return console
    return Console(file=stream, width=WHOLE_WIDTH, no_color=True, highlight=False, soft_wrap=True,
                   emoji=False)


def show_table(console: Console, table: Table) -> None:
    """Print ``table``: as it is on a terminal; in plain ASCII, each column as wide as its widest cell, when the
    output is not a terminal (:func:`results_console`)."""
    if not console.is_terminal:
        table.box = box.ASCII
        for column in table.columns:
            column.no_wrap, column.overflow = True, "ignore"
    console.print(table, soft_wrap=False)


def cut(value: str, width: int, console: Console) -> str:
    """``value`` cut to ``width`` characters with an ellipsis, on a terminal; whole anywhere else."""
    if not console.is_terminal or len(value) <= width:
        return value
    return value[: width - 1] + "…"


def note(message: str) -> None:
    """A remark on stderr that is not an error (the query still runs), one line."""
    click.echo(f"note: {message}", err=True)


def choose_format(requested: str | None, output: str | None) -> str:
    """The format asked for; else the one the output file's extension names; else a table."""
    if requested is not None:
        return requested
    if output is not None:
        return _SUFFIX_FORMATS.get(Path(output).suffix.lower(), "table")
    return "table"


def write_result(reader: pa.RecordBatchReader, fmt: str, stream: IO[str] | None, *,
                 parquet_path: str | IO[bytes] | None = None, terminal: Console | None = None) -> int:
    """Write every batch of ``reader`` in ``fmt``; returns the number of rows.

    Text formats go to ``stream``; Parquet goes to ``parquet_path``. A table goes to
    ``terminal`` as a rich table when one is given, else to ``stream`` as plain text.
    """
    if fmt == "parquet":
        if parquet_path is None:
            raise ValueError("Parquet output needs a file")
        return _write_parquet(reader, parquet_path)
    if fmt == "table" and terminal is not None:
        return _write_rich_table(reader, terminal)
    if stream is None:
        raise ValueError(f"{fmt} output needs a text stream")
    writers = {"csv": _write_csv, "json": _write_json, "table": _write_text_table}
    return writers[fmt](reader, stream)


# --- values -------------------------------------------------------------------------------------------------------

def python_rows(batch: pa.RecordBatch) -> Iterator[list[Any]]:
    """The rows of ``batch`` as Python values, maps as dicts (Arrow gives maps as lists of pairs)."""
    columns = [_values(batch.column(i), field.type) for i, field in enumerate(batch.schema)]
    return (list(row) for row in zip(*columns, strict=True)) if columns else iter(())


def _values(column: pa.Array, type_: pa.DataType) -> list[Any]:
    """A column's values. Time-zone aware timestamps (seconds to microseconds: DuckDB's TIMESTAMPTZ) are read as
    the UTC instants they store and put in their zone here: pyarrow would import pandas (a quarter of a second)
    to do the same."""
    import pyarrow as pa

    if pa.types.is_timestamp(type_) and type_.tz is not None and type_.unit != "ns":
        zone = _zone(type_.tz)
        utc = column.view(pa.timestamp(type_.unit)).to_pylist()
        return [None if value is None else value.replace(tzinfo=dt.UTC).astimezone(zone) for value in utc]
    return [_plain(value, type_) for value in column.to_pylist()]


_OFFSET = re.compile(r"([+-])([0-9]{2}):?([0-9]{2})")


def _zone(name: str) -> dt.tzinfo:
    """The time zone an Arrow type names: a fixed offset (``+02:00``) or a zone of the tz database (``UTC``)."""
    offset = _OFFSET.fullmatch(name)
    if offset:
        sign = -1 if offset.group(1) == "-" else 1
        return dt.timezone(sign * dt.timedelta(hours=int(offset.group(2)), minutes=int(offset.group(3))))
    import zoneinfo

    return zoneinfo.ZoneInfo(name)


def _plain(value: Any, type_: pa.DataType) -> Any:
    import pyarrow as pa

    if value is None:
        return None
    if pa.types.is_map(type_):
        return {str(k): _plain(v, type_.item_type) for k, v in value}
    if pa.types.is_list(type_) or pa.types.is_large_list(type_) or pa.types.is_fixed_size_list(type_):
        return [_plain(v, type_.value_type) for v in value]
    if pa.types.is_struct(type_):
        return {field.name: _plain(value.get(field.name), field.type) for field in type_}
    return value


def jsonable(value: Any) -> Any:
    """``value`` with every part JSON can hold natively; the rest as text (ISO dates, base64 bytes)."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, decimal.Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dt.date | dt.time):  # datetime is a date
        return value.isoformat()
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    arrow = sys.modules.get("pyarrow")  # an Arrow value exists only once pyarrow is imported
    if arrow is not None and isinstance(value, arrow.MonthDayNano):  # an INTERVAL, before tuples (a named tuple)
        return _iso_duration(value.months, value.days, value.nanoseconds / 1e9)
    if isinstance(value, dt.timedelta):
        return _iso_duration(0, value.days, value.seconds + value.microseconds / 1e6)
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    return str(value)


def _iso_duration(months: int, days: int, seconds: float) -> str:
    """An ISO 8601 duration such as ``P1M2DT3.5S`` (``P0D`` for nothing)."""
    out = "P" + (f"{months}M" if months else "") + (f"{days}D" if days else "")
    if seconds:
        out += f"T{seconds:g}S"
    return out if out != "P" else "P0D"


def text(value: Any, null: str = "") -> str:
    """One value as a CSV field or table cell."""
    if value is None:
        return null
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    converted = jsonable(value)
    if isinstance(converted, dict | list):
        return json.dumps(converted, ensure_ascii=False)
    return converted if isinstance(converted, str) else str(converted)


def _cell(value: Any, whole: bool = False) -> str:
    """A table cell: one line, at most :data:`CELL_WIDTH` terminal cells (``whole``: every cell)."""
    shown = text(value, NULL).replace("\r", "\\r").replace("\n", "\\n").replace("\t", "\\t")
    if not whole and cell_len(shown) > CELL_WIDTH:
        shown = set_cell_size(shown, CELL_WIDTH - 1).rstrip() + "…"
    return shown


def _is_numeric(type_: pa.DataType) -> bool:
    import pyarrow as pa

    return pa.types.is_integer(type_) or pa.types.is_floating(type_) or pa.types.is_decimal(type_)


# --- writers ------------------------------------------------------------------------------------------------------

def _write_csv(reader: pa.RecordBatchReader, stream: IO[str]) -> int:
    out = csv.writer(stream, lineterminator="\n")
    out.writerow(reader.schema.names)
    rows = 0
    for batch in reader:
        for row in python_rows(batch):
            out.writerow([text(value) for value in row])
            rows += 1
    return rows


def _write_json(reader: pa.RecordBatchReader, stream: IO[str]) -> int:
    """A JSON array of objects, one object per line."""
    names = reader.schema.names
    rows = 0
    stream.write("[")
    for batch in reader:
        for row in python_rows(batch):
            stream.write(",\n" if rows else "\n")
            stream.write(json.dumps({name: jsonable(v) for name, v in zip(names, row, strict=True)},
                                    ensure_ascii=False))
            rows += 1
    stream.write("\n]\n" if rows else "]\n")
    return rows


def _write_parquet(reader: pa.RecordBatchReader, path: str | IO[bytes]) -> int:
    rows = 0
    import pyarrow.parquet as pq  # here: importing it costs every command a tenth of a second at start

    with pq.ParquetWriter(path, reader.schema, compression="zstd") as writer:
        for batch in reader:
            writer.write_batch(batch)
            rows += batch.num_rows
    return rows


def _table_rows(reader: pa.RecordBatchReader, whole: bool = False) -> tuple[list[list[str]], int]:
    """Up to :data:`TABLE_MAX_ROWS` rows as cells (``whole``: never cut), and the total row count."""
    shown: list[list[str]] = []
    total = 0
    for batch in reader:
        if len(shown) < TABLE_MAX_ROWS:
            room = TABLE_MAX_ROWS - len(shown)
            shown.extend([_cell(v, whole) for v in row] for row in python_rows(batch.slice(0, room)))
        total += batch.num_rows
    return shown, total


def _footer(shown: int, total: int) -> str:
    noun = "row" if total == 1 else "rows"
    if shown < total:
        return f"({total:,} {noun}, the first {shown:,} shown; use --format csv, json or parquet for all)"
    return f"({total:,} {noun})"


def _write_text_table(reader: pa.RecordBatchReader, stream: IO[str]) -> int:
    """Columns padded to their widest cell, numbers right-aligned, no cell cut; for pipes and files."""
    names = reader.schema.names
    numeric = [_is_numeric(field.type) for field in reader.schema]
    rows, total = _table_rows(reader, whole=True)
    widths = [max([cell_len(name), *(cell_len(row[i]) for row in rows)]) for i, name in enumerate(names)]

    def line(cells: list[str]) -> str:
        padded = [" " * (w - cell_len(c)) + c if right else c + " " * (w - cell_len(c))
                  for c, w, right in zip(cells, widths, numeric, strict=True)]
        return "  ".join(padded).rstrip()

    stream.write(line(list(names)) + "\n")
    stream.write("  ".join("-" * w for w in widths) + "\n")
    for row in rows:
        stream.write(line(row) + "\n")
    stream.write(_footer(len(rows), total) + "\n")
    return total


def _write_rich_table(reader: pa.RecordBatchReader, console: Console) -> int:
    table = Table(box=box.SIMPLE_HEAD, header_style="bold")
    for field in reader.schema:
        table.add_column(field.name, justify="right" if _is_numeric(field.type) else "left", overflow="fold")
    rows, total = _table_rows(reader)
    for row in rows:
        table.add_row(*(Text(c, style="dim") if c == NULL else Text(c) for c in row))
    table.caption = _footer(len(rows), total)
    console.print(table)
    return total
