"""The bundled views, on real snapshots of the bundled fixtures, from DuckDB and from the Parquet files alone.

Expected rows are worked out here in Python from the fixture objects and the scenario below,
never by running the views' SQL again. Every view test runs on both sources.

Scenario (real snapshots over loopback HTTP, through the same functions the Dagster assets call):

* D1, ids mode: every bundled assistant except F and G, plus F (not there yet: ``not_found``),
  an unknown ID (``not_found``) and a quarantined body (``invalid``);
* D2, ids mode, only A..G asked for: A is deleted (``not_found``), B fails (HTTP 500 every attempt),
  C changes model and takes D's instructions, D is unchanged, F and G appear.

So at the end: A is gone, B stays with its D1 row, C, D, F and G are current at D2, every other
assistant is current at D1.
"""

import datetime as dt
import json
import shutil
from collections import Counter, defaultdict
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest

from assistants_export.connectors.core.schemas import PAYLOAD_METADATA, STORED_TABLES, VIEW_TABLES
from assistants_export.connectors.gates import Gates
from assistants_export.connectors.history import rebuild_history
from assistants_export.connectors.openai_assistants.config import ClientConfig, Secret
from assistants_export.connectors.snapshot import IdSource, fetch_snapshot, flatten_snapshot, load_duckdb
from assistants_export.connectors.warehouse import DuckDBStore, ParquetStore
from assistants_export.connectors.warehouse.views import VIEW_NAMES, open_duckdb, open_parquet, open_source, views
from assistants_export.sandbox import FaultPlan, SandboxServer, StaticCatalog, bundled_assistants, invalid_assistants

KEY = "sk-views-5tHq8RzW2nLc"
D1, D2, D3 = dt.date(2026, 11, 20), dt.date(2026, 11, 21), dt.date(2026, 11, 22)
UNKNOWN = "asst_nobodyhome00000000000007"
NEW_MODEL = "gpt-4.1-nano"
FOUNDRY_VIEWS = ("search_indexes", "connected_agents")
"""Views of Foundry's tools: empty on this scenario's OpenAI assistants."""


def take_snapshot(warehouse, date, bodies, *, ids=None, faults=None):
    """Fetch, flatten and load one date from a sandbox serving ``bodies`` (discover mode when ids is None)."""
    with SandboxServer(StaticCatalog(bodies), api_key=KEY, faults=faults) as srv:
        config = ClientConfig(api_key=Secret(KEY), base_url=srv.base_url, initial_retry_delay=0.01,
                              max_retry_delay=0.02, max_attempts=2)
        source = IdSource(discover=True) if ids is None else IdSource(ids=tuple(ids))
        # Tiny scenarios: one failing ID of six (17 %) is above the default failed-share gate of 10 %, and
        # one deletion of four (25 %) above the default mass-deletion guard of 20 %.
        fetch_snapshot(config, source, date, warehouse, gates=Gates(max_failed_share=0.2, mass_deletion_threshold=0.5))
    flatten_snapshot(date, warehouse)
    load_duckdb(date, warehouse)
    rebuild_history(warehouse, date, threshold=0.5)  # the views take "current" and "deleted" from the history


class Scenario:
    """The fixtures, who plays which part, and what each date fetched `ok`."""

    def __init__(self):
        fixtures = bundled_assistants()
        self.a, self.b, self.c = fixtures[:3]
        rest = fixtures[3:]
        self.d = next(x for x in rest if x.get("instructions") and x["instructions"] != self.c.get("instructions"))
        self.f, self.g = [x for x in rest if x is not self.d][:2]
        self.c2 = {**self.c, "model": NEW_MODEL, "instructions": self.d["instructions"]}
        self.bad_id, self.bad_body = next((k, v) for k, v in invalid_assistants().items() if isinstance(v, dict))
        late = {self.f["id"], self.g["id"]}
        self.d1_ok = {x["id"]: x for x in fixtures if x["id"] not in late}
        self.d2_ok = {x["id"]: x for x in (self.c2, self.d, self.f, self.g)}
        self.d1_ids = [*self.d1_ok, self.f["id"], UNKNOWN, self.bad_id]
        self.d2_ids = [x["id"] for x in (self.a, self.b, self.c, self.d, self.f, self.g)]

    def build(self, warehouse):
        take_snapshot(warehouse, D1, [*self.d1_ok.values(), self.bad_body], ids=self.d1_ids)
        failing = FaultPlan(always_fail_ids=frozenset({self.b["id"]}))
        take_snapshot(warehouse, D2, [self.b, *self.d2_ok.values()], ids=self.d2_ids, faults=failing)

    def current(self):
        """assistant_id -> (snapshot_date, body): D1's assistants, A deleted, D2's replacing theirs."""
        out = {aid: (D1, body) for aid, body in self.d1_ok.items() if aid != self.a["id"]}
        out.update({aid: (D2, body) for aid, body in self.d2_ok.items()})
        return out


