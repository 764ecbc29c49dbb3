"""``assistants-export query`` and ``views``: formats, sources, errors, and the README's examples as shown."""

import csv
import datetime as dt
import io
import json
import os
import shlex
import shutil
import stat
import subprocess
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from cli_command import CLI
from rich.console import Console

from assistants_export.connectors.history import rebuild_history
from assistants_export.connectors.openai_assistants.config import ClientConfig, Secret
from assistants_export.connectors.snapshot import IdSource, fetch_snapshot, flatten_snapshot, load_duckdb
from assistants_export.connectors.warehouse import DuckDBStore
from assistants_export.connectors.warehouse.views import VIEW_NAMES
from assistants_export.pipelines.cli import run
from assistants_export.pipelines.cli.output import TABLE_MAX_ROWS, write_result
from assistants_export.sandbox import SandboxServer, StaticCatalog, bundled_assistants
from assistants_export.sandbox.entra import TokenServer
from assistants_export.sandbox.foundry import FoundryCatalog

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
    rebuild_history(warehouse, DATE)
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
    assert lines[0].split() == ["source", "snapshot_date", "model", "assistants", "tools"]
    assert set(lines[1]) == {"-", " "}
    models = {a["model"] for a in fixtures}
    assert len(lines) == 2 + len(models) + 1 and lines[-1] == f"({len(models)} rows)"
    gpt4o = next(line for line in lines if " gpt-4o " in line)
    assert gpt4o.split()[0] == "default"
    assert gpt4o.split()[3] == str(sum(a["model"] == "gpt-4o" for a in fixtures))


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
    assert as_csv.read_text(encoding="utf-8").startswith("source,snapshot_date,model,assistants,tools\n")


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
    ([], 2, "nothing to run: give a SQL query"),
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
    status, _, err = query(capsys, "CREATE TABLE scratch AS SELECT 1 AS x; SELECT * FROM scratch",
                           "--warehouse", str(warehouse))
    assert status == 1 and "exactly one query" in err  # scratch tables are refused too: use WITH
    status, out, _ = query(capsys, "WITH scratch AS (SELECT 1 AS x) SELECT * FROM scratch", "--format", "json",
                           "--warehouse", str(warehouse))
    assert (status, json.loads(out)) == (0, [{"x": 1}])
    assert duck(warehouse, "SELECT count(*) AS n FROM assistants") == before
    assert duck(warehouse, "SELECT count(*) AS n FROM duckdb_tables() WHERE table_name = 'scratch'") == [{"n": 0}]


def test_a_table_shows_at_most_its_row_limit_and_never_cuts_a_cell_off_a_terminal(capsys, warehouse):
    status, out, _ = query(capsys, f"SELECT range AS n FROM range({TABLE_MAX_ROWS + 5})",
                           "--warehouse", str(warehouse))
    lines = out.splitlines()
    assert status == 0 and len(lines) == 2 + TABLE_MAX_ROWS + 1
    assert lines[-1].startswith(f"({TABLE_MAX_ROWS + 5:,} rows, the first {TABLE_MAX_ROWS:,} shown")
    status, out, _ = query(capsys, "SELECT name, instructions FROM current_assistants "
                                   "WHERE length(instructions) = 256000", "--warehouse", str(warehouse))
    row = out.splitlines()[2]  # standard output is not a terminal here: the cell is printed whole
    assert status == 0 and "…" not in row and len(row) > 256000


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


@pytest.fixture(scope="module")
def readme_home(tmp_path_factory, fixtures):
    """A folder whose ``data/`` holds the bundled assistants (source ``default``) and a sandbox Azure AI Foundry
    project's agents (source ``foundry``, through Entra ID), so every view of the README's examples has rows."""
    root = tmp_path_factory.mktemp("readme")
    warehouse = root / "data"
    with SandboxServer(StaticCatalog(fixtures), api_key=KEY) as srv:
        fetch_snapshot(ClientConfig(api_key=Secret(KEY), base_url=srv.base_url),
                       IdSource(ids=tuple(a["id"] for a in fixtures)), DATE, warehouse)
    monkeypatch = pytest.MonkeyPatch()
    try:
        with TokenServer(root / "tls") as tokens, \
                SandboxServer(FoundryCatalog(30, seed=4), auth_style="entra", token_check=tokens.check) as project:
            for name, value in tokens.environment().items():
                monkeypatch.setenv(name, value)
            config = ClientConfig.from_env({}, api_key=Secret(""), base_url=project.base_url, auth_style="entra",
                                           entra_credential="environment")
            fetch_snapshot(config, IdSource(discover=True), DATE, warehouse, source_name="foundry")
    finally:
        monkeypatch.undo()
    for source in ("default", "foundry"):
        load_duckdb(DATE, warehouse, source_name=source)
        rebuild_history(warehouse, DATE, source_name=source)
    return root


