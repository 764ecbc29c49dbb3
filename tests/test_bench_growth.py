"""``make bench-growth``'s year report: checkpoints, targets, the size fit's verdict, resuming a run.

The benchmark itself runs the real CLI for minutes to hours; these tests check, on made-up nights and in
milliseconds, the parts that decide what the committed results say.
"""

from __future__ import annotations

import argparse
import importlib
import json
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def growth() -> ModuleType:
    """``benchmarks.growth``: the benchmarks are a folder of the checkout, not of the installed package."""
    with pytest.MonkeyPatch.context() as patch:
        patch.syspath_prepend(str(ROOT))
        return importlib.import_module("benchmarks.growth")


def _night(index: int, *, wall: float = 10.0, cpu: float = 8.0, rss: float = 400.0, changed: int = 20,
           live: int = 1_000, files: int | None = None, per_night_bytes: float = 1_000.0) -> dict[str, Any]:
    count = index + 1 if files is None else files
    return {"night": index, "date": f"2026-01-{index + 1:02d}", "exit": 0, "live": live, "created": 0,
            "deleted": 0, "changed": changed, "unchanged": live - changed, "wall_s": wall, "cpu_s": cpu,
            "rss_mb": rss, "parquet_bytes": 0, "duckdb_bytes": 0, "total_bytes": 1_000_000 + index * per_night_bytes,
            "parquet_files": count * 3,
            "files_by_dataset": {"parquet/payloads": count - 1, "parquet/payloads/_compacted": 1,
                                 "parquet/snapshot_members": count,
                                 "parquet/assistant_versions": 1, "held/2026-01-01/run-1/payloads": 99,
                                 ".staging/payloads": 7}}


def _results(nights: list[dict[str, Any]], *, rate: float = 0.02, planned: int | None = None,
             object_store: bool = False) -> dict[str, Any]:
    return {"label": f"r{rate}", "config": {"n": 1_000, "nights": planned or len(nights), "change_rate": rate,
                                             "checkpoints": [1, 3, 5], "object_store": object_store},
            "machine": {"commit": "abc", "date": "2026-12-08"}, "nights": nights, "queries": [], "finished": True}


def test_files_per_table_leave_out_held_runs_and_staging(growth: ModuleType) -> None:
    night = _night(4)
    assert growth._table_files(night) == {"payloads": 5, "snapshot_members": 5, "assistant_versions": 1}
    assert growth._max_files(night) == ("snapshot_members", 5)
    assert growth._max_files({"night": 0}) == ("", 0)


def test_checkpoints_are_counted_from_one_and_include_the_last_night(growth: ModuleType) -> None:
    results = _results([_night(i) for i in range(7)])
    results["queries"] = [{"night": 2, "cli": {"config_as_of": {"median_s": 1.5}},
                           "duckdb": {"config_as_of": {"median_s": 0.02}, "current_assistants": {"error": "x"}}}]
    rows = growth.checkpoints(results)
    assert [row["night"] for row in rows] == [1, 3, 5, 7]
    third = rows[1]
    assert third["date"] == "2026-01-03" and third["max_files_per_table"] == 3
    assert third["cli"] == {"config_as_of": 1.5}
    assert third["duckdb"] == {"config_as_of": 0.02, "current_assistants": None}


def test_targets_compare_the_last_nights_with_nights_two_to_four(growth: ModuleType) -> None:
    walls = [30.0, 10.0, 10.0, 10.0, *[11.0] * 5, 12.0, 13.0, 14.0]
    nights = [{**_night(i, wall=w, rss=400.0 if i < 9 else 600.0), "load_average": float(i)}
              for i, w in enumerate(walls)]
    target = growth.targets(_results(nights))
    assert target["load_average"] == {"first": 2.0, "last": 10.0}
    assert target["wall_s"]["first"] == 10.0 and target["wall_s"]["last"] == 13.0
    assert target["wall_s"]["ratio"] == pytest.approx(1.3) and target["wall_s"]["met"] is False
    assert target["wall_s"]["ratio_to_night_1"] == pytest.approx(13.0 / 30.0)
    assert target["cpu_s"]["met"] is True
    assert target["rss_mb"]["ratio"] == pytest.approx(1.5) and target["rss_mb"]["met"] is False
    assert target["files_per_table"] == {"max": 12, "table": "snapshot_members", "met": True}
    many = growth.targets(_results([_night(i, files=51 if i == 11 else 1) for i in range(12)]))
    assert many["files_per_table"]["met"] is False


def test_an_unfinished_run_says_how_many_nights_it_did(growth: ModuleType) -> None:
    results = _results([_night(i) for i in range(6)], planned=365)
    results["nights"].append({"night": 6, "date": "2026-01-07", "exit": 1})
    target = growth.targets(results)
    assert (target["nights_done"], target["nights"]) == (6, 365)
    assert "**6 of 365 nights done**" in growth.render_markdown(_full(results))


def _machine() -> dict[str, Any]:
    return {"date": "2026-12-08", "commit": "abc", "cpus": 2, "python": "3.11", "load_average_start": [1.0]}


def _full(results: dict[str, Any]) -> dict[str, Any]:
    results["config"].update(deletion_rate=0.002, creation_rate=0.002, start_date="2026-01-01", discover=False,
                             recent_deleted_days=7, concurrency=8, seed=0)
    results["machine"] = _machine()
    return results


@pytest.mark.parametrize(("unchanged", "change", "met"), [(100.0, 2_000.0, True), (400.0, 2_000.0, False),
                                                          (100.0, 9_000.0, False)])
