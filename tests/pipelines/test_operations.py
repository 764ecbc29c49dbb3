"""Nightly operations: schedule, fetch window, backfill, asset checks, locks and overlapping runs."""

import datetime as dt
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from cli_command import CLI
from dagster import DagsterInstance, DefaultScheduleStatus, build_schedule_context, materialize
from warehouse_state import duckdb_state, parquet_state

from assistants_export.connectors.core.schemas import PAYLOAD_METADATA, PAYLOADS, SNAPSHOT_MEMBERS, SNAPSHOT_RUNS
from assistants_export.connectors.warehouse import DuckDBStore, ParquetStore, pending_loads
from assistants_export.pipelines import checks
from assistants_export.pipelines.assets import build_snapshot_assets
from assistants_export.pipelines.cli import run
from assistants_export.pipelines.definitions import defs, snapshot_job
from assistants_export.pipelines.instance import write_instance_home
from assistants_export.pipelines.partitions import fetch_window_open, partition_key
from assistants_export.pipelines.resources import AssistantsApiResource, WarehouseResource
from assistants_export.pipelines.schedules import CRON_ENV, nightly_schedule, partition_for_tick
from assistants_export.sandbox.fixtures import StaticCatalog, bundled_assistants
from assistants_export.sandbox.server import SandboxServer

KEY = "sk-ops-Rb4kT9wLz2Qm"
ROOT = Path(__file__).parents[2]
TODAY = dt.datetime.now(dt.UTC).date()


@pytest.fixture(autouse=True)
def _today_when_the_test_runs(monkeypatch):
    """TODAY is re-read as each test starts, not kept from import: a suite running across 00:00 UTC would
    otherwise snapshot "today" into what the code already calls yesterday."""
    monkeypatch.setitem(globals(), "TODAY", dt.datetime.now(dt.UTC).date())
FIXTURES = bundled_assistants()[:8]
IDS = ",".join(a["id"] for a in FIXTURES)


@pytest.fixture
def api(monkeypatch):
    with SandboxServer(StaticCatalog(FIXTURES), api_key=KEY) as server:
        monkeypatch.setenv("OPENAI_API_KEY", KEY)
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        yield server


def snapshot(warehouse, date, *extra):
    return run(["snapshot", "--date", date.isoformat(), "--warehouse", str(warehouse), "-q", "--ids", IDS, *extra])


def duck(warehouse, statement, **params):
    return DuckDBStore(warehouse).query(statement, params).to_pylist()


# --- schedule and partitions ------------------------------------------------------------

def test_the_0200_tick_snapshots_the_day_before(monkeypatch):
    monkeypatch.setenv("ASSISTANTS_DISCOVER", "1")  # a scheduled run takes its IDs from its source's settings
    tick = dt.datetime(2026, 11, 21, 2, 0, tzinfo=dt.UTC)
    assert partition_for_tick(tick) == "2026-11-20"
    schedule = defs.resolve_schedule_def("nightly_snapshot")
    assert schedule.cron_schedule == "0 2 * * *" and schedule.execution_timezone == "UTC"
    assert schedule.default_status == DefaultScheduleStatus.RUNNING
    with build_schedule_context(scheduled_execution_time=tick, repository_def=defs.get_repository_def()) as context:
        request = schedule.evaluate_tick(context).run_requests[0]
    assert request.partition_key == partition_key("2026-11-20", "default")


def test_a_tick_before_the_first_partition_is_skipped_with_its_reason():
    schedule = defs.resolve_schedule_def("nightly_snapshot")
    tick = dt.datetime(2024, 6, 2, 2, 0, tzinfo=dt.UTC)  # conftest.py starts the partitions on 2025-01-01
    with build_schedule_context(scheduled_execution_time=tick, repository_def=defs.get_repository_def()) as context:
        result = schedule.evaluate_tick(context)
    assert not result.run_requests and "2024-06-01 is before the first partition" in (result.skip_message or "")


