"""``assistants-export query`` and ``views``: formats, sources, errors, and the README's examples as shown."""

import csv
import datetime as dt
import io
import json
import shlex
import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from rich.console import Console

from connectors.openai_assistants.config import ClientConfig, Secret
from connectors.snapshot import IdSource, fetch_snapshot, flatten_snapshot, load_duckdb
from connectors.warehouse import DuckDBStore
from connectors.warehouse.views import VIEW_NAMES
from pipelines.cli import run
from pipelines.cli.output import TABLE_MAX_ROWS, write_result
from sandbox import SandboxServer, StaticCatalog, bundled_assistants

KEY = "sk-query-Vb7nQ2xK9pLm"
DATE = dt.date(2026, 11, 20)
README = Path(__file__).parents[2] / "README.md"


@pytest.fixture(scope="module")
def fixtures():
    return bundled_assistants()


@pytest.fixture(scope="module")
def home(tmp_path_factory, fixtures):
    """A folder whose ``data/`` is a warehouse holding one real snapshot of the bundled assistants."""
    root = tmp_path_factory.mktemp("query")
    warehouse = root / "data"
    with SandboxServer(StaticCatalog(fixtures), api_key=KEY) as srv:
        config = ClientConfig(api_key=Secret(KEY), base_url=srv.base_url)
        fetch_snapshot(config, IdSource(ids=tuple(a["id"] for a in fixtures)), DATE, warehouse)
    flatten_snapshot(DATE, warehouse)
    load_duckdb(DATE, warehouse)
    return root


@pytest.fixture
def warehouse(home):
    return home / "data"


def query(capsys, *args):
    """Run ``assistants-export query ...``; returns (status, stdout, stderr)."""
    status = run(["query", *args])
    out, err = capsys.readouterr()
    return status, out, err


def duck(warehouse, statement):
    return DuckDBStore(warehouse).query(statement).to_pylist()


