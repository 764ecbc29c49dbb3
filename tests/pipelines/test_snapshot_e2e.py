"""A snapshot end to end: sandbox over loopback HTTP, Dagster assets, real Parquet and DuckDB files."""

import datetime as dt
import json
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest
from assistant_rebuild import expected, rebuild
from dagster import DagsterInstance, materialize
from warehouse_state import duckdb_state, parquet_state

from assistants_export.connectors.core.schemas import ALL_TABLES, DERIVED_TABLES, STORED_TABLES
from assistants_export.connectors.warehouse import DuckDBStore, open_store
from assistants_export.connectors.warehouse.read import read_arrow
from assistants_export.pipelines.assets import build_snapshot_assets
from assistants_export.pipelines.cli import run
from assistants_export.pipelines.partitions import partition_key
from assistants_export.pipelines.resources import AssistantsApiResource, WarehouseResource
from assistants_export.sandbox import (
    Fault,
    FaultPlan,
    SandboxServer,
    StaticCatalog,
    bundled_assistants,
    invalid_assistants,
)

KEY = "sk-e2e-7YpQ2mVx9LkR4tWz"
DATE = dt.date(2026, 11, 20)
UNKNOWN = "asst_nobodyhome00000000000001"


@pytest.fixture(scope="module")
def fixtures():
    return bundled_assistants()


@pytest.fixture
def server(fixtures):
    bodies = {a["id"]: a for a in fixtures}
    bodies.update(invalid_assistants())
    with SandboxServer(StaticCatalog(bodies), api_key=KEY) as srv:
        yield srv


@pytest.fixture
def env(monkeypatch, server, warehouse_uri):
    """The warehouse of the test: a folder, and (a second run of each test) a bucket on an S3 server."""
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    return warehouse_uri


def snapshot(warehouse, *args, date=DATE):
    return run(["snapshot", "--date", date.isoformat(), "--warehouse", str(warehouse), "-q", "--force", *args])


def ids_file(tmp_path, ids):
    path = tmp_path / "ids.txt"
    path.write_text("\n".join(ids) + "\n", encoding="utf-8")
    return str(path)


def duck(warehouse, statement, **params):
    return DuckDBStore(warehouse).query(statement, params).to_pylist()


def parquet_rows(warehouse, table):
    """A table as a reader of the Parquet files alone sees it (the view tables joined over the stored ones)."""
    return read_arrow(table, warehouse=warehouse, source="parquet").to_pylist()


def comparable(rows, drop=("snapshot_at", "fetched_at", "started_at", "finished_at", "run_id")):
    return sorted(json.dumps({k: v for k, v in r.items() if k not in drop}, default=str, sort_keys=True)
                   for r in rows)


def test_every_assistant_lands_exactly_in_parquet_and_duckdb(env, tmp_path, fixtures):
    all_ids = [a["id"] for a in fixtures] + [*invalid_assistants(), UNKNOWN, "../files", ""]
    assert snapshot(env, "--ids-file", ids_file(tmp_path, all_ids)) == 0

    for table in ("assistants", "assistant_tools", "assistant_metadata", "assistant_tool_resources"):
        from_parquet = parquet_rows(env, table)
        from_duckdb = duck(env, f"SELECT * FROM {table}")
        assert comparable(from_parquet) == comparable(from_duckdb), table

    tables = {t.name: parquet_rows(env, t.name) for t in DERIVED_TABLES}
    assert len(tables["assistants"]) == len(fixtures)
    for source in fixtures:
        assert rebuild(tables, source["id"]) == expected(source)

    errors = {r["assistant_id"]: r for r in duck(env, "SELECT * FROM fetch_errors")}
    assert errors[UNKNOWN]["outcome"] == "not_found"
    assert errors["../files"]["outcome"] == "rejected_id"
    for bad_id, body in invalid_assistants().items():
        assert errors[bad_id]["outcome"] == "invalid"
        assert json.loads(errors[bad_id]["body"]) == body  # quarantined whole
    run_row = duck(env, "SELECT * FROM snapshot_runs")[0]
    assert (run_row["ok_count"], run_row["not_found_count"], run_row["invalid_count"], run_row["rejected_id_count"]) \
        == (len(fixtures), 1, len(invalid_assistants()), 1)