def test_the_schedule_time_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv(CRON_ENV, "30 4 * * *")
    assert nightly_schedule(snapshot_job).cron_schedule == "30 4 * * *"


def test_the_fetch_window_is_36_hours_after_the_day_ends():
    day = dt.date(2026, 11, 19)
    assert fetch_window_open(day, dt.datetime(2026, 11, 19, 15, 0, tzinfo=dt.UTC))
    assert fetch_window_open(day, dt.datetime(2026, 11, 21, 12, 0, tzinfo=dt.UTC))
    assert not fetch_window_open(day, dt.datetime(2026, 11, 21, 12, 1, tzinfo=dt.UTC))


def test_an_old_date_is_refused_unless_forced(api, tmp_path, capsys):
    old = TODAY - dt.timedelta(days=3)
    assert snapshot(tmp_path, old) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "more than 36 hours ago" in err and "--force" in err
    assert api.stats.total_requests == 0
    assert snapshot(tmp_path, old, "--force") == 0


# --- backfills: rebuilding from stored payloads ----------------------------------------------

def test_backfill_rebuilds_tables_and_history_without_the_api(api, tmp_path, capsys):
    days = [TODAY - dt.timedelta(days=n) for n in (4, 3)]
    for day in days:
        assert snapshot(tmp_path, day, "--force") == 0
    before = {t: duck(tmp_path, f"SELECT * FROM {t} ORDER BY ALL")
              for t in ("assistants", "assistant_tools")}
    history = duck(tmp_path, "SELECT * FROM assistant_history ORDER BY ALL")
    for day in days:  # lose the derived tables of both days
        ParquetStore(tmp_path).remove_partition("assistants", day)
    (tmp_path / "assistants.duckdb").unlink()
    api.stats.reset()
    assert run(["backfill", "--from", days[0].isoformat(), "--to", days[1].isoformat(),
                "--warehouse", str(tmp_path)]) == 0
    assert api.stats.total_requests == 0
    assert {t: duck(tmp_path, f"SELECT * FROM {t} ORDER BY ALL") for t in before} == before
    assert duck(tmp_path, "SELECT * FROM assistant_history ORDER BY ALL") == history
    assert "history replayed from" in capsys.readouterr().out


def test_backfill_of_dates_never_stored_says_so(tmp_path, capsys):
    assert run(["backfill", "--from", "2026-01-01", "--to", "2026-01-02", "--warehouse", str(tmp_path)]) == 1
    assert "no stored snapshot" in capsys.readouterr().err


def test_the_whole_job_on_an_old_partition_keeps_its_stored_payloads(api, tmp_path):
    """What the UI's backfill runs: the fetch step keeps the stored payloads, the rest is rebuilt."""
    old = TODAY - dt.timedelta(days=5)
    assert snapshot(tmp_path, old, "--force") == 0
    store = ParquetStore(tmp_path)
    members_before = store.partition_files("snapshot_members", old)[0].read_bytes()
    payloads_before = store.read(PAYLOADS, old).to_pylist()
    assert len(payloads_before) == len(FIXTURES)
    api.stats.reset()
    result = _materialize(tmp_path, api, old.isoformat(), {"assistant_ids": [a["id"] for a in FIXTURES]})
    assert result.success and api.stats.total_requests == 0
    assert store.partition_files("snapshot_members", old)[0].read_bytes() == members_before
    assert store.read(PAYLOADS, old).to_pylist() == payloads_before



