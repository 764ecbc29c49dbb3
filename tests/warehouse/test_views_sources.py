"""The views keep the sources of one warehouse apart: the same assistant ID in two sources is two assistants.

An in-memory DuckDB holds every stored table (``STORED_TABLES``, each with the ``source`` column the load
adds first), filled for two sources, ``default`` and ``eu``, that both hold ``SAME`` (with different
configurations) and ``TWIN`` (the same body, so the same content hash, which both sources stored on D1).
The views of ``sql/stored`` and ``sql/views`` are created on it as every session creates them, and each
check works its expected rows out from the scenario below, never by running the views' SQL again.

Scenario (each source's membership per date; what each source stored that day):

* default, D1: SAME (gpt-4o), TWIN; stores both payloads.
* default, D2 (an ids snapshot that does not ask for TWIN): SAME (now gpt-4o-mini), LATE; stores both.
* eu, D1: SAME (gpt-4.1, other tools and metadata), TWIN, LATE; stores the three payloads.
* eu, D2: SAME (new instructions), LATE; TWIN is `not_found` (deleted); stores SAME's new payload.

So TWIN's payload is stored by both sources on D1 (its home: default, D1) and LATE's by eu on D1 and by
default on D2 (its home: eu, D1; the earlier date wins over the source's name). At the end default holds
SAME@D2, TWIN@D1 (a snapshot that did not ask for it removes nothing) and LATE@D2; eu holds SAME@D2 and
LATE@D2, TWIN being deleted.

The last test removes each join condition on ``source`` from the SQL in turn and checks that some check
then fails: a view, audit query or migration read that forgets the source cannot pass.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest

from assistants_export import sql
from assistants_export.connectors.core.hashing import canonical_json, content_hash
from assistants_export.connectors.core.schemas import (
    ASSISTANT_CHANGES,
    ASSISTANT_VERSIONS,
    FETCH_ERRORS,
    PAYLOADS,
    RESPONSES_MAPPINGS,
    SNAPSHOT_MEMBERS,
    SNAPSHOT_RUNS,
    STORED_TABLES,
    TableSpec,
)
from assistants_export.connectors.migration import warehouse as migration_warehouse
from assistants_export.connectors.migration.stored import mapping_rows
from assistants_export.connectors.openai_assistants.flatten import RawAssistant, flatten, payload_tables
from assistants_export.connectors.warehouse import DuckDBStore
from assistants_export.connectors.warehouse.stored import STORED_VIEW_NAMES, apply_stored_views
from assistants_export.connectors.warehouse.views import VIEW_NAMES, apply_views
from assistants_export.pipelines.cli import run

SQL = Path(__file__).parents[2] / "sql"
D1, D2 = dt.date(2026, 11, 20), dt.date(2026, 11, 21)
SAME, TWIN, LATE = "asst_samesame00000000000001", "asst_twintwin00000000000002", "asst_latelate00000000000003"
BRIEF, DETAIL = "Answer briefly.", "Answer in detail."


def assistant(assistant_id: str, name: str, model: str, instructions: str | None, tools: list, resources: dict,
              metadata: dict, response_format: object = "auto") -> dict:
    return {"id": assistant_id, "object": "assistant", "created_at": 1_760_000_000, "name": name,
            "description": None, "model": model, "instructions": instructions, "tools": tools,
            "tool_resources": resources, "metadata": metadata, "temperature": 1.0, "top_p": 1.0,
            "response_format": response_format}


def function(name: str, **properties: str) -> dict:
    return {"type": "function", "function": {"name": name, "description": f"{name} it", "parameters": {
        "type": "object", "properties": {k: {"type": v} for k, v in properties.items()},
        "required": sorted(properties)[:1]}}}


INDEX = {"index_connection_id": "conn/search", "index_name": "docs", "query_type": "semantic", "top_k": 5,
         "filter": "lang eq 'en'"}
"""A Foundry search index both sources' SAME read (a view that loses the source would count it twice)."""
CALLS_LATE = {"type": "connected_agent", "connected_agent": {"id": LATE, "name": "late", "description": "d"}}
"""A Foundry connected agent: both sources' SAME call their own LATE."""

