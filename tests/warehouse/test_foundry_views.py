"""The Foundry views over a snapshot of a sandbox Foundry project: ``search_indexes`` (beside
``vector_store_usage``) and ``connected_agents`` (which agent calls which), the same from DuckDB and from Parquet."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import duckdb
import pytest

from assistants_export.connectors.history import rebuild_history
from assistants_export.connectors.openai_assistants.config import ClientConfig, Secret
from assistants_export.connectors.snapshot import IdSource, fetch_snapshot, flatten_snapshot, load_duckdb
from assistants_export.connectors.warehouse.views import open_duckdb, open_parquet
from assistants_export.sandbox import SandboxServer
from assistants_export.sandbox.entra import TokenServer
from assistants_export.sandbox.foundry import FoundryCatalog

DATE = dt.date(2026, 11, 20)
CATALOGUE = FoundryCatalog(30, seed=4)
AGENTS = [CATALOGUE.build(i) for i in range(len(CATALOGUE))]


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory):
    root = tmp_path_factory.mktemp("foundry-views")
    monkeypatch = pytest.MonkeyPatch()
    try:
        with TokenServer(root / "tls") as tokens, \
                SandboxServer(CATALOGUE, auth_style="entra", token_check=tokens.check) as project:
            for name, value in tokens.environment().items():
                monkeypatch.setenv(name, value)
            config = ClientConfig.from_env({}, api_key=Secret(""), base_url=project.base_url, auth_style="entra",
                                           entra_credential="environment")
            fetch_snapshot(config, IdSource(discover=True), DATE, root / "wh")
    finally:
        monkeypatch.undo()
    flatten_snapshot(DATE, root / "wh")
    load_duckdb(DATE, root / "wh")
    rebuild_history(root / "wh", DATE)
    return root / "wh"


@pytest.fixture(params=["duckdb", "parquet"])
def con(request, warehouse):
    opener = open_duckdb if request.param == "duckdb" else open_parquet
    with opener(warehouse) as connection:
        yield connection


def test_search_indexes_say_which_agents_read_each_index_and_how(con):
    expected: dict[tuple[object, ...], list[dict[str, object]]] = {}
    for agent in AGENTS:
        for index in ((agent["tool_resources"] or {}).get("azure_ai_search") or {}).get("indexes", []):
            key = (index.get("index_connection_id"), index.get("index_name"), index.get("index_asset_id"))
            expected.setdefault(key, []).append({"id": agent["id"], **index})
    rows = con.sql("SELECT * FROM search_indexes").to_arrow_table().to_pylist()
    assert rows and {(r["index_connection_id"], r["index_name"], r["index_asset_id"]) for r in rows} == set(expected)
    for r in rows:
        users = expected[(r["index_connection_id"], r["index_name"], r["index_asset_id"])]
        assert r["source"] == "default" and r["assistants"] == len(users)
        assert r["assistant_ids"] == sorted(u["id"] for u in users)
        assert r["query_types"] == sorted({u["query_type"] for u in users if "query_type" in u})
        assert r["top_ks"] == sorted({u["top_k"] for u in users if "top_k" in u})
        assert r["with_filter"] == sum("filter" in u for u in users)


def test_connected_agents_are_the_call_graph(con):
    names = {a["id"]: a["name"] for a in AGENTS}
    expected = Counter((a["id"], t["connected_agent"]["id"]) for a in AGENTS for t in a["tools"]
                       if t["type"] == "connected_agent")
    rows = con.sql("SELECT * FROM connected_agents").to_arrow_table().to_pylist()
    assert rows and Counter((r["caller_id"], r["callee_id"]) for r in rows) == expected
    for r in rows:
        assert r["callee_live"] and r["callee_name"] == names[r["callee_id"]]
        assert r["caller_name"] == names[r["caller_id"]] and r["called_as"].startswith("helper_")


def test_the_foundry_views_are_the_same_from_the_session_the_files_and_the_database(warehouse):
    with open_duckdb(warehouse) as session, open_parquet(warehouse) as files, \
            duckdb.connect(str(warehouse / "assistants.duckdb"), read_only=True) as database:
        for name in ("search_indexes", "connected_agents", "responses_migration"):
            statement = f"SELECT * FROM {name}"
            got = session.sql(statement).to_arrow_table().to_pylist()
            assert got and got == files.sql(statement).to_arrow_table().to_pylist() == database.sql(
                statement).to_arrow_table().to_pylist(), name
