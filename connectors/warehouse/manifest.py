"""The compacted months of one table of a folder warehouse: ``parquet/<table>/_compacted.json``.

Compaction (:mod:`assistants_export.connectors.warehouse.compaction`) merges the per-date files of a closed
month into one file, ``parquet/<table>/_compacted/<month>.<id>.parquet``, and then names it in this manifest,
which is replaced in one ``rename(2)``. The manifest is the switch readers go by: a date it *covers* is read
from its month's file (filtered to the date), every other date from its own ``snapshot_date=D`` folder. So a
reader sees each table old (before the rename) or new (after it), never both and never a missing file: the
per-date files a month replaced stay in place, and a replaced month file is only listed under ``replaced``,
until :func:`~assistants_export.connectors.warehouse.compaction.vacuum_folder` deletes them after a safe delay.

Names starting with ``_`` are skipped by Arrow's folder discovery, so a warehouse without a manifest (never
compacted) is read by globbing the folders, as before.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from assistants_export.connectors.core.errors import ConfigError

MANIFEST_FILE = "_compacted.json"
COMPACTED_DIR = "_compacted"
_LOCK_FILE = "_compacted.lock"
FORMAT = 1


@dataclass
class Month:
    """One compacted month: its file (a name inside ``_compacted/``), the dates it holds (empty ones too), when it
    was first compacted, and each date's file metadata."""

    file: str
    dates: tuple[dt.date, ...]
    at: dt.datetime
    meta: dict[str, list[dict[str, str]]] = field(default_factory=dict)


@dataclass
class Manifest:
    months: dict[str, Month] = field(default_factory=dict)
    replaced: list[tuple[str, dt.datetime]] = field(default_factory=list)
    """Month files no longer named, and when they stopped being named (deleted by the vacuum after its delay)."""

    def covering(self, snapshot_date: dt.date) -> Month | None:
        """The month whose file holds ``snapshot_date``, if it is compacted."""
        month = self.months.get(month_key(snapshot_date))
        return month if month is not None and snapshot_date in month.dates else None

    def covered(self) -> dict[dt.date, Month]:
        return {d: month for month in self.months.values() for d in month.dates}

    def named(self) -> set[str]:
        """Every file of ``_compacted/`` the manifest knows (live or waiting for the vacuum)."""
        return {m.file for m in self.months.values()} | {name for name, _ in self.replaced}


def month_key(snapshot_date: dt.date) -> str:
    return snapshot_date.strftime("%Y-%m")


def read_manifest(table_dir: Path) -> Manifest:
    """The table's manifest; an empty one when the table was never compacted."""
    path = table_dir / MANIFEST_FILE
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return Manifest()
    try:
        raw = json.loads(text)
        if raw.get("format") != FORMAT:
            raise ValueError(f"format {raw.get('format')!r}")
        months = {key: Month(file=str(m["file"]), dates=tuple(sorted(dt.date.fromisoformat(d) for d in m["dates"])),
                             at=dt.datetime.fromisoformat(m["at"]), meta=dict(m.get("meta", {})))
                  for key, m in raw["months"].items()}
        replaced = [(str(name), dt.datetime.fromisoformat(at)) for name, at in raw.get("replaced", [])]
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ConfigError(f"{path} is not a manifest this version can read ({exc}): restore it from a backup, "
                          "or upgrade assistants-export") from None
    return Manifest(months, replaced)


def manifest_text(manifest: Manifest) -> str:
    """The manifest as its file holds it (written durably by :meth:`ParquetStore.write_manifest`)."""
    raw = {"format": FORMAT,
           "months": {key: {"file": m.file, "dates": [d.isoformat() for d in m.dates], "at": m.at.isoformat(),
                            "meta": m.meta}
                      for key, m in sorted(manifest.months.items())},
           "replaced": [[name, at.isoformat()] for name, at in manifest.replaced]}
    return json.dumps(raw, indent=1, sort_keys=True)


@contextlib.contextmanager
def manifest_lock(table_dir: Path) -> Iterator[None]:
    """One read-change-write of the table's manifest at a time (threads of one run, or a run and a vacuum)."""
    table_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(table_dir / _LOCK_FILE, os.O_CREAT | os.O_RDWR, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)