SAME_DEF1 = assistant(SAME, "Same (default)", "gpt-4o", BRIEF,
                      [function("lookup_order", order_id="string"), {"type": "file_search"}, CALLS_LATE],
                      {"file_search": {"vector_store_ids": ["vs_shared"]}, "azure_ai_search": {"indexes": [INDEX]}},
                      {"team": "support"})
SAME_DEF2 = {**SAME_DEF1, "model": "gpt-4o-mini"}
SAME_EU1 = assistant(SAME, "Same (eu)", "gpt-4.1", BRIEF,
                     [{"type": "code_interpreter"}, function("refund", amount="number", reason="string"),
                      {"type": "file_search"}, CALLS_LATE],
                     {"code_interpreter": {"file_ids": ["file-shared"]},
                      "file_search": {"vector_store_ids": ["vs_shared", "vs_eu"]},
                      "azure_ai_search": {"indexes": [INDEX]}},
                     {"team": "billing", "region": "eu"},
                     {"type": "json_schema", "json_schema": {"name": "answer", "strict": True,
                                                             "schema": {"type": "object"}}})
SAME_EU2 = {**SAME_EU1, "instructions": DETAIL}
TWIN_BODY = assistant(TWIN, "Twin", "gpt-4o", BRIEF, [{"type": "code_interpreter"}, {"type": "file_search"}],
                      {"code_interpreter": {"file_ids": ["file-shared"]},
                       "file_search": {"vector_store_ids": ["vs_twin"]}},
                      {"team": "support"})
LATE_BODY = assistant(LATE, "Late", "gpt-4o-mini", BRIEF, [], {}, {})

MEMBERS = {  # (source, date) -> the bodies fetched ok
    ("default", D1): [SAME_DEF1, TWIN_BODY],
    ("default", D2): [SAME_DEF2, LATE_BODY],
    ("eu", D1): [SAME_EU1, TWIN_BODY, LATE_BODY],
    ("eu", D2): [SAME_EU2, LATE_BODY],
}
STORED = {  # (source, date) -> the payloads that run stored (new to it)
    ("default", D1): [SAME_DEF1, TWIN_BODY],
    ("default", D2): [SAME_DEF2, LATE_BODY],
    ("eu", D1): [SAME_EU1, TWIN_BODY, LATE_BODY],
    ("eu", D2): [SAME_EU2],
}
CURRENT = {  # (source, assistant_id) -> (snapshot_date, body) of its current row
    ("default", SAME): (D2, SAME_DEF2), ("default", TWIN): (D1, TWIN_BODY), ("default", LATE): (D2, LATE_BODY),
    ("eu", SAME): (D2, SAME_EU2), ("eu", LATE): (D2, LATE_BODY),
}


def digest(body: dict) -> str:
    return content_hash(body)


def flat(date: dt.date, bodies: list[dict]) -> dict[str, pa.Table]:
    fetched = dt.datetime.combine(date, dt.time(3), dt.UTC)
    tables = payload_tables(flatten(date, [RawAssistant(b["id"], fetched, canonical_json(b)) for b in bodies]))
    return {**tables, RESPONSES_MAPPINGS.name: mapping_rows(date, tables[PAYLOADS.name])}  # as a fetch stores them


VERSIONS = [  # source, assistant, valid_from, valid_to, is_deleted, body
    ("default", SAME, D1, D2, False, SAME_DEF1), ("default", SAME, D2, None, False, SAME_DEF2),
    ("default", TWIN, D1, None, False, TWIN_BODY), ("default", LATE, D2, None, False, LATE_BODY),
    ("eu", SAME, D1, D2, False, SAME_EU1), ("eu", SAME, D2, None, False, SAME_EU2),
    ("eu", TWIN, D1, D2, False, TWIN_BODY), ("eu", TWIN, D2, None, True, TWIN_BODY),
    ("eu", LATE, D1, None, False, LATE_BODY),
]
CHANGES = [  # source, date, assistant, change_type, field, old, new
    ("default", D1, SAME, "created", None, None, None), ("default", D1, TWIN, "created", None, None, None),
    ("default", D2, SAME, "updated", "model", '"gpt-4o"', '"gpt-4o-mini"'),
    ("default", D2, LATE, "created", None, None, None),
    ("eu", D1, SAME, "created", None, None, None), ("eu", D1, TWIN, "created", None, None, None),
    ("eu", D1, LATE, "created", None, None, None),
    ("eu", D2, SAME, "updated", "instructions", json.dumps(BRIEF), json.dumps(DETAIL)),
    ("eu", D2, TWIN, "deleted", None, json.dumps({"name": "Twin", "model": "gpt-4o"}), None),
]