def test_an_old_partition_with_nothing_stored_is_skipped_with_its_reason(api, tmp_path):
    """A doomed date (outside the fetch window, nothing stored) is skipped, not failed: "Materialize all" over
    old partitions succeeds, writes nothing and tells why."""
    never = TODAY - dt.timedelta(days=6)
    skipped = _materialize(tmp_path, api, never.isoformat(), {"assistant_ids": ["asst_x"]})
    assert skipped.success and api.stats.total_requests == 0
    steps = {e.step_key: e.event_type_value for e in skipped.all_events if e.is_step_skipped or e.is_step_success}
    assert steps == {"fetch_assistants": "STEP_SUCCESS", "flatten_assistants": "STEP_SKIPPED",
                     "duckdb_warehouse": "STEP_SKIPPED", "update_history": "STEP_SKIPPED"}
    assert not skipped.get_asset_materialization_events()
    observations = [e.event_specific_data.asset_observation for e in skipped.all_events
                    if e.event_type_value == "ASSET_OBSERVATION"]
    assert {o.asset_key.to_user_string() for o in observations} == {"raw_assistants", "fetch_errors", "snapshot_runs"}
    assert all(o.partition == partition_key(never) and "no snapshot of it is stored" in o.metadata["skipped"].value
               for o in observations)
    assert ParquetStore(tmp_path).dates("raw_assistants") == []


def _materialize(warehouse, api, partition, fetch_config, history_config=None):
    resources = {"api": AssistantsApiResource(api_key=KEY, base_url=api.base_url),
                 "warehouse": WarehouseResource(path=str(warehouse))}
    ops = {"fetch_assistants": {"config": fetch_config}}
    if history_config:
        ops["update_history"] = {"config": history_config}
    with DagsterInstance.ephemeral(tempdir=str(warehouse / ".dagster")) as instance:
        return materialize(list(build_snapshot_assets()), partition_key=partition_key(partition), resources=resources,
                           run_config={"ops": ops}, instance=instance, raise_on_error=False)


# --- asset checks ---------------------------------------------------------------------------

def _checks(result):
    return {(e.event_specific_data.asset_key.to_user_string(), e.event_specific_data.check_name):
            e.event_specific_data.passed for e in result.all_events if e.event_type_value == "ASSET_CHECK_EVALUATION"}


def test_every_check_passes_on_a_clean_run(api, tmp_path):
    result = _materialize(tmp_path, api, TODAY.isoformat(), {"assistant_ids": [a["id"] for a in FIXTURES]})
    evaluated = _checks(result)
    assert result.success
    for table in ("raw_assistants", "fetch_errors", "snapshot_runs", "assistants", "assistant_tools",
                  "assistant_metadata", "assistant_tool_resources"):
        assert evaluated[(table, checks.UNIQUE_KEY)] and evaluated[(table, checks.REQUIRED_NOT_NULL)]
    assert evaluated[("raw_assistants", checks.FAILED_SHARE)]
    assert evaluated[("assistant_history", checks.MASS_DELETION_GUARD)]
    history = next(m for m in result.asset_materializations_for_node("update_history")
                   if m.asset_key.to_user_string() == "assistant_history")
    assert history.metadata["night_created"].value == len(FIXTURES)  # the first night creates every assistant
    assert f"| live | {len(FIXTURES)} |" in history.metadata["night_summary"].value
    assert history.metadata["report"].value.startswith("assistants-export report --warehouse ")


def test_too_many_failures_stop_before_flatten_load_and_history(tmp_path, monkeypatch):
    from assistants_export.sandbox.faults import FaultPlan

    plan = FaultPlan(always_fail_ids=frozenset(a["id"] for a in FIXTURES[:3]))
    with SandboxServer(StaticCatalog(FIXTURES), api_key=KEY, faults=plan) as server:
        api = AssistantsApiResource(api_key=KEY, base_url=server.base_url, max_attempts=2,
                                    initial_retry_delay=0.01, max_retry_delay=0.01)
        with DagsterInstance.ephemeral(tempdir=str(tmp_path / ".dagster")) as instance:
            result = materialize(list(build_snapshot_assets()), partition_key=partition_key(TODAY), instance=instance,
                                 resources={"api": api, "warehouse": WarehouseResource(path=str(tmp_path))},
                                 run_config={"ops": {"fetch_assistants": {"config": {
                                     "assistant_ids": [a["id"] for a in FIXTURES]}}}}, raise_on_error=False)
    assert not result.success
    failure = next(e for e in result.all_events if e.is_step_failure)
    assert failure.step_key == "fetch_assistants"
    assert failure.step_failure_data.user_failure_data.description.startswith("held back: 3 of ")
    store = ParquetStore(tmp_path)
    # The fetch gate holds the run back before anything is stored: its answers wait under held/ ...
    assert not store.partition_files("snapshot_members", TODAY) and not store.partition_files("fetch_errors", TODAY)
    [held] = (tmp_path / "held" / TODAY.isoformat()).iterdir()
    assert (held / "raw_assistants" / "part-0.parquet").is_file() and (held / "held.json").is_file()
    assert not store.partition_files("payloads", TODAY)  # ... no payload was stored ...
    assert not (tmp_path / "assistants.duckdb").exists()  # ... nor the load or the history


