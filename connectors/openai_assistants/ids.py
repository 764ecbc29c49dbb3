"""Assistant IDs in: reading them, cleaning them, refusing the malformed ones.

IDs come from a list (Dagster run config, ``--ids``) or a file: one per line, a
CSV with an ``assistant_id`` column, or a JSON array. They are stripped and
de-duplicated in order. An ID that could never name an assistant (empty,
whitespace inside, a ``/``, ``..``, control characters, longer than 128) is never
sent: it is recorded with the reason, like any other ID that did not end ``ok``.
Everything here streams, so a file of a million IDs is never held as a list, and
every line (every element of a JSON array) is read with a bound, so neither is a
file of one enormous line.
"""

from __future__ import annotations

import csv
import hashlib
import json
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn, TextIO, cast

from assistants_export.connectors.core.errors import InputError

from . import settings

ID_COLUMN = "assistant_id"
DISPLAY_LIMIT = 200


@dataclass(frozen=True)
class RejectedId:
    """An ID that was not sent. ``display`` is printable and bounded; ``reason`` says why."""

    display: str
    reason: str


@dataclass
class IdStats:
    """Counts kept while IDs stream through :func:`clean_ids`."""

    accepted: int = 0
    rejected: int = 0
    duplicates: int = 0


def id_problem(assistant_id: str) -> str | None:
    """Why ``assistant_id`` (already stripped) cannot be sent, or ``None`` when it can."""
    if not assistant_id:
        return "empty ID"
    if len(assistant_id) > settings.MAX_ID_LENGTH:
        return f"longer than {settings.MAX_ID_LENGTH} characters ({len(assistant_id)})"
    if any(unicodedata.category(ch) == "Cc" for ch in assistant_id):
        return "contains control characters"
    if any(ch.isspace() for ch in assistant_id):
        return "contains whitespace"
    if "/" in assistant_id or "\\" in assistant_id:
        return "contains a path separator"
    if ".." in assistant_id:
        return "contains '..'"
    return None


def display_id(raw: str) -> str:
    """A printable, bounded form of any ID: control characters escaped, long ones cut."""
    shown = raw.encode("unicode_escape").decode("ascii") if any(
        unicodedata.category(ch) == "Cc" for ch in raw
    ) else raw
    if len(shown) > DISPLAY_LIMIT:
        digest = hashlib.sha256(raw.encode("utf-8", "surrogatepass")).hexdigest()[:12]
        shown = f"{shown[:DISPLAY_LIMIT]}...({len(raw)} chars, sha256 {digest})"
    return shown


def clean_ids(raw_ids: Iterable[str], stats: IdStats | None = None) -> Iterator[str | RejectedId]:
    """Yield each distinct sendable ID once, in order, and a :class:`RejectedId` for each bad one.

    Duplicates are dropped silently and counted in ``stats``; the first
    occurrence keeps its place.
    """
    stats = stats if stats is not None else IdStats()
    seen: set[str] = set()
    for raw in raw_ids:
        if not isinstance(raw, str):
            stats.rejected += 1
            yield RejectedId(display_id(repr(raw)), f"not a string ({type(raw).__name__})")
            continue
        candidate = raw.strip()
        problem = id_problem(candidate)
        if candidate in seen:
            stats.duplicates += 1
        elif problem:
            seen.add(candidate)  # a bad ID given twice is one row, like a good one
            stats.rejected += 1
            yield RejectedId(display_id(candidate or raw), problem)
        else:
            seen.add(candidate)
            stats.accepted += 1
            yield candidate


def read_ids_file(path: str | Path) -> Iterator[str]:
    """Raw IDs from a text, CSV or JSON file (see the module docstring), streamed.

    The format is taken from the extension (``.csv``, ``.json``) or, failing
    that, sniffed from the first line. Problems with the file itself (missing,
    not a regular file, not UTF-8, no ``assistant_id`` column, bad JSON, a line or
    JSON element longer than :data:`~.settings.MAX_IDS_FILE_LINE` characters)
    raise :class:`InputError` here, before any request: the whole file is read
    once to check it (a line at a time, never whole), then again as it is used.
    Blank lines of a text file are layout, not IDs. A JSON array's elements come
    as they are (``clean_ids`` refuses the ones that are not strings).
    """
    file = Path(path)
    if not file.is_file():
        raise InputError(f"IDs file {str(file)!r} does not exist or is not a file")
    kind = _detect_kind(file, _guarded(file, lambda: _first_line(file)))
    for _ in _read(file, kind):  # every problem of the file surfaces now, before any request
        pass
    return _read(file, kind)


def _read(file: Path, kind: str) -> Iterator[str]:
    try:
        with file.open(encoding="utf-8-sig", newline="") as handle:
            if kind == "json":
                yield from cast(Iterator[str], iter(_JsonArray(handle, file)))  # clean_ids refuses non-strings
            elif kind == "csv":
                lines = _Lines(handle, file)
                try:
                    for row in _csv_reader(lines, file):
                        yield row.get(ID_COLUMN) or ""
                except csv.Error as exc:
                    raise InputError(f"CSV file {str(file)!r} line {lines.number:,}: {exc}") from None
            else:
                for line in _Lines(handle, file):
                    if line.strip():
                        yield line.rstrip("\r\n")
    except UnicodeDecodeError as exc:
        raise InputError(f"IDs file {str(file)!r} is not UTF-8 text ({exc.reason})") from None
    except OSError as exc:  # unreadable (permissions, a folder's lock...): not the warehouse's fault
        raise InputError(f"IDs file {str(file)!r} cannot be read: {exc.strerror}") from None


