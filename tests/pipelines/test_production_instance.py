"""The production setup, for real: a PostgreSQL server on loopback backs the Dagster instance of a snapshot."""

import datetime as dt
import os
import shutil
from pathlib import Path

import pytest
from dagster import AssetKey, DagsterInstance, DagsterRunStatus
from postgres_server import find_binaries, postgres_server

from assistants_export.pipelines.cli import run
from assistants_export.pipelines.config import SOURCE_TAG
from assistants_export.sandbox.fixtures import StaticCatalog, bundled_assistants
from assistants_export.sandbox.server import SandboxServer

KEY = "sk-prod-Gv7nQ2wX5rTy"
ROOT = Path(__file__).parents[2]

pytestmark = pytest.mark.skipif(
    find_binaries() is None and not os.environ.get("CI"),
    reason="PostgreSQL is not installed here; .ci/run installs it (make system-deps)",
)


def test_a_snapshot_runs_on_a_postgres_backed_instance(tmp_path, monkeypatch):
    with postgres_server() as pg, \
            SandboxServer(StaticCatalog(bundled_assistants()[:10]), api_key=KEY) as api:
        home = tmp_path / "dagster_home"
        home.mkdir()
        shutil.copy(ROOT / "deploy" / "dagster.postgres.yaml", home / "dagster.yaml")
        for name, value in {"DAGSTER_HOME": home, "DAGSTER_PG_HOST": pg["hostname"], "DAGSTER_PG_PORT": pg["port"],
                            "DAGSTER_PG_USER": pg["username"], "DAGSTER_PG_PASSWORD": "unused-with-trust-auth",
                            "DAGSTER_PG_DB": pg["db_name"], "OPENAI_API_KEY": KEY,
                            "OPENAI_BASE_URL": api.base_url}.items():
            monkeypatch.setenv(name, str(value))
        today = dt.datetime.now(dt.UTC).date()
        ids = ",".join(a["id"] for a in bundled_assistants()[:10])
        assert run(["snapshot", "--ids", ids, "--date", today.isoformat(), "--warehouse", str(tmp_path / "wh"),
                    "-q"]) == 0

        with DagsterInstance.get() as instance:
            assert type(instance.run_storage).__name__ == "PostgresRunStorage"
            runs = instance.get_runs()
            assert [r.status for r in runs] == [DagsterRunStatus.SUCCESS]
            assert runs[0].tags.get("dagster/partition") == f"{today}|default"
            assert runs[0].tags.get(SOURCE_TAG) == "default"
            records = instance.fetch_materializations(AssetKey("assistants"), limit=10).records
            assert [r.partition_key for r in records] == [f"{today}|default"]
            assert instance.event_log_storage.__class__.__name__ == "PostgresEventLogStorage"