def test_rerunning_a_date_changes_nothing(env, tmp_path, fixtures):
    """Every table, Parquet and DuckDB, history included, compared row for row (less run IDs and clocks)."""
    path = ids_file(tmp_path, [a["id"] for a in fixtures[:20]] + [UNKNOWN])
    assert snapshot(env, "--ids-file", path) == 0
    first_parquet, first_duckdb = parquet_state(env), duckdb_state(env)
    assert {table for table, _ in first_parquet} >= set(STORED_TABLES)
    assert set(first_duckdb) >= set(ALL_TABLES) | {"assistant_history", "assistant_changes"}
    assert snapshot(env, "--ids-file", path) == 0
    assert parquet_state(env) == first_parquet
    assert duckdb_state(env) == first_duckdb


def test_dates_are_kept_apart_and_a_rerun_replaces_only_its_own(env, tmp_path, fixtures):
    assert snapshot(env, "--ids", ",".join(a["id"] for a in fixtures[:5]), date=DATE) == 0
    assert snapshot(env, "--ids", ",".join(a["id"] for a in fixtures[:3]), date=DATE + dt.timedelta(days=1)) == 0
    assert snapshot(env, "--ids", fixtures[0]["id"], date=DATE) == 0
    counts = duck(env, "SELECT snapshot_date, count(*) AS n FROM assistants GROUP BY 1 ORDER BY 1")
    assert [c["n"] for c in counts] == [1, 3]


def test_discover_mode_lists_everything_in_few_requests(env, server, fixtures):
    assert snapshot(env, "--discover") == 0
    # Every bundled assistant, plus the invalid bodies quarantined from the listing.
    assert len(duck(env, "SELECT assistant_id FROM assistants")) == len(fixtures)
    assert server.stats.list_requests <= (len(fixtures) + len(invalid_assistants())) // 100 + 1
    assert server.stats.total_requests == server.stats.list_requests
    assert duck(env, "SELECT mode FROM snapshot_runs") == [{"mode": "discover"}]


def test_wrong_key_stops_the_run_in_one_line_without_the_key(env, monkeypatch, capsys, fixtures, server):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-wrong-Q8fT3nB6zC1xV5aD")
    assert snapshot(env, "--ids", ",".join(a["id"] for a in fixtures)) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: ") and "OPENAI_API_KEY" in err
    assert "sk-wrong-Q8fT3nB6zC1xV5aD" not in err
    assert server.stats.total_requests == 1  # the preflight, then nothing
    assert open_store(env).partition_dates("snapshot_members") == []


def test_a_gone_endpoint_stops_the_run_in_one_line(env, monkeypatch, capsys, server):
    monkeypatch.setenv("OPENAI_BASE_URL", server.base_url.replace("/v1", "/v0"))
    assert snapshot(env, "--ids", "asst_1,asst_2") == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "does not serve the Assistants API" in err


def test_a_retired_endpoint_without_preflight_still_stops_at_the_first_answer(env, capsys, fixtures):
    with SandboxServer(StaticCatalog(fixtures), api_key=KEY, gone=True) as gone:
        assert run(["snapshot", "--date", DATE.isoformat(), "--warehouse", str(env), "-q", "--force", "--no-preflight",
                    "--base-url", gone.base_url, "--concurrency", "2",
                    "--ids", ",".join(a["id"] for a in fixtures)]) == 1
        assert gone.stats.total_requests <= 2
    assert "does not serve the Assistants API" in capsys.readouterr().err


@pytest.mark.parametrize(("args", "message"), [
    (["--ids", "a", "--discover"], "give only one of"),
    ([], "no assistants to fetch"),
    (["--ids-file", "/nonexistent/ids.txt"], "does not exist"),
    (["--concurrency", "0", "--ids", "a"], "concurrency must be"),
    (["--base-url", "ftp://example.com", "--ids", "a"], "not an http(s) URL"),
])
def test_bad_invocations_end_in_one_line(env, capsys, args, message):
    assert snapshot(env, *args) != 0
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err


def test_bad_date_is_refused(env, capsys):
    assert run(["snapshot", "--date", "2026-13-01", "--ids", "a"]) == 2
    assert "--date" in capsys.readouterr().err


