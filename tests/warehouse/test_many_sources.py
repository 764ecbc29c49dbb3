"""Several API sources in one warehouse: stored apart, served together with a ``source`` column.

The default source and a second one (``eu``) hold the same assistant IDs with different configurations (two
compatible servers can), one payload body shared by both on the same night, and different lives: ``eu``
deletes an assistant the default source keeps. Every check runs on a folder and on a bucket, through the
DuckDB database and through the stored files alone.
"""

import copy
import datetime as dt
from pathlib import Path

import pytest
from snapshot_days import snapshot_days

from assistants_export.connectors.core.errors import ConfigError
from assistants_export.connectors.core.schemas import ASSISTANT_VERSIONS, SNAPSHOT_MEMBERS
from assistants_export.connectors.warehouse import DuckDBStore, open_store, pending_loads
from assistants_export.connectors.warehouse.copy import copy_warehouse
from assistants_export.connectors.warehouse.rebuild import rebuild_duckdb
from assistants_export.connectors.warehouse.sources import check_source_name, source_root
from assistants_export.connectors.warehouse.stores import stored_sources
from assistants_export.connectors.warehouse.views import open_duckdb, open_parquet
from assistants_export.sandbox import bundled_assistants

KEY = "sk-sources-Qm4x"
D1, D2 = dt.date(2026, 11, 19), dt.date(2026, 11, 20)
OPENERS = {"duckdb": open_duckdb, "parquet": open_parquet}


def _bodies():
    default = bundled_assistants()[:6]
    eu = copy.deepcopy(default)
    for body in eu[1:]:  # the first is the same body in both sources: one payload both store on D1
        body["name"] = f"EU {body['name']}"
    eu_day2 = copy.deepcopy(eu[1:])  # eu deletes the first assistant on D2; default keeps it
    return default, eu, eu_day2


@pytest.fixture
def two_sources(warehouse_uri):
    default, eu, eu_day2 = _bodies()
    ids = [a["id"] for a in default]
    snapshot_days(warehouse_uri, KEY, ids, {D1: default, D2: default})
    snapshot_days(warehouse_uri, KEY, ids, {D1: eu, D2: eu_day2}, source_name="eu")
    return warehouse_uri


def _rows(con, statement, params=None):
    return [tuple(row) for row in con.execute(statement, params).fetchall()]


def test_each_source_is_stored_apart(two_sources, warehouse_kind):
    assert stored_sources(two_sources) == ["default", "eu"]
    assert source_root(two_sources, "eu").endswith("/sources/eu")
    default, eu = open_store(two_sources), open_store(two_sources, "eu")
    assert default.dates("snapshot_runs") == eu.dates("snapshot_runs") == [D1, D2]
    # each source's history is its own: the deletion in eu closed a version there only
    assert sum(default.read_table_file(ASSISTANT_VERSIONS).column("is_deleted").to_pylist()) == 0
    assert sum(eu.read_table_file(ASSISTANT_VERSIONS).column("is_deleted").to_pylist()) == 1
    if warehouse_kind == "local":  # the folder's layout: the default source at the root, eu in its own folder
        assert (Path(two_sources) / "parquet").is_dir()
        assert (Path(two_sources) / "sources" / "eu" / "parquet").is_dir()


@pytest.mark.parametrize("backend", OPENERS)
def test_the_tables_and_views_keep_the_sources_apart(two_sources, backend):
    first = bundled_assistants()[0]["id"]
    with OPENERS[backend](two_sources) as con:
        assert _rows(con, "SELECT source, snapshot_date, count(*) FROM snapshot_members GROUP BY ALL ORDER BY ALL") \
            == [("default", D1, 6), ("default", D2, 6), ("eu", D1, 6), ("eu", D2, 5)]
        # the shared body is read once per source and date, never twice
        assert _rows(con, "SELECT source, snapshot_date, count(*) FROM assistants GROUP BY ALL ORDER BY ALL") \
            == [("default", D1, 6), ("default", D2, 6), ("eu", D1, 6), ("eu", D2, 5)]
        assert _rows(con, "SELECT count(*) FROM assistants GROUP BY source, snapshot_date, assistant_id "
                          "HAVING count(*) > 1") == []
        names = dict(_rows(con, "SELECT source, name FROM assistants WHERE snapshot_date = $d AND assistant_id = $id",
                           {"d": D1, "id": first}))
        assert names["default"] == names["eu"]
        assert _rows(con, "SELECT source, count(*) FROM current_assistants GROUP BY ALL ORDER BY ALL") \
            == [("default", 6), ("eu", 5)]
        assert _rows(con, "SELECT source, change_type FROM assistant_changes WHERE change_type = 'deleted'") \
            == [("eu", "deleted")]
        for table in ("snapshot_runs", "fetch_errors", "assistant_changes", "assistants", "current_assistants"):
            assert con.execute(f"SELECT * FROM {table} LIMIT 0").description[0][0] == "source", table


def test_rebuilding_duckdb_brings_back_every_source(two_sources):
    before = DuckDBStore(two_sources).query("SELECT source, count(*) AS n FROM snapshot_members GROUP BY ALL "
                                            "ORDER BY ALL").to_pylist()
    DuckDBStore(two_sources).path.unlink()
    done = rebuild_duckdb(two_sources)
    assert done.dates == 4 and done.history
    assert DuckDBStore(two_sources).query("SELECT source, count(*) AS n FROM snapshot_members GROUP BY ALL "
                                          "ORDER BY ALL").to_pylist() == before
    assert pending_loads(two_sources) == pending_loads(two_sources, source_name="eu") == []


def test_a_source_name_that_cannot_be_a_folder_is_refused_in_one_line():
    for bad in ("", "EU", "1eu", "eu/west", "../x", "a" * 41, "eu west"):
        with pytest.raises(ConfigError, match=r"source name .* is not valid") as info:
            check_source_name(bad)
        assert "\n" not in str(info.value)
    assert check_source_name("eu-west_1") == "eu-west_1"


def test_a_copy_carries_every_source(two_sources, tmp_path):
    target = str(tmp_path / "copy")
    done = copy_warehouse(two_sources, target)
    assert done.sources == ["default", "eu"] and len(done.dates) == 4
    assert stored_sources(target) == ["default", "eu"]
    for name in ("default", "eu"):
        assert open_store(target, name).dates("snapshot_members") == [D1, D2]
        assert open_store(target, name).read(SNAPSHOT_MEMBERS, D2).num_rows == (6 if name == "default" else 5)
