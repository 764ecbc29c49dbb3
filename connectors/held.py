"""Held-back runs an operator can settle: list, show, approve, discard, prune.

A run a blocking gate held back (:mod:`assistants_export.connectors.gates`) keeps its answers under
``held/<date>/<run_id>/`` of its source: ``raw_assistants/``, ``fetch_errors/`` and ``snapshot_runs/`` as Parquet,
and ``held.json`` (when it was held, the gates it failed and why, the outcomes). This module reads them in a
warehouse folder and in a bucket alike, and

* :func:`describe_held` says what the gates saw: the deletions the snapshot would make, the failures, and a
  sample of how its answers differ from the date's stored snapshot;
* :func:`approve_held` stores exactly those answers as the date's snapshot, asking the API nothing, through the
  commit a fetch makes (:func:`assistants_export.connectors.snapshot.commit_staged`) under the source's writer
  lock; ``snapshot_runs`` records the approved gates, who approved and when, so the history step treats the date
  as a normal night. The held folder goes once the date is stored, loaded and replayed, so a run killed before
  that is approved again and ends the same. A held run of a date that a run started after
  it has stored since is refused unless forced: it would put older answers over newer ones;
* :func:`discard_held` removes a held run's folder; :func:`prune_held` removes those older than an age (the
  nightly fetch calls it, :data:`~assistants_export.connectors.core.settings.HELD_MAX_AGE_DAYS` by default).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import os
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.fs as pafs
import pyarrow.parquet as pq

from assistants_export.connectors.core import settings
from assistants_export.connectors.core.errors import InputError
from assistants_export.connectors.core.hashing import content_hash_normalized, loads_normalized
from assistants_export.connectors.core.schemas import (
    FETCH_ERRORS,
    PAYLOAD_TABLES,
    RAW_ASSISTANTS,
    SNAPSHOT_MEMBERS,
    SNAPSHOT_RUNS,
    TableSpec,
)
from assistants_export.connectors.gates import ABORTED, GATES
from assistants_export.connectors.history.changes import FieldChange, diff
from assistants_export.connectors.history.engine import HistoryResult, live_before, rebuild_history, snapshot_deletions
from assistants_export.connectors.openai_assistants.flatten import FLATTENED_BY, stored_batch
from assistants_export.connectors.snapshot import commit_staged, load_duckdb, warehouse_errors
from assistants_export.connectors.warehouse import Store, open_store, pending_loads
from assistants_export.connectors.warehouse.location import parse_warehouse_uri
from assistants_export.connectors.warehouse.objectstore import open_filesystem
from assistants_export.connectors.warehouse.sources import source_root
from assistants_export.connectors.warehouse.stored import stored_hashes
from assistants_export.connectors.warehouse.upgrade import upgrade_warehouse
from assistants_export.connectors.warehouse.writer_lock import writer_lock

log = logging.getLogger(__name__)

NOTE_FILE = "held.json"
PART_FILE = "part-0.parquet"
_RUN_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$")
SAMPLE = 5
"""How many assistants :func:`describe_held` shows of each kind (failures, deletions, changes)."""


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
        return (now or _utcnow()) - self.held_at

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


# --- show -----------------------------------------------------------------------------------------------------------


@dataclass
class HeldReport:
    """What the gates saw, and how the held answers differ from the date's stored snapshot."""

    run: HeldRun
    live_before: int
    deletions: list[str]
    failures: int
    failure_sample: list[dict[str, Any]]
    stored_run_id: str | None
    """The run whose snapshot of the date is stored (``None``: nothing stored for the date)."""
    stored_started_at: dt.datetime | None
    unchanged: int
    changed: list[str]
    added: list[str]
    removed: list[str]
    changes: dict[str, list[FieldChange]]
    """A sample of the changed assistants: their field changes from the stored payload to the held one."""


