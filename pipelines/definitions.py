"""The Dagster definitions: ``dagster dev -m pipelines.definitions`` loads these."""

from __future__ import annotations

from dagster import AssetSelection, Definitions, EnvVar, define_asset_job

from connectors.openai_assistants import settings

from .assets import GROUP, snapshot_assets
from .resources import AssistantsApiResource, WarehouseResource

snapshot_job = define_asset_job(
    "assistants_snapshot",
    selection=AssetSelection.groups(GROUP),  # daily partitions come with the selected assets
    description="Fetch, flatten and load one day's snapshot of every assistant.",
)


def default_resources(api_key_env: str = settings.DEFAULT_API_KEY_ENV) -> dict[str, object]:
    """Resources read from the environment; the key is referenced by name, never stored."""
    return {
        "api": AssistantsApiResource(api_key=EnvVar(api_key_env), api_key_env=api_key_env),
        "warehouse": WarehouseResource(),
    }


defs = Definitions(
    assets=snapshot_assets,
    jobs=[snapshot_job],
    resources=default_resources(),
)
