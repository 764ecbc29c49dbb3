"""The stored views' column lists are generated from the schemas: a file that differs from its regeneration fails."""

from __future__ import annotations

import duckdb
import pyarrow as pa
import pytest

from assistants_export import sql
from assistants_export.connectors.core.schemas import HISTORY_CONFIG_COLUMNS, STORED_TABLES, VIEW_TABLES
from assistants_export.connectors.warehouse.stored import apply_stored_views
from assistants_export.connectors.warehouse.stored_views import STORED_SQL, VIEWS, generated, select_clause


@pytest.mark.parametrize("view", VIEWS, ids=lambda v: v.view.name)
def test_each_view_file_is_its_regeneration(view) -> None:
    text = (STORED_SQL / f"{view.view.name}.sql").read_text(encoding="utf-8")
    assert generated(view, text) == text, (
        f"sql/stored/{view.view.name}.sql is stale: run python -m assistants_export.connectors.warehouse.stored_views")


def test_every_view_over_the_stored_tables_is_generated() -> None:
    assert {v.view.name for v in VIEWS} == set(VIEW_TABLES)


def test_the_generated_list_ends_with_the_last_column_and_fits_the_width() -> None:
    view = next(v for v in VIEWS if v.view.name == "assistant_tools")
    assert "t.extra_fields\n" in select_clause(view)
    assert all(len(line) <= 120 for line in select_clause(view).splitlines())


def test_the_views_serve_exactly_their_schemas_columns() -> None:
    """Bound in DuckDB over empty stored tables: each view has its schema's columns, in order, after ``source``."""
    with duckdb.connect(":memory:") as con:
        for spec in STORED_TABLES.values():
            empty = spec.empty()
            con.register(spec.name, empty.add_column(0, "source", pa.array([], pa.string())))
        apply_stored_views(con)
        for name, spec in VIEW_TABLES.items():
            names = [row[0] for row in con.execute(f"DESCRIBE {sql.quote_identifier(name)}").fetchall()]
            assert names == ["source", *spec.schema.names]


def test_history_config_columns_are_the_assistants_configuration() -> None:
    assert HISTORY_CONFIG_COLUMNS[0] == "object"
    assert HISTORY_CONFIG_COLUMNS[-1] == "extra_fields"
    assert not {"snapshot_date", "assistant_id", "content_hash", "raw_json"} & set(HISTORY_CONFIG_COLUMNS)