def describe_held(warehouse: str | os.PathLike[str], run_id: str, *,
                  source_name: str = settings.DEFAULT_SOURCE, sample: int = SAMPLE) -> HeldReport:
    """What the held run ``run_id`` saw: its deletions, its failures, and a sample diff against the stored date."""
    run = find_held(warehouse, run_id, source_name)
    if run.missing():
        raise InputError(f"held run {run.run_id} lacks {', '.join(run.missing())} (it was stopped while being kept): "
                         f"discard it with `assistants-export held discard {run.run_id}`")
    store = open_store(warehouse, source_name)
    date = run.snapshot_date
    raw = run.read(RAW_ASSISTANTS)
    errors = run.read(FETCH_ERRORS)
    runs = run.read(SNAPSHOT_RUNS).to_pylist()
    complete = bool(runs) and runs[0]["mode"] == "discover"
    held_hashes = _hashes(raw)
    not_found = set(_ids(errors, ["not_found"]))
    unknown = set(_ids(errors, ["invalid", "failed"])) if complete else set()
    live = live_before(store, date)
    deletions = snapshot_deletions(live, present=set(held_hashes) if complete else set(), not_found=not_found,
                                   unknown=unknown, complete=complete)
    failed = errors.filter(pc.equal(errors.column("outcome"), "failed"))
    failure_sample = failed.select(["assistant_id", "http_status", "error_type", "message"]).slice(0, sample)
    stored_runs = store.read(SNAPSHOT_RUNS, date).to_pylist()
    members = store.read(SNAPSHOT_MEMBERS, date, columns=["assistant_id", "content_hash"])
    stored = dict(zip(members.column("assistant_id").to_pylist(), members.column("content_hash").to_pylist(),
                      strict=True))
    changed = sorted(i for i, h in held_hashes.items() if i in stored and stored[i] != h)
    changes: dict[str, list[FieldChange]] = {}
    if changed:
        before = store.read(RAW_ASSISTANTS, date, columns=["assistant_id", "raw_json"], ids=changed[:sample])
        old = dict(zip(before.column("assistant_id").to_pylist(), before.column("raw_json").to_pylist(), strict=True))
        new = dict(zip(raw.column("assistant_id").to_pylist(), raw.column("raw_json").to_pylist(), strict=True))
        for assistant_id in changed[:sample]:
            if assistant_id in old:
                changes[assistant_id] = diff(json.loads(old[assistant_id]), json.loads(new[assistant_id]))
    return HeldReport(
        run=run, live_before=len(live), deletions=sorted(deletions), failures=failed.num_rows,
        failure_sample=failure_sample.to_pylist(),
        stored_run_id=stored_runs[0]["run_id"] if stored_runs else None,
        stored_started_at=stored_runs[0]["started_at"] if stored_runs else None,
        unchanged=sum(1 for i, h in held_hashes.items() if stored.get(i) == h), changed=changed,
        added=sorted(set(held_hashes) - set(stored)), removed=sorted(set(stored) - set(held_hashes)),
        changes=changes)


def _hashes(raw: pa.Table) -> dict[str, str]:
    """Each held assistant's content hash, computed from its body as the fetch computed it."""
    ids = raw.column("assistant_id").to_pylist()
    bodies = raw.column("raw_json").to_pylist()
    return {i: content_hash_normalized(loads_normalized(b)) for i, b in zip(ids, bodies, strict=True)}


def _ids(errors: pa.Table, outcomes: list[str]) -> list[str]:
    keep = pc.is_in(errors.column("outcome"), value_set=pa.array(outcomes))
    return errors.filter(keep).column("assistant_id").to_pylist()


# --- approve, discard, prune ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Approval:
    """What :func:`approve_held` stored."""

    run: HeldRun
    gates: tuple[str, ...]
    approved_by: str
    approved_at: dt.datetime
    replaced_run_id: str | None
    """The run whose snapshot of the date the approval replaced (``None``: the date had none)."""
    assistants: int


