"""A query session uses the views ``assistants.duckdb`` holds when this version wrote them, untouched since, and
creates its own otherwise (:func:`~assistants_export.connectors.warehouse.views.record_views`).

Each load records the views it created (``view_catalog``) and marks each with the fingerprint of the SQL that
defined them (its comment, which replacing the view drops). Every case that must not use the database's views
(another version's load replaced one, another fingerprint, a database from before the catalog) is made here on a
copy of a real two-night warehouse, and each one's session must answer as this version's views do.
"""

import datetime as dt
import shutil

import duckdb
import pytest
from snapshot_days import snapshot_days

from assistants_export.connectors.warehouse.stored import STORED_VIEW_NAMES
from assistants_export.connectors.warehouse.views import (
    VIEW_NAMES,
    catalog_fingerprint,
    holds_current_views,
    open_duckdb,
    open_parquet,
    open_source,
)
from assistants_export.sandbox import bundled_assistants

KEY = "sk-view-catalog-Hq3wT8"
D1, D2 = dt.date(2026, 11, 20), dt.date(2026, 11, 21)
FIXTURES = bundled_assistants()[:4]
COUNT_CURRENT = "SELECT count(*) FROM current_assistants"


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    root = tmp_path_factory.mktemp("catalog") / "data"
    renamed = [{**FIXTURES[0], "name": "renamed"}, *FIXTURES[1:]]
    return snapshot_days(root, KEY, [a["id"] for a in FIXTURES], {D1: FIXTURES, D2: renamed})


@pytest.fixture
def warehouse(built, tmp_path):
    """A copy of the built warehouse, for a test that changes its database."""
    copy = tmp_path / "data"
    shutil.copytree(built, copy)
    return copy


def session_views(con):
    """The names of the views created in the session itself (none when it reads the database's own)."""
    return {name for (name,) in con.execute(
        "SELECT view_name FROM duckdb_views() WHERE database_name = 'memory' AND NOT internal").fetchall()}


EVERY_VIEW = {*STORED_VIEW_NAMES, *VIEW_NAMES}


def answers(con):
    return (con.execute(COUNT_CURRENT).fetchone()[0],
            con.execute("SELECT name FROM current_assistants ORDER BY assistant_id").fetchall())


def write(warehouse, *statements):
    with duckdb.connect(str(warehouse / "assistants.duckdb")) as con:
        for statement in statements:
            con.execute(statement)


def test_a_load_records_every_view_it_creates_with_this_versions_fingerprint(built):
    with duckdb.connect(str(built / "assistants.duckdb"), read_only=True) as con:
        recorded = con.execute("SELECT view_name, fingerprint FROM view_catalog").fetchall()
        comments = dict(con.execute("SELECT view_name, comment FROM duckdb_views() WHERE NOT internal").fetchall())
    assert sorted(name for name, _ in recorded) == sorted([*STORED_VIEW_NAMES, *VIEW_NAMES])
    assert {fingerprint for _, fingerprint in recorded} == {catalog_fingerprint()}
    assert all(comments[name] == catalog_fingerprint() for name, _ in recorded)


def test_a_session_over_this_versions_database_creates_no_view_and_answers_the_same(built):
    con, source = open_source(built)
    with con:
        assert source == "duckdb" and session_views(con) == set()
        ours = answers(con)
    with open_parquet(built) as from_files:  # the views created in the session, over the stored files
        assert session_views(from_files) >= EVERY_VIEW
        assert answers(from_files) == ours
    assert ours[0] == len(FIXTURES) and ("renamed",) in ours[1]


@pytest.mark.parametrize("change", [
    # a load by another version replaced a view (its comment goes with it): here, one that counts nobody
    "CREATE OR REPLACE VIEW current_assistants AS SELECT * FROM assistants WHERE false",
    # a load by another version of the views recorded its own fingerprint
    "UPDATE view_catalog SET fingerprint = 'another'",
    # a database written before the catalog was recorded
    "DROP TABLE view_catalog",
    # the catalog misses a bundled view
    "DELETE FROM view_catalog WHERE view_name = 'model_usage'",
], ids=["view-replaced", "other-fingerprint", "no-catalog", "view-missing"])
def test_a_session_creates_this_versions_views_when_the_database_holds_others(warehouse, change):
    with open_duckdb(warehouse) as con:
        expected = answers(con)
    write(warehouse, change)
    con, source = open_source(warehouse)
    with con:
        assert source == "duckdb" and not holds_current_views(con)
        assert session_views(con) == EVERY_VIEW
        assert answers(con) == expected


def test_the_next_load_records_the_views_again(warehouse):
    write(warehouse, "CREATE OR REPLACE VIEW current_assistants AS SELECT * FROM assistants WHERE false")
    snapshot_days(warehouse, KEY, [a["id"] for a in FIXTURES], {D2 + dt.timedelta(days=1): FIXTURES})
    with open_duckdb(warehouse) as con:
        assert holds_current_views(con) and session_views(con) == set()
        assert con.execute(COUNT_CURRENT).fetchone()[0] == len(FIXTURES)


def test_the_session_over_the_databases_views_stays_read_only_and_locked(built, tmp_path):
    outside = tmp_path / "outside.csv"
    outside.write_text("a\n1\n", encoding="utf-8")
    with open_duckdb(built) as con:
        assert session_views(con) == set()
        with pytest.raises(duckdb.Error, match=r"read-only|read only"):
            con.execute("CREATE VIEW warehouse.main.scratch AS SELECT 1")
        with pytest.raises(duckdb.Error, match="Permission Error"):
            con.execute("SELECT * FROM read_csv($path)", {"path": str(outside)}).fetchall()