def _guarded(file: Path, read: Callable[[], str]) -> str:
    try:
        return read()
    except UnicodeDecodeError as exc:
        raise InputError(f"IDs file {str(file)!r} is not UTF-8 text ({exc.reason})") from None
    except OSError as exc:
        raise InputError(f"IDs file {str(file)!r} cannot be read: {exc.strerror}") from None


class _Lines:
    """The lines of ``handle`` (with their line ends), each read with a bound: a longer one is an InputError.
    ``number`` is the line last read."""

    def __init__(self, handle: TextIO, file: Path) -> None:
        self._handle = handle
        self._file = file
        self.number = 0

    def __iter__(self) -> Iterator[str]:
        limit = settings.MAX_IDS_FILE_LINE
        while True:
            line = self._handle.readline(limit + 2)  # room for the line end, \r\n
            if not line:
                return
            self.number += 1
            if len(line.rstrip("\r\n")) > limit:
                raise InputError(f"IDs file {str(self._file)!r}: line {self.number:,} is longer than {limit:,} "
                                 "characters; an IDs file holds one ID per line (or is a CSV with an assistant_id "
                                 "column, or a JSON array): check that this is the right file")
            yield line


def _first_line(file: Path) -> str:
    """The first line that is not blank (at most :data:`~.settings.MAX_IDS_FILE_LINE` characters of it), stripped."""
    with file.open(encoding="utf-8-sig", newline="") as handle:
        while True:
            line = handle.readline(settings.MAX_IDS_FILE_LINE)
            if not line or line.strip():
                return line.strip()


def _detect_kind(file: Path, first_line: str) -> str:
    suffix = file.suffix.lower()
    if suffix in (".json", ".csv"):
        return suffix[1:]
    if first_line.startswith("["):
        return "json"
    if "," in first_line and ID_COLUMN in first_line:
        return "csv"
    return "text"


_NUMBER_CHARS = frozenset("0123456789.eE+-")


class _JsonArray:
    """The elements of the JSON array in ``handle``, decoded one at a time.

    At most one element (bounded by :data:`~.settings.MAX_IDS_FILE_LINE` characters) and one chunk of the file are
    held, so a JSON array of any size, on one line or many, is read in bounded memory. Errors name the line.
    """

    CHUNK = 64 * 1024

    def __init__(self, handle: TextIO, file: Path) -> None:
        self._handle = handle
        self._file = file
        self._decoder = json.JSONDecoder()
        self._buffer = ""
        self._pos = 0
        self._line = 1  # the line of _buffer[0]
        self._eof = False

    def __iter__(self) -> Iterator[object]:
        first = self._next_char()
        if first != "[":
            if first == "":
                self._fail("Expecting value", self._pos)
            raise InputError(f"IDs file {str(self._file)!r} must hold a JSON array of ID strings")
        self._pos += 1
        if self._next_char() == "]":
            self._pos += 1
            self._end()
            return
        while True:
            yield self._element()
            following = self._next_char()
            self._pos += 1
            if following == "]":
                self._end()
                return
            if following != ",":
                self._fail("Expecting ',' delimiter", self._pos - 1)

    def _element(self) -> object:
        if not self._next_char():
            self._fail("Expecting value", self._pos)
        while True:
            try:
                value, end = self._decoder.raw_decode(self._buffer, self._pos)
            except json.JSONDecodeError as exc:
                if self._grow():
                    continue
                self._fail(exc.msg, exc.pos)
            except RecursionError:
                self._fail("nested too deeply", self._pos)
            rest = end
            while rest < len(self._buffer) and self._buffer[rest] in _NUMBER_CHARS:
                rest += 1
            if rest == len(self._buffer) and self._grow():  # a number may go on in the next chunk ("2." + "5e3")
                continue
            if end - self._pos > settings.MAX_IDS_FILE_LINE:
                self._too_long()
            self._pos = end
            return value

    def _next_char(self) -> str:
        """The next character that is not JSON whitespace (not consumed), or "" at the end of the file."""
        while True:
            while self._pos < len(self._buffer) and self._buffer[self._pos] in " \t\r\n":
                self._pos += 1
            if self._pos < len(self._buffer):
                return self._buffer[self._pos]
            if not self._fill():
                return ""

    def _end(self) -> None:
        if self._next_char():
            self._fail("Extra data", self._pos)

    def _grow(self) -> bool:
        """Read more of an element that is not complete yet; False at the end of the file."""
        if len(self._buffer) - self._pos > settings.MAX_IDS_FILE_LINE:
            self._too_long()
        return self._fill()

    def _too_long(self) -> NoReturn:
        raise InputError(f"IDs file {str(self._file)!r}: the JSON element at line {self._line_at(self._pos):,} is "
                         f"longer than {settings.MAX_IDS_FILE_LINE:,} characters; the array should hold assistant "
                         "IDs: check that this is the right file")

    def _fill(self) -> bool:
        if self._eof:
            return False
        chunk = self._handle.read(self.CHUNK)
        if not chunk:
            self._eof = True
            return False
        self._line += self._buffer.count("\n", 0, self._pos)
        self._buffer = self._buffer[self._pos:] + chunk
        self._pos = 0
        return True

    def _line_at(self, position: int) -> int:
        return self._line + self._buffer.count("\n", 0, position)

    def _fail(self, message: str, position: int) -> NoReturn:
        raise InputError(f"IDs file {str(self._file)!r} is not valid JSON: {message} at line "
                         f"{self._line_at(position)}")


def _csv_reader(lines: Iterable[str], file: Path) -> csv.DictReader[str]:
    reader = csv.DictReader(lines)
    columns = [c.strip() for c in reader.fieldnames or []]
    if ID_COLUMN not in columns:
        raise InputError(
            f"CSV file {str(file)!r} has no {ID_COLUMN!r} column (columns: {', '.join(columns) or 'none'})"
        )
    reader.fieldnames = columns
    return reader