def approve_held(warehouse: str | os.PathLike[str], run_id: str, *, approved_by: str,
                 source_name: str = settings.DEFAULT_SOURCE, force: bool = False,
                 batch_size: int = settings.BATCH_SIZE, now: dt.datetime | None = None) -> Approval:
    """Store the held run's answers, exactly, as its date's snapshot (its folder is kept: see
    :func:`approve_and_apply`, which removes it once the date is loaded and replayed).

    Under the source's writer lock (another run of the source makes this wait, then raise
    :class:`~assistants_export.connectors.core.errors.SourceBusyError`). Refused, in one line, for a run a
    whole-run error stopped (its answers are partial), for a folder that is incomplete, and, unless ``force``,
    when a run that started after the held one has stored the date since. The caller runs the load and the
    history steps after it, as after a fetch.
    """
    approved_by = " ".join(approved_by.split())
    if not approved_by:
        raise InputError("say who approves the held run (--by NAME)")
    store = open_store(warehouse, source_name)
    with warehouse_errors(store.root), writer_lock(warehouse, source_name):
        for action in store.recover():
            log.warning("recovered from an interrupted run: %s", action)
        upgrade_warehouse(store)
        run = find_held(warehouse, run_id, source_name)
        lacking = run.missing()
        if lacking:
            raise InputError(f"held run {run.run_id} lacks {', '.join(lacking)} (it was stopped while being kept) "
                             f"and cannot be approved: discard it with `assistants-export held discard {run.run_id}`")
        if ABORTED in run.gates:
            raise InputError(f"held run {run.run_id} was stopped by an error before it finished "
                             f"({'; '.join(run.reasons)}): its answers are partial and cannot be approved; re-run "
                             f"{run.snapshot_date}, and discard it")
        date = run.snapshot_date
        [row] = run.read(SNAPSHOT_RUNS).to_pylist()
        stored = store.read(SNAPSHOT_RUNS, date).to_pylist()
        replaced = stored[0] if stored else None
        if replaced is not None and replaced["run_id"] != row["run_id"] and replaced["started_at"] > row["started_at"] \
                and not force:
            raise InputError(
                f"the snapshot of {date} was stored by run {replaced['run_id']}, which started "
                f"{replaced['started_at']:%Y-%m-%d %H:%M:%S} UTC, after held run {run.run_id} "
                f"({row['started_at']:%Y-%m-%d %H:%M:%S} UTC): approving it would put older answers over newer ones. "
                "Pass --force to do so anyway, or discard the held run")
        assistants = _commit(store, run, date, batch_size)
        approved_at = now or _utcnow()
        gates = tuple(dict.fromkeys([*(row["approved_gates"] or []), *(g for g in run.gates if g in GATES)]))
        row.update(approved_gates=list(gates), approved_by=approved_by, approved_at=approved_at)
        store.write(SNAPSHOT_RUNS, date, pa.Table.from_pylist([row], schema=SNAPSHOT_RUNS.schema))
    log.warning("%s stored from held run %s, approved by %s (gates: %s)", date, run.run_id, approved_by,
                ", ".join(gates) or "none")
    replaced_id = None if replaced is None else replaced["run_id"]
    if replaced_id == run.run_id:  # an approval killed after its commit, run again: it replaced nothing else
        replaced_id = None
    return Approval(run, gates, approved_by, approved_at, replaced_id, assistants)


def approve_and_apply(warehouse: str, run_id: str, *, approved_by: str,
                      source_name: str = settings.DEFAULT_SOURCE, force: bool = False,
                      wait: float | None = None) -> tuple[Approval, HistoryResult]:
    """:func:`approve_held`, then what a snapshot does after its fetch: load the date (and any date a locked
    database kept out) into DuckDB and replay the history from it; all under the source's writer lock, which
    another run of the source makes this wait for up to ``wait`` seconds."""
    with writer_lock(warehouse, source_name, run_id=uuid.uuid4().hex, wait=wait):
        approval = approve_held(warehouse, run_id, approved_by=approved_by, source_name=source_name, force=force)
        date = approval.run.snapshot_date
        for pending in pending_loads(warehouse, exclude=date, source_name=source_name):
            load_duckdb(pending, warehouse, source_name=source_name)
        load_duckdb(date, warehouse, source_name=source_name)
        result = rebuild_history(warehouse, date, source_name=source_name)
        approval.run.remove()  # last: a run killed before it approves again, and ends the same
    return approval, result


def _commit(store: Store, run: HeldRun, date: dt.date, batch_size: int) -> int:
    """Stage the run's membership, new payloads and errors as a fetch does, then commit them as it does."""
    known = stored_hashes(store)
    members = store.writer(SNAPSHOT_MEMBERS, date)
    errors = store.writer(FETCH_ERRORS, date)
    payloads = {spec.name: store.writer(spec, date, metadata=FLATTENED_BY) for spec in PAYLOAD_TABLES}
    try:
        for raw in run.iter_raw(batch_size):
            rows, tables = stored_batch(date, raw, known)
            members.write(rows)
            for name, table in tables.items():
                payloads[name].write(table)
        errors.write(run.read(FETCH_ERRORS))
        commit_staged(store, date, payloads, members, errors)
    except BaseException:
        members.discard()
        errors.discard()
        for writer in payloads.values():
            writer.discard()
        raise
    return members.rows


def discard_held(warehouse: str | os.PathLike[str], run_id: str, *,
                 source_name: str = settings.DEFAULT_SOURCE) -> HeldRun:
    """Remove the held run's folder; the date's stored snapshot is not touched."""
    run = find_held(warehouse, run_id, source_name)
    run.remove()
    return run


def prune_held(warehouse: str | os.PathLike[str], max_age: dt.timedelta, *,
               source_name: str = settings.DEFAULT_SOURCE, now: dt.datetime | None = None) -> list[HeldRun]:
    """Remove the source's held runs held longer ago than ``max_age``; returns them, for the report."""
    cutoff = (now or _utcnow()) - max_age
    pruned = [run for run in held_runs(warehouse, source_name) if run.held_at < cutoff]
    for run in pruned:
        run.remove()
        log.warning("pruned held-back run %s of %s, held %s", run.run_id, run.snapshot_date,
                    f"{run.held_at:%Y-%m-%d %H:%M} UTC")
    return pruned


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)