@pytest.fixture(scope="module")
def scenario():
    return Scenario()


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory, scenario):
    root = tmp_path_factory.mktemp("views") / "wh"
    scenario.build(root)
    return root


@pytest.fixture(params=["duckdb", "parquet"])
def con(request, warehouse):
    opener = open_duckdb if request.param == "duckdb" else open_parquet
    with opener(warehouse) as connection:
        yield connection


def rows(con, statement):
    return con.sql(statement).to_arrow_table().to_pylist()


# --- the view files ---------------------------------------------------------------------------------------------

def test_every_view_file_is_listed_once_and_creates_the_view_it_is_named_after():
    folder = Path(__file__).parents[2] / "sql" / "views"
    assert sorted(p.stem for p in folder.glob("*.sql")) == sorted(VIEW_NAMES)
    for view in views():
        statements = duckdb.extract_statements(view.statement)
        assert len(statements) == 1 and statements[0].type == duckdb.StatementType.CREATE, view.name
        assert f"CREATE OR REPLACE VIEW {view.name} AS" in view.statement
        assert view.summary and "\n" not in view.summary


# --- one test per view, on both sources -------------------------------------------------------------------------

def test_current_assistants_is_the_latest_good_row_of_every_live_assistant(con, scenario):
    got = {r["assistant_id"]: r for r in rows(con, "SELECT * FROM current_assistants")}
    expected = scenario.current()
    assert set(got) == set(expected)
    for aid, (date, body) in expected.items():
        row = got[aid]
        assert (row["snapshot_date"], row["name"], row["model"], row["instructions"]) == \
            (date, body.get("name"), body["model"], body.get("instructions")), aid
    assert scenario.a["id"] not in got  # deleted on D2
    assert got[scenario.b["id"]]["snapshot_date"] == D1  # a failed fetch on D2 does not remove it
    assert got[scenario.f["id"]]["snapshot_date"] == D2  # not found on D1, there on D2
    assert UNKNOWN not in got and scenario.bad_id not in got


def test_current_tools_are_the_tools_of_the_current_rows(con, scenario):
    got = sorted((r["assistant_id"], r["snapshot_date"], r["tool_index"], r["type"], r["function_name"],
                  r["assistant_name"], r["model"])
                 for r in rows(con, "SELECT * FROM current_tools"))
    expected = sorted((aid, date, i, tool["type"], tool.get("function", {}).get("name"), body.get("name"),
                       body["model"])
                      for aid, (date, body) in scenario.current().items()
                      for i, tool in enumerate(body["tools"]))
    assert got == expected


def expected_function_catalog(scenario):
    out = []
    for aid, (date, body) in scenario.current().items():
        for i, tool in enumerate(body["tools"]):
            if tool["type"] != "function":
                continue
            function = tool["function"]
            parameters = function.get("parameters")
            properties = (parameters or {}).get("properties") or {}
            base = (aid, date, i, function["name"], function.get("description"), function.get("strict"))
            if not properties:
                out.append((*base, None, None, None, None, None))
            for name, schema in properties.items():
                json_type = schema.get("type")
                if isinstance(json_type, list):
                    json_type = json.dumps(json_type, separators=(",", ":"))
                out.append((*base, name, json_type, name in parameters.get("required", []),
                            schema.get("description"), schema))
    return sorted(out, key=repr)


