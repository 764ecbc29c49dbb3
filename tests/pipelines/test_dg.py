"""The project as a `dg` project, as the README runs it: `dg check/list defs`, `make dev`'s `dg dev` with a run
launched from the UI (its GraphQL API), the nightly schedule's tick, and `dg launch`, whose run shows in that UI.

The tests work in a copy of the project root in tmp (the packages and files linked, ``dagster.yaml`` itself), so
what Dagster stores lands in that copy's ``.dagster/`` exactly as it would in a checkout's. One `dg dev` serves
the module.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from dagster import AssetCheckKey, AssetKey, DagsterEventType, DagsterInstance, build_schedule_context

from assistants_export.pipelines.assets import _Partition
from assistants_export.pipelines.cli import run
from assistants_export.pipelines.config import SOURCE_TAG
from assistants_export.pipelines.definitions import defs
from assistants_export.sandbox.fixtures import StaticCatalog, bundled_assistants
from assistants_export.sandbox.server import SandboxServer

ROOT = Path(__file__).parents[2]
BIN = Path(sys.executable).parent
KEY = "sk-dg-Wq3nV8xLp4Zt"
FIXTURES = bundled_assistants()[:5]
LOCATION = "assistants-export"
PROJECT_FILES = ("pyproject.toml", "README.md", "dagster.yaml", "assistants_export", "connectors", "pipelines",
                 "sandbox", "sql")
STARTUP = 300.0
"""Seconds `dg dev` may take to serve, and a run to finish, on a busy machine (a safeguard, never asserted)."""

pytestmark = pytest.mark.integration


def _project(folder: Path) -> Path:
    """A project root like the checkout's: its files linked, so Dagster's storage (.dagster/) lands in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in PROJECT_FILES:
        (folder / name).symlink_to(ROOT / name)
    return folder


def _environment(**extra: str) -> dict[str, str]:
    """This process's environment without any Dagster, API or warehouse setting, plus ``extra``."""
    kept = {k: v for k, v in os.environ.items()
            if not k.startswith(("DAGSTER_", "OPENAI_", "ASSISTANTS_")) or k == "ASSISTANTS_START_DATE"}
    return {**kept, **extra}


def _today() -> str:
    return dt.datetime.now(dt.UTC).date().isoformat()


def _instance(project: Path, monkeypatch: pytest.MonkeyPatch) -> DagsterInstance:
    """The project's instance, read as Dagster reads it there: DAGSTER_HOME the project, from the project root."""
    monkeypatch.chdir(project)
    monkeypatch.setenv("DAGSTER_HOME", str(project))
    return DagsterInstance.get()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class UI:
    """A `dg dev` serving the project on a loopback port, as `make dev` starts it, and its GraphQL API."""

    def __init__(self, project: Path, port: int, env: dict[str, str]) -> None:
        self.project, self.port, self.env = project, port, env

    def graphql(self, query: str, **variables: Any) -> dict[str, Any]:
        answer = httpx.post(f"http://127.0.0.1:{self.port}/graphql", json={"query": query, "variables": variables},
                            timeout=60).json()
        assert "errors" not in answer, answer
        data: dict[str, Any] = answer["data"]
        return data

    def launch(self, job: str, tags: dict[str, str]) -> str:
        """What the UI's Materialize sends: a run of ``job`` with these tags and no run config."""
        data = self.graphql("""
            mutation($params: ExecutionParams!) {
              launchRun(executionParams: $params) {
                __typename
                ... on LaunchRunSuccess { run { runId } }
                ... on PythonError { message }
                ... on RunConfigValidationInvalid { errors { message } }
              }
            }""", params={"selector": {"repositoryLocationName": LOCATION, "repositoryName": "__repository__",
                                       "jobName": job},
                          "runConfigData": {},
                          "executionMetadata": {"tags": [{"key": k, "value": v} for k, v in tags.items()]}})
        launched = data["launchRun"]
        assert launched["__typename"] == "LaunchRunSuccess", launched
        return str(launched["run"]["runId"])

    def wait_for_run(self, run_id: str) -> str:
        deadline = time.monotonic() + STARTUP
        while time.monotonic() < deadline:
            data = self.graphql("query($id: ID!) { runOrError(runId: $id) { ... on Run { status } } }", id=run_id)
            status = str(data["runOrError"]["status"])
            if status in ("SUCCESS", "FAILURE", "CANCELED"):
                return status
            time.sleep(1)
        raise AssertionError(f"run {run_id} did not finish")

    def runs(self) -> dict[str, dict[str, Any]]:
        data = self.graphql("{ runsOrError(limit: 50) { ... on Runs { results { runId status jobName "
                            "tags { key value } } } } }")
        return {run["runId"]: run for run in data["runsOrError"]["results"]}


