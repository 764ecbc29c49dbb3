"""Compaction of a folder warehouse: closed months merged into one file per table, every answer unchanged.

A twin copy of the warehouse is never compacted; both then go through the same operations (a re-run of a date
inside a compacted month, the history replay, the DuckDB rebuild) and must answer the same, row for row.
"""

import datetime as dt
import re
import shutil

import pytest
from snapshot_days import snapshot_days
from warehouse_state import comparable, duckdb_state, parquet_state

from assistants_export.connectors.core.schemas import PAYLOADS, SNAPSHOT_MEMBERS
from assistants_export.connectors.warehouse import ParquetStore
from assistants_export.connectors.warehouse.compaction import (
    compact_folder,
    first_open_month,
    vacuum_folder,
)
from assistants_export.connectors.warehouse.rebuild import rebuild_duckdb
from assistants_export.connectors.warehouse.views import open_parquet
from assistants_export.pipelines.cli import run
from assistants_export.sandbox import bundled_assistants

KEY = "sk-compact-7Hq2Lm"
DAYS = (dt.date(2026, 1, 30), dt.date(2026, 1, 31), dt.date(2026, 2, 1), dt.date(2026, 3, 2))
QUERIES = (
    "SELECT * FROM current_assistants",
    "SELECT * FROM assistant_history",
    "SELECT * FROM assistants",
    "SELECT * FROM assistant_tools",
    "SELECT * FROM assistant_changes",
    "SELECT * FROM raw_assistants WHERE snapshot_date = DATE '2026-01-31'",
)


def nights(fixtures):
    """Four nights over three months: one assistant renamed each night, one gone every other night."""
    return {day: [{**fixtures[0], "name": f"night {i}"}, *fixtures[1:5 - (i % 2)]] for i, day in enumerate(DAYS)}


def answers(root):
    """What a reader of the Parquet files sees through the views (the history and as-of answers included)."""
    with open_parquet(root) as con:
        out = {}
        for statement in QUERIES:
            cursor = con.execute(statement)
            names = [c[0] for c in cursor.description]
            out[statement] = comparable(dict(zip(names, row, strict=True)) for row in cursor.fetchall())
    return out


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    root = tmp_path_factory.mktemp("built") / "wh"
    fixtures = bundled_assistants()[:6]
    snapshot_days(root, KEY, [a["id"] for a in fixtures], nights(fixtures))
    return root, fixtures


def twins(built, tmp_path):
    root, fixtures = built
    plain, compacted = tmp_path / "plain", tmp_path / "compacted"
    shutil.copytree(root, plain)
    shutil.copytree(root, compacted)
    return plain, compacted, fixtures


def portless(state):
    """A state without the sandbox's URL, whose port differs between the twins' re-runs."""
    return {key: sorted(re.sub(r'"base_url": "[^"]*"', "", row) for row in rows) for key, rows in state.items()}


def live_files(root, table):
    return ParquetStore(root).live_files(table)


def test_closed_months_become_one_file_per_table_and_every_answer_stays(built, tmp_path):
    plain, compacted, _ = twins(built, tmp_path)
    before = (parquet_state(plain), answers(plain), duckdb_state(plain))
    store = ParquetStore(compacted)
    assert [r.files_before for r in compact_folder(store, dt.date(2026, 3, 1), dry_run=True)] == [4] * 8
    assert not (compacted / "parquet" / "payloads" / "_compacted.json").exists()  # a dry run writes nothing

    done = compact_folder(store, dt.date(2026, 3, 1))
    assert {(r.table, r.files_before, r.files_after, r.months) for r in done} == {
        (r.table, 4, 3, ("2026-01",)) for r in done}  # February's one date stays as it is: no file to spare
    assert [p.parent.name for p in live_files(compacted, PAYLOADS.name)] == [
        "_compacted", "snapshot_date=2026-02-01", "snapshot_date=2026-03-02"]
    assert (parquet_state(compacted), answers(compacted)) == before[:2]
    assert store.partition_dates(SNAPSHOT_MEMBERS.name) == list(DAYS)
    assert store.read(SNAPSHOT_MEMBERS, DAYS[1]).equals(ParquetStore(plain).read(SNAPSHOT_MEMBERS, DAYS[1]))
    assert compact_folder(store, dt.date(2026, 3, 1))[0].months == ()  # nothing left to merge

    rebuild_duckdb(compacted)  # DuckDB loaded again from the compacted files
    assert duckdb_state(compacted) == before[2]

    assert sum(vacuum_folder(store, dt.timedelta(days=1)).values()) == 0  # replaced files younger than the delay
    assert sum(vacuum_folder(store, dt.timedelta(0)).values()) == 2 * 8  # each table's two per-date files
    assert not (compacted / "parquet" / "payloads" / "snapshot_date=2026-01-30").exists()
    assert (parquet_state(compacted), answers(compacted)) == before[:2]


