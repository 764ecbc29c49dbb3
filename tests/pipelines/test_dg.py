"""The project as a `dg` project: `dg check defs` and `dg launch` of one partition, as a user runs them."""

import datetime as dt
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from dagster import AssetCheckKey, AssetKey, DagsterInstance

from assistants_export.pipelines.config import SOURCE_TAG
from assistants_export.sandbox.fixtures import StaticCatalog, bundled_assistants
from assistants_export.sandbox.server import SandboxServer

ROOT = Path(__file__).parents[2]
DG = Path(sys.executable).parent / "dg"
KEY = "sk-dg-Wq3nV8xLp4Zt"
FIXTURES = bundled_assistants()[:5]

pytestmark = pytest.mark.integration


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    home = tmp_path / "dagster_home"
    home.mkdir(exist_ok=True)
    shutil.copy(ROOT / "deploy" / "dagster.yaml", home / "dagster.yaml")
    return {**os.environ, "DAGSTER_HOME": str(home), "ASSISTANTS_WAREHOUSE": str(tmp_path / "warehouse"), **extra}


def _dg(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(DG), *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=240)


def test_dg_check_and_list_defs(tmp_path):
    env = _env(tmp_path, OPENAI_API_KEY="sk-not-used")
    done = _dg("check", "defs", env=env)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "All definitions loaded successfully" in done.stdout + done.stderr
    listed = _dg("list", "defs", "--json", env=env)
    assert listed.returncode == 0, listed.stderr[-2000:]
    text = listed.stdout
    for name in ("raw_assistants", "assistant_history", "assistants_snapshot", "nightly_snapshot"):
        assert name in text
    assert "warning" not in (done.stderr + listed.stderr).lower()


def test_dg_launch_one_partition_against_the_sandbox(tmp_path, monkeypatch):
    today = dt.datetime.now(dt.UTC).date().isoformat()
    config = {"ops": {"fetch_assistants": {"config": {"assistant_ids": [a["id"] for a in FIXTURES]}}}}
    with SandboxServer(StaticCatalog(FIXTURES), api_key=KEY) as server:
        env = _env(tmp_path, OPENAI_API_KEY=KEY, OPENAI_BASE_URL=server.base_url)
        done = _dg("launch", "--job", "assistants_snapshot", "--partition", f"{today}|default",
                   "--config-json", json.dumps(config), env=env)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert (tmp_path / "warehouse" / "parquet" / "snapshot_members" / f"snapshot_date={today}").is_dir()
    assert (tmp_path / "warehouse" / "assistants.duckdb").is_file()
    assert KEY not in done.stdout + done.stderr

    monkeypatch.setenv("DAGSTER_HOME", env["DAGSTER_HOME"])
    with DagsterInstance.get() as instance:
        for asset, rows in (("raw_assistants", 5), ("assistants", 5), ("assistant_history", 5),
                            ("assistant_changes", 5), ("duckdb_warehouse", None)):
            event = instance.get_latest_materialization_event(AssetKey(asset))
            assert event is not None and event.asset_materialization is not None
            assert event.asset_materialization.partition == f"{today}|default"
            row_count = event.asset_materialization.metadata["dagster/row_count"].value
            assert row_count == rows if rows is not None else row_count > 0
        check = instance.event_log_storage.get_latest_asset_check_execution_by_key(
            [AssetCheckKey(AssetKey("assistants"), "unique_key")])
        evaluation = check[AssetCheckKey(AssetKey("assistants"), "unique_key")].event.dagster_event \
            .event_specific_data
        assert evaluation.passed and evaluation.partition == f"{today}|default"
        (dagster_run,) = instance.get_runs()
        assert dagster_run.tags[SOURCE_TAG] == "default"  # the partition's source, as the run queue limits it
    for path in Path(env["DAGSTER_HOME"]).rglob("*"):
        if path.is_file():
            assert KEY.encode() not in path.read_bytes(), path
