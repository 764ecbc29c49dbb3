"""``assistants-export report``: the numbers in the page are the views' and the catalogue's; bad input is one line."""

from __future__ import annotations

import collections
import datetime as dt
import json
import os
import re
import shutil
from pathlib import Path

import pytest
from evolving_nights import EXTRA_IDS, START, evolving_nights

from assistants_export import sql
from assistants_export.connectors.core.schemas import ASSISTANT_CHANGES
from assistants_export.connectors.migration.warehouse import migrate_warehouse
from assistants_export.connectors.report import svg
from assistants_export.connectors.report.data import instructions_diff
from assistants_export.connectors.report.summary import NIGHT_COLUMNS, night_summary
from assistants_export.connectors.warehouse import ParquetStore
from assistants_export.connectors.warehouse.views import open_source
from assistants_export.pipelines.cli import run

NIGHTS = 4
DAYS = [START + dt.timedelta(days=i) for i in range(NIGHTS)]


@pytest.fixture(scope="module")
def night_catalog(tmp_path_factory):
    root = tmp_path_factory.mktemp("report") / "wh"
    catalog = evolving_nights(root, n=40, nights=NIGHTS)
    return root, catalog


@pytest.fixture(scope="module")
def page(night_catalog, tmp_path_factory):
    root, _ = night_catalog
    out = tmp_path_factory.mktemp("report_out") / "report.html"
    assert run(["report", "-o", str(out), "--warehouse", str(root)]) == 0
    return out.read_text(encoding="utf-8")


def embedded(text: str, element: str = "report-data") -> dict:
    found = re.search(rf'<script type="application/json" id="{element}">(.*?)</script>', text, re.S)
    assert found, element
    return json.loads(found.group(1))


def rows(data: dict, name: str) -> list[dict]:
    table = data[name]
    return [dict(zip(table["columns"], row, strict=True)) for row in table["rows"]]


def ask(root: Path, name: str, **params) -> list[dict]:
    con, _ = open_source(str(root))
    with con:
        cursor = con.execute(sql.load(name), params)
        columns = [d[0] for d in cursor.description]
        return [dict(zip(columns, r, strict=True)) for r in cursor.fetchall()]


def test_the_page_holds_every_chart_with_its_sql_file_and_table(page):
    data = embedded(page)
    for name, table in data.items():
        if table["sql"]:
            assert Path(__file__).parents[2].joinpath(table["sql"]).is_file()
            assert f"<code>{table['sql']}</code>" in page, name
    charts = re.findall(r'<svg [^>]*data-chart="([a-z_]+)"', page)
    assert charts == ["fleet_by_model", "creations_deletions", "changes_by_field", "most_changed", "tool_types",
                      "shared_functions", "shared_resources", "migration_readiness", "migration_warnings",
                      "run_requests", "run_errors"]
    for chart in re.findall(r"<svg .*?</svg>", page, re.S):
        assert re.search(r"<title id=[^>]*>[^<]+</title><desc id=[^>]*>[^<]+</desc>", chart)
        assert 'class="mark"' in chart
        assert 'class="axis-label"' in chart
    assert "http://" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "").replace(
        '"http://www.w3.org/2000/svg"', "")
    assert "https://" not in page and "<link" not in page and " src=" not in page
    assert "default-src 'none'" in page


def test_the_fleet_and_its_births_and_deaths_are_the_catalogue_s_and_the_history_s(night_catalog, page):
    root, catalog = night_catalog
    data = embedded(page)
    fleet = collections.Counter()
    for row in rows(data, "fleet_by_model"):
        fleet[(row["day"], row["model"])] += row["assistants"]
    for night, day in enumerate(DAYS):
        live = ask(root, "audit/config_as_of", as_of=day)
        assert len(live) == catalog.summary(night).live
        expected = collections.Counter((day.isoformat(), r["model"]) for r in live)
        assert {k: v for k, v in fleet.items() if k[0] == day.isoformat()} == dict(expected)
    births = {(r["day"], r["change_type"]): r["assistants"] for r in rows(data, "creations_deletions")}
    for night, day in enumerate(DAYS):
        summary = catalog.summary(night)
        assert births.get((day.isoformat(), "created"), 0) == summary.created
        assert births.get((day.isoformat(), "deleted"), 0) == summary.deleted
    assert sum(s.deleted for s in map(catalog.summary, range(NIGHTS))) > 0


def test_changes_by_field_and_the_most_changed_are_the_change_log_s(night_catalog, page):
    root, catalog = night_catalog
    data = embedded(page)
    per_day = collections.Counter()
    for row in rows(data, "changes_by_field"):
        per_day[row["day"]] += row["changes"]
    updated_by_assistant = collections.Counter()
    for night, day in enumerate(DAYS):
        changes = [c for c in ask(root, "audit/changes_on_date", snapshot_date=day) if c["change_type"] == "updated"]
        assert per_day.get(day.isoformat(), 0) == len(changes)
        assert len({c["assistant_id"] for c in changes}) == catalog.summary(night).changed
        updated_by_assistant.update({c["assistant_id"] for c in changes})
    kinds = {r["kind"] for r in rows(data, "changes_by_field")}
    assert {"instructions", "metadata"} <= kinds
    most = rows(data, "most_changed")
    assert most[0]["days_changed"] == max(updated_by_assistant.values())
    assert all(updated_by_assistant[r["assistant_id"]] == r["days_changed"] for r in most)


