"""Readers never fail because a writer is at work, and one source has one writer at a time.

Readers: ``query`` (the CLI's own function, in this process) run in a loop while another process snapshots
the warehouse twenty times never fails, and sees each date whole, old or new; a query while a writer holds
``assistants.duckdb`` reads the same views over the stored files and says so in one line on stderr.

Writers: two runs of one source started a second apart, twenty times, each end with one run stored and the
other waited for it or gave up cleanly (exit 75, one line naming the other run), Parquet and DuckDB agreeing
after each pair; a run held inside its fetch keeps a second run of its source out (exit 75, nothing written),
on a folder and on a bucket, and not a run of another source; a Dagster step meeting another writer fails with
that one line; a bucket's lease can be taken over once it expired, and its stalled holder knows it lost it.
"""

import datetime as dt
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from cli_forks import CliForks
from warehouse_state import duckdb_state, parquet_state

from assistants_export.connectors.core import settings
from assistants_export.connectors.warehouse import DuckDBStore
from assistants_export.connectors.warehouse.location import parse_warehouse_uri
from assistants_export.connectors.warehouse.read import read_arrow
from assistants_export.connectors.warehouse.views import open_duckdb
from assistants_export.connectors.warehouse.writer_lock import Holder, _BucketLease
from assistants_export.pipelines.assets import build_snapshot_assets
from assistants_export.pipelines.cli import SourceBusy, run
from assistants_export.pipelines.cli.snapshot import failure_message, run_assets, run_failure
from assistants_export.pipelines.resources import AssistantsApiResource, WarehouseResource
from assistants_export.sandbox import SandboxServer, StaticCatalog, bundled_assistants

pytestmark = pytest.mark.integration

KEY = "sk-readers-writers-7Qm2Xz"
ROOT = Path(__file__).parents[2]
DATE = dt.date(2026, 11, 20)
EARLIER = DATE - dt.timedelta(days=1)
FIXTURES = bundled_assistants()[:12]
IDS_A = [a["id"] for a in FIXTURES]
IDS_B = IDS_A[:7]
WAIT_ENV = settings.WRITER_WAIT_ENV


@pytest.fixture(scope="module")
def server():
    with SandboxServer(StaticCatalog(FIXTURES), api_key=KEY) as srv:
        yield srv


@pytest.fixture
def env(monkeypatch, server):
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
    return server


def child_env(server, **extra):
    """A CLI subprocess's environment: the caller's, less anything that could point it elsewhere."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "ASSISTANTS_", "DAGSTER_"))}
    environ.update(OPENAI_API_KEY=KEY, OPENAI_BASE_URL=server.base_url, ASSISTANTS_START_DATE="2025-01-01", **extra)
    return environ


def snapshot(warehouse, ids, date=DATE, *extra):
    return run(["snapshot", "--date", date.isoformat(), "--warehouse", str(warehouse), "-q", "--force",
                "--ids", ",".join(ids), *extra])


# --- readers ----------------------------------------------------------------------------------------------------

HOLD_DUCKDB = textwrap.dedent("""
    import sys, duckdb
    from assistants_export.connectors.warehouse import DuckDBStore
    store = DuckDBStore(sys.argv[1])
    if sys.argv[2] == "claimed":  # a snapshot's load or history step
        with store.writing() as con:
            print("holding", flush=True)
            sys.stdin.read()
    else:  # any other process that opened the database to write it (a notebook, an older version)
        con = duckdb.connect(str(store.path))
        print("holding", flush=True)
        sys.stdin.read()
