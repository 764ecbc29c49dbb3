"""A worse run never replaces a better snapshot, in a warehouse folder and in a bucket (moto's S3 server).

Each case first stores a good snapshot of a date, then runs something that
must not thin it out (an empty ID source, a mostly-failed run, a dead
endpoint, a listing that suddenly lacks half the account, a deadline, an
unwritable warehouse), and compares every stored row of the warehouse, Parquet
and DuckDB, before and after. The held-back run's own answers must be kept
where a user can read them, and an approval flag must apply them deliberately.
"""

import datetime as dt
import errno
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest
from cli_command import CLI
from warehouse_state import duckdb_state, parquet_state
from warehouse_state import held_runs as held_runs_of

from assistants_export.connectors.core.schemas import SNAPSHOT_MEMBERS, SNAPSHOT_RUNS
from assistants_export.connectors.gates import Gates
from assistants_export.connectors.history import MassDeletionError, rebuild_history
from assistants_export.connectors.openai_assistants.config import ClientConfig, Secret
from assistants_export.connectors.snapshot import IdSource, fetch_snapshot, flatten_snapshot, load_duckdb
from assistants_export.connectors.warehouse import open_store
from assistants_export.connectors.warehouse.read import read_arrow
from assistants_export.connectors.warehouse.views import open_duckdb, open_parquet
from assistants_export.pipelines.cli import run
from assistants_export.sandbox import Fault, FaultPlan, SandboxServer, StaticCatalog, bundled_assistants

KEY = "sk-safety-Zq8Wm2Rt5Yx7"
ROOT = Path(__file__).parents[2]


def yesterday():
    return dt.datetime.now(dt.UTC).date() - dt.timedelta(days=1)


@pytest.fixture(scope="module")
def fixtures():
    return bundled_assistants()[:20]


@pytest.fixture
def server(fixtures):
    with SandboxServer(StaticCatalog(fixtures), api_key=KEY) as srv:
        yield srv


@pytest.fixture
def env(monkeypatch, server, warehouse_uri):
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    return warehouse_uri


def snapshot(warehouse, *args, date=None):
    date = date or yesterday()
    return run(["snapshot", "--date", date.isoformat(), "--warehouse", str(warehouse), "-q", "--force",
                "--max-attempts", "1", *args])


def state(warehouse):
    """Every stored row, Parquet and DuckDB (volatile columns aside, run IDs included: nothing may move)."""
    return parquet_state(warehouse), duckdb_state(warehouse)


def stored_ids(warehouse, table="raw_assistants"):
    """The assistant IDs of every stored date of ``table``, as a reader of the Parquet files sees them."""
    if not open_store(warehouse).exists():
        return set()
    return set(read_arrow(table, warehouse=warehouse, source="parquet").column("assistant_id").to_pylist())


def held_runs(warehouse, date=None):
    return held_runs_of(warehouse, date or yesterday())


@pytest.fixture
def good(env, fixtures, capsys):
    """A warehouse whose snapshot of yesterday holds every fixture; returns its state."""
    assert snapshot(env, "--ids", ",".join(a["id"] for a in fixtures)) == 0
    capsys.readouterr()
    return state(env)


def one_error_line(capsys):
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: "), err
    return err


# --- 1. an empty ID source ------------------------------------------------------------------------------------

@pytest.mark.parametrize("name, text", [("ids.txt", ""), ("ids.csv", "assistant_id\n"), ("ids.json", "[]"),
                                        ("ids.txt", "\n\n  \n")],
                         ids=["empty-file", "header-only-csv", "empty-json-array", "blank-lines"])
