"""What a fetch is given and what it records: where the IDs come from (:class:`IdSource`), who hears its
progress (:class:`FetchProgress`), and its ``snapshot_runs`` row (:class:`FetchSummary`)."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import pyarrow as pa

from assistants_export.connectors.core.errors import ConfigError
from assistants_export.connectors.core.schemas import SNAPSHOT_RUNS
from assistants_export.connectors.openai_assistants.client import ClientStats
from assistants_export.connectors.openai_assistants.ids import read_ids_file
from assistants_export.connectors.openai_assistants.results import Outcome


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


def runs_table(summary: FetchSummary) -> pa.Table:
    """The run's one ``snapshot_runs`` row, as the table it is stored in."""
    return pa.Table.from_pylist([summary.row()], schema=SNAPSHOT_RUNS.schema)


def utcnow() -> dt.datetime:
    """Now, in UTC: the times a run records."""
    return dt.datetime.now(dt.UTC)
