"""The Dagster definitions load, with the assets, lineage, partitions and job the README describes."""

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

from dagster import AssetKey

from assistants_export.connectors.core.schemas import ALL_TABLES, DERIVED_TABLES, HISTORY_TABLES
from assistants_export.pipelines.definitions import defs
from assistants_export.pipelines.instance import write_instance_home
from assistants_export.pipelines.partitions import (
    DATE_DIMENSION,
    SOURCE_DIMENSION,
    daily_partitions,
    default_start_date,
)


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
    """The job's partitions are every date of the daily partitions for each source: without a sources file, the
    environment's one source, ``default``."""
    partitions = defs.resolve_job_def("assistants_snapshot").partitions_def
    dimensions = {d.name: d.partitions_def for d in partitions.partitions_defs}
    assert dimensions[DATE_DIMENSION] == daily_partitions
    assert dimensions[SOURCE_DIMENSION].get_partition_keys() == ["default"]
    assert set(dimensions) == {DATE_DIMENSION, SOURCE_DIMENSION}
    before = dt.datetime.now(dt.UTC).date().isoformat()
    keys = daily_partitions.get_partition_keys()
    assert keys[0] == os.environ["ASSISTANTS_START_DATE"]  # set by conftest.py, as a user may
    after = dt.datetime.now(dt.UTC).date().isoformat()
    assert keys[-1] in {before, after}  # the day may turn while the keys are made


def test_partitions_start_at_the_first_stored_snapshot_or_yesterday(tmp_path):
    today = dt.date(2026, 11, 21)
    assert default_start_date(str(tmp_path / "missing"), today) == dt.date(2026, 11, 20)
    assert default_start_date(str(tmp_path), today) == dt.date(2026, 11, 20)
    for day in ("2026-11-12", "2026-11-03"):
        (tmp_path / "parquet" / "snapshot_runs" / f"snapshot_date={day}").mkdir(parents=True)
    assert default_start_date(str(tmp_path), today) == dt.date(2026, 11, 3)
    assert default_start_date(str(tmp_path), dt.date(2026, 11, 2)) == dt.date(2026, 11, 1)  # yesterday is older


def test_the_default_partitions_start_where_data_can_exist(tmp_path):
    """Without ASSISTANTS_START_DATE the first partition is the warehouse's first snapshot, else yesterday."""
    (tmp_path / "parquet" / "snapshot_runs" / "snapshot_date=2026-06-01").mkdir(parents=True)
    env = {k: v for k, v in os.environ.items() if k != "ASSISTANTS_START_DATE"}
    code = ("from assistants_export.pipelines.partitions import daily_partitions as d; "
            "print(d.get_first_partition_key())")
    for warehouse, expected in ((tmp_path, "2026-06-01"), (tmp_path / "empty",
                                (dt.datetime.now(dt.UTC).date() - dt.timedelta(days=1)).isoformat())):
        done = subprocess.run([sys.executable, "-c", code], env={**env, "ASSISTANTS_WAREHOUSE": str(warehouse)},
                              capture_output=True, text=True, timeout=120, cwd=Path(__file__).parents[2])
        assert done.stdout.strip() == expected, done.stderr[-2000:]


def test_dagster_loads_the_module_like_dagster_dev(tmp_path):
    env = {**os.environ, "DAGSTER_HOME": str(tmp_path), "OPENAI_API_KEY": "sk-not-used"}
    write_instance_home(tmp_path)
    done = subprocess.run([Path(sys.executable).parent / "dagster", "definitions", "validate", "-m",
                           "assistants_export.pipelines.definitions"],
                          env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]


def test_the_cli_lays_out_partitions_from_the_apis_launch(tmp_path):
    """The CLI takes explicit dates, so an old --date --force works without ASSISTANTS_START_DATE."""
    env = {k: v for k, v in os.environ.items() if k != "ASSISTANTS_START_DATE"}
    code = ("import assistants_export.pipelines.cli; "
            "from assistants_export.pipelines.partitions import daily_partitions as d, EARLIEST_START; "
            "print(d.get_first_partition_key(), EARLIEST_START)")
    done = subprocess.run([sys.executable, "-c", code], env={**env, "ASSISTANTS_WAREHOUSE": str(tmp_path)},
                          capture_output=True, text=True, timeout=120, cwd=Path(__file__).parents[2])
    assert done.stdout.split() == ["2023-11-06", "2023-11-06"], done.stderr[-2000:]