def test_key_and_null_checks_fail_on_crafted_partitions(tmp_path):
    store = ParquetStore(tmp_path)
    row = {"snapshot_date": TODAY, "content_hash": "h1", "key": "team", "value": "x"}
    store.write(PAYLOAD_METADATA, TODAY, pa.Table.from_pylist([row, row], schema=PAYLOAD_METADATA.schema))
    duplicate, nulls = checks.table_check_results(store, [PAYLOAD_METADATA], TODAY)
    assert not duplicate.passed and duplicate.metadata["duplicate_keys"].value == 1
    assert nulls.passed
    # Our writer refuses nulls in not-null columns; the check guards against files written any other way.
    loose = pa.schema([f.with_nullable(True) for f in PAYLOAD_METADATA.schema])
    (target,) = store.partition_files("payload_metadata", TODAY)
    pq.write_table(pa.Table.from_pylist([{**row, "value": None}], schema=loose), target)
    duplicate, nulls = checks.table_check_results(store, [PAYLOAD_METADATA], TODAY)
    assert duplicate.passed and not nulls.passed and "value" in nulls.description


def test_failed_share_and_schema_drift_and_freshness_on_crafted_data(tmp_path):
    store = ParquetStore(tmp_path)
    run_row = {f.name: 0 for f in SNAPSHOT_RUNS.schema} | {
        "snapshot_date": TODAY, "run_id": "r", "mode": "ids", "base_url": "http://x",
        "started_at": dt.datetime(2026, 11, 20, 2, 0, tzinfo=dt.UTC),
        "finished_at": dt.datetime(2026, 11, 20, 2, 5, tzinfo=dt.UTC), "ok_count": 90, "failed_count": 10,
        "approved_gates": [], "approved_by": None, "approved_at": None}
    store.write(SNAPSHOT_RUNS, TODAY, pa.Table.from_pylist([run_row], schema=SNAPSHOT_RUNS.schema))
    assert checks.failed_share_result(store, TODAY, 0.1).passed
    assert not checks.failed_share_result(store, TODAY, 0.05).passed
    approved = run_row | {"approved_gates": ["failed_share"]}  # stored with allow_failures
    store.write(SNAPSHOT_RUNS, TODAY, pa.Table.from_pylist([approved], schema=SNAPSHOT_RUNS.schema))
    assert checks.failed_share_result(store, TODAY, 0.05).passed

    finished = dt.datetime(2026, 11, 20, 2, 5, tzinfo=dt.UTC)
    assert checks.freshness_result(store, "snapshot_runs", finished + dt.timedelta(hours=25)).passed
    stale = checks.freshness_result(store, "snapshot_runs", finished + dt.timedelta(hours=27))
    assert not stale.passed and "27 hours ago" in stale.description
    assert not checks.freshness_result(ParquetStore(tmp_path / "empty"), "snapshot_runs").passed

    fields = {f.name: None for f in PAYLOADS.schema}
    extras = [None, json.dumps({"reasoning_effort": "low", "response_format": {"json_schema": {"x_new": 1}}})]
    payloads = [fields | {"snapshot_date": TODAY, "assistant_id": f"asst_{i}", "tool_count": 0, "content_hash": f"h{i}",
                          "raw_json": "{}", "extra_fields": extra} for i, extra in enumerate(extras)]
    members = [{"snapshot_date": TODAY, "assistant_id": f"asst_{i}", "content_hash": f"h{i}", "fetched_at": finished,
                "attempts": 1} for i in range(len(extras))]
    store.write(PAYLOADS, TODAY, pa.Table.from_pylist(payloads, schema=PAYLOADS.schema))
    store.write(SNAPSHOT_MEMBERS, TODAY, pa.Table.from_pylist(members, schema=SNAPSHOT_MEMBERS.schema))
    drift = checks.schema_drift_result(store, TODAY, "assistants")
    assert not drift.passed and drift.severity.value == "WARN"
    assert drift.metadata["unknown_fields"].value == {"reasoning_effort": 1, "response_format.json_schema.x_new": 1}


