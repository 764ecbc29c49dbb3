"""The connector as a Dagster Component: ``dg list components`` shows it, ``dg scaffold defs`` adds it to a project.

In a dg project of your own (with ``assistants-export`` installed)::

    dg scaffold defs assistants_export.AssistantsExportComponent assistants_export

writes ``defs/assistants_export/defs.yaml``::

    type: assistants_export.AssistantsExportComponent
    attributes:
      warehouse: /srv/assistants        # default $ASSISTANTS_WAREHOUSE or ./data
      api_key_env: OPENAI_API_KEY       # the variable holding the key; the key itself is never in YAML
      base_url: https://host/v1         # default $OPENAI_BASE_URL

and the project gets the assets, checks, jobs and schedules of this one, partitioned by date and by the
sources ``$ASSISTANTS_SOURCES_FILE`` configures (just ``default`` without it;
:mod:`assistants_export.pipelines.sources`). This
project's own definitions (:mod:`assistants_export.pipelines.definitions`) are built by the same component with its
defaults.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence

from dagster import AssetSelection, Definitions, PartitionedConfig, define_asset_job
from dagster._core.definitions.unresolved_asset_job_definition import UnresolvedAssetJobDefinition
from dagster.components import Component, ComponentLoadContext, Model, Resolvable
from pydantic import Field

from assistants_export.connectors.core import settings_registry as registry

from .assets import GROUP, HISTORY_GROUP, asset_checks, build_snapshot_assets
from .config import SOURCE_TAG
from .held import settle_held_run_job
from .partitions import date_and_source, snapshot_partitions
from .resources import AssistantsApiResource, WarehouseResource
from .schedules import freshness_job, freshness_schedule, nightly_schedule
from .sources import source_names

SNAPSHOT_JOB = "assistants_snapshot"


def source_tags(partition_key: str) -> Mapping[str, str]:
    """The run tags of a partition: its source's, so each run counts against its own source's limit."""
    return {SOURCE_TAG: date_and_source(partition_key)[1]}


@functools.cache
def snapshot_job_for(sources: tuple[str, ...]) -> UnresolvedAssetJobDefinition:
    """The job of the snapshot assets of ``sources``; every run of a partition (a UI launch, a job backfill, a
    schedule's request) carries the partition's source in the tag ``assistants_export/source``."""
    return define_asset_job(
        SNAPSHOT_JOB,
        selection=AssetSelection.groups(GROUP, HISTORY_GROUP),  # the partitions come with the selected assets
        description="Fetch, flatten and load one day's snapshot of every assistant of one source, then update "
        "the source's history.",
        config=PartitionedConfig(partitions_def=snapshot_partitions(sources),
                                 run_config_for_partition_key_fn=lambda _key: {},
                                 tags_for_partition_key_fn=source_tags),
    )


class AssistantsExportComponent(Component, Model, Resolvable):
    """Nightly snapshots of every assistant of an Assistants API into Parquet and DuckDB, with SCD2 history.

    Adds the assets (raw_assistants ... assistant_history), their checks, the job assistants_snapshot, the job
    settle_held_run (approve or discard a held-back run), the nightly and freshness schedules, and the resources
    api and warehouse. The assets are partitioned by date and by the sources configured when the definitions load
    (``$ASSISTANTS_SOURCES_FILE``, else ``default``).
    """

    warehouse: str | None = Field(default=None, description=f"{registry.WAREHOUSE.help} "
                                  f"{registry.WAREHOUSE.default_help()}")
    api_key_env: str = Field(default=registry.API_KEY.fallback,
                             description=f"{registry.API_KEY.help} The key itself is never written in YAML or stored "
                             "by Dagster.")
    base_url: str | None = Field(default=None, description=f"{registry.BASE_URL.help} "
                                 f"{registry.BASE_URL.default_help()}")

    def build_defs(self, context: ComponentLoadContext) -> Definitions:
        return self.definitions()

    def definitions(self, sources: Sequence[str] | None = None) -> Definitions:
        """The Definitions this component adds (no load context needed), for ``sources`` (default: the configured
        ones; a broken sources file stops them from loading, in one line)."""
        names = tuple(sources) if sources is not None else tuple(source_names())
        # The key is never part of the definitions: the resource holds the variable's name and reads it at run time.
        api = AssistantsApiResource(api_key_env=self.api_key_env, base_url=self.base_url)
        job = snapshot_job_for(names)
        return Definitions(
            assets=list(build_snapshot_assets(names)),
            asset_checks=asset_checks,
            jobs=[job, freshness_job, settle_held_run_job],
            schedules=[nightly_schedule(job, names), freshness_schedule],
            resources={"api": api, "warehouse": WarehouseResource(path=self.warehouse)},
        )