def test_the_readme_examples_run_as_shown(capsys, readme_home, monkeypatch):
    home = readme_home
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
    assert (home / "metadata_keys.csv").read_text(encoding="utf-8").startswith("source,key,assistants,")
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


# --- queries cannot write -----------------------------------------------------------------------------------------

def warehouse_bytes(warehouse):
    return {p: p.read_bytes() for p in sorted(Path(warehouse).rglob("*")) if p.is_file()}


@pytest.mark.parametrize("statement, kind", [
    ("COPY (SELECT * FROM assistants) TO '{part}' (FORMAT parquet)", "COPY"),
    ("COPY (SELECT 1 AS x) TO '{out}/copy.csv'", "COPY"),
    ("COPY assistants TO '{out}/copy.parquet'", "COPY"),
    ("EXPORT DATABASE '{out}/export'", "EXPORT"),
    ("ATTACH '{out}/new.duckdb' AS scratch", "ATTACH"),
    ("ATTACH '{db}' AS again", "ATTACH"),
    ("INSTALL httpfs", "LOAD"),
    ("LOAD httpfs", "LOAD"),
    ("SET enable_external_access = true", "SET"),
    ("SET lock_configuration = false", "SET"),
    ("RESET lock_configuration", "SET"),
    ("PRAGMA enable_checkpoint_on_shutdown", "PRAGMA"),
    ("CALL checkpoint()", "CALL"),
    ("CREATE TABLE scratch AS SELECT 1", "CREATE"),
    ("DROP VIEW current_assistants", "DROP"),
    ("EXPLAIN ANALYZE COPY (SELECT 1 AS x) TO '{out}/explained.csv'", "EXPLAIN"),
    ("SELECT 1; COPY (SELECT 1 AS x) TO '{out}/second.csv'", "statements"),
])
@pytest.mark.parametrize("source", ["duckdb", "parquet"])
def test_no_statement_can_write_a_file_or_lift_the_limits(capsys, warehouse, tmp_path, statement, kind, source):
    part = next((warehouse / "parquet" / "payloads").rglob("*.parquet"))
    before = warehouse_bytes(warehouse)
    text = statement.format(part=part, out=tmp_path, db=warehouse / "assistants.duckdb")
    status, out, err = query(capsys, text, "--source", source, "--warehouse", str(warehouse))
    assert status == 1 and out == "" and err.count("\n") == 1 and kind in err, err
    assert warehouse_bytes(warehouse) == before
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("source", ["duckdb", "parquet"])
def test_the_session_itself_refuses_to_change_its_settings(warehouse, source):
    import duckdb

    from assistants_export.connectors.warehouse.views import open_source

    con, _ = open_source(warehouse, source)
    with con:
        for statement in ("SET enable_external_access = true", "SET autoinstall_known_extensions = true",
                          "SET lock_configuration = false"):
            with pytest.raises(duckdb.Error, match="configuration has been locked"):
                con.execute(statement)


def test_reading_a_users_own_csv_to_join_with_takes_allow_read(capsys, warehouse, tmp_path, fixtures):
    ids = tmp_path / "mine.csv"
    ids.write_text("assistant_id\n" + "\n".join(a["id"] for a in fixtures[:3]) + "\n", encoding="utf-8")
    statement = (f"SELECT count(*) AS n FROM current_assistants WHERE assistant_id IN "
                 f"(SELECT assistant_id FROM read_csv('{ids}'))")
    status, out, err = query(capsys, statement, "--format", "json", "--warehouse", str(warehouse))
    assert (status, out) == (1, "") and err.count("\n") == 1
    assert f"the query may not read {ids}" in err and "--allow-read" in err
    for allowed in (ids, tmp_path):  # the file, or its folder
        status, out, err = query(capsys, statement, "--format", "json", "--allow-read", str(allowed),
                                 "--warehouse", str(warehouse))
        assert (status, err, json.loads(out)) == (0, "", [{"n": 3}])


# --- queries read only the warehouse ------------------------------------------------------------------------------

SECRET = "sk-environ-Zx81kQ4vTw"


@pytest.mark.parametrize("source", ["duckdb", "parquet"])
def test_a_query_reads_the_environment_of_no_process(warehouse, source):
    """The finding: read_text('/proc/self/environ') printed the API key. In a process of its own, whose
    environment (the file /proc/self/environ shows) holds a key; DuckDB's Python package has no getenv()."""
    for statement in ("SELECT content FROM read_text('/proc/self/environ')",
                      "SELECT content FROM read_blob('/proc/self/environ')",
                      "SELECT * FROM read_csv('/proc/self/environ', header = false, sep = '\x01')",
                      "SELECT getenv('OPENAI_API_KEY') AS key"):
        done = subprocess.run([*CLI, "query", statement, "--format", "csv",
                               "--source", source, "--warehouse", str(warehouse)], capture_output=True, text=True,
                              timeout=180, check=False, env={**os.environ, "OPENAI_API_KEY": SECRET})
        assert done.returncode == 1 and done.stdout == "", statement
        assert done.stderr.startswith("error: ") and done.stderr.count("\n") == 1, done.stderr
        assert SECRET not in done.stderr and "Traceback" not in done.stderr