def test_views_lists_every_view_on_one_line(capsys):
    assert run(["views"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines] == list(VIEW_NAMES)
    assert all(len(line.split(None, 1)) == 2 for line in lines)


def test_a_view_prints_as_a_plain_table_when_piped(capsys, warehouse, fixtures):
    status, out, err = query(capsys, "--view", "model_usage", "--warehouse", str(warehouse))
    assert (status, err) == (0, "")
    lines = out.splitlines()
    assert lines[0].split() == ["snapshot_date", "model", "assistants", "tools"]
    assert set(lines[1]) == {"-", " "}
    models = {a["model"] for a in fixtures}
    assert len(lines) == 2 + len(models) + 1 and lines[-1] == f"({len(models)} rows)"
    gpt4o = next(line for line in lines if " gpt-4o " in line)
    assert gpt4o.split()[2] == str(sum(a["model"] == "gpt-4o" for a in fixtures))


def test_csv_renders_dates_timestamps_maps_lists_and_nulls(capsys, warehouse):
    columns = "assistant_id, snapshot_date, created_at, metadata, code_interpreter_file_ids, temperature, " \
              "response_format_json_schema_strict"
    statement = f"SELECT {columns} FROM current_assistants ORDER BY assistant_id"
    status, out, _ = query(capsys, statement, "--format", "csv", "--warehouse", str(warehouse))
    assert status == 0
    got = list(csv.DictReader(io.StringIO(out)))
    expected = duck(warehouse, statement)
    assert len(got) == len(expected) == 64
    for row, want in zip(got, expected, strict=True):
        assert row["snapshot_date"] == want["snapshot_date"].isoformat()
        assert dt.datetime.fromisoformat(row["created_at"]) == want["created_at"]
        assert (json.loads(row["metadata"]) if row["metadata"] else None) == \
            (None if want["metadata"] is None else dict(want["metadata"]))
        files = want["code_interpreter_file_ids"]
        assert row["code_interpreter_file_ids"] == ("" if files is None else json.dumps(files))
        assert row["temperature"] == ("" if want["temperature"] is None else str(want["temperature"]))
        strict = want["response_format_json_schema_strict"]
        assert row["response_format_json_schema_strict"] == {None: "", True: "true", False: "false"}[strict]


def test_json_keeps_types(capsys, warehouse):
    statement = "SELECT assistant_id, snapshot_date, tool_count, metadata, file_search_vector_store_ids, top_p " \
                "FROM current_assistants ORDER BY assistant_id"
    status, out, _ = query(capsys, statement, "--format", "json", "--warehouse", str(warehouse))
    assert status == 0
    got = json.loads(out)
    expected = duck(warehouse, statement)
    assert [r["assistant_id"] for r in got] == [r["assistant_id"] for r in expected]
    for row, want in zip(got, expected, strict=True):
        assert row == {**want, "snapshot_date": want["snapshot_date"].isoformat(),
                       "metadata": None if want["metadata"] is None else dict(want["metadata"])}


def test_parquet_and_the_format_from_the_extension(capsys, warehouse, tmp_path):
    target = tmp_path / "functions.parquet"
    status, out, _ = query(capsys, "--view", "function_catalog", "--output", str(target),
                           "--warehouse", str(warehouse))
    assert (status, out) == (0, "")
    written = pq.read_table(target)
    assert written.to_pylist() == DuckDBStore(warehouse).query("SELECT * FROM function_catalog").to_pylist()
    assert list(tmp_path.iterdir()) == [target]  # no temporary file left behind

    as_csv = tmp_path / "models.csv"
    assert query(capsys, "--view", "model_usage", "-o", str(as_csv), "--warehouse", str(warehouse))[0] == 0
    assert as_csv.read_text(encoding="utf-8").startswith("snapshot_date,model,assistants,tools\n")


@pytest.mark.parametrize("view", ["function_catalog", "metadata_keys", "instruction_stats"])
def test_the_parquet_source_gives_the_same_answers(capsys, warehouse, view):
    # Every view is compared across the sources in tests/warehouse/test_views.py; here, through the CLI.
    _, from_duckdb, _ = query(capsys, "--view", view, "--format", "json", "--warehouse", str(warehouse))
    status, from_parquet, _ = query(capsys, "--view", view, "--format", "json", "--source", "parquet",
                                    "--warehouse", str(warehouse))
    assert status == 0 and json.loads(from_parquet) == json.loads(from_duckdb) != []


def test_without_a_database_the_parquet_files_are_queried(capsys, warehouse, tmp_path):
    shutil.copytree(warehouse / "parquet", tmp_path / "parquet")
    status, out, _ = query(capsys, "SELECT count(*) AS n FROM current_assistants", "--format", "json",
                           "--warehouse", str(tmp_path))
    assert (status, json.loads(out)) == (0, [{"n": 64}])
    status, _, err = query(capsys, "--view", "model_usage", "--source", "duckdb", "--warehouse", str(tmp_path))
    assert status == 1 and "no DuckDB database" in err


@pytest.mark.parametrize(("args", "status", "message"), [
    (["SELEC 1"], 1, "the query failed: Parser Error"),
    (["SELECT * FROM assistans"], 1, "Table with name assistans does not exist"),
    (["--view", "nope"], 1, "unknown view 'nope'"),
    (["SELECT 1", "--view", "model_usage"], 2, "not both"),
    ([], 2, "give either"),
    (["SELECT 1", "--format", "parquet"], 2, "--output"),
    (["DELETE FROM assistants"], 1, "read-only"),
    (["SELECT CAST(CASE WHEN range > 25000 THEN 'x' ELSE '1' END AS INTEGER) FROM range(30000)", "-o", "x.csv"],
     1, "Conversion Error"),
])
def test_errors_are_one_line(capsys, warehouse, args, status, message, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    got, _, err = query(capsys, *args, "--warehouse", str(warehouse))
    assert got == status
    assert err.startswith("error: ") and err.count("\n") == 1 and message in err, err
    assert list(tmp_path.iterdir()) == []  # a failed query writes no file, not even half of one


def test_a_missing_warehouse_is_one_line(capsys, tmp_path):
    status, _, err = query(capsys, "--view", "model_usage", "--warehouse", str(tmp_path / "none"))
    assert status == 1 and err.count("\n") == 1 and "no warehouse at" in err


def test_queries_leave_the_warehouse_as_it_was(capsys, warehouse):
    before = duck(warehouse, "SELECT count(*) AS n FROM assistants")
    status, _, _ = query(capsys, "CREATE TABLE scratch AS SELECT 1 AS x; SELECT * FROM scratch",
                         "--warehouse", str(warehouse))
    assert status == 0  # the session's own scratch space, gone when the command ends
    assert duck(warehouse, "SELECT count(*) AS n FROM assistants") == before
    assert duck(warehouse, "SELECT count(*) AS n FROM duckdb_tables() WHERE table_name = 'scratch'") == [{"n": 0}]


def test_a_table_shows_at_most_its_row_limit_and_cuts_long_cells(capsys, warehouse):
    status, out, _ = query(capsys, f"SELECT range AS n FROM range({TABLE_MAX_ROWS + 5})",
                           "--warehouse", str(warehouse))
    lines = out.splitlines()
    assert status == 0 and len(lines) == 2 + TABLE_MAX_ROWS + 1
    assert lines[-1].startswith(f"({TABLE_MAX_ROWS + 5:,} rows, the first {TABLE_MAX_ROWS:,} shown")
    status, out, _ = query(capsys, "SELECT name, instructions FROM current_assistants "
                                   "WHERE length(instructions) = 256000", "--warehouse", str(warehouse))
    row = out.splitlines()[2]
    assert status == 0 and row.endswith("…") and len(row) < 200


def test_on_a_terminal_the_table_is_drawn_by_rich():
    reader = pa.RecordBatchReader.from_batches(
        pa.schema([("model", pa.string()), ("n", pa.int64())]),
        [pa.record_batch([["gpt-4o", None], [3, 1]], names=["model", "n"])])
    console = Console(file=io.StringIO(), force_terminal=True, width=80, color_system=None)
    assert write_result(reader, "table", None, terminal=console) == 2
    drawn = console.file.getvalue()
    assert "gpt-4o" in drawn and "NULL" in drawn and "(2 rows)" in drawn and "─" in drawn


def readme_commands():
    section = README.read_text(encoding="utf-8").split("## Views and queries", 1)[1].split("\n## ", 1)[0]
    commands = []
    for block in section.split("```sh\n")[1:]:
        commands += [line for line in block.split("```", 1)[0].splitlines() if line.startswith(".venv/bin/")]
    return commands


def test_the_readme_examples_run_as_shown(capsys, home, monkeypatch):
    commands = readme_commands()
    assert len(commands) >= len(VIEW_NAMES) + 1
    assert {v for v in VIEW_NAMES if any(v in c for c in commands)} == set(VIEW_NAMES), "an example per view"
    monkeypatch.chdir(home)  # where ./data, the default warehouse, is
    for command in commands:
        argv = shlex.split(command)
        assert argv[0] == ".venv/bin/assistants-export"
        assert run(argv[1:]) == 0, command
        out, err = capsys.readouterr()
        assert err == "", command
        assert "(0 rows)" not in out and out.strip() != "[]", f"{command} answers nothing on the bundled data"
    assert (home / "metadata_keys.csv").read_text(encoding="utf-8").startswith("key,assistants,")
    assert pq.read_table(home / "functions.parquet").num_rows > 0


def test_values_without_a_json_type_get_one_text_form(capsys, warehouse):
    statement = ("SELECT {'a': 1, 'b': [1, 2]} AS s, MAP {1: 'x'} AS m, INTERVAL '1 month 2 days 3.5 seconds' AS i, "
                 "'x'::BLOB AS b, 1.5::DECIMAL(4, 2) AS d, sum(2) AS h, 'nan'::DOUBLE AS f, TIME '10:00' AS t, "
                 "TIMESTAMPTZ '2026-01-01 10:00:00+00' AS ts, NULL AS n, true AS y")
    status, out, _ = query(capsys, statement, "--format", "json", "--warehouse", str(warehouse))
    assert status == 0
    assert json.loads(out) == [{"s": {"a": 1, "b": [1, 2]}, "m": {"1": "x"}, "i": "P1M2DT3.5S", "b": "eA==",
                                "d": 1.5, "h": 2, "f": "nan", "t": "10:00:00", "ts": "2026-01-01T10:00:00+00:00",
                                "n": None, "y": True}]
    status, out, _ = query(capsys, statement, "--format", "csv", "--warehouse", str(warehouse))
    assert next(csv.reader(io.StringIO(out.splitlines()[1]))) == [
        '{"a": 1, "b": [1, 2]}', '{"1": "x"}', "P1M2DT3.5S", "eA==", "1.5", "2", "nan", "10:00:00",
        "2026-01-01T10:00:00+00:00", "", "true"]
