"""DuckDB loads a date in one transaction, replacing it, and follows schema additions."""

import datetime as dt

import duckdb
import pyarrow as pa
import pytest

from assistants_export.connectors.core.schemas import (
    PAYLOAD_METADATA,
    PAYLOAD_TOOL_RESOURCES,
    SNAPSHOT_RUNS,
    TableSpec,
    col,
)
from assistants_export.connectors.warehouse import DuckDBStore, ParquetStore

D1, D2 = dt.date(2026, 11, 20), dt.date(2026, 11, 21)


def write(store, date, *keys):
    table = pa.Table.from_pylist([{"snapshot_date": date, "content_hash": "h1", "key": k, "value": "it's"}
                                  for k in keys], schema=PAYLOAD_METADATA.schema)
    store.write(PAYLOAD_METADATA, date, table)
    return store.partition_files("payload_metadata", date)


def count(db, date):
    return db.query("SELECT count(*) AS n FROM payload_metadata WHERE snapshot_date = $d", {"d": date}).to_pylist()


def test_reloading_a_date_replaces_only_that_date(tmp_path):
    parquet, db = ParquetStore(tmp_path), DuckDBStore(tmp_path)
    db.load_date(D1, {"payload_metadata": write(parquet, D1, "a", "b")})
    db.load_date(D2, {"payload_metadata": write(parquet, D2, "a", "b", "c")})
    assert db.load_date(D2, {"payload_metadata": write(parquet, D2, "z")}) == {"payload_metadata": 1}
    assert count(db, D1) == [{"n": 2}] and count(db, D2) == [{"n": 1}]
    assert db.query("SELECT value FROM payload_metadata LIMIT 1").to_pylist() == [{"value": "it's"}]


def test_a_failing_load_rolls_back_every_table(tmp_path):
    parquet, db = ParquetStore(tmp_path), DuckDBStore(tmp_path)
    db.load_date(D1, {"payload_metadata": write(parquet, D1, "a")})
    broken = tmp_path / "broken.parquet"
    broken.write_bytes(b"not parquet")
    with pytest.raises(duckdb.Error):
        db.load_date(D1, {"payload_metadata": [broken]})
    assert count(db, D1) == [{"n": 1}]


def write_resources(store, date, *ids):
    table = pa.Table.from_pylist([{"snapshot_date": date, "content_hash": "h1", "position": n,
                                   "resource_type": "file_search_vector_store", "resource_id": i}
                                  for n, i in enumerate(ids)],
                                 schema=PAYLOAD_TOOL_RESOURCES.schema)
    store.write(PAYLOAD_TOOL_RESOURCES, date, table)
    return store.partition_files("payload_tool_resources", date)


def test_a_load_failing_on_a_later_table_leaves_the_earlier_tables_untouched(tmp_path):
    """One transaction for all of a date's tables: the first table's new rows are rolled back with the rest."""
    parquet, db = ParquetStore(tmp_path), DuckDBStore(tmp_path)
    db.load_date(D1, {"payload_metadata": write(parquet, D1, "a"),
                      "payload_tool_resources": write_resources(parquet, D1, "vs_1")})
    broken = tmp_path / "broken.parquet"
    broken.write_bytes(b"not parquet")
    with pytest.raises(duckdb.Error):
        db.load_date(D1, {"payload_metadata": write(parquet, D1, "x", "y", "z"),  # loads fine ...
                          "payload_tool_resources": [broken]})  # ... then this one fails
    assert count(db, D1) == [{"n": 1}]
    assert db.query("SELECT key FROM payload_metadata").to_pylist() == [{"key": "a"}]
    assert db.query("SELECT resource_id FROM payload_tool_resources").to_pylist() == [{"resource_id": "vs_1"}]


def test_columns_added_to_a_schema_are_added_to_the_table(tmp_path):
    db = DuckDBStore(tmp_path)
    old = TableSpec("evolving", "row", "doc", pa.schema([col("snapshot_date", pa.date32(), "d")]))
    new = TableSpec("evolving", "row", "doc", pa.schema([*old.schema, col("tags", pa.list_(pa.string()), "t")]))
    with db.connect() as con:
        db.ensure_tables(con, [old])
        db.ensure_tables(con, [new])
        columns = con.execute("SELECT column_name, data_type FROM information_schema.columns "
                              "WHERE table_name = 'evolving'").fetchall()
    # every table starts with the source column; a column a later schema adds comes last
    assert columns == [("source", "VARCHAR"), ("snapshot_date", "DATE"), ("tags", "VARCHAR[]")]


def test_a_database_of_before_sources_gets_the_column_named_default(tmp_path):
    """A database an older version loaded has no source column: its rows are the default source's, loads of
    another source leave them alone, and the default source's dates still count as loaded (no reload)."""
    db = DuckDBStore(tmp_path)
    with duckdb.connect(str(db.path)) as con:  # what an older version created
        con.execute("CREATE TABLE snapshot_runs (snapshot_date DATE, run_id VARCHAR)")
        con.execute("INSERT INTO snapshot_runs VALUES ('2026-01-01', 'old-run')")
    assert db.loaded_runs() == {dt.date(2026, 1, 1): "old-run"}
    assert db.loaded_runs("eu") == {}
    with db.connect() as con:
        db.ensure_tables(con, [SNAPSHOT_RUNS])
    rows = db.query("SELECT * FROM snapshot_runs").to_pylist()
    assert [list(row)[:3] for row in rows] == [["source", "snapshot_date", "run_id"]]
    assert [(r["source"], r["run_id"]) for r in rows] == [("default", "old-run")]
    assert db.loaded_runs() == {dt.date(2026, 1, 1): "old-run"}
    assert db.loaded_runs("eu") == {}


def test_a_load_replaces_one_sources_date_only(tmp_path):
    db = DuckDBStore(tmp_path)
    default, eu = ParquetStore(tmp_path), ParquetStore(tmp_path / "sources" / "eu")
    db.load_date(D1, {"payload_metadata": write(default, D1, "a", "b")})
    db.load_date(D1, {"payload_metadata": write(eu, D1, "x")}, source_name="eu")
    assert db.load_date(D1, {"payload_metadata": write(eu, D1, "y", "z")}, source_name="eu") == {
        "payload_metadata": 2}
    rows = db.query("SELECT source, key FROM payload_metadata ORDER BY source, key").to_pylist()
    assert rows == [{"source": "default", "key": "a"}, {"source": "default", "key": "b"},
                    {"source": "eu", "key": "y"}, {"source": "eu", "key": "z"}]


def test_a_lock_released_within_the_wait_is_waited_for(tmp_path):
    """Two processes touching the file at once is not an error: the second waits for the first."""
    import subprocess
    import sys
    import threading

    import pytest

    from assistants_export.connectors.core.errors import WarehouseLockedError

    db = DuckDBStore(tmp_path)
    db.connect().close()
    holder = subprocess.Popen([sys.executable, "-c", "import duckdb, sys; c = duckdb.connect(sys.argv[1]); "
                               "print('locked', flush=True); sys.stdin.read()", str(db.path)],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(WarehouseLockedError):
            db.connect(lock_wait=0)
        release = threading.Timer(0.5, lambda: holder.communicate("", timeout=30))
        release.start()
        with db.connect(lock_wait=120) as con:  # released after about half a second, well within the wait
            assert con.execute("SELECT 1").fetchone() == (1,)
        release.join()
    finally:
        holder.kill()
