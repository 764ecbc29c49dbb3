"""The runs the gates held back, as they lie in a warehouse: list, find, discard, prune.

A run a blocking gate held back (:mod:`assistants_export.connectors.gates`) keeps its answers under
``held/<date>/<run_id>/`` of its source: ``raw_assistants/``, ``fetch_errors/`` and ``snapshot_runs/`` as Parquet,
and ``held.json`` (when it was held, the gates it failed and why, the outcomes). This module reads them in a
warehouse folder and in a bucket alike; the nightly fetch (:mod:`assistants_export.connectors.snapshot`) prunes
them with :func:`prune_held`, and :mod:`assistants_export.connectors.held` shows and approves them through the
fetch's commit, so it sits above the fetch and this module below.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
import pyarrow.fs as pafs
import pyarrow.parquet as pq

from assistants_export.connectors.core import settings
from assistants_export.connectors.core.errors import InputError
from assistants_export.connectors.core.hashing import content_hash_normalized, loads_normalized
from assistants_export.connectors.core.schemas import FETCH_ERRORS, RAW_ASSISTANTS, SNAPSHOT_RUNS, TableSpec
from assistants_export.connectors.gates import ABORTED
from assistants_export.connectors.warehouse.location import parse_warehouse_uri
from assistants_export.connectors.warehouse.sources import source_root

log = logging.getLogger(__name__)

NOTE_FILE = "held.json"
PART_FILE = "part-0.parquet"
_RUN_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$")

@dataclass(frozen=True)
class HeldRun:
    """One held-back run: where its folder is, and what its ``held.json`` says (``None`` when it has none)."""

    snapshot_date: dt.date
    run_id: str
    where: str
    """The folder as a user names it (a path, or the bucket's URI)."""
    note: dict[str, Any] | None
    _fs: pafs.FileSystem = field(repr=False, compare=False)
    _path: str = field(repr=False, compare=False)

    @property
    def held_at(self) -> dt.datetime:
        """When the run was held; for a folder without a readable note, the start of its snapshot date."""
        try:
            return dt.datetime.fromisoformat(str((self.note or {})["held_at"]))
        except (KeyError, ValueError):
            return dt.datetime.combine(self.snapshot_date, dt.time(), tzinfo=dt.UTC)

    @property
    def gates(self) -> tuple[str, ...]:
        """The gates that held the run (``aborted`` for a whole-run error), from its note.

        A note written before gates were recorded has only the reasons; each is matched to its gate by the
        words :func:`assistants_export.connectors.gates.judge` writes.
        """
        note = self.note or {}
        if "gates" in note:
            return tuple(str(g) for g in note["gates"])
        found = []
        for reason in note.get("reasons", []):
            text = str(reason)
            gate = ("empty" if text.startswith("no assistant was answered") else
                    "failed_share" if "ended failed, above" in text else
                    "mass_deletion" if " would delete " in text else ABORTED)
            found.append(gate)
        return tuple(found)

    @property
    def reasons(self) -> tuple[str, ...]:
        return tuple(str(r) for r in (self.note or {}).get("reasons", []))

    @property
    def outcomes(self) -> dict[str, int]:
        return {str(k): int(v) for k, v in (self.note or {}).get("outcomes", {}).items()}

    def age(self, now: dt.datetime | None = None) -> dt.timedelta:
        return (now or utcnow()) - self.held_at

    def read(self, spec: TableSpec) -> pa.Table:
        """One of the run's tables, in the current schema (a column an older version did not write is null)."""
        table = pq.read_table(f"{self._path}/{spec.name}/{PART_FILE}", filesystem=self._fs)
        return conform(table, spec)

    def iter_raw(self, batch_size: int = settings.BATCH_SIZE) -> Iterator[pa.Table]:
        """The run's ``raw_assistants`` rows in bounded batches."""
        with self._fs.open_input_file(f"{self._path}/{RAW_ASSISTANTS.name}/{PART_FILE}") as stream, \
                pq.ParquetFile(stream) as parquet:
            for batch in parquet.iter_batches(batch_size=batch_size):
                yield conform(pa.Table.from_batches([batch]), RAW_ASSISTANTS)

    def missing(self) -> list[str]:
        """What the folder lacks to be approved (a run killed while it was being kept): names, else []."""
        lacking = [] if self.note is not None else [NOTE_FILE]
        for spec in (RAW_ASSISTANTS, FETCH_ERRORS, SNAPSHOT_RUNS):
            info = self._fs.get_file_info(f"{self._path}/{spec.name}/{PART_FILE}")
            if info.type != pafs.FileType.File:
                lacking.append(f"{spec.name}/{PART_FILE}")
        return lacking

    def remove(self) -> None:
        self._fs.delete_dir(self._path)
        parent = self._path.rsplit("/", 1)[0]
        if isinstance(self._fs, pafs.LocalFileSystem):  # an emptied date folder goes too (a bucket has none)
            with contextlib.suppress(OSError):  # not empty: another run of the date is held
                os.rmdir(parent)


def conform(table: pa.Table, spec: TableSpec) -> pa.Table:
    """``table`` with ``spec``'s columns, in its order and types; a column it lacks is all null."""
    columns = [table.column(f.name).cast(f.type) if f.name in table.column_names
               else pa.nulls(table.num_rows, f.type) for f in spec.schema]
    return pa.Table.from_arrays(columns, schema=spec.schema)


def held_runs(warehouse: str | os.PathLike[str], source_name: str = settings.DEFAULT_SOURCE) -> list[HeldRun]:
    """The source's held-back runs, oldest first."""
    target = source_root(warehouse, source_name)
    location = parse_warehouse_uri(target)
    # imported here: it imports deltalake, which importing the fetch (it prunes through here) does not need
    from assistants_export.connectors.warehouse.objectstore import open_filesystem

    filesystem, root = open_filesystem(location)
    base = f"{root.rstrip('/')}/{settings.HELD_FOLDER}"
    shown = os.path.abspath(location.root) if location.is_local else location.uri.split("?", 1)[0].rstrip("/")
    found = []
    for day in _folders(filesystem, base):
        try:
            date = dt.date.fromisoformat(day.base_name)
        except ValueError:
            continue
        for run in _folders(filesystem, day.path):
            found.append(HeldRun(date, run.base_name,
                                 f"{shown}/{settings.HELD_FOLDER}/{date.isoformat()}/{run.base_name}",
                                 _note(filesystem, run.path), filesystem, run.path))
    return sorted(found, key=lambda r: (r.held_at, r.snapshot_date, r.run_id))


def _folders(filesystem: pafs.FileSystem, path: str) -> list[pafs.FileInfo]:
    infos = filesystem.get_file_info(pafs.FileSelector(path, allow_not_found=True))
    return sorted((i for i in infos if i.type == pafs.FileType.Directory), key=lambda i: i.base_name)


def _note(filesystem: pafs.FileSystem, path: str) -> dict[str, Any] | None:
    try:
        with filesystem.open_input_stream(f"{path}/{NOTE_FILE}") as stream:
            note = json.loads(stream.read().decode("utf-8"))
    except (OSError, ValueError):  # absent (a run killed while it was kept) or unreadable
        return None
    return note if isinstance(note, dict) else None


def find_held(warehouse: str | os.PathLike[str], run_id: str,
              source_name: str = settings.DEFAULT_SOURCE) -> HeldRun:
    """The held run ``run_id`` names (its whole ID, or a prefix of it only one run has); one line when none."""
    if not _RUN_ID.match(run_id):
        raise InputError(f"{run_id!r} is not a run ID: give one that `assistants-export held list` shows")
    runs = held_runs(warehouse, source_name)
    exact = [r for r in runs if r.run_id == run_id]
    matched = exact or [r for r in runs if r.run_id.startswith(run_id)]
    named = "" if source_name == settings.DEFAULT_SOURCE else f" of source {source_name}"
    if not matched:
        raise InputError(f"no held-back run {run_id}{named} in {os.fspath(warehouse)}: "
                         "`assistants-export held list` shows the held runs")
    if len(matched) > 1:
        raise InputError(f"{run_id} is the start of {len(matched)} held runs' IDs{named} "
                         f"({', '.join(r.run_id for r in matched)}): give more of it")
    return matched[0]


def discard_held(warehouse: str | os.PathLike[str], run_id: str, *,
                 source_name: str = settings.DEFAULT_SOURCE) -> HeldRun:
    """Remove the held run's folder; the date's stored snapshot is not touched."""
    run = find_held(warehouse, run_id, source_name)
    run.remove()
    return run


def prune_held(warehouse: str | os.PathLike[str], max_age: dt.timedelta, *,
               source_name: str = settings.DEFAULT_SOURCE, now: dt.datetime | None = None) -> list[HeldRun]:
    """Remove the source's held runs held longer ago than ``max_age``; returns them, for the report."""
    cutoff = (now or utcnow()) - max_age
    pruned = [run for run in held_runs(warehouse, source_name) if run.held_at < cutoff]
    for run in pruned:
        run.remove()
        log.warning("pruned held-back run %s of %s, held %s", run.run_id, run.snapshot_date,
                    f"{run.held_at:%Y-%m-%d %H:%M} UTC")
    return pruned


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def held_hashes(warehouse: str | os.PathLike[str], source_name: str = settings.DEFAULT_SOURCE) -> set[str]:
    """The content hashes of every held run's answers, computed from the bodies as the fetch computes them: payloads
    an approval may need, which retention never removes."""
    found: set[str] = set()
    for run in held_runs(warehouse, source_name):
        if run.missing():
            continue
        for batch in run.iter_raw():
            found.update(content_hash_normalized(loads_normalized(body))
                         for body in batch.column("raw_json").to_pylist())
    return found
