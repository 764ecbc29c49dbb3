"""The three steps of a snapshot, free of Dagster: fetch, flatten, load.

1. :func:`fetch_snapshot` asks the API and stores the date: its membership
   (``snapshot_members``), the payloads not stored before (``payloads`` and its
   child tables, flattened, and ``responses_mappings``, each new payload mapped to
   a Responses API request), ``fetch_errors`` and ``snapshot_runs``.
2. :func:`flatten_snapshot` rebuilds the payload tables a date stored from their
   raw bodies (no network: after an upgrade that changes the flattening).
3. :func:`load_duckdb` replaces the date in DuckDB with the Parquet partitions.

Each step replaces whole partitions (a payload partition only grows), so any
step can be re-run for a date and the result is the same as running it once.
The fetch step replaces a date only when the run passes every blocking gate
(:mod:`assistants_export.connectors.gates`); otherwise its answers are kept under ``held/`` and
the date stays as it was. Memory is bounded by the batch size, not by the
number of assistants: results stream to Parquet as they come.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import errno
import itertools
import json
import logging
import os
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from assistants_export.connectors.core import failpoints, interrupts, settings
from assistants_export.connectors.core.errors import (
    ConfigError,
    DeadlineExceededError,
    HeldBackError,
    InputError,
    RunAbortedError,
    WarehouseWriteError,
)
from assistants_export.connectors.core.schemas import (
    FETCH_ERRORS,
    PAYLOAD_TABLES,
    PAYLOADS,
    RAW_ASSISTANTS,
    RESPONSES_MAPPINGS,
    SNAPSHOT_MEMBERS,
    SNAPSHOT_RUNS,
)
from assistants_export.connectors.gates import ABORTED, Answers, Gates, judge
from assistants_export.connectors.held_runs import prune_held
from assistants_export.connectors.migration.stored import mapping_rows
from assistants_export.connectors.openai_assistants.client import AssistantsClient, ClientStats
from assistants_export.connectors.openai_assistants.config import ClientConfig
from assistants_export.connectors.openai_assistants.flatten import (
    FLATTENED_BY,
    errors_table,
    flatten_batch,
    payload_tables,
    raw_table,
    stored_batch,
)
from assistants_export.connectors.openai_assistants.ids import IdStats, RejectedId, clean_ids, read_ids_file
from assistants_export.connectors.openai_assistants.results import FetchResult, Outcome
from assistants_export.connectors.warehouse import DuckDBStore, Store, Writer, open_store
from assistants_export.connectors.warehouse.parquet_store import PART_FILE, all_or_none
from assistants_export.connectors.warehouse.stored import payload_bodies, stored_hashes
from assistants_export.connectors.warehouse.upgrade import upgrade_warehouse
from assistants_export.connectors.warehouse.writer_lock import writer_lock

log = logging.getLogger(__name__)

class FetchProgress:
    """A progress listener that hears more than a count: each ID's outcome, and the client's live counters.

    Subclass it and override what you need. :meth:`started` is handed the client's
    :class:`ClientStats` (requests, retries, rate-limited retries, time waited), which a display
    may read whenever it redraws, so it keeps moving while requests are being retried.
    """

    def started(self, stats: ClientStats) -> None:
        """The client is open; ``stats`` are its live counters."""

    def finished(self, outcome: str) -> None:
        """One ID ended with ``outcome`` (``ok``, ``not_found``, ``invalid``, ``failed``, ``rejected_id``)."""


Progress = Callable[[int], None] | FetchProgress
"""A callable given the number of IDs finished since the last call, or a :class:`FetchProgress`."""


@dataclass(frozen=True)
class IdSource:
    """Where the IDs come from: exactly one of a list, a file, or discovery."""

    ids: tuple[str, ...] | None = None
    ids_file: str | None = None
    discover: bool = False

    def __post_init__(self) -> None:
        given = sum([self.ids is not None, self.ids_file is not None, self.discover])
        if given != 1:
            raise ConfigError("give exactly one ID source: a list of IDs, an IDs file, or discover mode")

    @property
    def mode(self) -> str:
        return "discover" if self.discover else "ids"

    def raw_ids(self) -> Iterator[str]:
        """The IDs as given; a file is opened and checked here, before any request."""
        if self.ids is not None:
            return iter(self.ids)
        assert self.ids_file is not None
        return read_ids_file(self.ids_file)


@dataclass
class FetchSummary:
    """What a fetch did: the ``snapshot_runs`` row and the numbers behind the logs."""

    snapshot_date: dt.date
    run_id: str
    mode: str
    base_url: str
    started_at: dt.datetime
    finished_at: dt.datetime | None = None
    outcomes: Counter[str] = field(default_factory=Counter)
    ids_requested: int = 0
    duplicate_ids: int = 0
    requests: int = 0
    retries: int = 0
    rate_limited: int = 0
    waited_seconds: float = 0.0
    unknown_field_count: int = 0
    unknown_fields: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0
    approved_gates: tuple[str, ...] = ()
    pruned_held: list[str] = field(default_factory=list)
    """The held-back runs of the source this run removed for their age (``<date>/<run_id>``)."""

    def row(self) -> dict[str, object]:
        return {
            "snapshot_date": self.snapshot_date, "run_id": self.run_id, "started_at": self.started_at,
            "finished_at": self.finished_at, "mode": self.mode, "base_url": self.base_url,
            "ids_requested": self.ids_requested, "duplicate_ids": self.duplicate_ids,
            **{f"{o.value}_count": self.outcomes.get(o.value, 0) for o in Outcome},
            "requests": self.requests, "retries": self.retries, "rate_limited": self.rate_limited,
            "unknown_field_count": self.unknown_field_count, "approved_gates": list(self.approved_gates),
        }


class _BatchSink:
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
                "held_at": _utcnow().isoformat(), "reasons": [reason for _, reason in held],
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
    metadata = FLATTENED_BY if _flattened_by_this_code(store, snapshot_date) else None
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


def fetch_snapshot(config: ClientConfig, source: IdSource, snapshot_date: dt.date, warehouse: str | Path, *,
                   source_name: str = settings.DEFAULT_SOURCE, run_id: str | None = None,
                   progress: Progress | None = None, batch_size: int = settings.BATCH_SIZE, transport: object = None,
                   gates: Gates | None = None,
                   held_max_age: dt.timedelta | None = dt.timedelta(days=settings.HELD_MAX_AGE_DAYS)) -> FetchSummary:
    """Fetch every assistant of ``source`` and replace the date's raw partitions if the run passes the gates.

    Raises a :class:`~assistants_export.connectors.core.errors.ConnectorError` for
    whole-run problems, and :class:`HeldBackError` when a blocking gate
    (:mod:`assistants_export.connectors.gates`) fails. In both cases the date's partitions stay
    exactly as they were; the answers received so far are kept under
    ``held/<date>/<run_id>/``. An interrupt (Ctrl-C) discards them.

    The source's writer lock (:mod:`assistants_export.connectors.warehouse.writer_lock`) is held throughout; another run
    of the source makes this one wait, then raise :class:`~assistants_export.connectors.core.errors.SourceBusyError`
    having written nothing.

    ``source_name`` names the API source whose tables of ``warehouse`` are written
    (:mod:`assistants_export.connectors.warehouse.sources`). Held runs of the source older than ``held_max_age``
    are removed first (``None`` keeps them), and named in :attr:`FetchSummary.pruned_held`.
    """
    gates = gates or Gates()
    store = open_store(warehouse, source_name)
    run_id = run_id or uuid.uuid4().hex
    with warehouse_errors(store.root), writer_lock(warehouse, source_name, run_id=run_id):
        for action in store.recover():
            log.warning("recovered from an interrupted run: %s", action)
        upgrade_warehouse(store)
        summary = FetchSummary(snapshot_date, run_id, source.mode, _public_url(config.api_root), _utcnow())
        if held_max_age is not None:
            summary.pruned_held = [f"{run.snapshot_date}/{run.run_id}"
                                   for run in prune_held(warehouse, held_max_age, source_name=source_name)]
        started = time.perf_counter()
        sink = _BatchSink(store, snapshot_date, summary, progress, batch_size)
        try:
            asyncio.run(_fetch_within_deadline(config, source, sink, summary, transport, gates))
            sink.drain()
            interrupts.check()  # a Ctrl-C during the fetch: stop here, the date untouched
        except asyncio.CancelledError:
            sink.discard()
            if interrupts.requested():
                raise interrupts.Interrupted from None
            raise
        except RunAbortedError as exc:
            if sum(summary.outcomes.values()) == 0:
                sink.discard()
                raise
            summary.finished_at = _utcnow()
            folder = sink.hold(_runs_table(summary), [(ABORTED, str(exc))])
            raise type(exc)(f"{exc} (the answers received are kept in {folder})") from None
        except BaseException:
            sink.discard()
            raise
        summary.finished_at = _utcnow()
        summary.seconds = time.perf_counter() - started
        verdict = judge(store, snapshot_date, sink.answers, gates)
        summary.approved_gates = verdict.approved
        if not verdict.passed:
            folder = sink.hold(_runs_table(summary), list(verdict.held))
            raise HeldBackError(verdict.message(snapshot_date, folder), folder)
        failpoints.reach("commit")
        try:
            interrupts.begin_commit()  # after a Ctrl-C: stop here; once past it, the run finishes what it began
            sink.commit()
        except BaseException:
            sink.discard()
            raise
        store.write(SNAPSHOT_RUNS, snapshot_date, _runs_table(summary))
    if verdict.approved:
        log.warning("%s stored with approved gates: %s", snapshot_date, ", ".join(verdict.approved))
    log.info("fetched %s: %s in %.1fs (%d requests, %d retries, %d rate-limited)", snapshot_date,
             dict(summary.outcomes), summary.seconds, summary.requests, summary.retries, summary.rate_limited)
    return summary


def _runs_table(summary: FetchSummary) -> pa.Table:
    return pa.Table.from_pylist([summary.row()], schema=SNAPSHOT_RUNS.schema)


_WAREHOUSE_ERRNOS = {
    errno.EACCES: "permission denied: run as a user who may write it, or choose another --warehouse",
    errno.EPERM: "permission denied: run as a user who may write it, or choose another --warehouse",
    errno.EROFS: "the file system is read-only: choose a writable --warehouse",
    errno.ENOSPC: "the disk is full: free space (or move the warehouse) and re-run the date",
    errno.EDQUOT: "the disk quota is exceeded: free space and re-run the date",
    errno.EIO: "the disk reported an input/output error: check it (dmesg, SMART) and re-run the date",
}


@contextmanager
def warehouse_errors(root: Path | str) -> Iterator[None]:
    """Turn the operating system's refusals to write the warehouse into one line that says what to fix."""
    try:
        yield
    except OSError as exc:
        hint = _WAREHOUSE_ERRNOS.get(exc.errno or 0)
        if hint is None:
            raise
        where = root if isinstance(root, str) and "://" in root else os.path.abspath(root)
        raise WarehouseWriteError(f"cannot write the warehouse at {where}: {hint} "
                                  "(the date's stored snapshot is unchanged)") from None


