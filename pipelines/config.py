"""Run configuration: which assistants to snapshot."""

from __future__ import annotations

import datetime as dt

from dagster import Config
from pydantic import Field

from assistants_export.connectors.core import settings
from assistants_export.connectors.core.errors import ConfigError
from assistants_export.connectors.core.settings import DEFAULT_SOURCE
from assistants_export.connectors.gates import Gates
from assistants_export.connectors.snapshot import IdSource

from .sources import DISCOVER_ENV, ENVIRONMENT_SOURCE, IDS_FILE_ENV, SourceSpec

__all__ = ["DEFAULT_SOURCE", "DISCOVER_ENV", "IDS_FILE_ENV", "SOURCE_TAG", "HistoryConfig", "SnapshotConfig"]

SOURCE_TAG = "assistants_export/source"
"""The run tag naming the source a snapshot run writes: every run of a (date, source) partition carries its
source's name. A production instance limits runs per value of this tag (``tag_concurrency_limits`` in
deploy/dagster.docker.yaml), so two runs never write one source's warehouse at once."""


class SnapshotConfig(Config):
    """Give one of ``assistant_ids``, ``ids_file`` or ``discover``.

    When none is given (a scheduled run, say), the source's own ``ids_file`` or ``discover`` (sources file)
    is used, else ``$ASSISTANTS_IDS_FILE``, else discover mode if ``$ASSISTANTS_DISCOVER`` is ``1``/``true``.
    """

    assistant_ids: list[str] | None = Field(default=None, description="Assistant IDs to fetch.")
    ids_file: str | None = Field(default=None, description="File of IDs: one per line, CSV with an "
                                 "assistant_id column, or a JSON array.")
    discover: bool = Field(default=False, description="List every assistant instead of fetching given IDs.")
    batch_size: int = Field(default=settings.BATCH_SIZE,
                            description="Assistants held in memory before a batch is written.")
    force: bool = Field(default=False, description="Fetch even when the partition's day ended more than 36 "
                        "hours ago (stores today's state under that date).")
    max_failed_share: float = Field(default=settings.DEFAULT_MAX_FAILED_SHARE, ge=0.0, le=1.0,
                                    description="Largest share of the IDs answered that may end failed before "
                                    "the run is held back (the date's tables are then left as they were).")
    mass_deletion_threshold: float = Field(default=settings.DEFAULT_MASS_DELETION_THRESHOLD, ge=0.0, le=1.0,
                                           description="Largest share of the live assistants one snapshot may "
                                           "delete before the run is held back.")
    allow_empty: bool = Field(default=False, description="Store a snapshot in which no assistant was answered "
                              "(an empty ID source or listing) instead of failing.")
    allow_failures: bool = Field(default=False, description="Store the snapshot even when more than "
                                 "max_failed_share of the IDs ended failed.")
    allow_mass_deletion: bool = Field(default=False, description="Store the snapshot (and apply it to the "
                                      "history) even when it deletes more than mass_deletion_threshold.")

    held_max_age_days: float | None = Field(default=settings.HELD_MAX_AGE_DAYS, ge=0.0,
                                            description="Remove the source's held-back runs held longer ago than "
                                            "this many days before fetching (reported in the run's metadata, "
                                            "pruned_held_runs); null keeps them.")

    def held_max_age(self) -> dt.timedelta | None:
        return None if self.held_max_age_days is None else dt.timedelta(days=self.held_max_age_days)

    def gates(self) -> Gates:
        return Gates(max_failed_share=self.max_failed_share, mass_deletion_threshold=self.mass_deletion_threshold,
                     allow_empty=self.allow_empty, allow_failures=self.allow_failures,
                     allow_mass_deletion=self.allow_mass_deletion)

    def id_source(self, source: SourceSpec = ENVIRONMENT_SOURCE) -> IdSource:
        """The run config's IDs, else the source's (its table's, else the environment's)."""
        if self.assistant_ids is not None or self.ids_file is not None or self.discover:
            ids = tuple(self.assistant_ids) if self.assistant_ids is not None else None
            return IdSource(ids=ids, ids_file=self.ids_file, discover=self.discover)
        found = source.id_source()
        if found is None:
            raise ConfigError(source.no_ids_message("assistant_ids, ids_file or discover in the run config"))
        return found


class HistoryConfig(Config):
    """Configuration of the history step."""

    allow_mass_deletion: bool = Field(default=False, description="Apply a stored snapshot even when it deletes "
                                      "more than mass_deletion_threshold of the live assistants (a snapshot whose "
                                      "fetch approved its deletions needs no second approval).")
    mass_deletion_threshold: float = Field(default=settings.DEFAULT_MASS_DELETION_THRESHOLD, ge=0.0, le=1.0,
                                           description="Share of live assistants one snapshot may delete.")
    compact: bool = Field(default=True, description="After the history, compact the source when it is due: on a "
                          "folder when a closed month has dates not merged yet, on a bucket on the first night of "
                          "a month (assistants-export compact does it on demand).")
    open_months: int = Field(default=1, ge=1, description="Months the nightly compaction leaves as they are, the "
                             "snapshot date's own included.")
