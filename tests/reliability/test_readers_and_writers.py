"""Readers never fail because a writer is at work, and one source has one writer at a time.

Readers: ``query`` (the CLI's own function, in this process) run in a loop while another process snapshots
the warehouse twenty times never fails, and sees each date whole, old or new; a query while a writer holds
``assistants.duckdb`` reads the same views over the stored files and says so in one line on stderr.

Writers: see the second half of this module.
"""

import datetime as dt
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from assistants_export.connectors.warehouse import DuckDBStore
from assistants_export.connectors.warehouse.views import open_duckdb
from assistants_export.pipelines.cli import run
from assistants_export.sandbox import SandboxServer, StaticCatalog, bundled_assistants

pytestmark = pytest.mark.integration

KEY = "sk-readers-writers-7Qm2Xz"
ROOT = Path(__file__).parents[2]
DATE = dt.date(2026, 11, 20)
EARLIER = DATE - dt.timedelta(days=1)
FIXTURES = bundled_assistants()[:12]
IDS_A = [a["id"] for a in FIXTURES]
IDS_B = IDS_A[:7]


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
