"""A warehouse written before a column existed (Foundry's tool and resource columns) keeps opening and loading:
its older rows read the new columns as null, in Parquet, in DuckDB and in a Delta lake."""

from __future__ import annotations

import datetime as dt

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
from snapshot_days import snapshot_days

from assistants_export.connectors.core.schemas import PAYLOAD_TOOL_RESOURCES, PAYLOAD_TOOLS, conform
from assistants_export.connectors.warehouse.location import parse_warehouse_uri
from assistants_export.connectors.warehouse.objectstore import DeltaDateTable
from assistants_export.connectors.warehouse.parquet_store import ParquetStore
from assistants_export.connectors.warehouse.views import open_duckdb, open_parquet
from assistants_export.sandbox import bundled_assistants

D1, D2 = dt.date(2026, 11, 20), dt.date(2026, 11, 21)
KEY = "sk-columns-8dKq2PzW"
NEW_TOOL_COLUMNS = [name for name in PAYLOAD_TOOLS.schema.names
                    if name.startswith(("bing_", "openapi_", "connected_agent_", "azure_function_"))]
NEW_RESOURCE_COLUMNS = ["asset_type", "vector_store_name", "index_connection_id", "index_name", "index_asset_id",
                        "query_type", "top_k", "filter"]


def _as_written_before(root) -> None:
    """Take the Foundry columns out of the warehouse's files and database, as an older version wrote them."""
    for spec, columns in ((PAYLOAD_TOOLS, NEW_TOOL_COLUMNS), (PAYLOAD_TOOL_RESOURCES, NEW_RESOURCE_COLUMNS)):
        for path in (root / "parquet" / spec.name).rglob("*.parquet"):
            table = pq.read_table(path)
            pq.write_table(table.drop_columns(columns).replace_schema_metadata(table.schema.metadata), path)
        with duckdb.connect(str(root / "assistants.duckdb")) as con:
            for column in columns:
                con.execute(f'ALTER TABLE {spec.name} DROP COLUMN "{column}"')


def test_an_older_parquet_warehouse_gains_the_columns_and_its_old_rows_read_null(tmp_path):
    fixtures = bundled_assistants()[:8]
    ids = [a["id"] for a in fixtures]
    root = snapshot_days(tmp_path / "w", KEY, ids, {D1: fixtures})
    _as_written_before(root)
    store = ParquetStore(root)
    old = store.read(PAYLOAD_TOOLS, D1)
    assert old.schema.names == PAYLOAD_TOOLS.schema.names and old.num_rows > 0
    assert old.column("connected_agent_id").null_count == old.num_rows
    batches = list(store.iter_batches(PAYLOAD_TOOL_RESOURCES, D1))
    assert batches and all(b.schema.names == PAYLOAD_TOOL_RESOURCES.schema.names for b in batches)

    changed = [{**fixtures[0], "name": "renamed"}, *fixtures[1:]]
    snapshot_days(root, KEY, ids, {D2: changed})  # the next night loads into the older database
    for opener in (open_duckdb, open_parquet):
        with opener(root) as con:
            rows = con.sql("SELECT snapshot_date, count(*), count(bing_connection_id), count(openapi_name) "
                           "FROM assistant_tools GROUP BY ALL ORDER BY 1").fetchall()
            assert [(d, n > 0, b, o) for d, n, b, o in rows] == [(D1, True, 0, 0), (D2, True, 0, 0)], opener
            assert con.sql("SELECT count(top_k) FROM assistant_tool_resources").fetchall() == [(0,)]


def test_a_delta_table_of_an_older_schema_reads_and_commits_the_new_columns(tmp_path):
    location = parse_warehouse_uri(tmp_path / "lake")
    old_schema = pa.schema([pa.field("snapshot_date", pa.date32(), nullable=False), pa.field("id", pa.string())])
    new_schema = old_schema.append(pa.field("connected_agent_id", pa.string()))
    old = DeltaDateTable(location, "payload_tools", old_schema)
    old.commit_date(D1, pa.table({"snapshot_date": [D1], "id": ["a"]}, schema=old_schema))

    table = DeltaDateTable(location, "payload_tools", new_schema)
    assert table.read_date(D1).to_pylist() == [{"snapshot_date": D1, "id": "a", "connected_agent_id": None}]
    table.create()  # what a writer does before it pins versions: the table gains the columns it lacks
    table.commit_date(D2, pa.table({"snapshot_date": [D2], "id": ["b"], "connected_agent_id": ["asst_1"]},
                                   schema=new_schema))
    assert table.read_date(D2).column("connected_agent_id").to_pylist() == ["asst_1"]
    assert table.read_date(D1).column("connected_agent_id").to_pylist() == [None]


def test_conform_adds_only_nullable_columns() -> None:
    schema = pa.schema([pa.field("a", pa.string(), nullable=False), pa.field("b", pa.int64())])
    assert conform(pa.table({"a": ["x"]}), schema).to_pylist() == [{"a": "x", "b": None}]
    try:
        conform(pa.table({"b": [1]}), schema)
    except ValueError as error:
        assert "column a is missing" in str(error)
    else:
        raise AssertionError("a missing required column was filled in")
