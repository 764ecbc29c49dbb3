"""Held-back runs an operator settles: ``assistants-export held list|show|approve|discard``, and the nightly prune.

The nights are taken with the connector's steps (fetch, load, history: what a snapshot runs, without Dagster,
so each test takes seconds); the held runs are settled through the command line, as an operator would.
"""

import datetime as dt
import json
import os
import shutil
import signal
import subprocess
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from cli_command import CLI
from warehouse_state import duckdb_state, parquet_state
from warehouse_state import held_runs as held_runs_of

from assistants_export.connectors.core.errors import DeadlineExceededError, HeldBackError
from assistants_export.connectors.core.schemas import FETCH_ERRORS, RAW_ASSISTANTS, SNAPSHOT_RUNS
from assistants_export.connectors.gates import Gates
from assistants_export.connectors.held import held_runs
from assistants_export.connectors.history import rebuild_history
from assistants_export.connectors.openai_assistants.config import ClientConfig, Secret
from assistants_export.connectors.snapshot import IdSource, fetch_snapshot, load_duckdb
from assistants_export.connectors.warehouse import open_store
from assistants_export.connectors.warehouse.views import open_duckdb, open_parquet
from assistants_export.pipelines.cli import run
from assistants_export.sandbox import FaultPlan, SandboxServer, StaticCatalog, bundled_assistants

KEY = "sk-held-Qm4Tz8Vb2Nc6"
D1 = dt.date(2026, 3, 1)
D2 = dt.date(2026, 3, 2)


@pytest.fixture(scope="module")
def fixtures():
    return bundled_assistants()[:20]


@pytest.fixture
def server(fixtures):
    with SandboxServer(StaticCatalog(fixtures), api_key=KEY) as srv:
        yield srv


@pytest.fixture
def local(tmp_path):
    return str(tmp_path / "wh")


def night(warehouse, server, date, *, ids=None, gates=None, **kwargs):
    """One night as a snapshot takes it: fetch, load into DuckDB, replay the history (raises when held back)."""
    config = ClientConfig(api_key=Secret(KEY), base_url=server.base_url, max_attempts=1)
    source = IdSource(discover=True) if ids is None else IdSource(ids=tuple(ids))
    summary = fetch_snapshot(config, source, date, warehouse, gates=gates or Gates(), **kwargs)
    load_duckdb(date, warehouse)
    rebuild_history(warehouse, date)
    return summary


def held_night(warehouse, server, date, **kwargs):
    with pytest.raises(HeldBackError):
        night(warehouse, server, date, **kwargs)
    [held] = held_runs(warehouse)
    return held


def cli(capsys, *args):
    code = run(["held", *args])
    out, err = capsys.readouterr()
    return code, out, err


def rows(table, key="assistant_id"):
    return sorted(table.to_pylist(), key=lambda r: r[key])


def current_and_live(warehouse, opener):
    with opener(warehouse) as con:
        current = {r[0] for r in con.sql("SELECT assistant_id FROM current_assistants").fetchall()}
        live = {r[0] for r in con.sql("SELECT assistant_id FROM assistant_history "
                                      "WHERE is_current AND NOT is_deleted").fetchall()}
    return current, live


def test_an_approved_mass_deletion_stores_exactly_the_held_answers_and_the_history_applies_it(
        warehouse_uri, server, fixtures, capsys):
    wh = warehouse_uri
    night(wh, server, D1)
    server.catalog = StaticCatalog(fixtures[:10])  # a listing that lacks half the account
    held = held_night(wh, server, D2)
    assert held.gates == ("mass_deletion",)
    held_raw, held_errors = held.read(RAW_ASSISTANTS), held.read(FETCH_ERRORS)
    [held_row] = held.read(SNAPSHOT_RUNS).to_pylist()

    code, out, err = cli(capsys, "list", "--warehouse", wh)
    assert code == 0 and err == ""
    [line] = [x for x in out.splitlines() if held.run_id in x]
    assert D2.isoformat() in line and "mass_deletion" in line
    code, out, err = cli(capsys, "show", held.run_id[:8], "--warehouse", wh)
    assert code == 0 and err == ""
    assert "Deletions: 10 of 20 assistants live the day before" in out
    assert "10 only in the stored snapshot" not in out  # nothing of D2 is stored yet
    assert "none is stored" in out

    server.catalog = StaticCatalog(fixtures)  # the API moved on: approving must not ask it again
    server.stats.reset()
    code, out, err = cli(capsys, "approve", held.run_id, "--by", "alice", "--warehouse", wh)
    assert code == 0, err
    assert err == "" and "Approved held run" in out and "by alice (gates: mass_deletion)" in out
    assert server.stats.total_requests == 0

    store = open_store(wh)
    assert rows(store.read(RAW_ASSISTANTS, D2)) == rows(held_raw)  # byte for byte: every column, every body
    assert rows(store.read(FETCH_ERRORS, D2)) == rows(held_errors)
    [stored] = store.read(SNAPSHOT_RUNS, D2).to_pylist()
    assert stored["run_id"] == held_row["run_id"] and stored["started_at"] == held_row["started_at"]
    assert stored["approved_gates"] == ["mass_deletion"] and stored["approved_by"] == "alice"
    assert stored["approved_at"] is not None
    kept = {a["id"] for a in fixtures[:10]}
    for opener in (open_duckdb, open_parquet):
        assert current_and_live(wh, opener) == (kept, kept), opener.__name__
    with open_duckdb(wh) as con:
        deleted = con.execute("SELECT count(*) FROM assistant_changes WHERE snapshot_date = ? AND change_type = "
                          "'deleted'", [D2]).fetchone()
        approved = con.execute("SELECT approved_by FROM snapshot_runs WHERE snapshot_date = ?", [D2]).fetchone()
    assert deleted == (10,) and approved == ("alice",)
    assert held_runs(wh) == [] and held_runs_of(wh, D2) == []
    # A later replay of the history treats the date as a normal, approved night.
    rebuild_history(wh, D1)