@pytest.mark.parametrize("statement", [
    "SELECT content FROM read_text('/etc/passwd')",
    "SELECT content FROM read_blob('/etc/hostname')",
    "SELECT * FROM glob('/etc/*')",
    "SELECT * FROM read_csv('{outside}')",
    "SELECT * FROM '{outside}'",
    "SELECT * FROM read_csv('{warehouse}/../outside.csv')",
    "SELECT * FROM read_parquet('https://example.com/x.parquet')",
    "SELECT count(*) FROM duckdb_extensions() WHERE installed",
])
@pytest.mark.parametrize("source", ["duckdb", "parquet"])
def test_files_outside_the_warehouse_are_refused_in_one_line(capsys, warehouse, statement, source):
    outside = warehouse.parent / "outside.csv"
    outside.write_text("a,b\n1,2\n", encoding="utf-8")
    text = statement.format(outside=outside, warehouse=warehouse)
    status, out, err = query(capsys, text, "--source", source, "--warehouse", str(warehouse))
    assert (status, out) == (1, "") and err.startswith("error: ") and err.count("\n") == 1, err
    assert "a query reads only the warehouse" in err or "the query failed" in err, err


@pytest.mark.parametrize("source", ["duckdb", "parquet"])
def test_the_warehouse_itself_stays_readable(capsys, warehouse, source, monkeypatch):
    """Its files by path, absolute or relative (the README's look at a held run reads data/held/...)."""
    files = "parquet/snapshot_members/*/*.parquet"
    monkeypatch.chdir(warehouse.parent)
    for path in (f"{warehouse}/{files}", f"data/{files}"):
        status, out, err = query(capsys, f"SELECT count(*) AS n FROM read_parquet('{path}')", "--format", "json",
                                 "--source", source, "--warehouse", "data")
        assert (status, err, json.loads(out)) == (0, "", [{"n": 64}])


def test_a_symlink_inside_the_warehouse_does_not_lead_out(capsys, warehouse, tmp_path):
    copy = tmp_path / "wh"
    shutil.copytree(warehouse / "parquet", copy / "parquet")
    secret = tmp_path / "secret.txt"
    secret.write_text(SECRET, encoding="utf-8")
    (copy / "link.txt").symlink_to(secret)
    (copy / "folder").symlink_to(tmp_path)
    for statement in (f"SELECT content FROM read_text('{copy}/link.txt')",
                      f"SELECT content FROM read_text('{copy}/folder/secret.txt')"):
        status, out, err = query(capsys, statement, "--warehouse", str(copy))
        assert status == 1 and SECRET not in out + err and "may not read" in err, err


def test_output_onto_a_symlink_or_a_fifo_is_refused(capsys, warehouse, tmp_path):
    target = tmp_path / "precious.txt"
    target.write_text("keep me", encoding="utf-8")
    link = tmp_path / "link.csv"
    link.symlink_to(target)
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    for path, kind in ((link, "a symbolic link"), (fifo, "a FIFO"), (tmp_path, "a folder")):
        status, _, err = query(capsys, "--view", "model_usage", "-o", str(path), "--warehouse", str(warehouse))
        assert status == 1 and err.count("\n") == 1 and f"it is {kind}" in err, err
    assert link.is_symlink() and target.read_text(encoding="utf-8") == "keep me"
    assert stat.S_ISFIFO(fifo.lstat().st_mode)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link.csv", "pipe.csv", "precious.txt"]


def test_a_device_is_refused_before_anything_is_written():
    import click

    from assistants_export.pipelines.cli.outfile import OutputTarget

    with pytest.raises(click.ClickException, match="it is a device"):
        OutputTarget.parse(os.devnull)
    assert stat.S_ISCHR(os.stat(os.devnull).st_mode)


def test_dash_means_standard_output(capsys, warehouse, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    status, out, err = query(capsys, "SELECT 1 AS x", "-o", "-", "--format", "json", "--warehouse", str(warehouse))
    assert (status, err, json.loads(out)) == (0, "", [{"x": 1}])
    assert list(tmp_path.iterdir()) == []


def test_parquet_to_standard_output(capsysbinary, warehouse, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    status = run(["query", "SELECT 1 AS x", "-o", "-", "--format", "parquet", "--warehouse", str(warehouse)])
    out, _ = capsysbinary.readouterr()
    assert status == 0 and pq.read_table(pa.BufferReader(out)).to_pylist() == [{"x": 1}]
    assert list(tmp_path.iterdir()) == []
