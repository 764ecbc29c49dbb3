"""``assistants-export migrate --to responses`` end to end: sandbox over loopback -> warehouse -> JSON Lines.

Scenario (real snapshots through the functions the Dagster assets call, then the history):

* D1: every bundled assistant;
* D2: A is deleted (``not_found``), C moves to a reasoning model with a non-default temperature.

So the current configurations are D1's without A, with C's D2 version; as of D1 they are all of D1's.
Every line the command writes must validate against the vendored CreateResponse schema, and the
command and the Python API must give the same answers.
"""

import datetime as dt
import json
import shutil
import subprocess

import jsonschema
import pytest
from cli_command import CLI

from assistants_export.connectors.history import rebuild_history
from assistants_export.connectors.migration.responses import to_responses_request
from assistants_export.connectors.migration.schema import load_create_response_schema
from assistants_export.connectors.migration.warehouse import migrate_warehouse
from assistants_export.connectors.openai_assistants.config import ClientConfig, Secret
from assistants_export.connectors.snapshot import IdSource, fetch_snapshot, flatten_snapshot, load_duckdb
from assistants_export.connectors.warehouse.views import open_duckdb, open_parquet
from assistants_export.pipelines.cli import run
from assistants_export.sandbox import SandboxServer, StaticCatalog, bundled_assistants

KEY = "sk-migrate-T4kP9wQ2zXcV"
D1, D2 = dt.date(2026, 11, 20), dt.date(2026, 11, 21)
VALIDATOR = jsonschema.Draft202012Validator(load_create_response_schema())
UNKNOWN = "asst_nobodyhome00000000000042"


def take_snapshot(warehouse, date, bodies, ids):
    with SandboxServer(StaticCatalog(bodies), api_key=KEY) as srv:
        config = ClientConfig(api_key=Secret(KEY), base_url=srv.base_url, initial_retry_delay=0.01,
                              max_retry_delay=0.02, max_attempts=2)
        fetch_snapshot(config, IdSource(ids=tuple(ids)), date, warehouse)
    flatten_snapshot(date, warehouse)
    load_duckdb(date, warehouse)
    rebuild_history(warehouse, date)


class Scenario:
    def __init__(self):
        self.fixtures = bundled_assistants()
        self.a, self.c = self.fixtures[0], self.fixtures[2]
        self.c2 = {**self.c, "model": "o3-mini", "temperature": 0.3}
        self.d1 = {x["id"]: x for x in self.fixtures}
        self.current = {**{k: v for k, v in self.d1.items() if k != self.a["id"]}, self.c["id"]: self.c2}

    def build(self, warehouse):
        take_snapshot(warehouse, D1, self.fixtures, self.d1)
        take_snapshot(warehouse, D2, [self.c2], [self.a["id"], self.c["id"]])


@pytest.fixture(scope="module")
def scenario():
    return Scenario()


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory, scenario):
    root = tmp_path_factory.mktemp("migrate") / "wh"
    scenario.build(root)
    return root


def migrate(capsys, *args):
    status = run(["migrate", "--to", "responses", *args])
    out, err = capsys.readouterr()
    return status, out, err


def lines(out):
    return [json.loads(line) for line in out.splitlines()]


def assert_valid(request):
    errors = list(VALIDATOR.iter_errors(request))
    assert not errors, errors[0].message[:300]


def test_every_current_assistant_becomes_a_valid_request(capsys, warehouse, scenario):
    status, out, err = migrate(capsys, "--warehouse", str(warehouse))
    assert (status, err) == (0, "")
    got = lines(out)
    assert [g["assistant_id"] for g in got] == sorted(scenario.current)
    for line in got:
        assert list(line) == ["source", "assistant_id", "name", "description", "created_at", "request", "warnings"]
        assert "input" not in line["request"]
        assert_valid(line["request"])
        body = scenario.current[line["assistant_id"]]
        assert line == {"source": "default", **to_responses_request(body).as_line()}
        assert (line["name"], line["description"], line["created_at"]) == (
            body["name"], body["description"], body["created_at"])
    changed = next(g for g in got if g["assistant_id"] == scenario.c["id"])
    assert changed["request"]["model"] == "o3-mini" and "temperature" not in changed["request"]
    assert "sampling_parameter_dropped" in [w["code"] for w in changed["warnings"]]


