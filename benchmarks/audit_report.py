"""How long ``assistants-export report`` takes, and how large its page is, on a warehouse that already exists.

    python -m benchmarks.growth --n 20000 --nights 90 --change-rate 0.02 --discover --warehouse /tmp/wh  # build it
    python -m benchmarks.audit_report --warehouse /tmp/wh --label n20000-k90                             # measure

Runs the real command in a fresh process (``--repeat`` times, medians), once over the whole warehouse and once
per ``--last`` given, from the DuckDB database and from the Parquet files alone, and writes
``results/report-<label>.{json,md}``: wall, CPU, peak RSS, the page's bytes (and gzip'ed), the bytes of its
embedded timelines, and what the page holds (snapshot dates, assistants with a timeline, values left out).

Nothing here imports the connector: the page is read as a file.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import re
import statistics
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from benchmarks.cli_harness import MB, cli, machine, run_measured, tail

RESULTS = Path(__file__).parent / "results"


def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.audit_report", description=__doc__.split("\n\n")[0])
    parser.add_argument("--warehouse", type=Path, required=True, help="an existing warehouse folder")
    parser.add_argument("--last", nargs="*", default=["30d"], help="also these --last ranges (default 30d)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per case; medians (default 3)")
    parser.add_argument("--parquet", action="store_true", help="also from the Parquet files alone (--source parquet)")
    parser.add_argument("--label", required=True, help="results name: report-<label>.{json,md}")
    parser.add_argument("--out", type=Path, default=RESULTS, help="folder for the results (default benchmarks/results)")
    return parser.parse_args(argv)


def _page_facts(page: Path) -> dict[str, Any]:
    text = page.read_text(encoding="utf-8")
    timelines = re.search(r'id="timelines-data">(.*?)</script>', text, re.S)
    data = json.loads(re.search(r'id="report-data">(.*?)</script>', text, re.S).group(1))  # type: ignore[union-attr]
    days = sorted({row[0] for row in data["run_health"]["rows"]})
    left = re.search(r"the values of ([0-9,]+) older change", text)
    raw = text.encode("utf-8")
    return {"bytes": len(raw), "gzip_bytes": len(gzip.compress(raw, 6)),
            "timeline_bytes": len(timelines.group(1).encode()) if timelines else 0,
            "assistants": len(json.loads(timelines.group(1))) if timelines else 0,
            "days": len(days), "first": days[0] if days else None, "last": days[-1] if days else None,
            "values_left_out": int(left.group(1).replace(",", "")) if left else 0}


def _case(args: argparse.Namespace, name: str, extra: list[str], work: Path) -> dict[str, Any]:
    runs = []
    page = work / f"{name}.html"
    for i in range(args.repeat):
        log = work / f"{name}-{i}.log"
        result = run_measured([*cli(), "report", "-o", str(page), "--warehouse", str(args.warehouse), *extra],
                              dict(os.environ), log)
        if result["exit"] != 0:
            raise SystemExit(f"report {name} failed:\n{tail(log)}")
        runs.append(result)
        print(f"  {name} #{i + 1}: {result['wall_s']:.1f} s, CPU {result['cpu_s']:.1f} s, {result['rss_mb']:.0f} MB")
    return {"case": name, "args": extra, "runs": runs,
            "wall_s": statistics.median(r["wall_s"] for r in runs),
            "cpu_s": statistics.median(r["cpu_s"] for r in runs),
            "rss_mb": statistics.median(r["rss_mb"] for r in runs), **_page_facts(page)}


def _markdown(config: dict[str, Any], cases: list[dict[str, Any]]) -> str:
    lines = [f"# Report: {config['label']}", "",
             f"`assistants-export report` on `{config['warehouse']}` ({config['warehouse_mb']:.1f} MB on disk), "
             f"medians of {config['repeat']} runs, each a fresh process. {config['machine']['date']}, commit "
             f"`{config['machine']['commit']}`, {config['machine']['cpus']} CPUs, "
             f"Python {config['machine']['python']}; "
             f"load average {config['machine']['load_average_start'][0]:.1f} at the start, "
             f"{config['load_average_end']:.1f} at the end.", "",
             "| case | snapshot dates | assistants with a timeline | wall s | CPU s | peak RSS MB | page MB | "
             "gzip MB | timelines MB | values left out |",
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for c in cases:
        lines.append(f"| {c['case']} | {c['days']} ({c['first']} to {c['last']}) | {c['assistants']:,} | "
                     f"{c['wall_s']:.1f} | {c['cpu_s']:.1f} | {c['rss_mb']:.0f} | {c['bytes'] / MB:.2f} | "
                     f"{c['gzip_bytes'] / MB:.2f} | {c['timeline_bytes'] / MB:.2f} | {c['values_left_out']:,} |")
    lines += ["", "Wall and CPU include the command's start-up (about 2 s of imports). Timelines: the embedded JSON of "
              "every assistant's versions and changes (values cut at 600 characters, instructions as a diff, and "
              "past 4,000,000 characters of values the older changes keep their field names only)."]
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    args = _parse_args(argv)
    size = sum(p.stat().st_size for p in args.warehouse.rglob("*") if p.is_file())
    config: dict[str, Any] = {"label": args.label, "warehouse": str(args.warehouse), "warehouse_mb": size / MB,
                              "repeat": args.repeat, "machine": machine()}
    cases = []
    with tempfile.TemporaryDirectory(prefix="report-bench-") as tmp:
        work = Path(tmp)
        cases.append(_case(args, "whole warehouse", [], work))
        for last in args.last:
            cases.append(_case(args, f"--last {last}", ["--last", last], work))
        if args.parquet:
            cases.append(_case(args, "whole, --source parquet", ["--source", "parquet"], work))
    config["load_average_end"] = os.getloadavg()[0]
    args.out.mkdir(parents=True, exist_ok=True)
    stem = args.out / f"report-{args.label}"
    stem.with_suffix(".json").write_text(json.dumps({"config": config, "cases": cases}, indent=2) + "\n")
    stem.with_suffix(".md").write_text(_markdown(config, cases))
    print(f"written: {stem}.md and .json")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
