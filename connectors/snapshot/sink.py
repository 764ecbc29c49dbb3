"""Where a fetch's answers go: :class:`BatchSink` stages each batch (membership, new payloads flattened, errors)
on a writer thread while the next batch is fetched, then commits the date (:func:`commit_staged`) or keeps the
run under ``held/`` when a gate holds it back."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from assistants_export.connectors.core import failpoints, interrupts
from assistants_export.connectors.core.schemas import (
    FETCH_ERRORS,
    PAYLOAD_TABLES,
    PAYLOADS,
    RAW_ASSISTANTS,
    RESPONSES_MAPPINGS,
    SNAPSHOT_MEMBERS,
    SNAPSHOT_RUNS,
)
from assistants_export.connectors.gates import Answers
from assistants_export.connectors.migration.stored import mapping_rows
from assistants_export.connectors.openai_assistants.flatten import FLATTENED_BY, errors_table, raw_table, stored_batch
from assistants_export.connectors.openai_assistants.results import FetchResult, Outcome
from assistants_export.connectors.warehouse import Store, Writer
from assistants_export.connectors.warehouse.parquet_store import PART_FILE
from assistants_export.connectors.warehouse.store import all_or_none
from assistants_export.connectors.warehouse.stored import payload_bodies, stored_hashes

from .flatten_step import flattened_by_this_code
from .run import FetchProgress, FetchSummary, Progress, utcnow

log = logging.getLogger(__name__)


class BatchSink:
    """Collects results and writes them to the staged partitions a batch at a time."""

    def __init__(self, store: Store, snapshot_date: dt.date, summary: FetchSummary,
                 progress: Progress | None, batch_size: int) -> None:
        self.snapshot_date = snapshot_date
        self.summary = summary
        self.progress = progress
        self.batch_size = batch_size
        self.store = store
        self.members = store.writer(SNAPSHOT_MEMBERS, snapshot_date)
        self.errors = store.writer(FETCH_ERRORS, snapshot_date)
        self.payloads = payload_writers(store, snapshot_date)
        self.known = stored_hashes(store)
        """Hashes stored already (by any date) or staged by this run: their payloads are not stored again."""
        self.answers = Answers(complete=summary.mode == "discover", outcomes=summary.outcomes)
        self._buffer: list[FetchResult] = []
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="snapshot-writer")
        self._writing: Future[None] | None = None
        """The batch the writer thread is storing: one at a time, so at most two batches are held."""

    def __call__(self, result: FetchResult) -> None:
        self.summary.outcomes[result.outcome.value] += 1
        self._remember(result)
        if result.unknown_fields:
            self.summary.unknown_field_count += len(result.unknown_fields)
            self.summary.unknown_fields.update(result.unknown_fields)
        if not result.ok:
            log.debug("%s ended %s: %s", result.assistant_id[:80], result.outcome, result.message)
        self._buffer.append(result)
        if len(self._buffer) >= self.batch_size:
            self.flush()
        if isinstance(self.progress, FetchProgress):
            self.progress.finished(result.outcome.value)
        elif self.progress is not None:
            self.progress(1)
        failpoints.reach("fetch")
        interrupts.cancel_again()  # a Ctrl-C's cancellation that something swallowed: the fetch still stops

    def _remember(self, result: FetchResult) -> None:
        """Keep what the gates need: the not-found IDs, and in discover mode which IDs were listed."""
        outcome = result.outcome
        if outcome is Outcome.NOT_FOUND:
            self.answers.not_found.add(result.assistant_id)
        elif self.answers.complete:
            (self.answers.present if outcome is Outcome.OK else self.answers.unknown).add(result.assistant_id)

    def flush(self) -> None:
        """Hand the buffered results to the writer thread, once it has stored the batch before.

        Hashing, flattening and writing a batch happen while the event loop goes on fetching the next
        one: against a server with latency the requests in flight no longer wait for a batch to be
        written. An error of the writer is raised here, at the next batch, or by :meth:`drain`.
        """
        if self._buffer:
            batch, self._buffer = self._buffer, []
            self._wait()
            self._writing = self._writer.submit(self._write, batch)

    def drain(self) -> None:
        """Store everything received so far, and raise the writer's error if it had one."""
        self.flush()
        self._wait()

    def _wait(self) -> None:
        if self._writing is not None:
            writing, self._writing = self._writing, None
            writing.result()

    def _write(self, batch: list[FetchResult]) -> None:
        decoded = [r.decoded for r in batch if r.ok]  # the client's one decode of each body
        members, payloads = stored_batch(self.snapshot_date, raw_table(self.snapshot_date, batch), self.known,
                                         decoded)
        self.members.write(members)
        for name, table in with_mappings(self.snapshot_date, payloads).items():
            self.payloads[name].write(table)
        self.errors.write(errors_table(self.snapshot_date, batch))

    def commit(self) -> None:
        """Store the new payloads, then the membership that names them, under the warehouse's commit lock.

        Payloads first: a reader (or a crash) between the two sees the old membership, whose payloads
        are all still stored, since a payload partition only ever grows.
        """
        self.drain()
        self._writer.shutdown()
        commit_staged(self.store, self.snapshot_date, self.payloads, self.members, self.errors)

    def hold(self, runs: pa.Table, held: list[tuple[str, str]]) -> str:
        """Keep the run's answers under ``held/<date>/<run_id>/`` instead of the date's partitions; returns where."""
        self.drain()
        self._writer.shutdown()
        folder = self.store.held_staging(self.snapshot_date, self.summary.run_id)
        raw_dir = folder / RAW_ASSISTANTS.name
        raw_dir.mkdir(parents=True, exist_ok=True)
        _write_held_raw(self.store, self.members, self.payloads[PAYLOADS.name], raw_dir / PART_FILE)
        for writer in self.payloads.values():
            writer.discard()
        self.members.discard()
        self.errors.hold(folder)
        runs_dir = folder / SNAPSHOT_RUNS.name
        runs_dir.mkdir(parents=True, exist_ok=True)
        pq.write_table(runs, runs_dir / PART_FILE)
        note = {"snapshot_date": self.snapshot_date.isoformat(), "run_id": self.summary.run_id,
                "held_at": utcnow().isoformat(), "reasons": [reason for _, reason in held],
                "gates": [gate for gate, _ in held], "outcomes": dict(self.summary.outcomes)}
        (folder / "held.json").write_text(json.dumps(note, indent=2) + "\n", encoding="utf-8")
        return self.store.keep_held(folder, self.snapshot_date, self.summary.run_id)

    def discard(self) -> None:
        self._buffer.clear()
        with contextlib.suppress(BaseException):  # the error being handled is the one to report
            self._wait()
        self._writer.shutdown()
        self.members.discard()
        self.errors.discard()
        for writer in self.payloads.values():
            writer.discard()