def with_source(spec: TableSpec, table: pa.Table, source: str) -> pa.Table:
    """``table`` (of ``spec``'s columns) with the ``source`` column the load adds, first."""
    table = table.select([n for n in spec.schema.names if n != "source"])
    return table.add_column(0, "source", pa.array([source] * table.num_rows, pa.string()))


def stored_rows() -> dict[str, list[pa.Table]]:
    out: dict[str, list[pa.Table]] = {name: [] for name in STORED_TABLES}
    for (source, date), bodies in STORED.items():
        for name, table in flat(date, bodies).items():
            out[name].append(with_source(STORED_TABLES[name], table, source))
    for (source, date), bodies in MEMBERS.items():
        fetched = dt.datetime.combine(date, dt.time(3), dt.UTC)
        members = pa.Table.from_pylist([{"snapshot_date": date, "assistant_id": b["id"], "content_hash": digest(b),
                                         "fetched_at": fetched, "attempts": 1} for b in bodies],
                                       schema=_without_source(SNAPSHOT_MEMBERS))
        out[SNAPSHOT_MEMBERS.name].append(with_source(SNAPSHOT_MEMBERS, members, source))
        run = {f.name: 0 for f in SNAPSHOT_RUNS.schema if pa.types.is_integer(f.type)}
        run.update(snapshot_date=date, run_id=f"run-{source}-{date}", started_at=fetched, finished_at=fetched,
                   mode="ids", base_url=f"https://{source}.example/v1", ok_count=len(bodies), approved_gates=[])
        out[SNAPSHOT_RUNS.name].append(with_source(
            SNAPSHOT_RUNS, pa.Table.from_pylist([run], schema=_without_source(SNAPSHOT_RUNS)), source))
    errors = pa.Table.from_pylist([{"snapshot_date": D2, "assistant_id": TWIN, "outcome": "not_found",
                                    "http_status": 404, "message": "No assistant found", "attempts": 1,
                                    "fetched_at": dt.datetime.combine(D2, dt.time(3), dt.UTC)}],
                                  schema=_without_source(FETCH_ERRORS))
    out[FETCH_ERRORS.name].append(with_source(FETCH_ERRORS, errors, "eu"))
    for source, aid, start, end, deleted, body in VERSIONS:
        current = end is None
        version = pa.Table.from_pylist([{"assistant_id": aid, "valid_from": start, "valid_to": end,
                                         "is_current": current, "is_deleted": deleted, "content_hash": digest(body)}],
                                       schema=_without_source(ASSISTANT_VERSIONS))
        out[ASSISTANT_VERSIONS.name].append(with_source(ASSISTANT_VERSIONS, version, source))
    for source, date, aid, kind, field, old, new in CHANGES:
        change = pa.Table.from_pylist([{"snapshot_date": date, "assistant_id": aid, "change_type": kind,
                                        "field": field, "old_value": old, "new_value": new}],
                                      schema=_without_source(ASSISTANT_CHANGES))
        out[ASSISTANT_CHANGES.name].append(with_source(ASSISTANT_CHANGES, change, source))
    return out


def _without_source(spec: TableSpec) -> pa.Schema:
    return pa.schema([f for f in spec.schema if f.name != "source"])


def build(con: duckdb.DuckDBPyConnection) -> None:
    """Create every stored table on ``con`` as assistants.duckdb has it (``source`` first) and fill it."""
    con.execute(sql.load("warehouse/session_utc"))
    DuckDBStore(Path("unused")).ensure_tables(con, STORED_TABLES.values())  # the real DDL; no file is opened
    for name, tables in stored_rows().items():
        con.register("batch", pa.concat_tables(tables))
        con.execute(f"INSERT INTO {sql.quote_identifier(name)} BY NAME SELECT * FROM batch")
        con.unregister("batch")


@pytest.fixture(scope="module")
def con():
    connection = duckdb.connect(":memory:")
    build(connection)
    apply_stored_views(connection)
    apply_views(connection)
    yield connection
    connection.close()


Load = Callable[[str], str]