def test_as_of_a_past_day_gives_that_days_configurations(capsys, warehouse, scenario):
    for option in ("--as-of", "--date"):
        status, out, err = migrate(capsys, option, D1.isoformat(), "--warehouse", str(warehouse))
        assert (status, err) == (0, "")
        got = {g["assistant_id"]: g for g in lines(out)}
        assert set(got) == set(scenario.d1)
        assert got[scenario.c["id"]] == {"source": "default", **to_responses_request(scenario.c).as_line()}
        for line in got.values():
            assert_valid(line["request"])
    status, out, _ = migrate(capsys, "--as-of", "2026-12-31", "--warehouse", str(warehouse))
    assert status == 0 and {g["assistant_id"] for g in lines(out)} == set(scenario.current)


def test_ids_choose_assistants_and_a_file_writes_json_lines(capsys, warehouse, scenario, tmp_path):
    chosen = [scenario.fixtures[5]["id"], scenario.c["id"]]
    status, out, _ = migrate(capsys, "--ids", f"{chosen[0]}, {chosen[1]},{chosen[0]}", "--warehouse", str(warehouse))
    assert status == 0 and [g["assistant_id"] for g in lines(out)] == sorted(chosen)
    ids_file = tmp_path / "ids.txt"
    ids_file.write_text("\n".join(chosen) + "\n", encoding="utf-8")
    target = tmp_path / "out.jsonl"
    status, out, err = migrate(capsys, "--ids-file", str(ids_file), "-o", str(target), "--warehouse", str(warehouse))
    assert status == 0 and out == ""
    assert "2 assistant(s) migrated" in err
    assert [g["assistant_id"] for g in lines(target.read_text(encoding="utf-8"))] == sorted(chosen)
    assert list(tmp_path.glob(".*.tmp")) == []


def test_the_reasoning_model_list_comes_from_the_command_line(capsys, warehouse, scenario):
    status, out, _ = migrate(capsys, "--ids", scenario.c["id"], "--reasoning-models", "o1", "--warehouse",
                             str(warehouse))
    assert status == 0
    assert lines(out)[0]["request"]["temperature"] == 0.3


def test_the_parquet_files_alone_give_the_same_answers(capsys, warehouse, tmp_path):
    _, from_duckdb, _ = migrate(capsys, "--warehouse", str(warehouse))
    status, from_parquet, _ = migrate(capsys, "--source", "parquet", "--warehouse", str(warehouse))
    assert status == 0 and from_parquet == from_duckdb
    copy = tmp_path / "wh"
    shutil.copytree(warehouse / "parquet", copy / "parquet")
    status, without_db, _ = migrate(capsys, "--as-of", D1.isoformat(), "--warehouse", str(copy))
    _, with_db, _ = migrate(capsys, "--as-of", D1.isoformat(), "--warehouse", str(warehouse))
    assert status == 0 and without_db == with_db


def test_the_python_api_gives_the_same_answers_as_the_command(capsys, warehouse):
    for as_of in (None, D1):
        args = ["--as-of", as_of.isoformat()] if as_of else []
        _, out, _ = migrate(capsys, *args, "--warehouse", str(warehouse))
        api = [m.as_line() for m in migrate_warehouse(warehouse, as_of=as_of)]
        assert api == lines(out)


@pytest.mark.parametrize(("args", "status", "message"), [
    (["--ids", UNKNOWN], 1, "error: 1 ID(s) asked for are not live assistants in the current snapshot"),
    (["--as-of", "2026-11-31"], 2, "error: Invalid value for --as-of: '2026-11-31' is not a date like"),
    (["--as-of", "2020-01-01"], 1, "error: no assistant was live on 2020-01-01"),
    (["--ids", "a/b"], 1, "error: 'a/b' is not an assistant ID: contains a path separator"),
    (["--ids", "x", "--ids-file", "f"], 2, "error: give --ids or --ids-file, not both"),
    (["--ids-file", "/nonexistent/ids.txt"], 1, "error: IDs file '/nonexistent/ids.txt' does not exist"),
    (["--to", "chat"], 2, "error: Invalid value for '--to'"),
])
def test_errors_are_one_line(capsys, warehouse, args, status, message):
    got_status, out, err = migrate(capsys, *args, "--warehouse", str(warehouse))
    assert (got_status, out) == (status, "")
    assert err.startswith(message) and err.count("\n") == 1, err