def test_missing_key_names_the_variable(env, monkeypatch, capsys):
    monkeypatch.delenv("OPENAI_API_KEY")
    assert snapshot(env, "--ids", "asst_1") == 1
    assert "OPENAI_API_KEY is not set" in capsys.readouterr().err


def test_azure_style_end_to_end(monkeypatch, tmp_path, fixtures):
    monkeypatch.setenv("AZURE_OPENAI_API_KEY", KEY)
    with SandboxServer(StaticCatalog(fixtures[:5]), api_key=KEY, auth_style="azure") as azure:
        status = run(["snapshot", "--date", DATE.isoformat(), "--warehouse", str(tmp_path), "-q", "--force",
                      "--auth-style", "azure", "--api-version", "2024-05-01-preview", "--base-url", azure.base_url,
                      "--api-key-env", "AZURE_OPENAI_API_KEY", "--ids", ",".join(a["id"] for a in fixtures[:5])])
    assert status == 0
    assert len(duck(tmp_path, "SELECT * FROM assistants")) == 5


def test_faults_are_retried_until_every_assistant_lands_once(tmp_path, fixtures):
    plan = FaultPlan(rate=0.5, seed=3, retry_after_seconds=0.05, retry_after_ms=20,
                     kinds=(Fault.RATE_LIMIT, Fault.RATE_LIMIT_MS, Fault.SERVER_ERROR, Fault.BAD_GATEWAY,
                            Fault.UNAVAILABLE, Fault.RESET, Fault.TRUNCATED, Fault.HTML),
                     always_fail_ids=frozenset({fixtures[0]["id"]}),
                     scripted={fixtures[1]["id"]: [Fault.NO_RETRY]})
    with SandboxServer(StaticCatalog(fixtures), api_key=KEY, faults=plan) as srv, \
            DagsterInstance.ephemeral(tempdir=str(tmp_path / "dagster")) as instance:
        api = AssistantsApiResource(api_key=KEY, base_url=srv.base_url, initial_retry_delay=0.01,
                                    max_retry_delay=0.02, max_attempts=4)
        result = materialize(list(build_snapshot_assets()), partition_key=partition_key(DATE),
                             instance=instance,
                             resources={"api": api, "warehouse": WarehouseResource(path=str(tmp_path))},
                             run_config={"ops": {"fetch_assistants": {"config": {"force": True,
                                 "assistant_ids": [a["id"] for a in fixtures]}}}})
        assert result.success
        assert srv.stats.requests_by_id[fixtures[0]["id"]] == 4
        assert srv.stats.requests_by_id[fixtures[1]["id"]] == 1
    landed = [r["assistant_id"] for r in duck(tmp_path, "SELECT assistant_id FROM assistants")]
    assert sorted(landed) == sorted(a["id"] for a in fixtures[2:])
    errors = {r["assistant_id"]: r for r in duck(tmp_path, "SELECT * FROM fetch_errors")}
    assert set(errors) == {fixtures[0]["id"], fixtures[1]["id"]}
    assert (errors[fixtures[0]["id"]]["outcome"], errors[fixtures[0]["id"]]["attempts"]) == ("failed", 4)
    assert (errors[fixtures[1]["id"]]["http_status"], errors[fixtures[1]["id"]]["attempts"]) == (500, 1)


