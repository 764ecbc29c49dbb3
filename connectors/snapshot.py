"""The three steps of a snapshot, free of Dagster: fetch, flatten, load.

1. :func:`fetch_snapshot` asks the API and writes ``raw_assistants``,
   ``fetch_errors`` and ``snapshot_runs`` for the date.
2. :func:`flatten_snapshot` rebuilds the derived tables of a date from its
   stored raw payloads (no network: a backfill is just this and step 3).
3. :func:`load_duckdb` replaces the date in DuckDB with the Parquet partitions.

Each step replaces whole partitions, so any step can be re-run for a date
and the result is the same as running it once. Memory is bounded by the batch
size, not by the number of assistants: results stream to Parquet as they come.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pyarrow as pa

from connectors import failpoints
from connectors.openai_assistants import settings
from connectors.openai_assistants.client import AssistantsClient
from connectors.openai_assistants.config import ClientConfig
from connectors.openai_assistants.errors import ConfigError, DeadlineExceededError
from connectors.openai_assistants.flatten import errors_table, flatten_batch, raw_table
from connectors.openai_assistants.ids import IdStats, RejectedId, clean_ids, read_ids_file
from connectors.openai_assistants.results import FetchResult, Outcome
from connectors.openai_assistants.schemas import (
    ALL_TABLES,
    DERIVED_TABLES,
    FETCH_ERRORS,
    RAW_ASSISTANTS,
    SNAPSHOT_RUNS,
)
from connectors.warehouse import DuckDBStore, ParquetStore

log = logging.getLogger(__name__)

Progress = Callable[[int], None]
"""Called with the number of IDs finished since the last call."""


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

    def row(self) -> dict[str, object]:
        return {
            "snapshot_date": self.snapshot_date, "run_id": self.run_id, "started_at": self.started_at,
            "finished_at": self.finished_at, "mode": self.mode, "base_url": self.base_url,
            "ids_requested": self.ids_requested, "duplicate_ids": self.duplicate_ids,
            **{f"{o.value}_count": self.outcomes.get(o.value, 0) for o in Outcome},
            "requests": self.requests, "retries": self.retries, "rate_limited": self.rate_limited,
            "unknown_field_count": self.unknown_field_count,
        }


class _BatchSink:
    """Collects results and writes them to the staged partitions a batch at a time."""

    def __init__(self, store: ParquetStore, snapshot_date: dt.date, summary: FetchSummary,
                 progress: Progress | None, batch_size: int) -> None:
        self.snapshot_date = snapshot_date
        self.summary = summary
        self.progress = progress
        self.batch_size = batch_size
        self.raw = store.writer(RAW_ASSISTANTS, snapshot_date)
        self.errors = store.writer(FETCH_ERRORS, snapshot_date)
        self._buffer: list[FetchResult] = []

    def __call__(self, result: FetchResult) -> None:
        self.summary.outcomes[result.outcome.value] += 1
        if result.unknown_fields:
            self.summary.unknown_field_count += len(result.unknown_fields)
            self.summary.unknown_fields.update(result.unknown_fields)
        if not result.ok:
            log.debug("%s ended %s: %s", result.assistant_id[:80], result.outcome, result.message)
        self._buffer.append(result)
        if len(self._buffer) >= self.batch_size:
            self.flush()
        if self.progress:
            self.progress(1)
        failpoints.reach("fetch")

    def flush(self) -> None:
        if self._buffer:
            self.raw.write(raw_table(self.snapshot_date, self._buffer))
            self.errors.write(errors_table(self.snapshot_date, self._buffer))
            self._buffer.clear()

    def commit(self) -> None:
        self.flush()
        self.raw.commit()
        self.errors.commit()

    def discard(self) -> None:
        self.raw.discard()
        self.errors.discard()


def fetch_snapshot(config: ClientConfig, source: IdSource, snapshot_date: dt.date, warehouse: str | Path, *,
                   run_id: str | None = None, progress: Progress | None = None,
                   batch_size: int = settings.BATCH_SIZE, transport: object = None) -> FetchSummary:
    """Fetch every assistant of ``source`` and replace the date's raw partitions.

    Raises a :class:`~connectors.openai_assistants.errors.ConnectorError` for
    whole-run problems; in that case nothing is written for the date and the
    previous data (if any) stays as it was.
    """
    store = ParquetStore(warehouse)
    for action in store.recover():
        log.warning("recovered from an interrupted run: %s", action)
    summary = FetchSummary(snapshot_date, run_id or uuid.uuid4().hex, source.mode,
                           _public_url(config.api_root), _utcnow())
    started = time.perf_counter()
    sink = _BatchSink(store, snapshot_date, summary, progress, batch_size)
    try:
        asyncio.run(_fetch_within_deadline(config, source, sink, summary, transport))
        sink.commit()
    except BaseException:
        sink.discard()
        raise
    summary.finished_at = _utcnow()
    summary.seconds = time.perf_counter() - started
    store.write(SNAPSHOT_RUNS, snapshot_date, pa.Table.from_pylist([summary.row()], schema=SNAPSHOT_RUNS.schema))
    log.info("fetched %s: %s in %.1fs (%d requests, %d retries, %d rate-limited)", snapshot_date,
             dict(summary.outcomes), summary.seconds, summary.requests, summary.retries, summary.rate_limited)
    return summary


async def _fetch_within_deadline(config: ClientConfig, source: IdSource, sink: _BatchSink,
                                 summary: FetchSummary, transport: object) -> None:
    """:func:`_fetch`, stopped with :class:`DeadlineExceededError` once ``config.run_deadline`` has passed."""
    deadline = config.run_deadline
    if deadline is None:
        await _fetch(config, source, sink, summary, transport)
        return
    timeout = asyncio.timeout(deadline)
    try:
        async with timeout:
            await _fetch(config, source, sink, summary, transport)
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
                 transport: object) -> None:
    async with AssistantsClient(config, transport=transport) as client:  # type: ignore[arg-type]
        try:
            if source.discover:
                async for page in client.list_all():
                    for result in page:
                        sink(result)
            else:
                id_stats = IdStats()
                ids = _accepted_ids(clean_ids(source.raw_ids(), id_stats), sink)
                if config.preflight:
                    await client.preflight()
                await client.fetch_many(ids, sink)
                summary.ids_requested = id_stats.accepted
                summary.duplicate_ids = id_stats.duplicates
        finally:
            stats = client.stats
            summary.requests, summary.retries = stats.requests, stats.retries
            summary.rate_limited, summary.waited_seconds = stats.rate_limited, stats.waited_seconds


def _accepted_ids(decisions: Iterable[str | RejectedId], sink: _BatchSink) -> Iterator[str]:
    """Pass good IDs on; record each rejected one as a ``rejected_id`` result."""
    for decision in decisions:
        if isinstance(decision, RejectedId):
            sink(FetchResult(decision.display, Outcome.REJECTED_ID, _utcnow(), 0, None, "malformed_id",
                             f"not sent: {decision.reason}"))
        else:
            yield decision


def flatten_snapshot(snapshot_date: dt.date, warehouse: str | Path, *,
                     batch_size: int = settings.BATCH_SIZE) -> dict[str, int]:
    """Rebuild the derived tables of a date from its stored raw payloads; rows written per table."""
    store = ParquetStore(warehouse)
    if not store.partition_files(RAW_ASSISTANTS.name, snapshot_date):
        raise ConfigError(f"no raw snapshot stored for {snapshot_date}: fetch that date first")
    writers = {spec.name: store.writer(spec, snapshot_date) for spec in DERIVED_TABLES}
    try:
        for batch in store.iter_batches(RAW_ASSISTANTS, snapshot_date, batch_size):
            for name, table in flatten_batch(snapshot_date, batch).items():
                writers[name].write(table)
        for writer in writers.values():
            writer.commit()
    except BaseException:
        for writer in writers.values():
            writer.discard()
        raise
    finally:
        # Arrow's allocator keeps freed blocks for reuse; hand them back before the DuckDB load needs memory.
        pa.default_memory_pool().release_unused()
    return {name: writer.rows for name, writer in writers.items()}


def load_duckdb(snapshot_date: dt.date, warehouse: str | Path) -> dict[str, int]:
    """Replace the date in every DuckDB table with its Parquet partitions, in one transaction."""
    parquet = ParquetStore(warehouse)
    files = {name: parquet.partition_files(name, snapshot_date) for name in ALL_TABLES}
    return DuckDBStore(warehouse).load_date(snapshot_date, files)


def _public_url(url: str) -> str:
    """The URL without any ``user:password@`` part."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)
