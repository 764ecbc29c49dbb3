"""``assistants-export vacuum``: a bucket's replaced files go, what the latest version reads stays."""

import datetime as dt

from snapshot_days import snapshot_days
from warehouse_state import duckdb_state, parquet_state

from assistants_export.pipelines.cli import run
from assistants_export.sandbox import bundled_assistants

KEY = "sk-vacuum-3Hq9Wm"
DATE = dt.date(2026, 11, 20)


def data_files(bucket):
    """The tables' data files (the log gains entries of its own when a vacuum runs)."""
    return [key for key in bucket.keys("wh/delta/") if "/_delta_log/" not in key]


def test_vacuum_deletes_replaced_files_and_keeps_every_answer(moto_s3, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("ASSISTANTS_DUCKDB_CACHE", str(tmp_path / "cache"))
    lake = moto_s3.uri("wh")
    fixtures = bundled_assistants()[:6]
    ids = [a["id"] for a in fixtures]
    snapshot_days(lake, KEY, ids, {DATE: fixtures})
    snapshot_days(lake, KEY, ids, {DATE: [{**fixtures[0], "name": "renamed"}, *fixtures[1:]]})  # the date again
    stored, loaded = parquet_state(lake), duckdb_state(lake)
    keys = data_files(moto_s3)

    assert run(["vacuum", "--warehouse", lake, "--dry-run"]) == 0
    assert "would delete 0 file(s) older than 7 day(s)" in capsys.readouterr().out  # all younger than a week
    assert run(["vacuum", "--warehouse", lake, "--retain-days", "0", "--dry-run"]) == 0
    out = capsys.readouterr().out
    would = int(out.split("would delete ")[1].split(" ")[0])
    assert would > 0 and data_files(moto_s3) == keys  # a dry run deletes nothing

    assert run(["vacuum", "--warehouse", lake, "--retain-days", "0"]) == 0
    assert f"deleted {would} file(s)" in capsys.readouterr().out
    left = data_files(moto_s3)
    assert len(left) == len(keys) - would and set(left) < set(keys)
    assert parquet_state(lake) == stored and duckdb_state(lake) == loaded  # every answer as it was
    assert run(["rebuild-duckdb", "--warehouse", lake]) == 0
    assert duckdb_state(lake) == loaded


def test_a_folder_never_compacted_has_nothing_to_vacuum(tmp_path, capsys):
    assert run(["vacuum", "--warehouse", str(tmp_path)]) == 0
    assert f"{tmp_path}: deleted 0 file(s) older than 7 day(s)" in capsys.readouterr().out
