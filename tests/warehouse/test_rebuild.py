"""``assistants-export rebuild-duckdb``: the database is a cache of the Parquet files, built again at will."""

import datetime as dt
import subprocess
import sys

import duckdb
from snapshot_days import snapshot_days
from warehouse_state import duckdb_state

from assistants_export.connectors.warehouse import DuckDBStore
from assistants_export.connectors.warehouse.views import VIEW_NAMES, open_duckdb
from assistants_export.pipelines.cli import run
from assistants_export.sandbox import bundled_assistants

D1, D2 = dt.date(2026, 11, 20), dt.date(2026, 11, 21)
KEY = "sk-rebuild-8WqLp2Zx"


def views(warehouse):
    with open_duckdb(warehouse) as con:
        return {name: sorted(map(repr, con.sql(f"SELECT * FROM {name}").fetchall())) for name in VIEW_NAMES}


def two_nights(root):
    fixtures = bundled_assistants()[:6]
    changed = {**fixtures[0], "model": "gpt-4.1-nano"}
    return snapshot_days(root, KEY, [a["id"] for a in fixtures], {D1: fixtures, D2: [changed, *fixtures[1:5]]})


def test_a_deleted_database_is_rebuilt_to_the_same_tables_and_views(warehouse_uri, capsys):
    """On a folder, and on a bucket (where the database is a local cache a fresh container does not have)."""
    two_nights(warehouse_uri)
    tables, answers = duckdb_state(warehouse_uri), views(warehouse_uri)
    assert tables["snapshot_members"] and tables["assistant_changes"]
    database = DuckDBStore(warehouse_uri).path
    database.unlink()

    assert run(["rebuild-duckdb", "--warehouse", warehouse_uri]) == 0
    out = capsys.readouterr().out
    assert "rebuilt from 2 stored date(s), and the history" in out and "11 memberships, 7 payloads" in out
    assert duckdb_state(warehouse_uri) == tables
    assert views(warehouse_uri) == answers
    assert not list(database.parent.glob(".rebuild-*"))


def test_a_damaged_database_is_replaced_whole(tmp_path):
    two_nights(tmp_path)
    tables = duckdb_state(tmp_path)
    (tmp_path / "assistants.duckdb").write_bytes(b"not a database" * 100)
    (tmp_path / "assistants.duckdb.wal").write_bytes(b"stale")  # a WAL that would be replayed into the new file

    assert run(["rebuild-duckdb", "--warehouse", str(tmp_path)]) == 0
    assert duckdb_state(tmp_path) == tables
    assert not (tmp_path / "assistants.duckdb.wal").exists()


def test_a_later_night_loads_into_the_rebuilt_database(tmp_path):
    fixtures = bundled_assistants()[:4]
    snapshot_days(tmp_path, KEY, [a["id"] for a in fixtures], {D1: fixtures})
    assert run(["rebuild-duckdb", "--warehouse", str(tmp_path)]) == 0
    snapshot_days(tmp_path, KEY, [a["id"] for a in fixtures], {D2: [{**fixtures[0], "name": "renamed"}, *fixtures[1:]]})
    expected = duckdb_state(tmp_path)
    assert run(["rebuild-duckdb", "--warehouse", str(tmp_path)]) == 0
    assert duckdb_state(tmp_path) == expected
    with duckdb.connect(str(tmp_path / "assistants.duckdb"), read_only=True) as con:
        assert con.sql("SELECT count(*) FROM current_assistants WHERE name = 'renamed'").fetchall() == [(1,)]


def test_a_database_held_by_another_process_is_left_as_it_is(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr("assistants_export.connectors.core.settings.DUCKDB_LOCK_WAIT", 0.2)
    two_nights(tmp_path)
    before = (tmp_path / "assistants.duckdb").read_bytes()
    holder = subprocess.Popen([sys.executable, "-c", "import duckdb, sys; c = duckdb.connect(sys.argv[1]); "
                               "print('locked', flush=True); sys.stdin.read()", str(tmp_path / "assistants.duckdb")],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        assert run(["rebuild-duckdb", "--warehouse", str(tmp_path)]) == 1
    finally:
        holder.communicate("")
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "is locked by another process" in err
    assert (tmp_path / "assistants.duckdb").read_bytes() == before
    assert not list(tmp_path.glob(".rebuild-*"))


def test_an_empty_warehouse_says_so(tmp_path, capsys):
    assert run(["rebuild-duckdb", "--warehouse", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "nothing stored" in err
    assert not (tmp_path / "assistants.duckdb").exists()