def rows(con, statement: str, **params) -> list[dict]:
    return con.sql(statement, params=params or None).to_arrow_table().to_pylist()


# --- the checks: each works out its expected rows from the scenario -------------------------------------------

def check_payload_home_picks_one_copy_per_hash(con, load: Load) -> None:
    got = rows(con, "SELECT * FROM payload_home")
    assert [list(r) for r in got[:1]] == [["content_hash", "stored_source", "stored_date"]]
    homes = {r["content_hash"]: (r["stored_source"], r["stored_date"]) for r in got}
    assert len(homes) == len(got) == len({digest(b) for bodies in STORED.values() for b in bodies}) == 6
    assert homes[digest(TWIN_BODY)] == ("default", D1)  # stored by both on D1: the first source by name
    assert homes[digest(LATE_BODY)] == ("eu", D1)  # eu on D1, default on D2: the earliest date
    assert homes[digest(SAME_EU2)] == ("eu", D2) and homes[digest(SAME_DEF2)] == ("default", D2)


def check_the_date_views_have_one_row_per_member_and_no_doubling(con, load: Load) -> None:
    expected = sorted((source, date, b["id"], b["model"], b["name"], b["instructions"], digest(b))
                      for (source, date), bodies in MEMBERS.items() for b in bodies)
    got = sorted((r["source"], r["snapshot_date"], r["assistant_id"], r["model"], r["name"], r["instructions"],
                  r["content_hash"]) for r in rows(con, "SELECT * FROM assistants"))
    assert got == expected
    raw = sorted((r["source"], r["snapshot_date"], r["assistant_id"], json.loads(r["raw_json"])["model"])
                 for r in rows(con, "SELECT * FROM raw_assistants"))
    assert raw == sorted((s, d, b["id"], b["model"]) for (s, d), bodies in MEMBERS.items() for b in bodies)
    tools = sorted((r["source"], r["snapshot_date"], r["assistant_id"], r["tool_index"], r["type"])
                   for r in rows(con, "SELECT * FROM assistant_tools"))
    assert tools == sorted((s, d, b["id"], i, t["type"]) for (s, d), bodies in MEMBERS.items() for b in bodies
                           for i, t in enumerate(b["tools"]))
    metadata = sorted((r["source"], r["snapshot_date"], r["assistant_id"], r["key"], r["value"])
                      for r in rows(con, "SELECT * FROM assistant_metadata"))
    assert metadata == sorted((s, d, b["id"], k, v) for (s, d), bodies in MEMBERS.items() for b in bodies
                              for k, v in b["metadata"].items())
    resources = sorted((r["source"], r["snapshot_date"], r["assistant_id"], r["resource_type"], r["resource_id"],
                        r["position"]) for r in rows(con, "SELECT * FROM assistant_tool_resources"))
    assert resources == sorted(
        (s, d, b["id"], kind, rid, i) for (s, d), bodies in MEMBERS.items() for b in bodies
        for kind, tool, key in (("code_interpreter_file", "code_interpreter", "file_ids"),
                                ("file_search_vector_store", "file_search", "vector_store_ids"),
                                ("azure_ai_search_index", "azure_ai_search", "indexes"))
        for i, rid in enumerate(x["index_name"] if isinstance(x, dict) else x
                                for x in b["tool_resources"].get(tool, {}).get(key, [])))


def check_assistant_history_has_each_source_s_versions(con, load: Load) -> None:
    got = sorted((r["source"], r["assistant_id"], r["valid_from"], r["valid_to"], r["is_deleted"], r["model"],
                  r["instructions"]) for r in rows(con, "SELECT * FROM assistant_history"))
    assert got == sorted((s, aid, start, end, deleted, b["model"], b["instructions"])
                         for s, aid, start, end, deleted, b in VERSIONS)


def check_current_assistants_keep_the_sources_apart(con, load: Load) -> None:
    got = [(r["source"], r["assistant_id"], r["snapshot_date"], r["model"], r["name"], r["instructions"])
           for r in rows(con, "SELECT * FROM current_assistants")]
    assert got == [(s, aid, d, b["model"], b["name"], b["instructions"])
                   for (s, aid), (d, b) in sorted(CURRENT.items())]


