"""The fetch step: :func:`fetch_snapshot` asks the API for a date's assistants under the source's writer lock,
streams the answers into a :class:`~.sink.BatchSink`, judges the run by the gates, and stores the date or holds
the run back."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import itertools
import logging
import time
import uuid
from collections.abc import Iterable, Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from assistants_export.connectors.core import failpoints, interrupts, settings
from assistants_export.connectors.core.errors import DeadlineExceededError, HeldBackError, InputError, RunAbortedError
from assistants_export.connectors.core.schemas import SNAPSHOT_RUNS
from assistants_export.connectors.gates import ABORTED, Gates, judge
from assistants_export.connectors.held_runs import prune_held
from assistants_export.connectors.openai_assistants.client import AssistantsClient
from assistants_export.connectors.openai_assistants.config import ClientConfig
from assistants_export.connectors.openai_assistants.ids import IdStats, RejectedId, clean_ids
from assistants_export.connectors.openai_assistants.results import FetchResult, Outcome
from assistants_export.connectors.warehouse.writing import opened_for_writing

from .run import FetchProgress, FetchSummary, IdSource, Progress, runs_table, utcnow
from .sink import BatchSink

log = logging.getLogger(__name__)


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
    run_id = run_id or uuid.uuid4().hex
    with opened_for_writing(warehouse, source_name, run_id=run_id) as store:
        summary = FetchSummary(snapshot_date, run_id, source.mode, _public_url(config.api_root), utcnow())
        if held_max_age is not None:
            summary.pruned_held = [f"{run.snapshot_date}/{run.run_id}"
                                   for run in prune_held(warehouse, held_max_age, source_name=source_name)]
        started = time.perf_counter()
        sink = BatchSink(store, snapshot_date, summary, progress, batch_size)
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
            summary.finished_at = utcnow()
            folder = sink.hold(runs_table(summary), [(ABORTED, str(exc))])
            raise type(exc)(f"{exc} (the answers received are kept in {folder})") from None
        except BaseException:
            sink.discard()
            raise
        summary.finished_at = utcnow()
        summary.seconds = time.perf_counter() - started
        verdict = judge(store, snapshot_date, sink.answers, gates)
        summary.approved_gates = verdict.approved
        if not verdict.passed:
            folder = sink.hold(runs_table(summary), list(verdict.held))
            raise HeldBackError(verdict.message(snapshot_date, folder), folder)
        failpoints.reach("commit")
        try:
            interrupts.begin_commit()  # after a Ctrl-C: stop here; once past it, the run finishes what it began
            sink.commit()
        except BaseException:
            sink.discard()
            raise
        store.write(SNAPSHOT_RUNS, snapshot_date, runs_table(summary))
    if verdict.approved:
        log.warning("%s stored with approved gates: %s", snapshot_date, ", ".join(verdict.approved))
    log.info("fetched %s: %s in %.1fs (%d requests, %d retries, %d rate-limited)", snapshot_date,
             dict(summary.outcomes), summary.seconds, summary.requests, summary.retries, summary.rate_limited)
    return summary


async def _fetch_within_deadline(config: ClientConfig, source: IdSource, sink: BatchSink,
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


async def _fetch_until_deadline(config: ClientConfig, source: IdSource, sink: BatchSink,
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


async def _fetch(config: ClientConfig, source: IdSource, sink: BatchSink, summary: FetchSummary,
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


def _accepted_ids(decisions: Iterable[str | RejectedId], sink: BatchSink) -> Iterator[str]:
    """Pass good IDs on; record each rejected one as a ``rejected_id`` result."""
    for decision in decisions:
        if isinstance(decision, RejectedId):
            sink(FetchResult(decision.display, Outcome.REJECTED_ID, utcnow(), 0, None, "malformed_id",
                             f"not sent: {decision.reason}"))
        else:
            yield decision


def _public_url(url: str) -> str:
    """The URL without any ``user:password@`` part."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, "", ""))
