"""The SCD2 history and the change log, replayed from the stored snapshots.

What a snapshot date says about an assistant:

* **present** (in ``assistants``): its configuration, identified by ``content_hash``;
* **deleted**: a ``not_found`` in ``fetch_errors``, or absent from a *discover*
  snapshot (a complete listing);
* **unknown**: ``failed``, ``invalid`` or ``rejected_id``, or simply not asked
  for in an ``ids`` snapshot. Unknown changes nothing: the last known version
  stays open.

Replaying the dates in order gives the history, so the history is a pure
function of the stored snapshots. To add a night (or backfill an old one) only
the dates from the earliest affected one onward are replayed, starting from the
versions that were open the day before; dates already replayed are the ones with
an ``assistant_changes`` partition. The mass-deletion guard runs before anything
is written: when one date would delete more than a threshold of the live
assistants, the whole step fails and the history stays as it was.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from assistants_export.connectors.core import failpoints, settings
from assistants_export.connectors.core.errors import MassDeletionError, RunAbortedError
from assistants_export.connectors.core.hashing import canonical_json
from assistants_export.connectors.core.schemas import (
    ASSISTANT_CHANGES,
    ASSISTANT_VERSIONS,
    FETCH_ERRORS,
    PAYLOADS,
    SNAPSHOT_MEMBERS,
    SNAPSHOT_RUNS,
)
from assistants_export.connectors.deletions import (
    DELETED,
    MASS_DELETION_GATE,
    mass_deletion_problem,
    snapshot_deletions,
)
from assistants_export.connectors.warehouse import DuckDBStore, Store, Writer
from assistants_export.connectors.warehouse.stored import payload_bodies
from assistants_export.connectors.warehouse.writing import opened_for_writing

from .changes import diff

log = logging.getLogger(__name__)

DEFAULT_MASS_DELETION_THRESHOLD = settings.DEFAULT_MASS_DELETION_THRESHOLD

CREATED, UPDATED, RESTORED = "created", "updated", "restored"


@dataclass(slots=True)
class Version:
    """An open version during the replay."""

    assistant_id: str
    valid_from: dt.date
    content_hash: str
    """The payload's hash (for a deletion, the last one seen): its body is read from ``payloads`` for diffs."""
    is_deleted: bool


@dataclass
class HistoryResult:
    """What one run of the history step did, for logs and materialization metadata."""

    start: dt.date | None
    dates: list[dt.date] = field(default_factory=list)
    versions_opened: int = 0
    versions_closed: int = 0
    changes: Counter[str] = field(default_factory=Counter)
    """Assistants per change type."""
    field_changes: int = 0
    versions_total: int = 0
    current_live: int = 0


@dataclass
class _Day:
    present: dict[str, str]
    not_found: set[str]
    unknown: set[str]
    complete: bool


def rebuild_history(warehouse: str | Path, from_date: dt.date | None = None, *, allow_mass_deletion: bool = False,
                    threshold: float = DEFAULT_MASS_DELETION_THRESHOLD,
                    source_name: str = settings.DEFAULT_SOURCE) -> HistoryResult:
    """Replay the snapshots from the earliest affected date and replace the history tables.

    ``from_date`` is the date that was just (re)written; dates never replayed
    before are included too. Raises :class:`MassDeletionError` before writing
    anything when a date deletes too much and ``allow_mass_deletion`` is off.

    Each source (``source_name``) has its own history: its snapshots alone are replayed.
    """
    # the source's one writer (a run holds it already: this counts)
    with opened_for_writing(warehouse, source_name) as store:
        return _rebuild(store, warehouse, from_date, allow_mass_deletion, threshold, source_name)


def _rebuild(store: Store, warehouse: str | Path, from_date: dt.date | None, allow_mass_deletion: bool,
             threshold: float, source_name: str) -> HistoryResult:
    dates = _replayable_dates(store)
    start = _start_date(store, dates, from_date)
    result = HistoryResult(start)
    if start is None:
        return result
    existing = store.read_table_file(ASSISTANT_VERSIONS)
    kept, state = _resume(existing, start)
    new_rows: list[dict[str, Any]] = []
    transitions: dict[dt.date, list[_Transition]] = {}
    for date in (d for d in dates if d >= start):  # every guard passes before anything is written
        day = _read_day(store, date)
        deletions = _deletions(day, state)
        _guard(store, date, deletions, state, allow_mass_deletion, threshold)
        transitions[date] = _apply(date, day, deletions, state, new_rows, result)
        result.dates.append(date)
    history = _history_table(kept, new_rows, state)
    result.versions_total = history.num_rows
    result.current_live = sum(1 for v in state.values() if not v.is_deleted)
    _write(store, warehouse, source_name, history, transitions, start, result)
    log.info("history replayed %d date(s) from %s: %d versions opened, %d closed, changes %s",
             len(result.dates), start, result.versions_opened, result.versions_closed, dict(result.changes))
    return result