def test_tools_resources_migration_and_runs_are_the_views(night_catalog, page):
    root, _ = night_catalog
    data = embedded(page)
    con, _ = open_source(str(root))
    with con:
        functions = dict(con.execute("SELECT function_name, count(DISTINCT assistant_id) FROM current_tools "
                                     "WHERE type = 'function' GROUP BY 1").fetchall())
        stores = dict(con.execute("SELECT vector_store_id, assistants FROM vector_store_usage").fetchall())
        errors = collections.Counter(con.execute("SELECT snapshot_date, outcome FROM fetch_errors").fetchall())
        requests = dict(con.execute("SELECT snapshot_date, requests FROM snapshot_runs").fetchall())
        tools = collections.Counter(con.execute("SELECT DISTINCT snapshot_date, assistant_id, type "
                                                "FROM assistant_tools").fetchall())
    for row in rows(data, "shared_functions"):
        assert functions[row["function_name"]] == row["assistants"] > 1
    for row in rows(data, "shared_resources"):
        if row["kind"] == "vector store":
            assert stores[row["resource_id"]] == row["assistants"]
    for row in rows(data, "tool_types"):
        day = dt.date.fromisoformat(row["day"])
        assert row["assistants"] == sum(1 for (d, _, t) in tools if d == day and t == row["type"])
    migrated = migrate_warehouse(str(root))
    readiness = rows(data, "migration_readiness")[0]
    assert readiness["assistants"] == len(migrated)
    assert readiness["ready"] == sum(1 for m in migrated if not m.migration.warnings)
    codes = collections.Counter(w.code for m in migrated for w in m.migration.warnings)
    assert {r["code"]: r["warnings"] for r in rows(data, "migration_warnings")} == dict(codes)
    for row in rows(data, "run_health"):
        day = dt.date.fromisoformat(row["day"])
        assert row["requests"] == requests[day]
        for outcome in ("not_found", "invalid", "failed", "rejected_id"):
            assert row[outcome] == errors[(day, outcome)]
        assert row["rejected_id"] == 1  # "not an id", every night
    assert EXTRA_IDS


def test_each_timeline_holds_the_assistant_s_versions_and_diffs(night_catalog, page):
    root, _ = night_catalog
    timelines = embedded(page, "timelines-data")
    con, _ = open_source(str(root))
    with con:
        versions = collections.Counter(r[0] for r in con.execute("SELECT assistant_id FROM assistant_history"
                                                                 ).fetchall())
        instructions = con.execute("SELECT assistant_id, snapshot_date FROM assistant_changes "
                                   "WHERE field = 'instructions' LIMIT 1").fetchone()
    assert {t["i"]: len(t["v"]) for t in timelines.values()} == dict(versions)
    assert instructions is not None
    timeline = timelines[f"default/{instructions[0]}"]
    change = next(c for c in timeline["c"] if len(c) > 2 and c[2] == "instructions")
    assert change[0] == instructions[1].isoformat() and change[5] and any(line[0] in "+-" for line in change[5])


def test_a_range_a_parquet_source_and_the_last_days(night_catalog, tmp_path):
    root, _ = night_catalog
    out = tmp_path / "r.html"
    assert run(["report", "-o", str(out), "--warehouse", str(root), "--from", DAYS[1].isoformat(),
                "--to", DAYS[2].isoformat(), "--source", "parquet"]) == 0
    data = embedded(out.read_text())
    assert sorted({r["day"] for r in rows(data, "run_health")}) == [DAYS[1].isoformat(), DAYS[2].isoformat()]
    assert run(["report", "-o", str(out), "--warehouse", str(root), "--last", "2d"]) == 0
    data = embedded(out.read_text())
    assert sorted({r["day"] for r in rows(data, "run_health")}) == [DAYS[2].isoformat(), DAYS[3].isoformat()]


@pytest.mark.parametrize(("args", "message"), [
    (["--warehouse", "{tmp}/nowhere"], "no warehouse at"),
    (["--warehouse", "{tmp}/empty"], "no warehouse at"),
    (["--warehouse", "{root}", "--from", "2020-01-01", "--to", "2020-01-31"],
     "no snapshot from 2020-01-01 to 2020-01-31: the warehouse holds 2026-03-01 to 2026-03-04"),
    (["--warehouse", "{root}", "--from", "2026-03-04", "--to", "2026-03-01"], "is before --from"),
    (["--warehouse", "{root}", "--last", "ninety"], "is not a number of days like 90d"),
    (["--warehouse", "{root}", "--from", "2026-03-01", "--last", "9d"], "give --from or --last, not both"),
    (["--warehouse", "{root}", "--source", "postgres"], "'postgres' is not one of 'duckdb', 'parquet'"),
])
def test_bad_input_is_one_line_and_never_a_half_written_file(night_catalog, tmp_path, capsys, args, message):
    root, _ = night_catalog
    (tmp_path / "empty").mkdir()
    out = tmp_path / "report.html"
    out.write_text("the old report")
    argv = [a.format(tmp=tmp_path, root=root) for a in args]
    assert run(["report", "-o", str(out), *argv]) != 0
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: ") and message in err, err
    assert out.read_text() == "the old report"
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