def test_a_held_run_of_a_date_a_newer_run_stored_since_needs_force(local, server, fixtures, capsys):
    ids = [a["id"] for a in fixtures]
    night(local, server, D1, ids=ids)
    server.faults = FaultPlan(always_fail_ids=frozenset(ids[:10]))
    held = held_night(local, server, D2, ids=ids)
    assert held.gates == ("failed_share",)
    server.faults = FaultPlan()
    night(local, server, D2, ids=ids)  # a good run of the date, after the held one
    newer = open_store(local).read(SNAPSHOT_RUNS, D2).to_pylist()[0]["run_id"]

    code, out, err = cli(capsys, "approve", held.run_id, "--warehouse", local)
    assert code == 1 and out == "" and err.count("\n") == 1
    assert f"stored by run {newer}" in err and "--force" in err
    assert open_store(local).read(SNAPSHOT_RUNS, D2).to_pylist()[0]["run_id"] == newer

    held_raw = held.read(RAW_ASSISTANTS)
    code, out, err = cli(capsys, "approve", held.run_id, "--force", "--by", "bob", "--warehouse", local)
    assert code == 0, err
    assert f"replacing run {newer}" in out
    store = open_store(local)
    assert rows(store.read(RAW_ASSISTANTS, D2)) == rows(held_raw)
    [stored] = store.read(SNAPSHOT_RUNS, D2).to_pylist()
    assert stored["run_id"] == held.run_id and stored["approved_gates"] == ["failed_share"]
    with open_duckdb(local) as con:
        assert con.execute("SELECT count(*) FROM assistants WHERE snapshot_date = ?", [D2]).fetchone() == (10,)


def test_discard_removes_the_folder_and_nothing_else(local, server, fixtures, capsys):
    ids = [a["id"] for a in fixtures]
    night(local, server, D1, ids=ids)
    before = open_store(local).read(SNAPSHOT_RUNS, D1).to_pylist()
    server.faults = FaultPlan(always_fail_ids=frozenset(ids[:10]))
    held = held_night(local, server, D1, ids=ids)
    code, out, err = cli(capsys, "discard", held.run_id, "--warehouse", local)
    assert code == 0 and err == "" and held.where in out
    assert not Path(held.where).exists() and held_runs(local) == []
    assert open_store(local).read(SNAPSHOT_RUNS, D1).to_pylist() == before
    code, out, err = cli(capsys, "list", "--warehouse", local)
    assert code == 0 and out.startswith("no held-back runs")


@pytest.mark.parametrize("args, says", [
    (["approve", "../etc"], "'../etc' is not a run ID"),
    (["show", "0123abcd"], "no held-back run 0123abcd"),
    (["discard", "0123abcd"], "no held-back run 0123abcd"),
])
def test_a_bad_run_id_is_one_line(local, capsys, args, says):
    code, out, err = cli(capsys, *args, "--warehouse", local)
    assert code == 1 and out == ""
    assert err.count("\n") == 1 and err.startswith("error: ") and says in err, err


