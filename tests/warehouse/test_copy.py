"""``assistants-export copy-warehouse``: a folder's warehouse moved into a bucket answers the same, and goes on."""

import datetime as dt

import pytest
from snapshot_days import snapshot_days
from warehouse_state import duckdb_state, parquet_state

from assistants_export.connectors.core.errors import ConfigError
from assistants_export.connectors.history import rebuild_history
from assistants_export.connectors.warehouse.copy import copy_warehouse
from assistants_export.connectors.warehouse.views import VIEW_NAMES, open_duckdb, open_parquet
from assistants_export.pipelines.cli import run
from assistants_export.sandbox import bundled_assistants

KEY = "sk-copy-6Tn2Vq"
D1, D2, D3 = (dt.date(2026, 11, day) for day in (20, 21, 22))


def answers(warehouse, opener):
    with opener(warehouse) as con:
        return {name: sorted(map(repr, con.sql(f"SELECT * FROM {name}").fetchall())) for name in VIEW_NAMES}


def nonempty(state):
    """A folder keeps empty partitions, Delta none: compare what readers can see."""
    return {key: rows for key, rows in state.items() if rows}


def test_a_folder_copied_into_a_bucket_answers_the_same_and_its_next_night_replays_only_itself(
        moto_s3, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("ASSISTANTS_DUCKDB_CACHE", str(tmp_path / "cache"))
    folder, lake = str(tmp_path / "wh"), moto_s3.uri("wh")
    fixtures = bundled_assistants()[:6]
    ids = [a["id"] for a in fixtures]
    snapshot_days(folder, KEY, ids, {D1: fixtures, D2: [{**fixtures[0], "model": "gpt-4.1"}, *fixtures[1:5]]})

    assert run(["copy-warehouse", "--warehouse", folder, "--to", lake]) == 0
    out = capsys.readouterr().out
    assert "copied 2 date(s), and the history of 2 date(s)" in out and "11 memberships" in out
    assert nonempty(parquet_state(lake)) == nonempty(parquet_state(folder))
    assert duckdb_state(lake) == duckdb_state(folder)
    for opener in (open_duckdb, open_parquet):
        assert answers(lake, opener) == answers(folder, opener)

    # The next night goes to the bucket, and its history step replays that night only.
    night = [{**fixtures[1], "name": "renamed"}, *fixtures[2:5]]
    snapshot_days(folder, KEY, ids, {D3: night})
    snapshot_days(lake, KEY, ids, {D3: night})
    assert rebuild_history(lake, D3).dates == [D3]
    def tables(warehouse):  # clocks, run IDs and the sandbox's port (in snapshot_runs) aside: two runs of the night
        return {name: rows for name, rows in duckdb_state(warehouse).items() if name != "snapshot_runs"}

    assert tables(lake) == tables(folder)


def test_a_copy_refuses_a_target_that_holds_a_warehouse_and_an_empty_source(moto_s3, tmp_path, monkeypatch):
    monkeypatch.setenv("ASSISTANTS_DUCKDB_CACHE", str(tmp_path / "cache"))
    folder, lake = str(tmp_path / "wh"), moto_s3.uri("wh")
    with pytest.raises(ConfigError, match="nothing stored"):
        copy_warehouse(folder, lake)
    fixtures = bundled_assistants()[:2]
    snapshot_days(folder, KEY, [a["id"] for a in fixtures], {D1: fixtures})
    copy_warehouse(folder, lake)
    with pytest.raises(ConfigError, match="already holds a warehouse"):
        copy_warehouse(folder, lake)
    with pytest.raises(ConfigError, match="same warehouse"):
        copy_warehouse(folder, folder)