def test_the_size_fit_is_judged_per_layout_only_when_two_rates_separate_it(growth: ModuleType, unchanged: float,
                                                                           change: float, met: bool) -> None:
    def run(rate: float, changed: int) -> dict[str, Any]:
        nights = [_night(i, changed=changed) for i in range(20)]
        total = 0.0  # every night adds what the law says, so the fit is exact
        for night in nights:
            total += night["unchanged"] * unchanged + night["changed"] * change
            night["total_bytes"] = 2_000_000 + total
        return _full(_results(nights, rate=rate))

    summary = growth.summarize([run(0.02, 20), run(0.15, 150)])
    fitted = summary["fits"]["folder"]["total_bytes"]
    assert fitted["bytes_per_unchanged_assistant_night"] == pytest.approx(unchanged, rel=1e-3)
    assert fitted["bytes_per_changed_assistant"] == pytest.approx(change, rel=1e-3)
    assert summary["fits"]["folder"]["met"] is met
    assert "bucket" not in summary["fits"]
    one_rate = growth.summarize([run(0.02, 20)])
    assert "met" not in one_rate["fits"]["folder"]
    assert "one change rate only: a and b are not separable" in growth.render_summary(one_rate)
    assert "Size fit: folder" in growth.render_summary(summary)
    assert summary["runs"][0]["compacted_from"] == 1  # the made-up nights hold parquet/payloads/_compacted


def test_nights_are_given_from_one(growth: ModuleType) -> None:
    assert growth._nights_list("365,1, 30") == (1, 30, 365)
    with pytest.raises(argparse.ArgumentTypeError, match="counted from 1"):
        growth._nights_list("0,5")
    with pytest.raises(argparse.ArgumentTypeError, match="comma-separated"):
        growth._nights_list("1;5")


def _resume_args(tmp_path: Path, label: str, nights: int) -> argparse.Namespace:
    return argparse.Namespace(out=tmp_path, label=label, nights=nights, n=5, change_rate=0.5, deletion_rate=None,
                              creation_rate=None, seed=9, start_date=None, discover=True, recent_deleted_days=1,
                              concurrency=1, latency_ms=0.0, compact_every=0, vacuum_every=1)


def test_resume_continues_after_the_last_good_night_with_the_runs_own_settings(growth: ModuleType,
                                                                              tmp_path: Path) -> None:
    warehouse = tmp_path / "wh"
    results = _full(_results([_night(i) for i in range(4)], planned=10))
    results["nights"][3]["exit"] = 1
    results["queries"] = [{"night": 0}, {"night": 3}]
    results["warehouse"] = str(warehouse)
    (tmp_path / "growth-a.json").write_text(json.dumps(results), encoding="utf-8")
    args = _resume_args(tmp_path, "a", nights=365)
    resumed = growth._resume(args, warehouse)
    assert [night["night"] for night in resumed["nights"]] == [0, 1, 2]
    assert resumed["queries"] == [{"night": 0}]
    assert (args.n, args.change_rate, args.seed, args.discover, args.concurrency) == (1_000, 0.02, 0, False, 8)
    assert str(args.start_date) == "2026-01-01" and args.nights == 365 and resumed["config"]["nights"] == 365
    assert resumed["resumed"][0]["at_night"] == 3
    assert resumed["config"]["vacuum_every"] == 1 and resumed["resumed"][0]["vacuum_every"] == 1


def test_resume_refuses_in_one_line_what_it_cannot_continue(growth: ModuleType, tmp_path: Path) -> None:
    warehouse = tmp_path / "wh"
    with pytest.raises(SystemExit, match=r"found no results at .*give the --label"):
        growth._resume(_resume_args(tmp_path, "missing", 10), warehouse)
    results = _full(_results([_night(i) for i in range(3)]))
    results["warehouse"] = str(tmp_path / "elsewhere")
    (tmp_path / "growth-b.json").write_text(json.dumps(results), encoding="utf-8")
    with pytest.raises(SystemExit, match="give that folder as --warehouse"):
        growth._resume(_resume_args(tmp_path, "b", 10), warehouse)
    results["warehouse"] = str(warehouse)
    (tmp_path / "growth-b.json").write_text(json.dumps(results), encoding="utf-8")
    with pytest.raises(SystemExit, match="already has 3 nights"):
        growth._resume(_resume_args(tmp_path, "b", 3), warehouse)
    results["config"]["object_store"] = True
    (tmp_path / "growth-b.json").write_text(json.dumps(results), encoding="utf-8")
    with pytest.raises(SystemExit, match="bucket run"):
        growth._resume(_resume_args(tmp_path, "b", 10), warehouse)


def test_query_last_times_nothing_it_has_or_cannot_have(growth: ModuleType, tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    warehouse = tmp_path / "wh"
    results = _full(_results([], planned=365))
    results["warehouse"] = str(warehouse)
    (tmp_path / "growth-c.json").write_text(json.dumps(results), encoding="utf-8")
    with pytest.raises(SystemExit, match="no night run yet"):
        growth._query_last(_resume_args(tmp_path, "c", 365), warehouse)
    results["nights"] = [_night(0), _night(1)]
    results["queries"] = [{"night": 1}]
    (tmp_path / "growth-c.json").write_text(json.dumps(results), encoding="utf-8")
    assert growth._query_last(_resume_args(tmp_path, "c", 365), warehouse) == 0
    assert "after night 1 are in the results already" in capsys.readouterr().out
