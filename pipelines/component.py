"""The connector as a Dagster Component: ``dg list components`` shows it, ``dg scaffold defs`` adds it to a project.

In a dg project of your own (with ``assistants-export`` installed)::

    dg scaffold defs pipelines.component.AssistantsExportComponent assistants_export

writes ``defs/assistants_export/defs.yaml``::

    type: pipelines.component.AssistantsExportComponent
    attributes:
      warehouse: /srv/assistants        # default $ASSISTANTS_WAREHOUSE or ./data
      api_key_env: OPENAI_API_KEY       # the variable holding the key; the key itself is never in YAML
      base_url: https://host/v1         # default $OPENAI_BASE_URL

and the project gets the assets, checks, jobs and schedules of this one. This
project's own definitions (:mod:`pipelines.definitions`) are built by the same
component with its defaults.
"""

from __future__ import annotations

from dagster import AssetSelection, Definitions, EnvVar, define_asset_job
from dagster.components import Component, ComponentLoadContext, Model, Resolvable
from pydantic import Field

from connectors.openai_assistants import settings

from .assets import GROUP, HISTORY_GROUP, asset_checks, snapshot_assets
from .config import DEFAULT_SOURCE, SOURCE_TAG
from .resources import AssistantsApiResource, WarehouseResource
from .schedules import freshness_job, freshness_schedule, nightly_schedule

snapshot_job = define_asset_job(
    "assistants_snapshot",
    selection=AssetSelection.groups(GROUP, HISTORY_GROUP),  # daily partitions come with the selected assets
    description="Fetch, flatten and load one day's snapshot of every assistant, then update the history.",
    tags={SOURCE_TAG: DEFAULT_SOURCE},  # every run of it (schedule, UI, backfill) counts against its source's limit
)


class AssistantsExportComponent(Component, Model, Resolvable):
    """Nightly snapshots of every assistant of an Assistants API into Parquet and DuckDB, with SCD2 history.

    Adds the assets (raw_assistants ... assistant_history), their checks, the job assistants_snapshot, the
    nightly and freshness schedules, and the resources api and warehouse.
    """

    warehouse: str | None = Field(default=None, description="Warehouse folder; default $ASSISTANTS_WAREHOUSE, "
                                  "else ./data.")
    api_key_env: str = Field(default=settings.DEFAULT_API_KEY_ENV,
                             description="Name of the environment variable holding the API key (the key itself "
                             "is never written in YAML or stored by Dagster).")
    base_url: str | None = Field(default=None, description=f"API root; default $OPENAI_BASE_URL, else "
                                 f"{settings.DEFAULT_BASE_URL}.")

    def build_defs(self, context: ComponentLoadContext) -> Definitions:
        return self.definitions()

    def definitions(self) -> Definitions:
        """The Definitions this component adds (no load context needed)."""
        api = AssistantsApiResource(api_key=EnvVar(self.api_key_env), api_key_env=self.api_key_env,
                                    base_url=self.base_url)
        return Definitions(
            assets=snapshot_assets,
            asset_checks=asset_checks,
            jobs=[snapshot_job, freshness_job],
            schedules=[nightly_schedule(snapshot_job), freshness_schedule],
            resources={"api": api, "warehouse": WarehouseResource(path=self.warehouse)},
        )