def test_the_mass_deletion_guard_holds_the_run_back_before_anything_changes(api, tmp_path):
    ids = [a["id"] for a in FIXTURES]
    yesterday = (TODAY - dt.timedelta(days=1)).isoformat()
    assert _materialize(tmp_path, api, yesterday, {"assistant_ids": ids, "force": True}).success
    assert _materialize(tmp_path, api, TODAY.isoformat(), {"assistant_ids": ids}).success
    before = parquet_state(tmp_path), duckdb_state(tmp_path)
    api.catalog = StaticCatalog([])  # the endpoint now says "No assistant found" to every ID
    result = _materialize(tmp_path, api, TODAY.isoformat(), {"assistant_ids": ids})
    assert not result.success
    failure = next(e for e in result.all_events if e.is_step_failure)
    assert failure.step_key == "fetch_assistants"
    assert "would delete" in failure.step_failure_data.user_failure_data.description
    assert (parquet_state(tmp_path), duckdb_state(tmp_path)) == before
    allowed = _materialize(tmp_path, api, TODAY.isoformat(), {"assistant_ids": ids, "allow_mass_deletion": True})
    assert allowed.success
    assert _checks(allowed)[("assistant_history", checks.MASS_DELETION_GUARD)] is True
    assert duck(tmp_path, "SELECT count(*) AS n FROM current_assistants") == [{"n": 0}]


# --- one writer ------------------------------------------------------------------------------