def test_function_catalog_has_one_row_per_parameter_and_one_for_a_function_without_any(con, scenario):
    got = sorted(((r["assistant_id"], r["snapshot_date"], r["tool_index"], r["function_name"],
                   r["function_description"], r["function_strict"], r["parameter"], r["parameter_type"],
                   r["required"], r["parameter_description"],
                   None if r["parameter_schema"] is None else json.loads(r["parameter_schema"]))
                  for r in rows(con, "SELECT * FROM function_catalog")), key=repr)
    expected = expected_function_catalog(scenario)
    assert got == expected
    by_function = defaultdict(list)
    for row in expected:
        by_function[row[3]].append(row)
    # The shapes the fixtures are made of: no parameters at all, an empty schema, a nullable union.
    assert {r[6] for r in by_function["escalate_to_human"]} == {None}
    assert {r[6] for r in by_function["get_service_status"]} == {None}
    assert {(r[6], r[8]) for r in by_function["get_order_status"]} == {("order_id", True), ("include_items", False)}


def test_model_usage_counts_assistants_and_tools_per_model_per_date(con, scenario):
    counts = Counter()
    tools = Counter()
    for date, fetched in ((D1, scenario.d1_ok), (D2, scenario.d2_ok)):
        for body in fetched.values():
            counts[date, body["model"]] += 1
            tools[date, body["model"]] += len(body["tools"])
    expected = sorted(((date, model, n, tools[date, model]) for (date, model), n in counts.items()),
                      key=lambda r: (r[0], -r[2], r[1]))
    got = [(r["snapshot_date"], r["model"], r["assistants"], r["tools"])
           for r in rows(con, "SELECT * FROM model_usage")]
    assert got == expected  # in the view's order: date, most used first
    assert (D2, NEW_MODEL, 1, len(scenario.c["tools"])) in got


def test_metadata_keys_count_assistants_and_sample_values(con, scenario):
    users, values = defaultdict(set), defaultdict(set)
    for aid, (_, body) in scenario.current().items():
        for key, value in (body.get("metadata") or {}).items():
            users[key].add(aid)
            values[key].add(value)
    expected = sorted((key, len(users[key]), len(values[key]), sorted(values[key])[:3]) for key in users)
    got = sorted((r["key"], r["assistants"], r["distinct_values"], r["sample_values"])
                 for r in rows(con, "SELECT * FROM metadata_keys"))
    assert got == expected
    assert any(key == "sql" for key, *_ in got)  # hostile metadata arrives verbatim


@pytest.mark.parametrize(("view", "kind", "key", "column"), [
    ("vector_store_usage", "file_search", "vector_store_ids", "vector_store_id"),
    ("file_usage", "code_interpreter", "file_ids", "file_id"),
])
def test_resource_usage_says_which_assistants_share_each_resource(con, scenario, view, kind, key, column):
    sharing = defaultdict(set)
    for aid, (_, body) in scenario.current().items():
        for resource in ((body.get("tool_resources") or {}).get(kind) or {}).get(key, []):
            sharing[resource].add(aid)
    expected = sorted((resource, len(aids), sorted(aids)) for resource, aids in sharing.items())
    got = sorted((r[column], r["assistants"], r["assistant_ids"]) for r in rows(con, f"SELECT * FROM {view}"))
    assert got == expected
    assert any(n > 1 for _, n, _ in got), "the fixtures share some of each"


def test_response_formats_group_assistants_by_type_schema_name_and_strict(con, scenario):
    groups = defaultdict(list)
    for aid, (_, body) in scenario.current().items():
        rf = body.get("response_format")
        if rf is None or isinstance(rf, str):
            groups[rf, None, None].append(aid)
        else:
            schema = rf.get("json_schema") or {}
            groups[rf["type"], schema.get("name"), schema.get("strict")].append(aid)
    expected = sorted(((*k, len(v), sorted(v)) for k, v in groups.items()), key=repr)
    got = sorted(((r["response_format_type"], r["json_schema_name"], r["strict"], r["assistants"], r["assistant_ids"])
                  for r in rows(con, "SELECT * FROM response_formats")), key=repr)
    assert got == expected
    assert any(r[2] is True for r in got) and any(r[0] is None for r in got)


def test_instruction_stats_measure_length_and_find_identical_instructions(con, scenario):
    current = scenario.current()
    expected = []
    for aid, (date, body) in current.items():
        text = body.get("instructions")
        twins = sorted(other for other, (_, b) in current.items() if other != aid and text is not None
                       and b.get("instructions") == text)
        expected.append((aid, date, None if text is None else len(text),
                         None if text is None else len(twins), None if text is None else twins))
    got = sorted(((r["assistant_id"], r["snapshot_date"], r["instructions_length"], r["duplicates"],
                   r["same_instructions_as"]) for r in rows(con, "SELECT * FROM instruction_stats")), key=repr)
    assert got == sorted(expected, key=repr)
    by_id = {r[0]: r for r in got}
    assert by_id[scenario.c["id"]][4] == [scenario.d["id"]]  # C took D's instructions on D2
    assert max(r[2] or 0 for r in got) == 256_000