# --- where to start ----------------------------------------------------------------

def _replayable_dates(store: Store) -> list[dt.date]:
    """Dates whose snapshot is complete: its run recorded (``snapshot_runs``) *and* its membership stored.

    The fetch step stores the membership, then the run. A date missing its membership would look like an
    empty listing, and in discover mode an empty listing deletes everyone, so such a date waits for a re-run.
    """
    with_members = set(store.membership_dates())
    dates = []
    for date in store.dates(SNAPSHOT_RUNS.name):
        if date in with_members:
            dates.append(date)
        else:
            log.warning("history skips %s: its run is recorded but not its membership (re-run that date)", date)
    return dates


def _start_date(store: Store, dates: list[dt.date], from_date: dt.date | None) -> dt.date | None:
    if not dates:
        return None
    if not store.has_table_file(ASSISTANT_VERSIONS.name):
        return dates[0]
    replayed = set(store.replayed_dates())
    candidates = [d for d in dates if d not in replayed]
    if from_date is not None:
        candidates.append(from_date)
    return min(candidates) if candidates else None


def _resume(existing: pa.Table | None, start: dt.date) -> tuple[pa.Table | None, dict[str, Version]]:
    """Versions closed before ``start`` (kept as they are) and the versions open on the day before."""
    if existing is None:
        return None, {}
    valid_from, valid_to = existing.column("valid_from"), existing.column("valid_to")
    before = pc.less(valid_from, pa.scalar(start, pa.date32()))
    closed = pc.and_(before, pc.fill_null(pc.less(valid_to, pa.scalar(start, pa.date32())), False))
    kept = existing.filter(closed)
    reopened = existing.filter(pc.and_(before, pc.invert(closed))).select(
        ["assistant_id", "valid_from", "content_hash", "is_deleted"]).to_pylist()
    state = {row["assistant_id"]: Version(row["assistant_id"], row["valid_from"], row["content_hash"],
                                          row["is_deleted"]) for row in reopened}
    return kept, state


# --- one date ----------------------------------------------------------------------

def _read_day(store: Store, date: dt.date) -> _Day:
    present_table = store.read(SNAPSHOT_MEMBERS, date, columns=["assistant_id", "content_hash"])
    present = dict(zip(present_table.column("assistant_id").to_pylist(),
                       present_table.column("content_hash").to_pylist(), strict=True))
    errors = store.read(FETCH_ERRORS, date, columns=["assistant_id", "outcome"]).to_pylist()
    not_found = {e["assistant_id"] for e in errors if e["outcome"] == "not_found"}
    unknown = {e["assistant_id"] for e in errors if e["outcome"] != "not_found"}
    modes = store.read(SNAPSHOT_RUNS, date, columns=["mode"]).column("mode").to_pylist()
    return _Day(present, not_found, unknown, complete=modes == ["discover"])


def _deletions(day: _Day, state: dict[str, Version]) -> list[str]:
    """Live assistants this date deletes (see :func:`snapshot_deletions`)."""
    live = {i for i, v in state.items() if not v.is_deleted}
    return snapshot_deletions(live, present=set(day.present), not_found=day.not_found, unknown=day.unknown,
                              complete=day.complete)


def _guard(store: Store, date: dt.date, deletions: list[str], state: dict[str, Version],
           allowed: bool, threshold: float) -> None:
    live = sum(1 for v in state.values() if not v.is_deleted)
    if allowed or _approved(store, date):
        return
    problem = mass_deletion_problem(store, date, deletions, live, threshold)
    if problem is None:
        return
    raise MassDeletionError(
        f"{problem}; the history was not changed. If the deletions are real, re-run with --allow-mass-deletion "
        "(Dagster: allow_mass_deletion: true in the history step's config)"
    )


def _approved(store: Store, date: dt.date) -> bool:
    """Whether the run that stored ``date`` approved its deletions (``--allow-mass-deletion``)."""
    runs = store.read(SNAPSHOT_RUNS, date, columns=["approved_gates"]).column("approved_gates").to_pylist()
    return any(MASS_DELETION_GATE in (gates or []) for gates in runs)


@dataclass(frozen=True, slots=True)
class _Transition:
    """One assistant's change on a date: what the change log says about it is derived from the two payloads."""

    assistant_id: str
    kind: str
    old_hash: str | None
    new_hash: str | None