def test_an_output_that_is_not_a_regular_file_is_refused_before_any_work(night_catalog, tmp_path, capsys):
    root, _ = night_catalog
    (tmp_path / "target").write_text("kept")
    os.symlink(tmp_path / "target", tmp_path / "link.html")
    assert run(["report", "-o", str(tmp_path / "link.html"), "--warehouse", str(root)]) == 1
    assert "it is a symbolic link" in capsys.readouterr().err
    assert (tmp_path / "target").read_text() == "kept"
    assert run(["report", "-o", str(root / "report.html"), "--warehouse", str(root)]) == 1
    assert "inside the warehouse" in capsys.readouterr().err


def test_a_bucket_that_cannot_be_read_is_one_line(moto_s3, tmp_path, capsys):
    out = tmp_path / "report.html"
    for uri in (moto_s3.uri("nothing-here"), "s3://no-such-bucket-for-the-report/wh"):
        assert run(["report", "-o", str(out), "--warehouse", uri]) == 1
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and err.startswith("error: "), err
        assert not out.exists()


def test_assistant_content_is_escaped_everywhere(tmp_path):
    hostile = '</script><script>alert(1)</script><img src=x onerror=alert(2)>'
    chart = svg.hbars(hostile, [hostile], [3.0], x_label=hostile, chart="x")
    assert "<script>" not in chart and "<img" not in chart
    from assistants_export.connectors.report.page import _json
    assert "</script>" not in _json({"name": hostile})
    assert json.loads(_json({"name": hostile})) == {"name": hostile}


def test_an_instructions_diff_shows_the_lines_that_changed():
    old = "You are helpful.\nAnswer briefly.\nNever share secrets.\nSign off politely."
    new = "You are helpful.\nAnswer in detail.\nNever share secrets.\nSign off politely."
    assert instructions_diff(old, new) == [
        " You are helpful.", "-Answer briefly.", "+Answer in detail.", " Never share secrets."]


def test_axis_tops_are_round():
    assert svg.nice_max(43) == (50, 10)
    assert svg.nice_max(7) == (8, 2)
    assert svg.nice_max(0) == (1, 1)
    far = "\n".join(f"line {i}" for i in range(20))
    assert " …" in instructions_diff(far, far.replace("line 2\n", "line two\n").replace("line 17", "line 70"))


def test_a_night_summary_counts_as_the_report(night_catalog, page):
    root, catalog = night_catalog
    data = embedded(page)
    store = ParquetStore(root)
    for night, day in enumerate(DAYS):
        changes = store.read(ASSISTANT_CHANGES, day, columns=list(NIGHT_COLUMNS))
        summary = night_summary(changes, day, live=catalog.summary(night).live)
        expected = catalog.summary(night)
        assert (summary["created"], summary["updated"], summary["deleted"]) == (
            expected.created, expected.changed, expected.deleted)
        by_field = {r["kind"]: r["changes"] for r in rows(data, "changes_by_field") if r["day"] == day.isoformat()}
        assert summary["by_field"] == by_field
        assert f"| {day} | assistants |" in summary["markdown"]
        assert f"| live | {expected.live:,} |" in summary["markdown"]


def test_a_report_of_a_bucket_reads_the_delta_tables(moto_s3, tmp_path, monkeypatch):
    monkeypatch.setenv("ASSISTANTS_DUCKDB_CACHE", str(tmp_path / "cache"))
    uri = moto_s3.uri("wh")
    catalog = evolving_nights(uri, n=12, nights=2, seed=2)
    out = tmp_path / "bucket.html"
    for source in ("duckdb", "parquet"):
        assert run(["report", "-o", str(out), "--warehouse", uri, "--source", source]) == 0
        page = out.read_text()
        data = embedded(page)
        assert sum(r["assistants"] for r in rows(data, "fleet_by_model") if r["day"] == DAYS[1].isoformat()) == \
            catalog.summary(1).live
        assert "listed for a folder warehouse only" in page


def test_held_back_runs_are_counted_per_night(night_catalog, tmp_path):
    root, _ = night_catalog
    copy = tmp_path / "wh"
    shutil.copytree(root, copy)
    for run_id in ("run-a", "run-b"):
        held = copy / "held" / DAYS[1].isoformat() / run_id
        held.mkdir(parents=True)
        (held / "held.json").write_text("{}")
    out = tmp_path / "r.html"
    assert run(["report", "-o", str(out), "--warehouse", str(copy)]) == 0
    page = out.read_text()
    assert embedded(page)["held_runs"]["rows"] == [[DAYS[1].isoformat(), 2]]
    assert f"never applied): <b>2</b> ({DAYS[1]}: 2)" in page
