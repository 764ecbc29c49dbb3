"""The Dagster definitions load, with the assets, lineage, partitions and job the README describes."""

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

from dagster import AssetKey

from connectors.openai_assistants.schemas import ALL_TABLES, DERIVED_TABLES, HISTORY_TABLES
from pipelines.definitions import defs
from pipelines.partitions import daily_partitions


def test_assets_and_lineage():
    graph = defs.resolve_asset_graph()
    keys = {key.to_user_string() for key in graph.get_all_asset_keys()}
    assert keys == {*ALL_TABLES, "duckdb_warehouse", *(t.name for t in HISTORY_TABLES)}
    for spec in DERIVED_TABLES:
        assert graph.get(AssetKey(spec.name)).parent_keys == {AssetKey("raw_assistants")}
    assert graph.get(AssetKey("duckdb_warehouse")).parent_keys == {AssetKey(name) for name in ALL_TABLES}
    for spec in HISTORY_TABLES:
        assert graph.get(AssetKey(spec.name)).parent_keys == {
            AssetKey(n) for n in ("assistants", "fetch_errors", "snapshot_runs", "duckdb_warehouse")}


def test_the_job_and_todays_partition_exist():
    assert defs.resolve_job_def("assistants_snapshot").partitions_def == daily_partitions
    before = dt.datetime.now(dt.UTC).date().isoformat()
    keys = daily_partitions.get_partition_keys()
    after = dt.datetime.now(dt.UTC).date().isoformat()
    assert keys[0] == "2023-11-06" and keys[-1] in {before, after}  # the day may turn while the keys are made


def test_dagster_loads_the_module_like_dagster_dev(tmp_path):
    env = {**os.environ, "DAGSTER_HOME": str(tmp_path), "OPENAI_API_KEY": "sk-not-used"}
    (tmp_path / "dagster.yaml").write_text((Path(__file__).parents[2] / "dagster.yaml").read_text())
    done = subprocess.run([Path(sys.executable).parent / "dagster", "definitions", "validate", "-m",
                           "pipelines.definitions"], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