# --- one definition, two sources ---------------------------------------------------------------------------------

def test_both_sources_and_the_database_itself_give_identical_views(warehouse):
    with open_duckdb(warehouse) as session, open_parquet(warehouse) as files, \
            duckdb.connect(str(warehouse / "assistants.duckdb"), read_only=True) as database:
        for name in VIEW_NAMES:
            statement = f"SELECT * FROM {name}"
            from_session = session.sql(statement).to_arrow_table()
            assert from_session.num_rows > 0 or name in FOUNDRY_VIEWS, name  # those: test_foundry_views.py
            assert from_session.to_pylist() == files.sql(statement).to_arrow_table().to_pylist(), name
            assert from_session.to_pylist() == database.sql(statement).to_arrow_table().to_pylist(), name


def test_a_query_session_cannot_change_the_database(warehouse):
    with open_duckdb(warehouse) as session:
        for statement in ("DELETE FROM snapshot_members", "DELETE FROM payloads",
                          "DROP VIEW warehouse.main.current_assistants",
                          "CREATE TABLE warehouse.main.extra AS SELECT 1"):
            with pytest.raises(duckdb.Error, match="read-only"):
                session.execute(statement)


def test_a_discover_snapshot_that_no_longer_lists_an_assistant_removes_it(tmp_path):
    fixtures = bundled_assistants()[:4]
    kept, dropped, invalid_then = fixtures[0], fixtures[1], fixtures[2]
    take_snapshot(tmp_path, D1, fixtures, ids=[x["id"] for x in fixtures])
    # D2 lists all but one; one listed body is now invalid (quarantined, so still listed).
    broken = {**invalid_then, "temperature": 3.5}
    take_snapshot(tmp_path, D2, [kept, broken, fixtures[3]])
    # D3 is an ids snapshot that does not ask for fixtures[3]: that removes nothing.
    take_snapshot(tmp_path, D3, [kept], ids=[kept["id"]])
    for opener in (open_duckdb, open_parquet):
        with opener(tmp_path) as con:
            got = {r["assistant_id"]: r["snapshot_date"]
                   for r in rows(con, "SELECT assistant_id, snapshot_date FROM current_assistants")}
        assert got == {kept["id"]: D3, invalid_then["id"]: D1, fixtures[3]["id"]: D2}, opener.__name__
        assert dropped["id"] not in got


def test_every_view_answers_on_a_warehouse_with_no_rows(tmp_path):
    (tmp_path / "parquet").mkdir()
    with open_parquet(tmp_path) as con:
        for name in VIEW_NAMES:
            assert rows(con, f"SELECT * FROM {name}") == [], name


def test_loading_any_table_creates_every_table_and_view(tmp_path):
    date_rows = pa.Table.from_pylist([{"snapshot_date": D1, "content_hash": "h1", "key": "k", "value": "v"}],
                                     schema=PAYLOAD_METADATA.schema)
    ParquetStore(tmp_path).write(PAYLOAD_METADATA, D1, date_rows)
    DuckDBStore(tmp_path).load_date(D1, {"payload_metadata": ParquetStore(tmp_path).partition_files(
        "payload_metadata", D1)})
    with duckdb.connect(str(tmp_path / "assistants.duckdb"), read_only=True) as con:
        names = {r[0] for r in con.execute("SELECT view_name FROM duckdb_views() WHERE NOT internal").fetchall()}
        tables = {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
        assert set(VIEW_NAMES) | set(VIEW_TABLES) <= names and set(STORED_TABLES) <= tables
        assert con.execute("SELECT count(*) FROM metadata_keys").fetchone() == (0,)  # no assistant is current


def test_the_source_defaults_to_the_database_and_falls_back_to_parquet(warehouse, tmp_path):
    con, source = open_source(warehouse)
    con.close()
    assert source == "duckdb"
    copy = tmp_path / "parquet_only"
    shutil.copytree(warehouse / "parquet", copy / "parquet")
    con, source = open_source(copy)
    with con:
        assert source == "parquet"
        assert rows(con, "SELECT count(*) AS n FROM current_assistants") == [{"n": len(Scenario().current())}]
