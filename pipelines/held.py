"""The job ``settle_held_run``: approve or discard a held-back run from Dagster, as ``assistants-export held`` does.

(No ``from __future__ import annotations`` here: Dagster reads the config and resource types from the op's
annotations when the module loads.)

Launch it from the UI's launchpad with the op's config, for example::

    ops:
      settle_held:
        config: {run_id: 1f0c..., action: approve, approved_by: alice}

An approval stores the held answers (no request to the API), loads the date into DuckDB and replays the
history, under the source's writer lock (:func:`assistants_export.connectors.held.approve_and_apply`); the run's
metadata names what it stored. ``assistants-export held list`` (or ``show``) names the held runs.
"""

from typing import Literal

from dagster import AssetObservation, Config, Failure, MetadataValue, OpExecutionContext, job, op
from pydantic import Field

from assistants_export.connectors.core.errors import ConfigError, ConnectorError
from assistants_export.connectors.core.schemas import SNAPSHOT_RUNS
from assistants_export.connectors.core.settings import DEFAULT_SOURCE
from assistants_export.connectors.held import approve_and_apply, discard_held

from .partitions import partition_key
from .resources import WarehouseResource

HELD_JOB = "settle_held_run"
HELD_OP = "settle_held"
DUCKDB_POOL = "assistants_duckdb"
"""The pool of every step that writes DuckDB (see :data:`assistants_export.pipelines.assets.DUCKDB_POOL`)."""


class HeldRunConfig(Config):
    """Which held run to settle, and how."""

    run_id: str = Field(description="The held run's ID (or a prefix only one held run has), as `assistants-export "
                        "held list` shows it.")
    action: Literal["approve", "discard"] = Field(description="`approve`: store its answers as the date's "
                                                  "snapshot; `discard`: remove its folder.")
    approved_by: str = Field(default="", description="Who approves (recorded in snapshot_runs.approved_by); "
                             "required to approve.")
    source: str = Field(default=DEFAULT_SOURCE, description="The source the held run belongs to.")
    force: bool = Field(default=False, description="Approve even if a run that started after the held one has "
                        "stored the date since.")


@op(name=HELD_OP, pool=DUCKDB_POOL)
def settle_held_run(context: OpExecutionContext, config: HeldRunConfig, warehouse: WarehouseResource) -> None:
    """Approve or discard one held-back run; a refusal (a stale run without force, a bad run ID) is one line."""
    try:
        root = warehouse.root()
        if config.action == "discard":
            gone = discard_held(root, config.run_id, source_name=config.source)
            context.log.info("discarded held run %s of %s: removed %s", gone.run_id, gone.snapshot_date, gone.where)
            return
        if not config.approved_by.strip():
            raise ConfigError("say who approves the held run: approved_by in the op's config")
        approval, result = approve_and_apply(root, config.run_id, approved_by=config.approved_by,
                                             source_name=config.source, force=config.force,
                                             wait=warehouse.writer_wait_seconds())
    except ConnectorError as exc:
        context.log.error(str(exc))
        raise Failure(description=str(exc), metadata={"error": type(exc).__name__}, allow_retries=False) from None
    context.log.info("approved held run %s of %s by %s (gates: %s): %d assistants stored; history replayed %s",
                     approval.run.run_id, approval.run.snapshot_date, approval.approved_by,
                     ", ".join(approval.gates) or "none", approval.assistants,
                     [d.isoformat() for d in result.dates])
    context.log_event(AssetObservation(
        asset_key=SNAPSHOT_RUNS.name, partition=partition_key(approval.run.snapshot_date, config.source),
        metadata={"approved_held_run": approval.run.run_id, "approved_gates": MetadataValue.json(list(approval.gates)),
                  "approved_by": approval.approved_by, "assistants": approval.assistants}))


@job(name=HELD_JOB, description="Approve or discard a held-back run (its answers wait under held/): an approval "
     "stores them as the date's snapshot with no new fetch, loads DuckDB and replays the history.")
def settle_held_run_job() -> None:
    settle_held_run()
