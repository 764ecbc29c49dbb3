"""A warehouse written by the version that stored every assistant every night upgrades to the same answers."""

import datetime as dt
import shutil

import duckdb
import pyarrow.parquet as pq
from snapshot_days import snapshot_days

from assistants_export.connectors.core.schemas import ALL_TABLES, ASSISTANT_HISTORY, STORED_TABLES, VIEW_TABLES
from assistants_export.connectors.warehouse.read import read_arrow
from assistants_export.connectors.warehouse.upgrade import OLD_DATE_TABLES
from assistants_export.connectors.warehouse.views import VIEW_NAMES, open_duckdb, open_parquet
from assistants_export.pipelines.cli import run
from assistants_export.sandbox import bundled_assistants

D1, D2 = dt.date(2026, 11, 20), dt.date(2026, 11, 21)
KEY = "sk-upgrade-3vXq9LmT"
ANSWERS = (*VIEW_NAMES, *ALL_TABLES, ASSISTANT_HISTORY.name, "assistant_changes")


def answers(warehouse):
    out = {}
    for opener in (open_duckdb, open_parquet):
        with opener(warehouse) as con:
            for name in ANSWERS:
                out[opener.__name__, name] = sorted(map(repr, con.sql(f"SELECT * FROM {name}").fetchall()))
    return out


def write_old_layout(new, old):
    """``old``: the same snapshots as ``new``, stored the way the previous version stored them (one source, so
    without the ``source`` column the views now start with)."""
    parquet = old / "parquet"
    for name in OLD_DATE_TABLES:
        for date in (D1, D2):
            folder = parquet / name / f"snapshot_date={date.isoformat()}"
            folder.mkdir(parents=True)
            table = read_arrow(name, warehouse=new, date=date, source="parquet").drop_columns(["source"])
            table = table.cast(VIEW_TABLES[name].schema)
            pq.write_table(table, folder / "part-0.parquet")
    (parquet / "assistant_history").mkdir()
    history = read_arrow("assistant_history", warehouse=new, source="parquet").drop_columns(["source"])
    history = history.cast(ASSISTANT_HISTORY.schema)
    pq.write_table(history, parquet / "assistant_history" / "part-0.parquet")
    for name in ("fetch_errors", "snapshot_runs", "assistant_changes"):
        shutil.copytree(new / "parquet" / name, parquet / name)
    with duckdb.connect(str(old / "assistants.duckdb")) as con:  # the old database: every table a table
        for name in (*ALL_TABLES, "assistant_history", "assistant_changes"):
            files = [str(p) for p in (parquet / name).rglob("*.parquet")]
            con.execute(f"CREATE TABLE {name} AS SELECT * FROM read_parquet($files)", {"files": files})


def test_an_old_warehouse_upgrades_to_the_same_answers(tmp_path, capsys):
    new, old = tmp_path / "new", tmp_path / "old"
    fixtures = bundled_assistants()[:6]
    changed = {**fixtures[0], "model": "gpt-4.1-nano"}
    snapshot_days(new, KEY, [a["id"] for a in fixtures], {D1: fixtures, D2: [changed, *fixtures[1:5]]})
    expected = answers(new)
    write_old_layout(new, old)

    assert run(["query", "SELECT count(*) FROM assistants", "--warehouse", str(old)]) == 1
    assert "assistants-export upgrade" in capsys.readouterr().err

    assert run(["upgrade", "--warehouse", str(old)]) == 0
    out = capsys.readouterr().out
    assert "stored 2026-11-20 as membership and payloads" in out and "versions" in out
    assert not any((old / "parquet" / name).exists() for name in VIEW_TABLES)
    assert {p.name for p in (old / "parquet").iterdir()} == set(STORED_TABLES)
    assert answers(old) == expected
    assert run(["upgrade", "--warehouse", str(old)]) == 0
    assert "already in the current layout" in capsys.readouterr().out