def check_current_tools_and_function_catalog_keep_the_sources_apart(con, load: Load) -> None:
    got = [(r["source"], r["assistant_id"], r["snapshot_date"], r["tool_index"], r["type"], r["assistant_name"],
            r["model"]) for r in rows(con, "SELECT * FROM current_tools")]
    assert got == [(s, aid, d, i, t["type"], b["name"], b["model"])
                   for (s, aid), (d, b) in sorted(CURRENT.items()) for i, t in enumerate(b["tools"])]
    catalog = [(r["source"], r["assistant_id"], r["function_name"], r["parameter"], r["required"])
               for r in rows(con, "SELECT * FROM function_catalog")]
    assert catalog == [("default", SAME, "lookup_order", "order_id", True),
                       ("eu", SAME, "refund", "amount", True), ("eu", SAME, "refund", "reason", False)]


def check_model_usage_counts_per_source(con, load: Load) -> None:
    got = [tuple(r.values()) for r in rows(con, "SELECT * FROM model_usage")]
    assert got == [
        ("default", D1, "gpt-4o", 2, 5), ("default", D2, "gpt-4o-mini", 2, 3),
        ("eu", D1, "gpt-4.1", 1, 4), ("eu", D1, "gpt-4o", 1, 2), ("eu", D1, "gpt-4o-mini", 1, 0),
        ("eu", D2, "gpt-4.1", 1, 4), ("eu", D2, "gpt-4o-mini", 1, 0)]


def check_metadata_keys_count_per_source(con, load: Load) -> None:
    got = [tuple(r.values()) for r in rows(con, "SELECT * FROM metadata_keys")]
    # default: SAME and TWIN say team=support; eu: only SAME is current with metadata (TWIN is deleted).
    assert got == [("default", "team", 2, 1, ["support"]),
                   ("eu", "region", 1, 1, ["eu"]), ("eu", "team", 1, 1, ["billing"])]


def check_resource_usage_counts_per_source(con, load: Load) -> None:
    stores = [tuple(r.values()) for r in rows(con, "SELECT * FROM vector_store_usage")]
    assert stores == [("default", "vs_shared", 1, [SAME]), ("default", "vs_twin", 1, [TWIN]),
                      ("eu", "vs_eu", 1, [SAME]), ("eu", "vs_shared", 1, [SAME])]
    files = [tuple(r.values()) for r in rows(con, "SELECT * FROM file_usage")]
    # TWIN's file and store count in default (current there at D1), not in eu, where TWIN is deleted.
    assert files == [("default", "file-shared", 1, [TWIN]), ("eu", "file-shared", 1, [SAME])]


def check_the_foundry_views_keep_the_sources_apart(con, load: Load) -> None:
    indexes = [tuple(r.values()) for r in rows(con, "SELECT * FROM search_indexes")]
    assert indexes == [(source, "conn/search", "docs", None, 1, [SAME], ["semantic"], [5], 1)
                       for source in ("default", "eu")]
    calls = [(r["source"], r["caller_id"], r["callee_id"], r["callee_name"], r["callee_live"])
             for r in rows(con, "SELECT * FROM connected_agents")]
    assert calls == [(source, SAME, LATE, "Late", True) for source in ("default", "eu")]


def check_response_formats_count_per_source(con, load: Load) -> None:
    got = [tuple(r.values()) for r in rows(con, "SELECT * FROM response_formats")]
    assert got == [("default", "auto", None, None, 3, [LATE, SAME, TWIN]),
                   ("eu", "auto", None, None, 1, [LATE]), ("eu", "json_schema", "answer", True, 1, [SAME])]


def check_instruction_stats_finds_twins_within_a_source(con, load: Load) -> None:
    got = {(r["source"], r["assistant_id"]): (r["snapshot_date"], r["duplicates"], r["same_instructions_as"])
           for r in rows(con, "SELECT * FROM instruction_stats")}
    assert len(got) == len(rows(con, "SELECT * FROM instruction_stats")) == len(CURRENT)
    assert got == {("default", SAME): (D2, 2, [LATE, TWIN]), ("default", TWIN): (D1, 2, [LATE, SAME]),
                   ("default", LATE): (D2, 2, [SAME, TWIN]), ("eu", SAME): (D2, 0, []), ("eu", LATE): (D2, 0, [])}