def test_a_deleted_assistant_is_unknown_now_but_not_as_of_before(capsys, warehouse, scenario):
    status, _, err = migrate(capsys, "--ids", scenario.a["id"], "--warehouse", str(warehouse))
    assert status == 1 and scenario.a["id"] in err
    status, out, _ = migrate(capsys, "--ids", scenario.a["id"], "--as-of", D1.isoformat(), "--warehouse",
                             str(warehouse))
    assert status == 0 and lines(out)[0]["assistant_id"] == scenario.a["id"]


def test_a_missing_warehouse_is_one_line(capsys, tmp_path):
    status, out, err = migrate(capsys, "--warehouse", str(tmp_path / "none"))
    assert (status, out) == (1, "")
    assert err.startswith("error: no warehouse at ") and err.count("\n") == 1


def test_the_warehouse_is_left_as_it_was(capsys, warehouse):
    before = {p: p.stat().st_mtime_ns for p in warehouse.rglob("*") if p.is_file()}
    migrate(capsys, "--warehouse", str(warehouse))
    migrate(capsys, "--as-of", D1.isoformat(), "--source", "parquet", "--warehouse", str(warehouse))
    assert {p: p.stat().st_mtime_ns for p in warehouse.rglob("*") if p.is_file()} == before
@pytest.mark.parametrize("opener", [open_duckdb, open_parquet])
def test_the_view_gives_the_same_answers_as_the_command(capsys, warehouse, opener):
    _, out, _ = migrate(capsys, "--warehouse", str(warehouse))
    with opener(warehouse) as con:
        rows = con.sql("SELECT * FROM responses_migration").to_arrow_table().to_pylist()
    view = [{"source": r["source"], "assistant_id": r["assistant_id"], "name": r["name"],
             "description": r["description"], "created_at": r["created_at"], "request": json.loads(r["request"]),
             "warnings": json.loads(r["warnings"])} for r in rows]
    assert view == lines(out)


def test_the_installed_command_in_a_real_process(warehouse, scenario):
    command = [*CLI, "migrate", "--to", "responses",
               "--warehouse", str(warehouse)]
    done = subprocess.run(command, capture_output=True, text=True, encoding="utf-8", timeout=120, check=False)
    assert (done.returncode, done.stderr) == (0, "")
    got = lines(done.stdout)
    assert [g["assistant_id"] for g in got] == sorted(scenario.current)
    for line in got:
        assert_valid(line["request"])
    # A reader that goes away early (`| head -1`) ends the command quietly.
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE) as proc:
        first = proc.stdout.readline()
        proc.stdout.close()
        err = proc.stderr.read()
        assert proc.wait(timeout=120) == 0
    assert json.loads(first)["assistant_id"] == got[0]["assistant_id"] and err == b""


def test_a_trailing_comma_is_not_an_id(capsys, warehouse, scenario):
    status, out, _ = migrate(capsys, "--ids", f"{scenario.c['id']},", "--warehouse", str(warehouse))
    assert status == 0 and len(lines(out)) == 1
    status, _, err = migrate(capsys, "--ids", ",", "--warehouse", str(warehouse))
    assert status == 1 and err.startswith("error: no assistant ID given")


def test_a_day_the_history_does_not_cover_says_where_it_starts(capsys, warehouse, tmp_path):
    status, _, err = migrate(capsys, "--as-of", "2020-01-01", "--warehouse", str(warehouse))
    assert status == 1 and err.rstrip().endswith(f"(the history starts on {D1})")
    without_history = tmp_path / "wh"
    shutil.copytree(warehouse / "parquet", without_history / "parquet",
                    ignore=shutil.ignore_patterns("assistant_versions", "assistant_changes"))
    status, _, err = migrate(capsys, "--as-of", D1.isoformat(), "--warehouse", str(without_history))
    assert status == 1 and "the history is empty: run assistants-export snapshot first" in err