""")


@pytest.mark.parametrize("holder", ["claimed", "unclaimed"])
def test_a_query_while_a_writer_holds_duckdb_reads_the_stored_files_and_says_so(env, tmp_path, capsys, holder):
    warehouse = tmp_path / "wh"
    assert snapshot(warehouse, IDS_A) == 0
    capsys.readouterr()
    process = subprocess.Popen([sys.executable, "-c", HOLD_DUCKDB, str(warehouse), holder], cwd=ROOT,
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout.readline() == "holding\n"
        status = run(["query", "SELECT count(*) AS n FROM raw_assistants", "--warehouse", str(warehouse),
                      "--format", "csv"])
        out, err = capsys.readouterr()
        assert status == 0, err
        assert out == f"n\n{len(IDS_A)}\n"
        assert err.count("\n") == 1 and err.startswith("note: ") and "stored files" in err, err
        # Asked for the database by name, a reader waits for it and then ends in one line (never a DuckDB error).
        with pytest.raises(Exception, match="being written by another process") as raised:
            open_duckdb(warehouse, wait=0.2)
        assert "\n" not in str(raised.value)
    finally:
        process.communicate(timeout=60)
    assert run(["query", "SELECT count(*) AS n FROM raw_assistants", "--warehouse", str(warehouse),
                "--format", "csv"]) == 0
    assert capsys.readouterr().err == ""  # the writer is gone: the database again, nothing to say


WRITE_LOOP = textwrap.dedent("""
    import sys
    from assistants_export.pipelines.cli import run
    warehouse, dates, sets = sys.argv[1], sys.argv[2].split(","), [s.split(",") for s in sys.argv[3].split(";")]
    for i in range(20):
        status = run(["snapshot", "--date", dates[i % 2], "--warehouse", warehouse, "-q", "--force",
                      "--ids", ",".join(sets[(i // 2) % 2])])
        assert status == 0, f"write {i} ended {status}"
        print(f"wrote {i}", flush=True)
""")

READ = ("SELECT snapshot_date, count(*) AS n FROM raw_assistants GROUP BY ALL ORDER BY ALL")


def test_queries_during_twenty_writes_never_fail_and_see_each_date_old_or_new(env, tmp_path, capsys):
    warehouse = tmp_path / "wh"
    assert snapshot(warehouse, IDS_A, EARLIER) == 0
    assert snapshot(warehouse, IDS_A) == 0
    capsys.readouterr()
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITE_LOOP, str(warehouse), f"{DATE},{EARLIER}", f"{','.join(IDS_A)};{','.join(IDS_B)}"],
        cwd=ROOT, env=child_env(env), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    answers, notes = [], 0
    try:
        while writer.poll() is None:
            status = run(["query", READ, "--warehouse", str(warehouse), "--format", "csv"])
            out, err = capsys.readouterr()
            assert status == 0, err
            assert "error" not in err.lower(), err
            notes += err.count("note: ")
            answers.append(out)
    finally:
        output = writer.communicate(timeout=600)[0]
    assert writer.returncode == 0, output
    assert output.count("wrote ") == 20
    assert answers
    whole = {len(IDS_A), len(IDS_B)}
    for out in answers:
        rows = [line.split(",") for line in out.splitlines()[1:]]
        assert [date for date, _ in rows] == [EARLIER.isoformat(), DATE.isoformat()], out
        assert all(int(n) in whole for _, n in rows), out  # each date whole: one run's membership, old or new
    # informative: how many queries met a writer in the database and read the stored files instead
    print(f"{len(answers)} queries during 20 writes, {notes} read the stored files")
    assert DuckDBStore(warehouse).path.is_file()


# --- writers ----------------------------------------------------------------------------------------------------


def snapshot_argv(warehouse, ids, *extra):
    return ["snapshot", "--date", DATE.isoformat(), "--warehouse", str(warehouse), "-q", "--force",
            "--ids", ",".join(ids), "--concurrency", "2", *extra]


def outcome(forks, pid, folder):
    """A finished run's status and stderr, once it has ended."""
    status = forks.wait(pid)
    return status, (folder / "stderr.txt").read_text(encoding="utf-8")


def assert_refused_naming(err, other_pid):
    """The one line of a run that met another writer of its source: who that was, and that nothing was written."""
    assert err.count("\n") == 1 and err.startswith("error: another run is writing"), err
    assert f"pid {other_pid})" in err and "wrote nothing" in err and "Traceback" not in err, err


def membership(warehouse):
    """The date's stored assistants, as the Parquet files and as DuckDB hold them."""
    files = set(read_arrow("raw_assistants", warehouse=str(warehouse), date=DATE, source="parquet")
                .column("assistant_id").to_pylist())
    database = set(read_arrow("raw_assistants", warehouse=str(warehouse), date=DATE, source="duckdb")
                   .column("assistant_id").to_pylist())
    return files, database


def test_two_runs_of_one_source_a_second_apart_twenty_times_end_one_stored_and_one_waited_or_refused(env, tmp_path):
    """The race of issue 24: each pair ends with one run stored and the other either waited for it (and then
    stored its own) or gave up at once with exit 75 and one line; never a raw exception, and Parquet and DuckDB
    agree after every pair."""
    warehouse = tmp_path / "wh"
    env.latency = 0.05  # a run fetches for a while (12 IDs, 2 at a time), so the two overlap
    outcomes = []
    try:
        with CliForks(child_env(env), cwd=ROOT) as forks:
            for i in range(20):
                wait = "0" if i % 2 else "60"  # give up at once, or wait for the other run
                first_ids, second_ids = (IDS_A, IDS_B) if i % 4 < 2 else (IDS_B, IDS_A)
                folders = tmp_path / f"{i}-first", tmp_path / f"{i}-second"
                first = forks.start(snapshot_argv(warehouse, first_ids), folders[0], {WAIT_ENV: wait})
                time.sleep(1)  # "a second apart", as in the report; either may take the lock first
                second = forks.start(snapshot_argv(warehouse, second_ids), folders[1], {WAIT_ENV: wait})
                ended = [outcome(forks, first, folders[0]), outcome(forks, second, folders[1])]
                pids = (first, second)
                for (status, err), other in zip(ended, reversed(pids), strict=True):
                    assert status in (0, 75), err
                    if status == 75:
                        assert_refused_naming(err, other)
                    else:
                        assert err == "", err
                statuses = tuple(status for status, _ in ended)
                assert 0 in statuses, ended
                outcomes.append(statuses)
                files, database = membership(warehouse)
                assert files == database and files in (set(IDS_A), set(IDS_B)), i
    finally:
        env.latency = 0.0
    print(f"pairs: {sum(1 for o in outcomes if 75 in o)} with one refused, "
          f"{sum(1 for o in outcomes if o == (0, 0))} with both stored")


HOLD_SOURCE = "fetch@3"
"""Where the first run is held while the test acts: three answers fetched, the writer lock held, nothing stored."""


@pytest.fixture
def sources_file(tmp_path, monkeypatch):
    """Two sources of one endpoint (each key falls back to the environment's): ``default`` and ``eu``."""
    path = tmp_path / "sources.toml"
    path.write_text("[sources.default]\n\n[sources.eu]\n", encoding="utf-8")
    monkeypatch.setenv("ASSISTANTS_SOURCES_FILE", str(path))
    return path


def test_a_run_of_a_source_being_written_ends_with_75_naming_the_writer_having_written_nothing(
        env, warehouse_uri, warehouse_kind, tmp_path, sources_file, monkeypatch):
    """Deterministic: the first run is held inside its fetch (the lock held); a second run of the same source gives
    up after its wait, exit 75 and one line naming the first run; a run of another source goes ahead at once;
    and the first run then ends as if nothing had happened."""
    assert snapshot(warehouse_uri, IDS_A, DATE, "--source", "default") == 0
    before = parquet_state(warehouse_uri), duckdb_state(warehouse_uri)
    extra = {"ASSISTANTS_SOURCES_FILE": str(sources_file)}
    if warehouse_kind == "s3":
        extra["ASSISTANTS_DUCKDB_CACHE"] = os.environ["ASSISTANTS_DUCKDB_CACHE"]
    pause = tmp_path / "pause"
    pause.mkdir()
    with CliForks(child_env(env, **extra), cwd=ROOT) as forks:
        first = forks.start(snapshot_argv(warehouse_uri, IDS_B, "--source", "default"), tmp_path / "first",
                            {"ASSISTANTS_PAUSEPOINTS": HOLD_SOURCE, "ASSISTANTS_PAUSE_DIR": str(pause)})
        wait_for(pause / "fetch.paused")
        second = forks.start(snapshot_argv(warehouse_uri, IDS_A, "--source", "default", "--writer-wait", "0.5"),
                             tmp_path / "second")
        status, err = outcome(forks, second, tmp_path / "second")
        assert status == 75, err
        assert_refused_naming(err, first)
        assert (parquet_state(warehouse_uri), duckdb_state(warehouse_uri)) == before  # it wrote nothing
        other = forks.start(snapshot_argv(warehouse_uri, IDS_B, "--source", "eu", "--writer-wait", "0"),
                            tmp_path / "other")
        assert outcome(forks, other, tmp_path / "other") == (0, "")  # another source is not held up
        (pause / "fetch.go").touch()
        assert outcome(forks, first, tmp_path / "first") == (0, "")
    assert membership(warehouse_uri) == (set(IDS_B), set(IDS_B))


def test_a_dagster_step_meeting_another_writer_fails_with_its_one_line(env, tmp_path):
    """In Dagster (no CLI holding the lock for the run), the step that meets another run of its source waits its
    ``writer_wait`` and fails; the run's failure is that one line."""
    warehouse = tmp_path / "wh"
    pause = tmp_path / "pause"
    pause.mkdir()
    with CliForks(child_env(env), cwd=ROOT) as forks:
        first = forks.start(snapshot_argv(warehouse, IDS_B), tmp_path / "first",
                            {"ASSISTANTS_PAUSEPOINTS": HOLD_SOURCE, "ASSISTANTS_PAUSE_DIR": str(pause)})
        wait_for(pause / "fetch.paused")
        assets = build_snapshot_assets(["default"])
        resources = {"api": AssistantsApiResource(api_key=KEY, base_url=env.base_url),
                     "warehouse": WarehouseResource(path=str(warehouse), writer_wait=0.2)}
        config = {"ops": {"fetch_assistants": {"config": {"assistant_ids": IDS_A, "force": True}}}}
        result = run_assets(assets, config, resources, DATE, verbose=False)
        assert not result.success
        message = failure_message(result)
        assert message.startswith("another run is writing") and f"pid {first})" in message, message
        assert isinstance(run_failure(result), SourceBusy)  # the CLI's backfill would exit 75
        (pause / "fetch.go").touch()
        assert outcome(forks, first, tmp_path / "first") == (0, "")


def wait_for(path, timeout=120):
    """Until ``path`` exists (a paused process's mark); a test that never sees it fails, it does not hang."""
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.02)


def test_a_bucket_lease_is_taken_over_once_it_expired_and_its_old_holder_learns_it_lost_it(moto_s3, monkeypatch):
    """A run that died holding a bucket's lease keeps the source only until the lease expires; the next run takes
    it over, and a holder that comes back (it had stalled) finds it lost, and commits nothing more."""
    monkeypatch.setattr(settings, "WRITER_LEASE_SECONDS", 1.0)
    monkeypatch.setattr(settings, "WRITER_LEASE_RENEW", 0.05)
    location = parse_warehouse_uri(moto_s3.uri("wh"))
    stalled, next_run = _BucketLease(location), _BucketLease(location)
    first, second = Holder.this_process("first"), Holder.this_process("second")
    assert stalled.try_acquire(first)
    assert not next_run.try_acquire(second)  # held and renewed
    assert next_run.holder() == first
    stalled._stop.set()  # the holder stalls: no more renewals
    stalled._thread.join()
    deadline = time.monotonic() + 60
    while not next_run.try_acquire(second):
        assert time.monotonic() < deadline, "the expired lease was never taken over"
        time.sleep(0.1)
    assert stalled.holder() == second
    stalled._stop.clear()
    stalled._renew()  # the stalled holder wakes up: its renewal fails, so it knows it lost the lease
    assert stalled.lost()
    next_run.release()
    assert next_run.holder() == second
    assert stalled.try_acquire(first)  # released: free at once
    stalled._stop.set()  # then this holder dies without releasing it (its renewals stop with it)
    stalled._thread.join()
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True,
                          check=True)
    dead = Holder(first.run_id, first.started_at, first.host, int(gone.stdout))  # a process of this host, ended
    assert stalled._commit(stalled._table, dead, released=False)  # the lease names the dead process
    assert next_run.try_acquire(second)  # not expired, but its holder is known to be gone: taken at once
    next_run.release()


def test_a_first_run_that_stores_nothing_takes_away_the_folders_its_lock_made(tmp_path):
    """The lock file is written before a run knows it will store anything: released with nothing else stored, the
    folders the lock made (the warehouse's, a named source's) are gone again; folders that were there stay."""
    from assistants_export.connectors.warehouse.writer_lock import writer_lock

    warehouse = tmp_path / "new" / "wh"
    with writer_lock(warehouse, "eu", wait=0):
        assert (warehouse / "sources" / "eu" / settings.WRITER_LOCK_FILE).is_file()
    assert not (tmp_path / "new").exists()
    warehouse.mkdir(parents=True)
    with writer_lock(warehouse, "eu", wait=0):
        pass
    assert warehouse.is_dir() and not (warehouse / "sources").exists()
    with writer_lock(warehouse, wait=0):
        (warehouse / "parquet").mkdir()
        (warehouse / "parquet" / "part-0.parquet").write_bytes(b"stored")
    assert (warehouse / "parquet" / "part-0.parquet").is_file()  # something stored: everything stays


def test_a_run_waiting_on_a_lock_file_its_holder_removed_locks_the_new_one(tmp_path, monkeypatch):
    """The race: a run opens the lock file, and before it takes the flock the holder (which made the folder and
    stored nothing) removes the file and lets go. The flock then succeeds on a file no path names; the run must see
    that and lock the file the path names, or a third run could take the source beside it."""
    import fcntl

    from assistants_export.connectors.warehouse import writer_lock as module

    holder, waiter = module._FolderLock(tmp_path / "wh"), module._FolderLock(tmp_path / "wh")
    assert holder.try_acquire(Holder.this_process("holder"))
    real_flock, calls = fcntl.flock, []

    def flock(fd, operation):
        if not calls:
            holder.release()  # between the waiter's open and its flock
        calls.append(fd)
        return real_flock(fd, operation)

    monkeypatch.setattr(module.fcntl, "flock", flock)
    assert waiter.try_acquire(Holder.this_process("waiter"))
    assert len(calls) == 2 and module._names(waiter.path, waiter._fd)  # locked the file the path names
    monkeypatch.setattr(module.fcntl, "flock", real_flock)
    third = module._FolderLock(tmp_path / "wh")
    assert not third.try_acquire(Holder.this_process("third"))
    waiter.release()