def test_a_date_of_a_compacted_month_runs_again_as_in_a_warehouse_never_compacted(built, tmp_path):
    plain, compacted, fixtures = twins(built, tmp_path)
    store = ParquetStore(compacted)
    compact_folder(store, dt.date(2026, 3, 1))
    vacuum_folder(store, dt.timedelta(0))
    again = {DAYS[1]: [{**fixtures[0], "name": "re-run"}, *fixtures[2:6]]}  # a re-run replaces Jan 31, history too
    for root in (plain, compacted):
        snapshot_days(root, KEY, [a["id"] for a in fixtures], again)
    assert portless(parquet_state(compacted)) == portless(parquet_state(plain))
    assert answers(compacted) == answers(plain)
    assert portless(duckdb_state(compacted)) == portless(duckdb_state(plain))
    month = store.manifest(SNAPSHOT_MEMBERS.name).months["2026-01"]
    assert month.dates == (DAYS[0],)  # Jan 31 is its own folder's again, the month file rewritten without it
    assert [p.parent.name for p in live_files(compacted, SNAPSHOT_MEMBERS.name)] == [
        "_compacted", "snapshot_date=2026-01-31", "snapshot_date=2026-02-01", "snapshot_date=2026-03-02"]

    compact_folder(store, dt.date(2026, 3, 1))  # merged again, the replaced month file waits for the vacuum
    assert len(live_files(compacted, SNAPSHOT_MEMBERS.name)) == 3
    assert answers(compacted) == answers(plain)
    vacuum_folder(store, dt.timedelta(0))
    assert len(list((compacted / "parquet" / SNAPSHOT_MEMBERS.name / "_compacted").iterdir())) == 1
    rebuild_duckdb(compacted)
    assert portless(duckdb_state(compacted)) == portless(duckdb_state(plain))


def test_the_open_month_is_the_current_one_unless_told():
    assert first_open_month(dt.date(2026, 3, 17)) == dt.date(2026, 3, 1)
    assert first_open_month(dt.date(2026, 1, 5), 2) == dt.date(2025, 12, 1)
    assert first_open_month(dt.date(2026, 1, 5), 14) == dt.date(2024, 12, 1)


def test_the_compact_command_prints_a_line_per_table_and_vacuums(built, tmp_path, capsys):
    _, compacted, _ = twins(built, tmp_path)
    before = answers(compacted)
    assert run(["compact", "--warehouse", str(compacted), "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert f"{compacted}: 32 -> 24 file(s) (dry run: nothing changed)" in out  # Feb and Mar have one date each
    assert "  payloads: 4 -> 3 file(s)" in out and "(would merge 2026-01)" in out
    assert not list((compacted / "parquet").glob("*/_compacted.json"))

    assert run(["compact", "--warehouse", str(compacted), "--vacuum", "--retain-days", "0"]) == 0
    out = capsys.readouterr().out
    assert f"{compacted}: 32 -> 24 file(s)\n" in out
    assert "vacuum: deleted 16 replaced file(s)" in out
    assert answers(compacted) == before
    assert sorted(p.relative_to(compacted / "parquet" / "payloads").parts[0]
                  for p in (compacted / "parquet" / "payloads").rglob("*.parquet")) == [
        "_compacted", "snapshot_date=2026-02-01", "snapshot_date=2026-03-02"]
    assert run(["compact", "--warehouse", str(compacted)]) == 0
    assert f"{compacted}: 24 -> 24 file(s)" in capsys.readouterr().out  # nothing left to merge


def test_the_nightly_history_step_compacts_a_month_that_closed(built, tmp_path):
    plain, compacted, _ = twins(built, tmp_path)
    # the night of Mar 2: January (two dates) is merged; February has one date, no file to spare
    assert run(["backfill", "--warehouse", str(compacted), "--from", "2026-03-02", "--to", "2026-03-02"]) == 0
    store = ParquetStore(compacted)
    assert list(store.manifest(PAYLOADS.name).months) == ["2026-01"]
    assert len(store.live_files(PAYLOADS.name)) == 3
    assert answers(compacted) == answers(plain)


def test_approving_a_held_run_of_a_compacted_date_stores_exactly_its_answers(tmp_path, capsys):
    from assistants_export.connectors.core.errors import HeldBackError
    from assistants_export.connectors.core.schemas import RAW_ASSISTANTS
    from assistants_export.connectors.held_runs import held_runs
    from assistants_export.connectors.history import rebuild_history
    from assistants_export.connectors.openai_assistants.config import ClientConfig, Secret
    from assistants_export.connectors.snapshot import IdSource, fetch_snapshot, load_duckdb
    from assistants_export.connectors.warehouse.views import open_duckdb
    from assistants_export.sandbox import SandboxServer, StaticCatalog

    wh, fixtures = str(tmp_path / "wh"), bundled_assistants()[:8]
    with SandboxServer(StaticCatalog(fixtures), api_key=KEY) as server:
        config = ClientConfig(api_key=Secret(KEY), base_url=server.base_url, max_attempts=1)
        for day in DAYS[:2]:
            fetch_snapshot(config, IdSource(discover=True), day, wh)
            load_duckdb(day, wh)
            rebuild_history(wh, day)
        compact_folder(ParquetStore(wh), dt.date(2026, 2, 1))
        server.catalog = StaticCatalog(fixtures[:4])  # half the account gone: the gate holds Jan 31 back
        with pytest.raises(HeldBackError):
            fetch_snapshot(config, IdSource(discover=True), DAYS[1], wh)
    [held] = held_runs(wh)
    held_raw = held.read(RAW_ASSISTANTS)
    assert run(["held", "approve", held.run_id, "--by", "alice", "--warehouse", wh]) == 0, capsys.readouterr().err
    store = ParquetStore(wh)
    key = "assistant_id"
    assert sorted(store.read(RAW_ASSISTANTS, DAYS[1]).to_pylist(), key=lambda r: r[key]) == sorted(
        held_raw.to_pylist(), key=lambda r: r[key])
    assert store.manifest(SNAPSHOT_MEMBERS.name).months["2026-01"].dates == (DAYS[0],)  # out of its month
    kept = {a["id"] for a in fixtures[:4]}
    for opener in (open_duckdb, open_parquet):
        with opener(wh) as con:
            assert {r[0] for r in con.sql("SELECT assistant_id FROM current_assistants").fetchall()} == kept
