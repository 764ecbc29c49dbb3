"""The Dagster definitions, the code location `assistants-export` of the dg project (`dg dev`, `dg launch`)."""

from __future__ import annotations

from dagster import AssetSelection, Definitions, EnvVar, define_asset_job

from connectors.openai_assistants import settings

from .assets import GROUP, HISTORY_GROUP, asset_checks, snapshot_assets
from .resources import AssistantsApiResource, WarehouseResource
from .schedules import freshness_job, freshness_schedule, nightly_schedule

snapshot_job = define_asset_job(
    "assistants_snapshot",
    selection=AssetSelection.groups(GROUP, HISTORY_GROUP),  # daily partitions come with the selected assets
    description="Fetch, flatten and load one day's snapshot of every assistant, then update the history.",
)


def default_resources(api_key_env: str = settings.DEFAULT_API_KEY_ENV) -> dict[str, object]:
    """Resources read from the environment; the key is referenced by name, never stored."""
    return {
        "api": AssistantsApiResource(api_key=EnvVar(api_key_env), api_key_env=api_key_env),
        "warehouse": WarehouseResource(),
    }


defs = Definitions(
    assets=snapshot_assets,
    asset_checks=asset_checks,
    jobs=[snapshot_job, freshness_job],
    schedules=[nightly_schedule(snapshot_job), freshness_schedule],
    resources=default_resources(),
)