async def _fetch_within_deadline(config: ClientConfig, source: IdSource, sink: _BatchSink,
                                 summary: FetchSummary, transport: object, gates: Gates) -> None:
    """:func:`_fetch`, stopped with :class:`DeadlineExceededError` once ``config.run_deadline`` has passed, and
    cancelled by a Ctrl-C the CLI records (:mod:`assistants_export.connectors.core.interrupts`)."""
    loop, task = asyncio.get_running_loop(), asyncio.current_task()
    assert task is not None

    def cancel() -> None:  # called from the thread the signal reached
        with contextlib.suppress(RuntimeError):  # the loop has closed: the fetch is over anyway
            loop.call_soon_threadsafe(task.cancel)

    with interrupts.cancel_on_interrupt(cancel):
        await _fetch_until_deadline(config, source, sink, summary, transport, gates)


async def _fetch_until_deadline(config: ClientConfig, source: IdSource, sink: _BatchSink,
                                summary: FetchSummary, transport: object, gates: Gates) -> None:
    deadline = config.run_deadline
    if deadline is None:
        await _fetch(config, source, sink, summary, transport, gates)
        return
    timeout = asyncio.timeout(deadline)
    try:
        async with timeout:
            await _fetch(config, source, sink, summary, transport, gates)
    except TimeoutError:
        if not timeout.expired():
            raise
        finished = sum(summary.outcomes.values())
        raise DeadlineExceededError(
            f"the fetch did not finish within its {deadline:g}-second deadline (run_deadline, --run-deadline): "
            f"{finished:,} IDs had finished and nothing was written for {sink.snapshot_date}; raise the "
            "deadline or find out why the endpoint is slow"
        ) from None


