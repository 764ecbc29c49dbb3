"""``read_table`` / ``read_arrow``: tables and views as DataFrames, from DuckDB and from Parquet alone."""

import copy
import datetime as dt

import pandas as pd
import pyarrow as pa
import pytest
from snapshot_days import snapshot_days

from assistants_export.connectors.core.errors import ConfigError
from assistants_export.connectors.core.schemas import REFERENCE_TABLES
from assistants_export.connectors.warehouse.read import NAMES, read_arrow, read_table
from assistants_export.connectors.warehouse.views import VIEW_NAMES
from assistants_export.sandbox import bundled_assistants

KEY = "sk-read-Pz6cW2"
DAY1, DAY2 = dt.date(2026, 11, 19), dt.date(2026, 11, 20)


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory):
    """Two snapshots over real loopback HTTP: on the second day one assistant is gone, another renamed."""
    root = tmp_path_factory.mktemp("read") / "data"
    first = bundled_assistants()[:8]
    second = copy.deepcopy(first[1:])
    second[0]["name"] = "Renamed"
    return snapshot_days(root, KEY, [a["id"] for a in first], {DAY1: first, DAY2: second})


SOURCES = ["duckdb", "parquet"]


@pytest.mark.parametrize("source", SOURCES)
def test_every_table_and_view_reads_as_a_dataframe(warehouse, source):
    assert set(NAMES) == {*REFERENCE_TABLES, *VIEW_NAMES}
    for name in NAMES:
        frame = read_table(name, warehouse=warehouse, source=source)
        assert isinstance(frame, pd.DataFrame)
        if name in REFERENCE_TABLES:
            assert list(frame.columns) == ["source", *REFERENCE_TABLES[name].schema.names], name
            assert set(frame.source) <= {"default"}, name


@pytest.mark.parametrize("source", SOURCES)
def test_date_and_as_of(warehouse, source):
    first, renamed = bundled_assistants()[:2]
    day2 = read_table("assistants", warehouse=warehouse, date=DAY2, source=source)
    assert len(day2) == 7 and set(day2.snapshot_date) == {DAY2}
    assert isinstance(day2.snapshot_date.iloc[0], dt.date)
    assert str(day2.snapshot_at.dt.tz) == "UTC"
    assert day2.set_index("assistant_id").loc[renamed["id"], "name"] == "Renamed"
    assert len(read_table("assistants", warehouse=warehouse, date="2026-11-19", source=source)) == 8
    latest = read_table("assistants", warehouse=warehouse, as_of="2026-11-25", source=source)
    assert set(latest.snapshot_date) == {DAY2}
    then = read_table("assistant_history", warehouse=warehouse, as_of=DAY1, source=source)
    now = read_table("assistant_history", warehouse=warehouse, as_of=DAY2, source=source)
    assert first["id"] in set(then.assistant_id) and first["id"] not in set(now.assistant_id)
    assert then.set_index("assistant_id").loc[renamed["id"], "name"] == renamed["name"]
    current = read_table("current_assistants", warehouse=warehouse, source=source)
    assert set(current.assistant_id) == set(now.assistant_id)
    usage = read_arrow("model_usage", warehouse=warehouse, date=DAY1, source=source)
    assert isinstance(usage, pa.Table) and set(usage.column("snapshot_date").to_pylist()) == {DAY1}


def test_both_sources_agree(warehouse):
    for name in ("assistants", "assistant_tools", "assistant_history", "current_tools"):
        duck = read_arrow(name, warehouse=warehouse, source="duckdb").to_pylist()
        files = read_arrow(name, warehouse=warehouse, source="parquet").to_pylist()
        assert sorted(map(repr, duck)) == sorted(map(repr, files)), name


def test_the_default_warehouse_comes_from_the_environment(warehouse, monkeypatch):
    monkeypatch.setenv("ASSISTANTS_WAREHOUSE", str(warehouse))
    assert len(read_table("assistants", date=DAY1)) == 8


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"name": "assistans"}, "unknown table or view 'assistans'"),
    ({"name": "metadata_keys", "date": DAY1}, "has no snapshot_date column"),
    ({"name": "assistant_history", "date": DAY1}, "has no snapshot_date column"),
    ({"name": "assistants", "date": "yesterday"}, "is not a date"),
    ({"name": "assistants", "date": DAY1, "as_of": DAY2}, "not both"),
    ({"name": "assistants", "date": "2026-11-19' OR 1=1 --"}, "is not a date"),
])
def test_mistakes_are_one_line(warehouse, kwargs, message):
    with pytest.raises(ConfigError, match=message):
        read_table(warehouse=warehouse, **kwargs)


def test_reading_cannot_write(warehouse):
    before = sorted((p, p.stat().st_mtime_ns) for p in warehouse.rglob("*") if p.is_file())
    read_table("assistants", warehouse=warehouse)
    read_table("assistants", warehouse=warehouse, source="parquet")
    assert sorted((p, p.stat().st_mtime_ns) for p in warehouse.rglob("*") if p.is_file()) == before
