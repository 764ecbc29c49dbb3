"""``assistants-export query --file PATH --param NAME=VALUE``: every bundled query file runs as shipped."""

import copy
import datetime as dt
import json
import re
from pathlib import Path

import pytest
from snapshot_days import snapshot_days

from assistants_export.pipelines.cli import run
from assistants_export.pipelines.cli.query import parse_params
from assistants_export.sandbox import bundled_assistants

KEY = "sk-query-files-Hx4mT8"
DAY1, DAY2 = dt.date(2026, 11, 19), dt.date(2026, 11, 20)
SQL = Path(__file__).parents[2] / "sql"
FILES = sorted([*SQL.glob("audit/*.sql"), *SQL.glob("examples/*.sql")])


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory):
    """Two snapshots: on the second day one assistant is gone and another switched model."""
    root = tmp_path_factory.mktemp("query_files") / "data"
    first = bundled_assistants()[:10]
    second = copy.deepcopy(first[1:])
    second[0]["model"] = "gpt-4o-mini" if second[0]["model"] != "gpt-4o-mini" else "gpt-4o"
    return snapshot_days(root, KEY, [a["id"] for a in first], {DAY1: first, DAY2: second})


def _values():
    first = bundled_assistants()[:2]
    return {"snapshot_date": DAY2.isoformat(), "from_date": DAY1.isoformat(), "to_date": DAY2.isoformat(),
            "as_of": DAY2.isoformat(), "days": "7", "assistant_id": first[1]["id"]}


def _names(text):
    """The $names a query file uses (none of the bundled files has a $ followed by a letter in a string)."""
    return sorted(set(re.findall(r"\$([A-Za-z_][A-Za-z0-9_]*)", text)))


@pytest.mark.parametrize("source", ["duckdb", "parquet"])
@pytest.mark.parametrize("path", FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_bundled_query_file_runs_with_its_parameters(warehouse, capsys, path, source):
    text = path.read_text(encoding="utf-8")
    assert text.startswith("--")  # the leading comment that used to be read as an option
    values = _values()
    params = [f"--param={name}={values[name]}" for name in _names(text)]
    status = run(["query", "--file", str(path), *params, "--format", "json", "--source", source,
                  "--warehouse", str(warehouse)])
    out, err = capsys.readouterr()
    assert status == 0, err
    rows = json.loads(out)
    assert isinstance(rows, list)


def test_the_audit_queries_answer_from_the_two_snapshots(warehouse, capsys):
    def rows(name, *params):
        status = run(["query", "--file", str(SQL / name), *params, "--format", "json", "--warehouse",
                      str(warehouse)])
        out, err = capsys.readouterr()
        assert status == 0, err
        return json.loads(out)

    gone, switched = (a["id"] for a in bundled_assistants()[:2])
    changes = rows("audit/changes_on_date.sql", "--param", f"snapshot_date={DAY2}")
    assert {(r["assistant_id"], r["change_type"], r["field"]) for r in changes} >= {
        (gone, "deleted", None), (switched, "updated", "model")}
    deletions = rows("audit/recent_deletions.sql", "--param", f"as_of={DAY2}", "--param", "days=7")
    assert [r["assistant_id"] for r in deletions] == [gone]
    per_model = rows("examples/assistants_per_model.sql", "--param", f"snapshot_date={DAY1}")
    assert sum(r["assistants"] for r in per_model) == 10


def test_parameters_are_typed_and_never_pasted(warehouse, capsys):
    assert parse_params(("d=2026-11-20", "n=7", "s=O'Brien; DROP TABLE x", "$x=-3")) == {
        "d": dt.date(2026, 11, 20), "n": 7, "s": "O'Brien; DROP TABLE x", "x": -3}
    status = run(["query", "SELECT $s AS s, typeof($d) AS d, typeof($n) AS n", "--param", "s=a'b\"c",
                  "--param", "d=2026-11-20", "--param", "n=7", "--format", "json", "--warehouse", str(warehouse)])
    out, err = capsys.readouterr()
    assert status == 0, err
    assert json.loads(out) == [{"s": "a'b\"c", "d": "DATE", "n": "INTEGER"}]


@pytest.mark.parametrize(("args", "message"), [
    (["--file", "sql/audit/changes_on_date.sql"], "--param NAME=VALUE"),
    (["--file", "sql/audit/changes_on_date.sql", "--param", "snapshot_date=2026-11-20", "--param", "x=1"],
     "--param NAME=VALUE"),
    (["--file", "sql/audit/changes_on_date.sql", "--param", "snapshot_date"], "is not NAME=VALUE"),
    (["--file", "sql/audit/changes_on_date.sql", "--param", "snapshot_date=2026-13-40"], "is not one"),
    (["--file", "sql/audit/changes_on_date.sql", "SELECT 1"], "give one of"),
    (["--view", "model_usage", "--param", "a=1"], "a view takes none"),
])
def test_mistakes_end_in_one_line(warehouse, capsys, args, message):
    root = Path(__file__).parents[2]
    args = [str(root / a) if a.startswith("sql/") else a for a in args]
    status = run(["query", *args, "--warehouse", str(warehouse)])
    _, err = capsys.readouterr()
    assert status != 0 and message in err and len(err.strip().splitlines()) == 1, err


def test_a_file_is_held_to_one_read_only_statement(warehouse, tmp_path, capsys):
    two = tmp_path / "two.sql"
    two.write_text("-- two statements\nSELECT 1;\nSELECT 2;\n", encoding="utf-8")
    writes = tmp_path / "writes.sql"
    writes.write_text(f"-- a write\nCOPY (SELECT 1) TO '{tmp_path / 'out.csv'}'", encoding="utf-8")
    for path, message in ((two, "exactly one query"), (writes, "read-only")):
        status = run(["query", "--file", str(path), "--warehouse", str(warehouse)])
        _, err = capsys.readouterr()
        assert status == 1 and message in err, err
    assert not (tmp_path / "out.csv").exists()