async def _fetch(config: ClientConfig, source: IdSource, sink: _BatchSink, summary: FetchSummary,
                 transport: object, gates: Gates) -> None:
    id_stats = IdStats()
    decisions = None if source.discover else \
        _not_empty(clean_ids(source.raw_ids(), id_stats), source, sink.snapshot_date, gates)
    async with AssistantsClient(config, transport=transport) as client:  # type: ignore[arg-type]
        if isinstance(sink.progress, FetchProgress):
            sink.progress.started(client.stats)
        try:
            if source.discover:
                async for page in client.list_all():
                    for result in page:
                        sink(result)
            else:
                assert decisions is not None
                ids = _accepted_ids(decisions, sink)
                if config.preflight:
                    await client.preflight()
                await client.fetch_many(ids, sink)
                summary.ids_requested = id_stats.accepted
                summary.duplicate_ids = id_stats.duplicates
        finally:
            stats = client.stats
            summary.requests, summary.retries = stats.requests, stats.retries
            summary.rate_limited, summary.waited_seconds = stats.rate_limited, stats.waited_seconds


def _not_empty(decisions: Iterator[str | RejectedId], source: IdSource, snapshot_date: dt.date,
               gates: Gates) -> Iterator[str | RejectedId]:
    """``decisions`` unchanged; an :class:`InputError` before any request when the source holds no ID at all."""
    first = next(decisions, None)
    if first is None:
        if not gates.allow_empty:
            where = f"the IDs file {source.ids_file}" if source.ids_file is not None else "the list of IDs"
            raise InputError(f"{where} holds no assistant ID: nothing was fetched and the snapshot of {snapshot_date} "
                             "was left as it was. Give the IDs to fetch, or pass --allow-empty (Dagster: "
                             "allow_empty: true) if that date really had no assistants")
        return iter(())
    return itertools.chain([first], decisions)


