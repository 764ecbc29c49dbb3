"""The Responses mapping is stored once per payload (``responses_mappings``) and the view reads it.

A night maps only the payloads it stores first; a warehouse that predates the table, or whose rows an older
mapping version wrote, shows null requests until ``upgrade`` (or ``rebuild-duckdb``) maps the stored bodies
again, after which every copy of the warehouse (``assistants.duckdb``, the Parquet files, a bucket's Delta
tables) gives the answers of the Python mapping again.
"""

import datetime as dt
import json
import logging
import shutil

import pyarrow as pa
import pytest
from snapshot_days import snapshot_days

from assistants_export.connectors.core.schemas import PAYLOADS, RESPONSES_MAPPINGS
from assistants_export.connectors.migration import stored
from assistants_export.connectors.migration.responses import MAPPING_VERSION, to_responses_request
from assistants_export.connectors.migration.stored import mapping_rows, remap_warehouse, stale_dates
from assistants_export.connectors.warehouse import DuckDBStore, open_store
from assistants_export.connectors.warehouse.views import open_duckdb, open_parquet
from assistants_export.pipelines.cli import run
from assistants_export.sandbox import bundled_assistants

D1, D2 = dt.date(2026, 11, 20), dt.date(2026, 11, 21)
KEY = "sk-mappings-Vq7Rt2Lm"
FIXTURES = bundled_assistants()[:6]
CHANGED = {**FIXTURES[0], "model": "o3-mini", "temperature": 0.3}


def two_nights(root):
    """D1 stores six payloads; on D2 one assistant changed, so D2 stores (and maps) one payload."""
    return snapshot_days(root, KEY, [a["id"] for a in FIXTURES], {D1: FIXTURES, D2: [CHANGED, *FIXTURES[1:]]})


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """The two nights on a folder, built once: a test that writes works on a copy (:func:`copy_of`)."""
    return two_nights(tmp_path_factory.mktemp("built") / "wh")


def copy_of(built, tmp_path):
    return shutil.copytree(built, tmp_path / "wh")


def expected():
    current = sorted([CHANGED, *FIXTURES[1:]], key=lambda body: body["id"])
    return [to_responses_request(body).as_line() for body in current]


def view(opener, warehouse):
    with opener(warehouse) as con:
        rows = con.sql("SELECT * FROM responses_migration").to_arrow_table().to_pylist()
    return [{"assistant_id": r["assistant_id"], "name": r["name"], "description": r["description"],
             "created_at": r["created_at"],
             "request": None if r["request"] is None else json.loads(r["request"]),
             "warnings": None if r["warnings"] is None else json.loads(r["warnings"])} for r in rows]


def rows_per_date(store, spec):
    return {date: store.partition_rows(spec.name, date) for date in (D1, D2)}


def forget_mappings(warehouse, store):
    """Make the warehouse look like one an older version wrote: no mapping stored, in the files and in DuckDB."""
    for date in (D1, D2):
        store.remove_partition(RESPONSES_MAPPINGS.name, date)
        DuckDBStore(warehouse).load_date(date, {RESPONSES_MAPPINGS.name: store.date_sources(date)[
            RESPONSES_MAPPINGS.name]})


def test_a_night_maps_only_the_payloads_it_stores_first(built):
    store = open_store(built)
    assert rows_per_date(store, RESPONSES_MAPPINGS) == rows_per_date(store, PAYLOADS) == {D1: 6, D2: 1}
    assert stale_dates(store) == []
    for opener in (open_duckdb, open_parquet):
        assert view(opener, built) == expected()


def test_upgrade_maps_a_warehouse_that_predates_the_table(warehouse_kind, request, tmp_path, capsys):
    """On a folder and on a bucket: null requests before, the Python mapping's answers after, everywhere."""
    if warehouse_kind == "local":
        warehouse_uri = str(copy_of(request.getfixturevalue("built"), tmp_path))
    else:
        warehouse_uri = two_nights(request.getfixturevalue("warehouse_uri"))
    store = open_store(warehouse_uri)
    forget_mappings(warehouse_uri, store)
    assert stale_dates(store) == [D1, D2]
    for opener in (open_duckdb, open_parquet):
        assert {(r["request"], r["warnings"]) for r in view(opener, warehouse_uri)} == {(None, None)}

    assert run(["upgrade", "--warehouse", warehouse_uri]) == 0
    assert f"mapped the payloads of 2 date(s) to Responses API requests again (mapping version {MAPPING_VERSION})" \
        in capsys.readouterr().out
    assert stale_dates(open_store(warehouse_uri)) == []
    for opener in (open_duckdb, open_parquet):
        assert view(opener, warehouse_uri) == expected()

    assert run(["upgrade", "--warehouse", warehouse_uri]) == 0  # nothing left to map
    assert "mapped" not in capsys.readouterr().out


def test_rebuild_duckdb_maps_again_what_an_older_mapping_version_wrote(built, tmp_path, capsys, monkeypatch):
    tmp_path = copy_of(built, tmp_path)
    monkeypatch.setattr(stored, "MAPPING_VERSION", MAPPING_VERSION + 1)  # the rules changed since the nights ran
    assert stale_dates(open_store(tmp_path)) == [D1, D2]

    assert run(["rebuild-duckdb", "--warehouse", str(tmp_path)]) == 0
    assert "mapped the payloads of 2 date(s)" in capsys.readouterr().out
    with open_duckdb(tmp_path) as con:
        assert con.sql("SELECT DISTINCT mapping_version FROM responses_mappings").fetchall() == [(MAPPING_VERSION + 1,)]
    assert view(open_duckdb, tmp_path) == view(open_parquet, tmp_path) == expected()


def test_remap_reloads_only_the_dates_the_database_holds(built, tmp_path):
    tmp_path = copy_of(built, tmp_path)
    store = open_store(tmp_path)
    store.remove_partition(RESPONSES_MAPPINGS.name, D2)
    assert stale_dates(store) == [D2]
    assert remap_warehouse(tmp_path, store) == [D2]
    assert rows_per_date(open_store(tmp_path), RESPONSES_MAPPINGS) == {D1: 6, D2: 1}
    assert remap_warehouse(tmp_path, open_store(tmp_path)) == []
    assert view(open_duckdb, tmp_path) == expected()


def test_a_body_the_mapping_cannot_take_gets_no_row_and_a_warning_without_its_content(caplog):
    good = FIXTURES[1]
    broken = {key: value for key, value in FIXTURES[2].items() if key != "model"}  # to_responses_request raises
    payloads = pa.table({"content_hash": ["h-broken", "h-good"],
                         "raw_json": [json.dumps(broken), json.dumps(good)]})
    with caplog.at_level(logging.WARNING):
        rows = mapping_rows(D1, payloads)
    assert rows.column("content_hash").to_pylist() == ["h-good"]
    assert rows.schema == RESPONSES_MAPPINGS.schema
    assert json.loads(rows.column("request")[0].as_py()) == to_responses_request(good).request
    assert "h-broken" in caplog.text and broken["id"] not in caplog.text


@pytest.mark.parametrize("created_at", [1_700_000_000, 1_700_000_000.0])
def test_created_at_is_stored_as_the_api_gave_it(created_at):
    body = {**FIXTURES[1], "created_at": created_at}
    rows = mapping_rows(D1, pa.table({"content_hash": ["h"], "raw_json": [json.dumps(body)]}))
    assert rows.column("created_at").to_pylist() == [1_700_000_000]