def _apply(date: dt.date, day: _Day, deletions: list[str], state: dict[str, Version],
           new_rows: list[dict[str, Any]], result: HistoryResult) -> list[_Transition]:
    """Advance ``state`` by one date; returns its transitions, in assistant order (no payload is read here)."""
    touched = [i for i, h in day.present.items()
               if i not in state or state[i].is_deleted or state[i].content_hash != h]
    out: list[_Transition] = []
    for assistant_id in touched:
        content_hash = day.present[assistant_id]
        previous = state.get(assistant_id)
        if previous is None:
            kind = CREATED
            out.append(_Transition(assistant_id, CREATED, None, content_hash))
        else:
            kind = RESTORED if previous.is_deleted else UPDATED
            out.append(_Transition(assistant_id, kind, previous.content_hash, content_hash))
            new_rows.append(_version_row(previous, date))
            result.versions_closed += 1
        state[assistant_id] = Version(assistant_id, date, content_hash, False)
        result.versions_opened += 1
        result.changes[kind] += 1
    for assistant_id in deletions:
        previous = state[assistant_id]
        out.append(_Transition(assistant_id, DELETED, previous.content_hash, None))
        new_rows.append(_version_row(previous, date))
        state[assistant_id] = replace(previous, valid_from=date, is_deleted=True)
        result.versions_closed += 1
        result.versions_opened += 1
        result.changes[DELETED] += 1
    out.sort(key=lambda t: t.assistant_id)
    return out


CHANGE_BATCH = 1_000
"""Assistants whose change-log rows are built and written at a time."""
BODIES_BATCH = 10_000
"""Assistants whose payloads are read at a time, as Arrow text (about 30 MB); a night with more changes (a first
night of a large account) reads the payload files once per batch instead of holding every body."""


def _write_changes(store: Store, date: dt.date, transitions: list[_Transition],
                   result: HistoryResult) -> None:
    """Replace the date's change-log partition with the rows of its transitions, streamed in batches.

    Assistants created with a payload the date stored first (every assistant of a first night) are written
    while the date's payload partition is streamed once, a batch at a time. For the others, the payloads a
    batch of transitions needs are read in one pass, as Arrow text, and each is decoded only when its
    assistant's rows are built, so memory follows a batch, not the number of changes.
    """
    with store.writer(ASSISTANT_CHANGES, date) as out:
        transitions = _write_created_here(store, date, transitions, out)
        for start in range(0, len(transitions), BODIES_BATCH):
            batch = transitions[start:start + BODIES_BATCH]
            bodies = _Bodies(store, date, batch)
            for first in range(0, len(batch), CHANGE_BATCH):
                rows: list[dict[str, Any]] = []
                for t in batch[first:first + CHANGE_BATCH]:
                    rows += _change_rows(date, t, bodies)
                result.field_changes += sum(1 for r in rows if r["field"] is not None)
                out.write(pa.Table.from_pylist(rows, schema=ASSISTANT_CHANGES.schema))
            del bodies


def _write_created_here(store: Store, date: dt.date, transitions: list[_Transition],
                        out: Writer) -> list[_Transition]:
    """Write the ``created`` rows whose payload the date's own partition holds; return the other transitions.

    One pass over the partition's hashes and bodies, a batch at a time: a first night of 200,000 assistants
    holds one batch of bodies, not every body (nor a scan of the payloads per batch of assistants).
    """
    created: dict[str, list[str]] = {}
    for t in transitions:
        if t.kind == CREATED and t.new_hash is not None:
            created.setdefault(t.new_hash, []).append(t.assistant_id)
    if not created:
        return transitions
    wanted = pa.array(list(created), pa.string())
    for batch in store.iter_batches(PAYLOADS, date, CHANGE_BATCH, columns=["content_hash", "raw_json"]):
        found = batch.filter(pc.is_in(batch.column("content_hash"), value_set=wanted))
        rows = []
        for content_hash, body in zip(found.column("content_hash").to_pylist(), found.column("raw_json").to_pylist(),
                                      strict=True):
            payload = json.loads(body)
            rows += [_whole(date, owner, CREATED, None, payload) for owner in created.pop(content_hash, ())]
        if rows:
            out.write(pa.Table.from_pylist(rows, schema=ASSISTANT_CHANGES.schema))
    left = {assistant_id for owners in created.values() for assistant_id in owners}
    return [t for t in transitions if t.kind != CREATED or t.assistant_id in left]


