"""Held-back runs an operator can settle: show and approve.

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
* listing, finding, discarding (:func:`~assistants_export.connectors.held_runs.discard_held`) and pruning
  (:func:`~assistants_export.connectors.held_runs.prune_held`: those older than an age, which the nightly fetch
  does, :data:`~assistants_export.connectors.core.settings.HELD_MAX_AGE_DAYS` by default) live in
  :mod:`assistants_export.connectors.held_runs`, below the fetch, since the fetch prunes and this module approves
  through the fetch's commit.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import uuid
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from assistants_export.connectors.core import settings
from assistants_export.connectors.core.errors import InputError
from assistants_export.connectors.core.hashing import content_hash_normalized, loads_normalized
from assistants_export.connectors.core.schemas import (
    FETCH_ERRORS,
    RAW_ASSISTANTS,
    SNAPSHOT_MEMBERS,
    SNAPSHOT_RUNS,
)
from assistants_export.connectors.deletions import live_before, snapshot_deletions
from assistants_export.connectors.gates import ABORTED, GATES
from assistants_export.connectors.held_runs import HeldRun, find_held, utcnow
from assistants_export.connectors.history.changes import FieldChange, diff
from assistants_export.connectors.history.engine import HistoryResult, rebuild_history
from assistants_export.connectors.openai_assistants.flatten import stored_batch
from assistants_export.connectors.snapshot import commit_staged, load_duckdb, payload_writers, with_mappings
from assistants_export.connectors.warehouse import Store, open_store, pending_loads
from assistants_export.connectors.warehouse.stored import stored_hashes
from assistants_export.connectors.warehouse.writer_lock import writer_lock
from assistants_export.connectors.warehouse.writing import opened_for_writing

log = logging.getLogger(__name__)

SAMPLE = 5
"""How many assistants :func:`describe_held` shows of each kind (failures, deletions, changes)."""


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
    with opened_for_writing(warehouse, source_name) as store:
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
        approved_at = now or utcnow()
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
    payloads = payload_writers(store, date)
    try:
        for raw in run.iter_raw(batch_size):
            rows, tables = stored_batch(date, raw, known)
            members.write(rows)
            for name, table in with_mappings(date, tables).items():
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