def check_responses_migration_has_one_request_per_source_and_assistant(con, load: Load) -> None:
    got = [(r["source"], r["assistant_id"], r["snapshot_date"], json.loads(r["request"])["model"])
           for r in rows(con, "SELECT * FROM responses_migration")]
    assert got == [(s, aid, d, b["model"]) for (s, aid), (d, b) in sorted(CURRENT.items())]


def check_the_audit_queries_keep_the_sources_apart(con, load: Load) -> None:
    timeline = [(r["source"], r["valid_from"], r["change_type"], r["fields_changed"], r["fields"], r["model"])
                for r in rows(con, load("audit/assistant_timeline"), assistant_id=SAME)]
    assert timeline == [("default", D1, "created", 0, None, "gpt-4o"),
                        ("default", D2, "updated", 1, ["model"], "gpt-4o-mini"),
                        ("eu", D1, "created", 0, None, "gpt-4.1"),
                        ("eu", D2, "updated", 1, ["instructions"], "gpt-4.1")]
    twin = [(r["source"], r["valid_from"], r["change_type"], r["is_deleted"])
            for r in rows(con, load("audit/assistant_timeline"), assistant_id=TWIN)]
    assert twin == [("default", D1, "created", False), ("eu", D1, "created", False), ("eu", D2, "deleted", True)]
    of_same = [(r["source"], r["snapshot_date"], r["change_type"], r["field"])
               for r in rows(con, load("audit/changes_of_assistant"), assistant_id=SAME)]
    assert of_same == [("default", D1, "created", None), ("default", D2, "updated", "model"),
                       ("eu", D1, "created", None), ("eu", D2, "updated", "instructions")]
    on_d2 = [(r["source"], r["assistant_id"], r["change_type"], r["field"])
             for r in rows(con, load("audit/changes_on_date"), snapshot_date=D2)]
    assert on_d2 == [("default", LATE, "created", None), ("default", SAME, "updated", "model"),
                     ("eu", SAME, "updated", "instructions"), ("eu", TWIN, "deleted", None)]
    between = [tuple(r.values()) for r in rows(con, load("audit/changes_between"), from_date=D1, to_date=D2)]
    assert between == [("default", LATE, "Late", "created", 0, None),
                       ("default", SAME, "Same (default)", "updated", 1, "model"),
                       ("eu", SAME, "Same (eu)", "updated", 1, "instructions"),
                       ("eu", TWIN, "Twin", "deleted", 0, None)]
    as_of = [(r["source"], r["assistant_id"], r["model"], r["valid_from"])
             for r in rows(con, load("audit/config_as_of"), as_of=D2)]
    assert as_of == [("default", LATE, "gpt-4o-mini", D2), ("default", SAME, "gpt-4o-mini", D2),
                     ("default", TWIN, "gpt-4o", D1), ("eu", LATE, "gpt-4o-mini", D1), ("eu", SAME, "gpt-4.1", D2)]
    switched = [(r["source"], r["assistant_id"], r["field"])
                for r in rows(con, load("audit/model_and_instruction_changes"), from_date=D1, to_date=D2)]
    assert switched == [("default", SAME, "model"), ("eu", SAME, "instructions")]
    deleted = [(r["source"], r["deleted_on"], r["assistant_id"], r["last_name"])
               for r in rows(con, load("audit/recent_deletions"), as_of=D2, days=7)]
    assert deleted == [("eu", D2, TWIN, "Twin")]
    assert list(rows(con, load("audit/tools_added_removed"), from_date=D1, to_date=D2)) == []
    for name in sorted(p.stem for p in (SQL / "audit").glob("*.sql")):
        assert con.sql(load(f"audit/{name}"), params=AUDIT_PARAMS[name]).columns[0] == "source", name


AUDIT_PARAMS = {
    "assistant_timeline": {"assistant_id": SAME}, "changes_of_assistant": {"assistant_id": SAME},
    "changes_between": {"from_date": D1, "to_date": D2}, "changes_on_date": {"snapshot_date": D2},
    "config_as_of": {"as_of": D2}, "model_and_instruction_changes": {"from_date": D1, "to_date": D2},
    "recent_deletions": {"as_of": D2, "days": 7}, "tools_added_removed": {"from_date": D1, "to_date": D2},
}