def _accepted_ids(decisions: Iterable[str | RejectedId], sink: _BatchSink) -> Iterator[str]:
    """Pass good IDs on; record each rejected one as a ``rejected_id`` result."""
    for decision in decisions:
        if isinstance(decision, RejectedId):
            sink(FetchResult(decision.display, Outcome.REJECTED_ID, _utcnow(), 0, None, "malformed_id",
                             f"not sent: {decision.reason}"))
        else:
            yield decision


def flatten_snapshot(snapshot_date: dt.date, warehouse: str | Path, *, source_name: str = settings.DEFAULT_SOURCE,
                     batch_size: int = settings.BATCH_SIZE, force: bool = False) -> dict[str, int]:
    """Rebuild the payload tables of a date from the payload bodies it stored; rows per table.

    A date's payloads are flattened when they are fetched; this step rebuilds them (after an upgrade
    that changes the flattening, or for a backfill) without asking the API. Partitions this very
    flattener wrote (the nightly case: the fetch step just wrote them) would come out the same, so
    they are left as they are unless ``force`` is given.
    """
    store = open_store(warehouse, source_name)
    with warehouse_errors(store.root), writer_lock(warehouse, source_name):
        failpoints.reach("flatten")
        upgrade_warehouse(store)
        if snapshot_date not in store.membership_dates():
            raise ConfigError(f"no raw snapshot stored for {snapshot_date}: fetch that date first")
        with store.commit_lock():
            if not force and _flattened_by_this_code(store, snapshot_date):
                return {spec.name: store.partition_rows(spec.name, snapshot_date) for spec in PAYLOAD_TABLES}
            return _flatten(store, snapshot_date, batch_size)


def _flattened_by_this_code(store: Store, snapshot_date: dt.date) -> bool:
    """Whether every payload partition of the date exists and was written by this flattener."""
    for spec in PAYLOAD_TABLES:
        found = store.partition_metadata(spec.name, snapshot_date)
        if not found or any(not FLATTENED_BY.items() <= metadata.items() for metadata in found):
            return False
    return True


def _flatten(store: Store, snapshot_date: dt.date, batch_size: int) -> dict[str, int]:
    writers = {spec.name: store.writer(spec, snapshot_date, metadata=FLATTENED_BY) for spec in PAYLOAD_TABLES}
    epoch = pa.scalar(dt.datetime(1970, 1, 1, tzinfo=dt.UTC), RAW_ASSISTANTS.schema.field("fetched_at").type)
    try:
        with all_or_none(writers.values()):
            for batch in store.iter_batches(PAYLOADS, snapshot_date, batch_size):
                raw = pa.table({"assistant_id": batch.column("assistant_id"),
                                "fetched_at": pa.repeat(epoch, batch.num_rows),
                                "raw_json": batch.column("raw_json")})
                for name, table in payload_tables(flatten_batch(snapshot_date, raw)).items():
                    writers[name].write(table)
    finally:
        # Arrow's allocator keeps freed blocks for reuse; hand them back before the DuckDB load needs memory.
        pa.default_memory_pool().release_unused()
    return {name: writer.rows for name, writer in writers.items()}


def load_duckdb(snapshot_date: dt.date, warehouse: str | Path, *,
                source_name: str = settings.DEFAULT_SOURCE) -> dict[str, int]:
    """Replace the source's date in every stored DuckDB table with its stored partitions, in one transaction."""
    parquet = open_store(warehouse, source_name)
    with warehouse_errors(parquet.root), writer_lock(warehouse, source_name):
        upgrade_warehouse(parquet)
        return DuckDBStore(warehouse).load_date(snapshot_date, parquet.date_sources(snapshot_date),
                                                source_name=source_name)


def _public_url(url: str) -> str:
    """The URL without any ``user:password@`` part."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)