def test_a_run_stopped_by_an_error_cannot_be_approved(local, fixtures, capsys):
    ids = [a["id"] for a in fixtures]
    with SandboxServer(StaticCatalog(fixtures), api_key=KEY, latency=0.3) as slow:
        config = ClientConfig(api_key=Secret(KEY), base_url=slow.base_url, max_attempts=1, run_deadline=1.0,
                              concurrency=1)
        with pytest.raises(DeadlineExceededError):
            fetch_snapshot(config, IdSource(ids=tuple(ids)), D2, local)
    [held] = held_runs(local)
    assert held.gates == ("aborted",)
    code, _, err = cli(capsys, "approve", held.run_id, "--warehouse", local)
    assert code == 1 and err.count("\n") == 1 and "answers are partial" in err, err
    assert held_runs(local) == [held]


def test_the_nightly_run_prunes_held_runs_past_their_age_and_reports_them(local, server, fixtures):
    ids = [a["id"] for a in fixtures]
    night(local, server, D1, ids=ids)
    server.faults = FaultPlan(always_fail_ids=frozenset(ids[:10]))
    old = held_night(local, server, D2, ids=ids)
    with pytest.raises(HeldBackError):  # a second held run of the date, young: kept
        night(local, server, D2, ids=ids)
    young = [r for r in held_runs(local) if r.run_id != old.run_id]
    assert len(young) == 1
    note_path = Path(old.where) / "held.json"
    note = json.loads(note_path.read_text())
    note["held_at"] = (dt.datetime.now(dt.UTC) - dt.timedelta(days=31)).isoformat()  # held 31 days ago
    note_path.write_text(json.dumps(note))
    server.faults = FaultPlan()
    summary = night(local, server, D2, ids=ids)
    assert summary.pruned_held == [f"{D2}/{old.run_id}"]
    assert [r.run_id for r in held_runs(local)] == [young[0].run_id]
    # A shorter age, given: the young one goes too; none keeps every held run.
    assert night(local, server, D2, ids=ids, held_max_age=None).pruned_held == []
    assert night(local, server, D2, ids=ids, held_max_age=dt.timedelta(0)).pruned_held == [f"{D2}/{young[0].run_id}"]
    assert held_runs(local) == []


def test_an_older_warehouse_without_the_approval_columns_still_opens(local, server, fixtures, capsys):
    ids = [a["id"] for a in fixtures]
    night(local, server, D1, ids=ids)
    store = open_store(local)
    [path] = store.partition_files(SNAPSHOT_RUNS.name, D1)
    old = pq.read_table(path).drop_columns(["approved_by", "approved_at"])
    pq.write_table(old, path)  # as an older version wrote it
    [row] = store.read(SNAPSHOT_RUNS, D1).to_pylist()
    assert row["approved_by"] is None and row["approved_at"] is None and row["run_id"]
    load_duckdb(D1, local)
    with open_duckdb(local) as con:
        assert con.sql("SELECT approved_by FROM snapshot_runs").fetchall() == [(None,)]
    assert pa.types.is_timestamp(store.read(SNAPSHOT_RUNS, D1).schema.field("approved_at").type)


def test_show_prints_the_failures_and_a_sample_diff_against_the_stored_date(local, server, fixtures, capsys):
    ids = [a["id"] for a in fixtures]
    night(local, server, D1, ids=ids)
    renamed = [dict(a, name=f"Renamed {n}") if n in (10, 11) else a for n, a in enumerate(fixtures)]
    server.catalog = StaticCatalog(renamed)
    server.faults = FaultPlan(always_fail_ids=frozenset(ids[:10]))
    held = held_night(local, server, D1, ids=ids)  # a re-run of the stored date, held back
    code, out, err = cli(capsys, "show", held.run_id, "--warehouse", local)
    assert code == 0 and err == ""
    assert "gate failed_share: 10 of 20 IDs (50%) ended failed" in out
    assert "Failures: 10" in out and sum(1 for line in out.splitlines() if line.startswith(f"  {ids[0]}")) == 1
    assert "8 unchanged, 2 changed, 0 only in the held run, 10 only in the stored snapshot" in out
    assert f"  {ids[10]}:\n    name: " in out and '-> "Renamed 10"' in out
    assert "Deletions: 0 of 0 assistants live the day before" in out  # D1 is the first date