def check_the_migration_reads_one_payload_per_source_and_assistant(con, load: Load) -> None:
    current = [(s, aid, d, json.loads(raw)["model"]) for s, aid, d, raw
               in con.execute(load("migration/current_payloads")).fetchall()]
    assert current == [(s, aid, d, b["model"]) for (s, aid), (d, b) in sorted(CURRENT.items())]
    on_d1 = [(s, aid, d, json.loads(raw)["model"]) for s, aid, d, raw
             in con.execute(load("migration/payloads_as_of"), {"as_of": D1}).fetchall()]
    assert on_d1 == [("default", SAME, D1, "gpt-4o"), ("default", TWIN, D1, "gpt-4o"),
                     ("eu", LATE, D1, "gpt-4o-mini"), ("eu", SAME, D1, "gpt-4.1"), ("eu", TWIN, D1, "gpt-4o")]
    on_d2 = [(s, aid, d, json.loads(raw)["instructions"]) for s, aid, d, raw
             in con.execute(load("migration/payloads_as_of"), {"as_of": D2}).fetchall()]
    assert on_d2 == [("default", LATE, D2, BRIEF), ("default", SAME, D2, BRIEF), ("default", TWIN, D1, BRIEF),
                     ("eu", LATE, D1, BRIEF), ("eu", SAME, D2, DETAIL)]
    assert con.execute(load("migration/history_start")).fetchall() == [(D1,)]


def check_the_examples_count_per_source(con, load: Load) -> None:
    per_model = [tuple(r.values()) for r in rows(con, load("examples/assistants_per_model"), snapshot_date=D1)]
    assert per_model == [("default", "gpt-4o", 2, 5), ("eu", "gpt-4.1", 1, 4), ("eu", "gpt-4o", 1, 2),
                         ("eu", "gpt-4o-mini", 1, 0)]
    by_type = [tuple(r.values()) for r in rows(con, load("examples/tools_by_type"), snapshot_date=D2)]
    assert by_type == [("default", "connected_agent", 1, 1), ("default", "file_search", 1, 1),
                       ("default", "function", 1, 1), ("eu", "code_interpreter", 1, 1),
                       ("eu", "connected_agent", 1, 1), ("eu", "file_search", 1, 1), ("eu", "function", 1, 1)]
    problems = [(r["source"], r["outcome"], r["assistant_id"])
                for r in rows(con, load("examples/fetch_problems"), snapshot_date=D2)]
    assert problems == [("eu", "not_found", TWIN)]


CHECKS = [value for name, value in sorted(globals().items()) if name.startswith("check_")]


# --- the tests ----------------------------------------------------------------------------------------------------

def test_every_view_starts_with_the_source(con):
    for name in [*STORED_VIEW_NAMES, *VIEW_NAMES]:
        columns = con.sql(f"SELECT * FROM {sql.quote_identifier(name)}").columns
        if name == "payload_home":  # keyed by content hash: where the one copy read lives
            assert columns == ["content_hash", "stored_source", "stored_date"]
        else:
            assert columns[0] == "source" and columns.count("source") == 1, (name, columns)


@pytest.mark.parametrize("check", CHECKS, ids=lambda f: f.__name__.removeprefix("check_"))
def test_the_sources_stay_apart(con, check):
    check(con, sql.load)


def test_migrate_warehouse_returns_each_source_s_assistants(con, monkeypatch):
    """assistants_export.connectors.migration.warehouse reads the source column and keys its results by source and
    assistant."""

    def session(warehouse, source=None):
        connection = duckdb.connect(":memory:")
        build(connection)
        apply_stored_views(connection)
        apply_views(connection)
        return connection, "duckdb"

    monkeypatch.setattr(migration_warehouse, "open_source", session)
    current = migration_warehouse.migrate_warehouse("unused")
    assert [(m.source, m.migration.assistant_id, m.snapshot_date, m.migration.request["model"]) for m in current] \
        == [(s, aid, d, b["model"]) for (s, aid), (d, b) in sorted(CURRENT.items())]
    assert [list(m.as_line())[:2] for m in current] == [["source", "assistant_id"]] * len(CURRENT)
    assert [m.as_line()["source"] for m in current] == [s for s, _ in sorted(CURRENT)]
    one = migration_warehouse.migrate_warehouse("unused", as_of=D1, ids=[LATE])
    assert [(m.source, m.migration.assistant_id) for m in one] == [("eu", LATE)]
    both = migration_warehouse.migrate_warehouse("unused", ids=[SAME])
    assert [(m.source, m.migration.request["model"]) for m in both] == [("default", "gpt-4o-mini"), ("eu", "gpt-4.1")]