@pytest.fixture(scope="module")
def ui(tmp_path_factory: pytest.TempPathFactory) -> Iterator[UI]:
    """`make dev` after the README's sandbox section: the sandbox, its variables (ASSISTANTS_DISCOVER=1 among them)
    and `dg dev` with DAGSTER_HOME the project root."""
    base = tmp_path_factory.mktemp("dev")
    project = _project(base / "project")
    port = _free_port()
    with SandboxServer(StaticCatalog(FIXTURES), api_key=KEY) as server:
        env = _environment(DAGSTER_HOME=str(project), OPENAI_BASE_URL=server.base_url, OPENAI_API_KEY=KEY,
                           ASSISTANTS_DISCOVER="1", ASSISTANTS_WAREHOUSE=str(base / "data"), HOME=str(base))
        log = (base / "dg-dev.log").open("w")
        process = subprocess.Popen([str(BIN / "dg"), "dev", "--host", "127.0.0.1", "--port", str(port)],
                                   cwd=project, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + STARTUP
            while True:
                assert process.poll() is None, (base / "dg-dev.log").read_text()[-3000:]
                assert time.monotonic() < deadline, "dg dev did not serve"
                try:
                    if httpx.get(f"http://127.0.0.1:{port}/server_info", timeout=5).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                time.sleep(1)
            served = UI(project, port, env)
            while not _location_loaded(served):  # the code server starts after the webserver answers
                assert time.monotonic() < deadline, (base / "dg-dev.log").read_text()[-3000:]
                time.sleep(1)
            yield served
        finally:
            process.terminate()
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            log.close()
    output = (base / "dg-dev.log").read_text()
    assert KEY not in output
    assert "WARNING" not in output, output[-3000:]  # no instance warning: DAGSTER_HOME holds the dagster.yaml


def _location_loaded(ui: UI) -> bool:
    data = ui.graphql("{ workspaceOrError { ... on Workspace { locationEntries { name loadStatus "
                      "locationOrLoadError { __typename } } } } }")
    entries = data["workspaceOrError"]["locationEntries"]
    return any(e["name"] == LOCATION and e["loadStatus"] == "LOADED"
               and e["locationOrLoadError"]["__typename"] == "RepositoryLocation" for e in entries)


def test_dg_check_and_list_defs(tmp_path):
    project = _project(tmp_path / "project")
    env = _environment(DAGSTER_HOME=str(project), OPENAI_API_KEY="sk-not-used", HOME=str(tmp_path))
    done = subprocess.run([str(BIN / "dg"), "check", "defs"], cwd=project, env=env, capture_output=True, text=True,
                          timeout=240)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "All definitions loaded successfully" in done.stdout + done.stderr
    listed = subprocess.run([str(BIN / "dg"), "list", "defs", "--json"], cwd=project, env=env, capture_output=True,
                            text=True, timeout=240)
    assert listed.returncode == 0, listed.stderr[-2000:]
    for name in ("raw_assistants", "assistant_history", "assistants_snapshot", "nightly_snapshot"):
        assert name in listed.stdout
    assert "warning" not in (done.stderr + listed.stderr).lower()


def test_materialize_from_the_ui_succeeds_and_names_its_warehouse(ui, monkeypatch):
    """The UI's Materialize of today's partition: a run of the job with the partition's tags (what the webserver
    asks the code server for), no run config: the IDs come from the source's settings (ASSISTANTS_DISCOVER=1)."""
    key = f"{_today()}|default"
    tags = dict(defs.resolve_job_def("assistants_snapshot").get_tags_for_partition_key(key, selected_asset_keys=None))
    run_id = ui.launch("assistants_snapshot", tags)
    assert ui.wait_for_run(run_id) == "SUCCESS"
    assert ui.runs()[run_id]["status"] == "SUCCESS"

    with _instance(ui.project, monkeypatch) as instance:
        for asset, rows in (("raw_assistants", 5), ("assistants", 5), ("assistant_history", 5),
                            ("duckdb_warehouse", None)):
            event = instance.get_latest_materialization_event(AssetKey(asset))
            assert event is not None and event.asset_materialization is not None
            materialization = event.asset_materialization
            assert materialization.partition == key
            row_count = materialization.metadata["dagster/row_count"].value
            assert row_count == rows if rows is not None else row_count > 0
            # Which warehouse and source it wrote, so the UI never shows one warehouse's state for another's.
            assert materialization.metadata["warehouse"].value == ui.env["ASSISTANTS_WAREHOUSE"]
            assert materialization.metadata["source"].value == "default"
        tables = instance.get_latest_materialization_event(AssetKey("duckdb_warehouse"))
        assert tables is not None and tables.asset_materialization is not None
        assert tables.asset_materialization.metadata["table_rows"].value["assistants"] == 5
        check = instance.event_log_storage.get_latest_asset_check_execution_by_key(
            [AssetCheckKey(AssetKey("assistants"), "unique_key")])
        evaluation = check[AssetCheckKey(AssetKey("assistants"), "unique_key")].event.dagster_event \
            .event_specific_data
        assert evaluation.passed and evaluation.partition == key
        assert instance.get_run_by_id(run_id).tags[SOURCE_TAG] == "default"
    assert (ui.project / ".dagster" / "history" / "runs.db").is_file()  # dagster.yaml's storage, in the project
    for path in (ui.project / ".dagster").rglob("*"):
        if path.is_file():
            assert KEY.encode() not in path.read_bytes(), path


def test_the_nightly_tick_asks_for_yesterday_and_its_run_succeeds(ui, monkeypatch):
    """The schedule's tick as the daemon evaluates it in the code server (the UI's "Test schedule"), and the run
    the daemon would launch from its request (the request's tags, no run config)."""
    data = ui.graphql("""
        mutation($selector: ScheduleSelector!, $timestamp: Float) {
          scheduleDryRun(selectorData: $selector, timestamp: $timestamp) {
            __typename
            ... on DryRunInstigationTick {
              evaluationResult { skipReason error { message } runRequests { runKey tags { key value } } }
            }
            ... on PythonError { message }
          }
        }""", selector={"repositoryLocationName": LOCATION, "repositoryName": "__repository__",
                        "scheduleName": "nightly_snapshot"},
        timestamp=dt.datetime.now(dt.UTC).replace(hour=2, minute=0, second=0, microsecond=0).timestamp())
    result = data["scheduleDryRun"]["evaluationResult"]
    assert result["error"] is None and result["skipReason"] is None, result
    (request,) = result["runRequests"]
    tags = {tag["key"]: tag["value"] for tag in request["tags"]}
    yesterday = (dt.datetime.now(dt.UTC).date() - dt.timedelta(days=1)).isoformat()
    assert tags["dagster/partition"] == f"{yesterday}|default" and tags[SOURCE_TAG] == "default"

    run_id = ui.launch("assistants_snapshot", tags)
    assert ui.wait_for_run(run_id) == "SUCCESS"
    with _instance(ui.project, monkeypatch) as instance:
        records = instance.fetch_materializations(AssetKey("assistants"), limit=10).records
        assert f"{yesterday}|default" in {record.partition_key for record in records}


def test_dg_launch_as_the_readme_writes_it_shows_in_the_ui(ui, tmp_path):
    """`dg launch` typed in a shell at the project root, without DAGSTER_HOME: ./dagster.yaml still puts the run in
    the project's storage, so the UI that `make dev` serves lists it."""
    key = f"{_today()}|default"
    config = {"ops": {"fetch_assistants": {"config": {"assistant_ids": [a["id"] for a in FIXTURES]}}}}
    env = {k: v for k, v in ui.env.items() if k != "DAGSTER_HOME"}
    env["HOME"] = str(tmp_path)  # Dagster keeps its user-level files under ~/.dagster
    done = subprocess.run([str(BIN / "dg"), "launch", "--job", "assistants_snapshot", "--partition", key,
                           "--config-json", json.dumps(config)], cwd=ui.project, env=env, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    output = done.stdout + done.stderr
    assert KEY not in output
    assert " - DEBUG - " not in output  # dagster.yaml's python_log_level: a run's INFO lines, not every event
    assert "ok=5" in output
    launched = [run for run in ui.runs().values()
                if run["status"] == "SUCCESS" and {"key": "dagster/partition", "value": key} in run["tags"]
                and not any(tag["key"] == "dagster/backfill" for tag in run["tags"])]
    assert launched, "the run of dg launch is not in the instance the UI serves"
    assert not list(ui.project.glob(".tmp_dagster_home_*"))
    # Whatever dg dev and dg launch left in the project root is git-ignored there (.dagster/, logs/ ...).
    left = [entry.name for entry in ui.project.iterdir() if entry.name not in PROJECT_FILES]
    assert ".dagster" in left
    for name in left:
        path = name + "/" if (ui.project / name).is_dir() else name  # as git names a folder it has not seen
        ignored = subprocess.run(["git", "check-ignore", "--no-index", "-q", path], cwd=ROOT, timeout=30)
        assert ignored.returncode == 0, f"{name}, written into the project root, is not in .gitignore"


# --- Without an ID source ----------------------------------------------------------------------------


def test_the_schedule_skips_a_source_without_ids_with_the_reason():
    schedule = defs.resolve_schedule_def("nightly_snapshot")
    tick = dt.datetime.combine(dt.datetime.now(dt.UTC).date(), dt.time(2), tzinfo=dt.UTC)
    with build_schedule_context(scheduled_execution_time=tick, repository_def=defs.get_repository_def()) as context:
        result = schedule.evaluate_tick(context)
    assert not result.run_requests
    assert result.skip_message == (f"nothing to snapshot for {(tick.date() - dt.timedelta(days=1)).isoformat()}: "
                                   "source default: no assistants to fetch: set assistant_ids, ids_file or discover, "
                                   "or $ASSISTANTS_IDS_FILE, or $ASSISTANTS_DISCOVER=1")


def test_a_manual_run_without_ids_fails_with_one_readable_line_first(tmp_path, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    monkeypatch.setenv("ASSISTANTS_WAREHOUSE", str(tmp_path / "data"))
    job = defs.resolve_job_def("assistants_snapshot")
    with DagsterInstance.ephemeral(tempdir=str(tmp_path / "dagster")) as instance:
        result = job.execute_in_process(partition_key=f"{_today()}|default", instance=instance, raise_on_error=False)
        assert not result.success
        records = instance.all_logs(result.run_id)
    errors = [r for r in records if r.level >= 40]  # logging.ERROR
    expected = ("no assistants to fetch: set assistant_ids, ids_file or discover in the run config, "
                "or $ASSISTANTS_IDS_FILE, or $ASSISTANTS_DISCOVER=1")
    assert errors[0].user_message == expected and errors[0].dagster_event is None  # the line, before any trace
    failure = next(r for r in records if r.dagster_event_type == DagsterEventType.STEP_FAILURE)
    assert failure.dagster_event is not None
    data = failure.dagster_event.step_failure_data
    assert data is not None and data.user_failure_data is not None
    assert data.user_failure_data.description == expected
    assert not (tmp_path / "data").exists()  # a run that stored nothing leaves no warehouse folder


def test_a_first_snapshot_refused_by_the_server_leaves_no_warehouse_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-not-the-sandbox-key")
    with SandboxServer(StaticCatalog(FIXTURES), api_key=KEY) as server:
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        assert run(["snapshot", "--discover", "--warehouse", str(tmp_path / "data"), "-q"]) == 1
    assert not (tmp_path / "data").exists()
    existing = tmp_path / "existing"
    existing.mkdir()  # a folder the run did not create stays, empty or not
    with SandboxServer(StaticCatalog(FIXTURES), api_key=KEY) as server:
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        assert run(["snapshot", "--discover", "--warehouse", str(existing), "-q"]) == 1
    assert existing.is_dir()


def test_a_materialization_names_a_folder_by_its_absolute_path_and_a_bucket_by_its_uri():
    day = dt.date(2026, 11, 20)
    assert _Partition(day, "eu", "s3://bucket/assistants").where() == {"warehouse": "s3://bucket/assistants",
                                                                          "source": "eu"}
    assert _Partition(day, "default", "data").where() == {"warehouse": os.path.abspath("data"), "source": "default"}