def test_the_key_is_written_nowhere(tmp_path, monkeypatch, fixtures, capfd):
    home = tmp_path / "dagster_home"
    home.mkdir()
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    warehouse = tmp_path / "wh"
    plan = FaultPlan(rate=0.3, seed=1, retry_after_ms=10, kinds=(Fault.RATE_LIMIT_MS, Fault.SERVER_ERROR))
    with SandboxServer(StaticCatalog(fixtures[:10]), api_key=KEY, faults=plan) as srv:
        monkeypatch.setenv("OPENAI_BASE_URL", srv.base_url)
        assert run(["snapshot", "--date", DATE.isoformat(), "--warehouse", str(warehouse), "-v", "--force",
                    "--ids", ",".join(a["id"] for a in fixtures[:10])]) == 0
    with SandboxServer(StaticCatalog(fixtures[:2]), api_key="sk-other-key-entirely") as other:
        monkeypatch.setenv("OPENAI_BASE_URL", other.base_url)
        assert run(["snapshot", "--date", DATE.isoformat(), "--warehouse", str(warehouse), "-v", "--force",
                    "--ids", fixtures[0]["id"]]) == 1
    out, err = capfd.readouterr()
    assert KEY not in out and KEY not in err
    needle = KEY.encode()
    for path in [*home.rglob("*"), *warehouse.rglob("*")]:
        if path.is_file():
            assert needle not in path.read_bytes(), path
    # Parquet is zstd-compressed, so the bytes above say nothing about it: search the decoded values too.
    decoded = dict(decoded_tables(warehouse))
    assert {name.split(":")[1].split("/")[0] for name in decoded if name.startswith("parquet:")} >= set(STORED_TABLES)
    assert {name.split(":")[1] for name in decoded if name.startswith("duckdb:")} >= set(ALL_TABLES)
    # The search sees stored content (so it would see the key): the longest instructions, in both stores.
    instructions = max((a["instructions"] or "" for a in fixtures[:10]), key=len)
    shown = json.dumps(instructions, ensure_ascii=False)[1:-1]
    assert shown and any(shown in text for name, text in decoded.items() if name.startswith("parquet:payloads/"))
    assert shown in decoded["duckdb:assistants"]
    for name, text in decoded.items():
        assert KEY not in text, name


def decoded_tables(warehouse):
    """``(name, text)``: every column of every Parquet file and of every DuckDB table, decoded, as JSON text."""
    root = Path(warehouse) / "parquet"
    for path in sorted(root.rglob("*.parquet")):
        rows = pq.read_table(path).to_pylist()
        yield f"parquet:{path.relative_to(root).as_posix()}", json.dumps(rows, default=str, ensure_ascii=False)
    with duckdb.connect(str(Path(warehouse) / "assistants.duckdb"), read_only=True) as con:
        tables = [r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()]
        # the stored tables and the views users query (assistants, raw_assistants, ...: joins over them)
        for table in tables:
            rows = con.execute(f'SELECT * FROM "{table}"').fetchall()
            yield f"duckdb:{table}", json.dumps(rows, default=str, ensure_ascii=False)


def test_the_readme_sample_sql_runs_on_a_snapshot(env, tmp_path, fixtures):
    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    block = readme.split("## Sample SQL", 1)[1].split("```sql\n", 1)[1].split("```", 1)[0]
    statements = [s.strip() for s in block.split(";") if s.strip()]
    assert len(statements) == 5
    # The samples read the newest snapshot; an older one with other answers must not be what they read.
    assert all("snapshot_date = (SELECT max(snapshot_date) FROM snapshot_runs)" in s for s in statements)
    assert snapshot(env, "--ids", UNKNOWN, "--allow-empty", date=DATE - dt.timedelta(days=1)) == 0
    assert snapshot(env, "--ids", ",".join(a["id"] for a in fixtures)) == 0
    answers = [duck(env, statement) for statement in statements]
    assert answers[0] and answers[1] and answers[3], "the samples should answer something on the bundled data"
    assert answers[4] == []  # no fetch problems for valid IDs


def test_query_backfill_and_rebuild_answer_the_same_on_the_database_and_the_stored_tables(env, tmp_path, fixtures,
                                                                                         capsys):
    """The commands a user runs after a night, on a folder and on a bucket: query (the database, and the stored
    tables alone), a backfill of the stored date, and a database rebuilt from the stored tables."""
    ids = [a["id"] for a in fixtures[:8]]
    assert snapshot(env, "--ids", ",".join(ids)) == 0
    statement = "SELECT assistant_id, model FROM assistants ORDER BY assistant_id"
    answers = []
    for source in ("duckdb", "parquet"):
        capsys.readouterr()
        assert run(["query", statement, "--warehouse", env, "--source", source, "--format", "json"]) == 0
        answers.append(json.loads(capsys.readouterr().out))
    assert answers[0] == answers[1] and [r["assistant_id"] for r in answers[0]] == sorted(ids)
    before = duckdb_state(env)
    assert run(["backfill", "--from", DATE.isoformat(), "--to", DATE.isoformat(), "--warehouse", env]) == 0
    assert duckdb_state(env) == before
    DuckDBStore(env).path.unlink()
    assert run(["rebuild-duckdb", "--warehouse", env]) == 0
    assert duckdb_state(env) == before