def test_the_history_commands_tell_the_sources_apart(tmp_path, capsys):
    """``history``, ``diff`` and ``as-of`` read the audit queries: each version shows its own source's changes."""
    with duckdb.connect(str(tmp_path / "assistants.duckdb")) as database:
        build(database)
        apply_stored_views(database)
        apply_views(database)
    assert run(["history", SAME, "--warehouse", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    sections = re.split(r"\n(?=(?:default|eu): \d{4}-)", out)
    assert [s.split(" →")[0].strip() for s in sections[1:]] == [
        f"default: {D1}", f"default: {D2}", f"eu: {D1}", f"eu: {D2}"]
    # default's update on D2 changed the model, eu's the instructions: each under its own source only.
    assert "model" in sections[2] and "instructions" not in sections[2]
    assert "instructions" in sections[4] and "gpt-4o-mini" not in sections[4]
    assert run(["diff", "--from", D1.isoformat(), "--to", D2.isoformat(), "--warehouse", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "source" in out and "4 assistant(s) changed" in out
    assert run(["as-of", D2.isoformat(), "--json", "--warehouse", str(tmp_path)]) == 0
    got = [(r["source"], r["assistant_id"]) for r in map(json.loads, capsys.readouterr().out.splitlines())]
    assert got == sorted(CURRENT)


# --- every join on the source is needed -------------------------------------------------------------------------

SOURCE_JOIN = re.compile(r"\b\w+\.source = \w+\.(?:stored_)?source\b")
MUTATED_FOLDERS = ("stored", "views", "audit", "migration")


def statements() -> dict[str, str]:
    """Every statement the checks run, by ``sql.load`` name."""
    return {f"{folder}/{path.stem}": path.read_text(encoding="utf-8")
            for folder in (*MUTATED_FOLDERS, "examples") for path in sorted((SQL / folder).glob("*.sql"))}


def mutants() -> list[tuple[str, int]]:
    return [(name, i) for name, text in statements().items() if name.split("/")[0] in MUTATED_FOLDERS
            for i in range(len(SOURCE_JOIN.findall(text)))]


def test_the_source_joins_are_where_they_must_be():
    found = {name for name, _ in mutants()}
    # Every view reading payloads matches the home's source; every per-assistant join in a view matches sources.
    assert {f"stored/{n}" for n in STORED_VIEW_NAMES if n != "payload_home"} <= found
    assert {"views/current_assistants", "views/current_tools", "views/file_usage", "views/vector_store_usage",
            "views/metadata_keys", "views/instruction_stats", "audit/assistant_timeline", "audit/changes_between",
            "migration/payloads_as_of"} <= found
    for name, text in statements().items():
        if name.removeprefix("stored/") in STORED_VIEW_NAMES:
            joins = re.findall(r"JOIN (?:payloads|payload_tools|payload_metadata|payload_tool_resources) AS (\w+)"
                               r"\s+ON ([^\n]+)", text)
            assert len(joins) == (name != "stored/payload_home"), name
            for alias, condition in joins:
                assert condition == (f"{alias}.content_hash = h.content_hash AND {alias}.snapshot_date = h.stored_date "
                                     f"AND {alias}.source = h.stored_source"), name


@pytest.mark.parametrize(("name", "index"), mutants(), ids=lambda v: str(v))
def test_forgetting_any_join_on_the_source_fails_a_check(name, index):
    texts = statements()
    matches = list(SOURCE_JOIN.finditer(texts[name]))
    hit = matches[index]
    texts[name] = texts[name][:hit.start()] + "true" + texts[name][hit.end():]
    with duckdb.connect(":memory:") as mutated:
        build(mutated)
        for view in STORED_VIEW_NAMES:
            mutated.execute(texts[f"stored/{view}"])
        for view in VIEW_NAMES:
            mutated.execute(texts[f"views/{view}"])
        failed = []
        for check in CHECKS:
            try:
                check(mutated, texts.__getitem__)
            except (AssertionError, duckdb.Error):
                failed.append(check.__name__)
    assert failed, f"{name}: without `{hit.group(0)}` every check still passes"