def test_a_bucket_written_before_the_approval_columns_gains_them_at_the_next_write(warehouse_kind, warehouse_uri,
                                                                                   server, fixtures):
    if warehouse_kind != "s3":
        pytest.skip("a folder's older files are read with the current schema: test_an_older_warehouse_...")
    from assistants_export.connectors.warehouse.location import parse_warehouse_uri
    from assistants_export.connectors.warehouse.objectstore import DeltaDateTable

    old_schema = pa.schema([f for f in SNAPSHOT_RUNS.schema if f.name not in ("approved_by", "approved_at")])
    table = DeltaDateTable(parse_warehouse_uri(warehouse_uri), SNAPSHOT_RUNS.name, old_schema)
    table.create()
    row = {"snapshot_date": D1, "run_id": "older", "started_at": dt.datetime(2026, 3, 1, tzinfo=dt.UTC),
           "finished_at": dt.datetime(2026, 3, 1, tzinfo=dt.UTC), "mode": "ids", "base_url": "https://x/v1",
           **{name: 0 for name in old_schema.names if name.endswith("_count") or name in (
               "ids_requested", "duplicate_ids", "requests", "retries", "rate_limited")}, "approved_gates": []}
    table.commit_date(D1, pa.Table.from_pylist([row], schema=old_schema))
    store = open_store(warehouse_uri)
    [read] = store.read(SNAPSHOT_RUNS, D1).to_pylist()  # before any write: the new columns read as null
    assert read["run_id"] == "older" and read["approved_by"] is None
    night(warehouse_uri, server, D2, ids=[a["id"] for a in fixtures])
    assert store.read(SNAPSHOT_RUNS, D1).to_pylist()[0]["approved_by"] is None
    assert store.read(SNAPSHOT_RUNS, D2).to_pylist()[0]["run_id"] != "older"


def test_the_dagster_job_approves_and_discards_held_runs(local, server, fixtures):
    from assistants_export.pipelines.component import AssistantsExportComponent
    from assistants_export.pipelines.held import HELD_JOB, HELD_OP

    defs = AssistantsExportComponent(warehouse=local).definitions(["default"])
    settle = defs.resolve_job_def(HELD_JOB)
    ids = [a["id"] for a in fixtures]
    night(local, server, D1, ids=ids)
    server.faults = FaultPlan(always_fail_ids=frozenset(ids[:10]))
    first = held_night(local, server, D2, ids=ids)

    def launch(**config):
        return settle.execute_in_process(run_config={"ops": {HELD_OP: {"config": config}}}, raise_on_error=False)

    refused = launch(run_id=first.run_id, action="approve")  # nobody named
    assert not refused.success and held_runs(local) == [first]
    result = launch(run_id=first.run_id, action="approve", approved_by="carol")
    assert result.success
    [stored] = open_store(local).read(SNAPSHOT_RUNS, D2).to_pylist()
    assert stored["run_id"] == first.run_id and stored["approved_by"] == "carol"
    assert stored["approved_gates"] == ["failed_share"]
    with open_duckdb(local) as con:
        assert con.execute("SELECT count(*) FROM assistants WHERE snapshot_date = ?", [D2]).fetchone() == (10,)
    second = held_night(local, server, D2, ids=ids)
    assert launch(run_id=second.run_id, action="discard").success
    assert held_runs(local) == []
    missing = launch(run_id=second.run_id, action="discard")
    assert not missing.success
    [failure] = [e for e in missing.all_events if e.is_step_failure]
    assert "no held-back run" in failure.step_failure_data.user_failure_data.description


def _state(warehouse):
    """Every stored row, Parquet and DuckDB, without the clocks and run IDs (the approval's time included)."""
    def settled(state):
        return {key: sorted(json.dumps({k: v for k, v in json.loads(row).items() if k != "approved_at"},
                                       sort_keys=True) for row in rows) for key, rows in state.items()}
    return settled(parquet_state(warehouse)), settled(duckdb_state(warehouse))


@pytest.mark.parametrize("point", ["parquet.staged@5", "duckdb.load", "history"],
                         ids=["payloads-committed-membership-not", "inside-the-duckdb-load", "in-the-history"])
def test_an_approval_killed_midway_is_approved_again_and_ends_the_same(tmp_path, server, fixtures, point):
    ids = [a["id"] for a in fixtures]
    first = str(tmp_path / "first")
    night(first, server, D1, ids=ids)
    server.faults = FaultPlan(always_fail_ids=frozenset(ids[:10]))
    held = held_night(first, server, D2, ids=ids)
    second = str(tmp_path / "second")
    shutil.copytree(first, second)
    assert run(["held", "approve", held.run_id, "--by", "dan", "--warehouse", first]) == 0

    env = {**os.environ, "ASSISTANTS_FAILPOINTS": point}
    killed = subprocess.run([*CLI, "held", "approve", held.run_id, "--by", "dan", "--warehouse", second], env=env,
                            capture_output=True, text=True, timeout=120)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert [r.run_id for r in held_runs(second)] == [held.run_id]  # kept until the approval ended
    assert run(["held", "approve", held.run_id, "--by", "dan", "--warehouse", second]) == 0
    assert held_runs(second) == []
    assert _state(second) == _state(first)