def test_an_empty_ids_file_is_an_error_and_changes_nothing(env, good, tmp_path, capsys, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    assert snapshot(env, "--ids-file", str(path)) == 1
    err = one_error_line(capsys)
    assert "holds no assistant ID" in err and "--allow-empty" in err
    assert state(env) == good


def test_an_empty_ids_option_is_an_error_and_changes_nothing(env, good, capsys):
    assert snapshot(env, "--ids", "") == 1
    assert "--allow-empty" in one_error_line(capsys)
    assert state(env) == good


def test_allow_empty_stores_an_empty_snapshot_deliberately(env, good, tmp_path, capsys):
    path = tmp_path / "ids.txt"
    path.write_text("", encoding="utf-8")
    assert snapshot(env, "--ids-file", str(path), "--allow-empty") == 0
    store = open_store(env)
    assert store.read(SNAPSHOT_MEMBERS, yesterday()).num_rows == 0
    # A folder keeps the empty partition; Delta lists none for a date without rows (its run is the record).
    assert store.has_partition("snapshot_members", yesterday()) is (not store.is_lake)
    runs = store.read(SNAPSHOT_RUNS, yesterday()).to_pylist()
    assert runs[0]["approved_gates"] == ["empty"]


def test_an_empty_discover_listing_is_held_back(env, good, server, capsys):
    server.catalog = StaticCatalog([])
    assert snapshot(env, "--discover") == 1
    err = one_error_line(capsys)
    assert "held back" in err and "discover listing was empty" in err
    assert state(env) == good
    assert len(held_runs(env)) == 1


# --- 2. a mostly-failed run, a dead endpoint ----------------------------------------------------------------------

def test_a_mostly_failed_run_is_held_back_with_its_answers_kept(env, good, server, fixtures, capsys):
    ids = [a["id"] for a in fixtures]
    server.faults = FaultPlan(always_fail_ids=frozenset(ids[:10]))
    server.stats.reset()
    assert snapshot(env, "--ids", ",".join(ids)) == 1
    err = one_error_line(capsys)
    assert "held back: 10 of 20 IDs (50%) ended failed" in err and "--allow-failures" in err
    assert state(env) == good
    [held] = held_runs(env)
    assert str(held) in err
    assert {r["assistant_id"] for r in held.read("raw_assistants").to_pylist()} == set(ids[10:])
    errors = held.read("fetch_errors").to_pylist()
    assert {(r["assistant_id"], r["outcome"]) for r in errors} == {(i, "failed") for i in ids[:10]}
    note = held.note()
    assert note["outcomes"] == {"ok": 10, "failed": 10} and "ended failed" in note["reasons"][0]
    # A backfill of the date (flatten and load from what is stored) still finds the good snapshot.
    assert run(["backfill", "--from", yesterday().isoformat(), "--to", yesterday().isoformat(),
                "--warehouse", str(env)]) == 0
    assert stored_ids(env, "assistants") == set(ids)
    # Approved, the same answers replace the date, and the approval is on record.
    assert snapshot(env, "--ids", ",".join(ids), "--allow-failures") == 0
    assert stored_ids(env) == set(ids[10:])
    runs = open_store(env).read(SNAPSHOT_RUNS, yesterday()).to_pylist()
    assert runs[0]["approved_gates"] == ["failed_share"]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_dead_endpoint_without_preflight_changes_nothing_even_after_a_backfill(env, good, fixtures, monkeypatch,
                                                                                capsys):
    monkeypatch.setenv("OPENAI_BASE_URL", f"http://127.0.0.1:{free_port()}/v1")  # nothing listens there
    assert snapshot(env, "--ids", ",".join(a["id"] for a in fixtures), "--no-preflight") == 1
    assert "held back" in one_error_line(capsys)
    assert state(env) == good
    day = yesterday().isoformat()
    assert run(["backfill", "--from", day, "--to", day, "--warehouse", str(env)]) == 0
    assert state(env) == good


def test_a_run_past_its_deadline_keeps_its_answers_aside(env, good, server, fixtures, capsys):
    ids = [a["id"] for a in fixtures]
    # The last ID hangs far past the deadline; every other one answers at once.
    server.faults = FaultPlan(scripted={ids[-1]: [Fault.HANG]}, hang_seconds=60)
    server.stats.reset()  # faults are decided per (ID, attempt): this run's requests are attempts 1 again
    assert snapshot(env, "--ids", ",".join(ids), "--run-deadline", "5") == 1
    err = one_error_line(capsys)
    assert "5-second deadline" in err and "kept in" in err
    assert state(env) == good
    [held] = held_runs(env)
    assert {r["assistant_id"] for r in held.read("raw_assistants").to_pylist()} == set(ids[:-1])


# --- 3. a listing that suddenly lacks half the account ------------------------------------------------------------

def current_and_live(warehouse, opener):
    with opener(warehouse) as con:
        current = {r[0] for r in con.sql("SELECT assistant_id FROM current_assistants").fetchall()}
        live = {r[0] for r in con.sql("SELECT assistant_id FROM assistant_history "
                                      "WHERE is_current AND NOT is_deleted").fetchall()}
    return current, live


def test_a_listing_missing_half_the_account_is_held_back_and_the_views_agree_with_the_history(
        env, server, fixtures, capsys):
    first = yesterday() - dt.timedelta(days=1)
    assert snapshot(env, "--discover", date=first) == 0
    assert snapshot(env, "--discover") == 0
    good = state(env)
    server.catalog = StaticCatalog(fixtures[:10])
    assert snapshot(env, "--discover") == 1
    err = one_error_line(capsys)
    assert "would delete 10 of 20 current assistants" in err and "--allow-mass-deletion" in err
    assert state(env) == good
    everyone = {a["id"] for a in fixtures}
    for opener in (open_duckdb, open_parquet):
        assert current_and_live(env, opener) == (everyone, everyone)
    # Approved, the deletions land in the history and the views at once, and agree.
    assert snapshot(env, "--discover", "--allow-mass-deletion") == 0
    kept = {a["id"] for a in fixtures[:10]}
    for opener in (open_duckdb, open_parquet):
        assert current_and_live(env, opener) == (kept, kept)


def test_the_views_agree_with_a_history_step_that_held_a_stored_date_back(env, server, fixtures, capsys):
    """A date can reach the tables and still be held back by the history step (its guard is stricter than the
    fetch step's here, as a Dagster user may configure); the views must keep answering what the history says."""
    d1, d2, d3 = (yesterday() - dt.timedelta(days=n) for n in (2, 1, 0))
    ids = [a["id"] for a in fixtures]
    assert snapshot(env, "--ids", ",".join(ids), date=d1) == 0
    server.catalog = StaticCatalog(fixtures[1:])  # one assistant deleted (404): 5 %, within the guard
    assert snapshot(env, "--ids", ",".join(ids), date=d2) == 0
    server.catalog = StaticCatalog(fixtures[:5])  # a listing that lacks most of the account
    config = ClientConfig(api_key=Secret(KEY), base_url=server.base_url)
    fetch_snapshot(config, IdSource(discover=True), d3, env, gates=Gates(mass_deletion_threshold=0.9))
    flatten_snapshot(d3, env)
    load_duckdb(d3, env)
    with pytest.raises(MassDeletionError):
        rebuild_history(env, d3)
    expected = set(ids[1:])
    for opener in (open_duckdb, open_parquet):
        assert current_and_live(env, opener) == (expected, expected), opener.__name__


# --- the warehouse refuses to be written --------------------------------------------------------------------------

@pytest.mark.parametrize("code, hint", [(errno.EROFS, "read-only"), (errno.ENOSPC, "disk is full"),
                                        (errno.EACCES, "permission denied")])
def test_an_unwritable_warehouse_is_one_line_and_changes_nothing(env, good, fixtures, monkeypatch, capsys, code,
                                                                 hint, warehouse_kind):
    if warehouse_kind != "local":
        pytest.skip("an operating system's refusal of a folder; a bucket's: test_a_bucket_that_does_not_exist_...")
    import assistants_export.connectors.warehouse.parquet_store as parquet_store

    def refuse(*args, **kwargs):
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(parquet_store.StagingJob, "__init__", refuse)
    assert snapshot(env, "--ids", ",".join(a["id"] for a in fixtures)) == 1
    err = one_error_line(capsys)
    assert f"cannot write the warehouse at {env}" in err and hint in err
    assert state(env) == good


def test_a_bucket_that_does_not_exist_is_one_line_before_any_request(moto_s3, server, monkeypatch, tmp_path,
                                                                     fixtures, capsys):
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
    monkeypatch.setenv("ASSISTANTS_DUCKDB_CACHE", str(tmp_path / "cache"))
    server.stats.reset()
    assert snapshot("s3://no-such-bucket/wh", "--ids", ",".join(a["id"] for a in fixtures), "--no-preflight") == 1
    err = one_error_line(capsys)
    assert "the bucket 'no-such-bucket' does not exist" in err, err
    assert server.stats.total_requests == 0  # the warehouse is checked before the API is asked anything
    assert moto_s3.keys() == []


# --- a date in the future, Ctrl-C ---------------------------------------------------------------------------------

def test_a_future_date_says_it_is_in_the_future(env, capsys):
    tomorrow = dt.datetime.now(dt.UTC).date() + dt.timedelta(days=2)
    assert run(["snapshot", "--date", tomorrow.isoformat(), "--ids", "asst_x", "--warehouse", str(env)]) == 2
    err = one_error_line(capsys)
    assert "in the future" in err and "ASSISTANTS_START_DATE" not in err


def test_ctrl_c_ends_with_one_line_and_status_130_leaving_the_date_as_it_was(env, good, server, fixtures):
    server.latency = 0.3
    server.stats.reset()
    environment = {**os.environ, "OPENAI_API_KEY": KEY, "OPENAI_BASE_URL": server.base_url}
    environment.pop("DAGSTER_HOME", None)
    proc = subprocess.Popen(
        [*CLI, "snapshot", "--date", yesterday().isoformat(),
         "--force", "-q",
         "--warehouse", str(env), "--ids", ",".join(a["id"] for a in fixtures), "--concurrency", "1"],
        env=environment, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        # Interrupt once the fetch is under way: the sandbox has answered a request of this run.
        deadline = time.monotonic() + 120
        while server.stats.total_requests < 3 and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=120)
    finally:
        proc.kill()
    assert proc.returncode == 130, err
    err = err.lstrip("\n")  # click ends the ^C line first, as a shell would
    assert err.count("\n") == 1 and err.startswith("error: interrupted"), err
    assert state(env) == good