def _change_rows(date: dt.date, t: _Transition, bodies: _Bodies) -> list[dict[str, Any]]:
    """One assistant's rows: the whole-assistant row first, then its changed fields in path order."""
    if t.kind == CREATED:
        return [_whole(date, t.assistant_id, CREATED, None, bodies[t.new_hash])]
    if t.kind == DELETED:
        return [_whole(date, t.assistant_id, DELETED, bodies[t.old_hash], None)]
    old_payload, payload = bodies[t.old_hash], bodies[t.new_hash]
    rows = [_whole(date, t.assistant_id, RESTORED, old_payload, payload)] if t.kind == RESTORED else []
    fields = [_field(date, t.assistant_id, t.kind, change.path, change.old, change.new)
              for change in diff(old_payload, payload)]
    return rows + sorted(fields, key=lambda r: r["field"])


class _Bodies:
    """The payloads a date's transitions name, held as Arrow text and decoded on demand."""

    def __init__(self, store: Store, date: dt.date, transitions: list[_Transition]) -> None:
        wanted = {h for t in transitions for h in (t.old_hash, t.new_hash) if h is not None}
        table = payload_bodies(store, wanted) if wanted else None
        self._raw = table.column("raw_json") if table is not None else None
        self._at = {h: i for i, h in enumerate(table.column("content_hash").to_pylist())} if table is not None else {}
        missing = wanted - self._at.keys()
        if missing:
            owner = next(t for t in transitions if t.old_hash in missing or t.new_hash in missing)
            raise RunAbortedError(
                f"the history needs {owner.assistant_id}'s payload {sorted(missing)[0][:12]} for {date}, but no "
                "payload partition holds it: restore the warehouse's parquet/payloads folder from a backup, or "
                "re-fetch that date"
            )

    def __getitem__(self, content_hash: str | None) -> Any:
        assert content_hash is not None and self._raw is not None
        return json.loads(self._raw[self._at[content_hash]].as_py())


# --- rows ----------------------------------------------------------------------------

def _version_row(version: Version, valid_to: dt.date | None) -> dict[str, Any]:
    return {"assistant_id": version.assistant_id, "valid_from": version.valid_from, "valid_to": valid_to,
            "is_current": valid_to is None, "is_deleted": version.is_deleted,
            "content_hash": version.content_hash}


def _whole(date: dt.date, assistant_id: str, kind: str, old: Any, new: Any) -> dict[str, Any]:
    return _field(date, assistant_id, kind, None, None if old is None else canonical_json(old),
                  None if new is None else canonical_json(new))


def _field(date: dt.date, assistant_id: str, kind: str, path: str | None, old: str | None,
           new: str | None) -> dict[str, Any]:
    return {"snapshot_date": date, "assistant_id": assistant_id, "change_type": kind, "field": path,
            "old_value": old, "new_value": new}


def _history_table(kept: pa.Table | None, new_rows: list[dict[str, Any]], state: dict[str, Version]) -> pa.Table:
    versions = list(state.values())  # the open versions, built column by column (one per assistant ever seen)
    open_rows = pa.table({
        "assistant_id": [v.assistant_id for v in versions], "valid_from": [v.valid_from for v in versions],
        "valid_to": pa.nulls(len(versions), pa.date32()), "is_current": [True] * len(versions),
        "is_deleted": [v.is_deleted for v in versions], "content_hash": [v.content_hash for v in versions],
    }, schema=ASSISTANT_VERSIONS.schema)
    fresh = pa.concat_tables([pa.Table.from_pylist(new_rows, schema=ASSISTANT_VERSIONS.schema), open_rows])
    table = pa.concat_tables([kept, fresh]) if kept is not None else fresh
    return table.sort_by([("assistant_id", "ascending"), ("valid_from", "ascending")])


# --- writing ---------------------------------------------------------------------------

def _write(store: Store, warehouse: str | Path, source_name: str, history: pa.Table,
           transitions: dict[dt.date, list[_Transition]], start: dt.date, result: HistoryResult) -> None:
    """Parquet first (the source of truth), then DuckDB in one transaction.

    A change-log partition is also the mark that its date has been replayed, so
    the order makes a kill at any point safe: the replayed dates are unmarked
    first (:meth:`~assistants_export.connectors.warehouse.ParquetStore.replaying`), then the history
    file is swapped in, then each date is marked again with its rows. A date left
    unmarked is replayed by the next run, from the versions open the day before,
    which the new history file holds.
    """
    with store.replaying(start, keep=transitions):
        failpoints.reach("history")
        store.write_table_file(ASSISTANT_VERSIONS, history)
        for date, day in sorted(transitions.items()):
            _write_changes(store, date, day, result)
    changes, tokens = store.change_sources()
    DuckDBStore(warehouse).replace_history(store.versions_source(), changes, start, tokens, source_name=source_name)