def _hold_lock(path):
    holder = subprocess.Popen([sys.executable, "-c", "import duckdb, sys; c = duckdb.connect(sys.argv[1]); "
                               "print('locked', flush=True); sys.stdin.read()", str(path)],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "locked"
    return holder


def test_a_locked_duckdb_file_loses_nothing(api, tmp_path, capsys):
    first, second = TODAY - dt.timedelta(days=1), TODAY
    assert snapshot(tmp_path, first, "--force") == 0
    holder = _hold_lock(tmp_path / "assistants.duckdb")
    try:
        assert snapshot(tmp_path, second) == 1
    finally:
        holder.communicate("", timeout=30)
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "is locked by another process" in err and "next run" in err
    assert ParquetStore(tmp_path).partition_files("snapshot_members", second)  # the Parquet side is written
    assert pending_loads(tmp_path) == [second]
    assert snapshot(tmp_path, first, "--force") == 0  # the next run, for any date, loads what was left out
    assert pending_loads(tmp_path) == []
    counts = duck(tmp_path, "SELECT snapshot_date, count(*) AS n FROM assistants GROUP BY 1 ORDER BY 1")
    assert [(r["snapshot_date"], r["n"]) for r in counts] == [(first, len(FIXTURES)), (second, len(FIXTURES))]
    # The history skipped by the locked run was replayed through the second date too.
    assert ParquetStore(tmp_path).dates("assistant_changes") == [first, second]


class GatedServer(SandboxServer):
    """Holds every answer until each run (told apart by its ``OpenAI-Project`` header) has sent a request.

    Neither run can get past its fetch before the other has started, so the runs
    overlap by construction, whatever the machine's load; ``answered`` records, for
    each answer, how many runs had been seen, so the test can check it.
    """

    def __init__(self, *args, runs, **kwargs):
        super().__init__(*args, **kwargs)
        self.runs, self.seen, self.answered = set(runs), set(), []
        self._everyone_here = threading.Event()
        self._gate_lock = threading.Lock()

    def _respond(self, method, target, headers, *, in_flight, arrived):
        run = headers.get("OpenAI-Project")
        with self._gate_lock:
            self.seen.add(run)
            if self.seen >= self.runs:
                self._everyone_here.set()
        self._everyone_here.wait(timeout=180)
        with self._gate_lock:
            self.answered.append((run, len(self.seen & self.runs)))
        return super()._respond(method, target, headers, in_flight=in_flight, arrived=arrived)


def test_overlapping_runs_on_one_warehouse_end_with_correct_tables(tmp_path):
    """Two runs at once into one warehouse, each mid-fetch while the other runs: runs of two sources, which share
    the one DuckDB file. (Two runs of one source no longer overlap: the second waits for the source's writer
    lock, see tests/reliability/test_readers_and_writers.py.)"""
    home = write_instance_home(tmp_path / "home")  # the project's dagster.yaml, storage in tmp
    days = [TODAY - dt.timedelta(days=n) for n in (1, 0)]
    runs = [f"proj_run{n}" for n in range(len(days))]
    sources = tmp_path / "sources.toml"
    sources.write_text("".join(f'[sources.s{n}]\nproject = "{name}"\n\n' for n, name in enumerate(runs)),
                       encoding="utf-8")
    with GatedServer(StaticCatalog(FIXTURES), api_key=KEY, latency=0.05, runs=runs) as server:
        env = {**os.environ, "DAGSTER_HOME": str(home), "OPENAI_API_KEY": KEY, "OPENAI_BASE_URL": server.base_url,
               "ASSISTANTS_SOURCES_FILE": str(sources)}
        # An existing instance, as in production (processes creating its SQLite schema at once would race).
        subprocess.run([sys.executable, "-c", "from dagster import DagsterInstance; DagsterInstance.get().dispose()"],
                       env=env, check=True, timeout=120)
        procs = [subprocess.Popen([*CLI, "snapshot",
                                   "--date", d.isoformat(),
                                   "--force", "-q", "--warehouse", str(tmp_path / "wh"), "--ids", IDS,
                                   "--concurrency", "2", "--source", f"s{n}"],
                                  env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                 for n, d in enumerate(days)]
        deadline = time.monotonic() + 240
        try:
            outputs = [p.communicate(timeout=max(1.0, deadline - time.monotonic())) for p in procs]
        finally:
            for proc in procs:
                proc.kill()
                proc.communicate()
    for proc, (out, err) in zip(procs, outputs, strict=True):
        assert proc.returncode == 0, err[-2000:]
    # They overlapped: no answer went out before both runs had asked, so each was mid-fetch while the other ran.
    assert {run for run, _ in server.answered} == set(runs)
    assert all(seen == len(runs) for _, seen in server.answered), server.answered[:5]
    wh = tmp_path / "wh"
    counts = duck(wh, "SELECT source, snapshot_date, count(*) AS n FROM assistants GROUP BY ALL ORDER BY ALL")
    assert [(r["source"], r["snapshot_date"], r["n"]) for r in counts] == \
        [(f"s{n}", d, len(FIXTURES)) for n, d in enumerate(days)]
    assert all(pending_loads(wh, source_name=f"s{n}") == [] for n in range(len(days)))
    history = duck(wh, "SELECT source, assistant_id, valid_from, valid_to FROM assistant_history ORDER BY ALL")
    assert [(r["source"], r["valid_from"], r["valid_to"]) for r in history] == \
        [(f"s{n}", d, None) for n, d in enumerate(days) for _ in FIXTURES]
