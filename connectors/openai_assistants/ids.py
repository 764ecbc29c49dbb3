"""Assistant IDs in: reading them, cleaning them, refusing the malformed ones.

IDs come from a list (Dagster run config, ``--ids``) or a file: one per line, a
CSV with an ``assistant_id`` column, or a JSON array. They are stripped and
de-duplicated in order. An ID that could never name an assistant (empty,
whitespace inside, a ``/``, ``..``, control characters, longer than 128) is never
sent: it is recorded with the reason, like any other ID that did not end ``ok``.
Everything here streams, so a file of a million IDs is never held as a list.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

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
    not UTF-8, no ``assistant_id`` column, bad JSON) raise :class:`InputError`
    here, before any request. Blank lines of a text file are layout, not IDs.
    """
    file = Path(path)
    if not file.is_file():
        raise InputError(f"IDs file {str(file)!r} does not exist or is not a file")
    try:
        with file.open(encoding="utf-8-sig", newline="") as handle:
            kind = _detect_kind(file, _first_line(handle))
            if kind == "json":
                return iter(_json_ids(handle, file))  # type: ignore[arg-type]  # clean_ids refuses non-strings
            if kind == "csv":
                _csv_reader(handle, file)
    except UnicodeDecodeError as exc:
        raise InputError(f"IDs file {str(file)!r} is not UTF-8 text ({exc.reason})") from None
    except OSError as exc:  # unreadable (permissions, a folder's lock...): not the warehouse's fault
        raise InputError(f"IDs file {str(file)!r} cannot be read: {exc.strerror}") from None
    return _stream_lines(file, kind)


def _stream_lines(file: Path, kind: str) -> Iterator[str]:
    try:
        with file.open(encoding="utf-8-sig", newline="") as handle:
            if kind == "csv":
                for row in _csv_reader(handle, file):
                    yield row.get(ID_COLUMN) or ""
                return
            for line in handle:
                if line.strip():
                    yield line.rstrip("\r\n")
    except UnicodeDecodeError as exc:
        raise InputError(f"IDs file {str(file)!r} is not UTF-8 text ({exc.reason})") from None
    except OSError as exc:
        raise InputError(f"IDs file {str(file)!r} cannot be read: {exc.strerror}") from None


def _first_line(handle: io.TextIOBase) -> str:
    position = handle.tell()
    line = ""
    while not line.strip():
        line = handle.readline()
        if not line:
            break
    handle.seek(position)
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


def _json_ids(handle: io.TextIOBase, file: Path) -> list[object]:
    try:
        data = json.load(handle)
    except json.JSONDecodeError as exc:
        raise InputError(f"IDs file {str(file)!r} is not valid JSON: {exc.msg} at line {exc.lineno}") from None
    if not isinstance(data, list):
        raise InputError(f"IDs file {str(file)!r} must hold a JSON array of ID strings")
    return data


def _csv_reader(handle: io.TextIOBase, file: Path) -> csv.DictReader[str]:
    reader = csv.DictReader(handle)
    columns = [c.strip() for c in reader.fieldnames or []]
    if ID_COLUMN not in columns:
        raise InputError(
            f"CSV file {str(file)!r} has no {ID_COLUMN!r} column (columns: {', '.join(columns) or 'none'})"
        )
    reader.fieldnames = columns
    return reader