def payload_writers(store: Store, snapshot_date: dt.date) -> dict[str, Writer]:
    """The staged writers of a run's new payloads: the flattened payload tables and their Responses mappings."""
    writers = {spec.name: store.writer(spec, snapshot_date, metadata=FLATTENED_BY) for spec in PAYLOAD_TABLES}
    writers[RESPONSES_MAPPINGS.name] = store.writer(RESPONSES_MAPPINGS, snapshot_date)
    return writers


def with_mappings(snapshot_date: dt.date, tables: dict[str, pa.Table]) -> dict[str, pa.Table]:
    """A batch's new payload tables and the ``responses_mappings`` rows of its new payloads: each payload is mapped
    once, when it is first stored (:mod:`assistants_export.connectors.migration.stored`)."""
    return {**tables, RESPONSES_MAPPINGS.name: mapping_rows(snapshot_date, tables[PAYLOADS.name])}


def commit_staged(store: Store, snapshot_date: dt.date, payloads: dict[str, Writer], members: Writer,
                  errors: Writer) -> None:
    """Make a run's staged answers the date's snapshot, under the warehouse's commit lock: the new payloads, then
    the membership that names them, then the errors (a fetch's commit, and a held run's approval).

    Payloads first: a reader (or a crash) between the two sees the old membership, whose payloads are all still
    stored, since a payload partition only ever grows.
    """
    with store.commit_lock():
        commit_payloads(store, snapshot_date, payloads)
        members.commit()
        errors.commit()


def commit_payloads(store: Store, snapshot_date: dt.date, staged: dict[str, Writer]) -> None:
    """Commit a run's new payload tables for ``snapshot_date``, keeping every payload the partition held.

    Call under the store's :meth:`~ParquetStore.commit_lock`. A payload partition only grows: a later date may name a
    payload this date stored first, so a re-run never drops one. When the partition is new (every
    nightly run), the staged files are simply committed; otherwise the stored rows are streamed into new
    files followed by the staged rows not stored there yet.
    """
    if not store.has_partition(PAYLOADS.name, snapshot_date):
        for writer in staged.values():
            writer.commit()
        return
    held = store.read(PAYLOADS, snapshot_date, columns=["content_hash"]).column("content_hash")
    # The merged partition is this flattener's only if the rows it keeps are too.
    metadata = FLATTENED_BY if flattened_by_this_code(store, snapshot_date) else None
    merged = {name: store.writer(writer.spec, snapshot_date, metadata=metadata) for name, writer in staged.items()}
    with all_or_none(merged.values()):
        for name, writer in staged.items():
            for batch in store.iter_batches(writer.spec, snapshot_date):
                merged[name].write(batch)
            for batch in writer.staged_batches():
                keep = pc.invert(pc.is_in(batch.column("content_hash"), value_set=held))
                merged[name].write(batch.filter(keep))
            writer.discard()


def _write_held_raw(store: Store, members: Writer, staged: Writer, target: Path) -> None:
    """A held run's ``raw_assistants`` rows: its membership with each body, staged or stored before."""
    member_rows = pa.Table.from_batches(list(members.staged_batches()), schema=SNAPSHOT_MEMBERS.schema)
    fresh = pa.Table.from_batches(list(staged.staged_batches()), schema=PAYLOADS.schema) \
        .select(["content_hash", "raw_json"])
    missing = pc.invert(pc.is_in(member_rows.column("content_hash"), value_set=fresh.column("content_hash")))
    wanted = member_rows.filter(missing).column("content_hash")
    earlier = payload_bodies(store, wanted) if len(wanted) else fresh.schema.empty_table()
    bodies = pa.concat_tables([fresh, earlier.cast(fresh.schema)])  # disjoint, each hash once (payload_bodies)
    joined = member_rows.join(bodies, "content_hash")
    pq.write_table(joined.select(RAW_ASSISTANTS.schema.names).cast(RAW_ASSISTANTS.schema), target)
