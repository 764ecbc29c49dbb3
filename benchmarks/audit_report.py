"""How long ``assistants-export report`` takes, and how large its page is: on a warehouse that exists, or on one
built here night after night, the report measured at checkpoints as the history grows.

    python -m benchmarks.audit_report --warehouse /tmp/wh --label mine                     # an existing warehouse
    python -m benchmarks.audit_report --build 20000 --nights 90 --warehouse /tmp/wh --label n20000-k90

``--build N`` serves N assistants of the sandbox's evolving catalogue (``--change-rate``, a tenth of it deleted and
as many created a night) from a sandbox server in this process and stores each night as a nightly run does,
in discover mode, through the library (fetch, flatten, load, history: no CLI start-up, no Dagster, so a night
costs what the pipeline's steps cost); after each night of ``--checkpoints`` it runs the real command,
``assistants-export report``, in a fresh process on the whole warehouse and records wall, CPU, peak RSS and the
page's size. The results (``results/report-<label>.{json,md}``) are rewritten at every checkpoint, so a run
stopped early still has its curve. At the end (or on an existing warehouse) each case runs ``--repeat`` times:
the whole warehouse, each ``--last`` range, and with ``--parquet`` the Parquet files alone.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gzip
import json
import os
import re
import statistics
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from benchmarks.cli_harness import MB, cli, machine, run_measured, tail

RESULTS = Path(__file__).parent / "results"


def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.audit_report", description=__doc__.split("\n\n")[0])
    parser.add_argument("--warehouse", type=Path, required=True, help="the warehouse folder (built here with --build)")
    parser.add_argument("--build", type=int, metavar="N", help="first build the warehouse: N evolving assistants")
    parser.add_argument("--nights", type=int, default=90, help="nights to build (default 90)")
    parser.add_argument("--change-rate", type=float, default=0.02, help="change rate a night (default 0.02)")
    parser.add_argument("--checkpoints", default="1,5,10,20,30,45,60,75,90",
                        help="measure the report after these nights (default 1,5,10,20,30,45,60,75,90)")
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


def _case(args: argparse.Namespace, name: str, extra: list[str], work: Path, repeat: int | None = None
          ) -> dict[str, Any]:
    runs = []
    page = work / f"{name.replace(' ', '-')}.html"
    for i in range(repeat or args.repeat):
        log = work / f"{name.replace(' ', '-')}-{i}.log"
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
    lines = [f"# Report: {config['label']}", ""]
    build = config.get("build")
    if build:
        lines += [f"Built here: {build['n']:,} assistants of the sandbox's evolving catalogue, change rate "
                  f"{build['change_rate']} a night (deletions and creations a tenth of it), discover mode, "
                  f"{len(config['nights'])} of {build['nights']} nights stored through the library (fetch, flatten, "
                  "load, history); after each checkpoint night, `assistants-export report` on the whole warehouse "
                  "in a fresh process (one run each).", "",
                  "| after night | live | warehouse MB | assistants with a timeline | report wall s | CPU s | "
                  "peak RSS MB | page MB | gzip MB | timelines MB | values left out |",
                  "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
        for c in config["checkpoints"]:
            night = config["nights"][c["nights"] - 1]
            lines.append(f"| {c['nights']} | {night['live']:,} | {night['folder_mb']:.1f} | {c['assistants']:,} | "
                         f"{c['wall_s']:.1f} | {c['cpu_s']:.1f} | {c['rss_mb']:.0f} | {c['bytes'] / MB:.2f} | "
                         f"{c['gzip_bytes'] / MB:.2f} | {c['timeline_bytes'] / MB:.2f} | {c['values_left_out']:,} |")
        walls = [n["wall_s"] for n in config["nights"]]
        cpus = [n["cpu_s"] for n in config["nights"]]
        lines += ["", f"Building: {len(walls)} nights, {sum(walls):.0f} s wall, {sum(cpus):.0f} s CPU in this "
                  f"process (median night {statistics.median(walls):.1f} s wall, {statistics.median(cpus):.1f} s "
                  "CPU; the sandbox server's CPU is in the same process).", ""]
    if not cases:
        return "\n".join(lines) + "\n"
    lines += [
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


def _folder_mb(folder: Path) -> float:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / MB


def _build(args: argparse.Namespace, config: dict[str, Any], work: Path) -> None:
    """Night after night into ``args.warehouse``, the report measured after each checkpoint night."""
    from assistants_export.connectors.history import rebuild_history
    from assistants_export.connectors.openai_assistants.config import ClientConfig, Secret
    from assistants_export.connectors.snapshot import IdSource, fetch_snapshot, flatten_snapshot, load_duckdb
    from assistants_export.sandbox import EvolvingCatalog, SandboxServer

    checkpoints = {int(c) for c in args.checkpoints.split(",") if c.strip()}
    start = dt.date(2026, 1, 1)
    catalog = EvolvingCatalog(args.build, args.change_rate, seed=0, start=start)
    nights: list[dict[str, Any]] = []
    config.update(build={"n": args.build, "nights": args.nights, "change_rate": args.change_rate,
                         "start": start.isoformat()}, nights=nights, checkpoints=[])
    key = "sk-report-bench-not-a-secret"
    with SandboxServer(catalog, api_key=key) as server:
        client = ClientConfig(api_key=Secret(key), base_url=server.base_url)
        for night in range(args.nights):
            day = start + dt.timedelta(days=night)
            catalog.set_night(night)
            wall, cpu = time.perf_counter(), time.process_time()
            fetch_snapshot(client, IdSource(discover=True), day, args.warehouse)
            flatten_snapshot(day, args.warehouse)
            load_duckdb(day, args.warehouse)
            rebuild_history(args.warehouse, day)
            summary = catalog.summary(night)
            nights.append({"night": night + 1, "date": day.isoformat(), "live": summary.live,
                           "changed": summary.changed, "wall_s": time.perf_counter() - wall,
                           "cpu_s": time.process_time() - cpu, "folder_mb": _folder_mb(args.warehouse)})
            print(f"night {night + 1}/{args.nights} {day}: {summary.live:,} live, {summary.changed:,} changed, "
                  f"{nights[-1]['wall_s']:.1f} s (CPU {nights[-1]['cpu_s']:.1f} s)", flush=True)
            if night + 1 in checkpoints:
                measured = {"nights": night + 1, **_case(args, f"after night {night + 1}", [], work, repeat=1)}
                config["checkpoints"].append(measured)
                _write(args, config, [])


def _write(args: argparse.Namespace, config: dict[str, Any], cases: list[dict[str, Any]]) -> None:
    config["load_average_end"] = os.getloadavg()[0]
    config["warehouse_mb"] = _folder_mb(args.warehouse)
    args.out.mkdir(parents=True, exist_ok=True)
    stem = args.out / f"report-{args.label}"
    stem.with_suffix(".json").write_text(json.dumps({"config": config, "cases": cases}, indent=2, default=str) + "\n")
    stem.with_suffix(".md").write_text(_markdown(config, cases))


def main(argv: Sequence[str] | None = None) -> int:
    args = _parse_args(argv)
    config: dict[str, Any] = {"label": args.label, "warehouse": str(args.warehouse), "repeat": args.repeat,
                              "machine": machine()}
    cases: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="report-bench-") as tmp:
        if args.build:
            if args.warehouse.exists() and any(args.warehouse.iterdir()):
                raise SystemExit(f"{args.warehouse} is not empty: --build writes a new warehouse")
            _build(args, config, Path(tmp))
        work = Path(tmp)
        cases.append(_case(args, "whole warehouse", [], work))
        for last in args.last:
            cases.append(_case(args, f"--last {last}", ["--last", last], work))
        if args.parquet:
            cases.append(_case(args, "whole, --source parquet", ["--source", "parquet"], work))
    _write(args, config, cases)
    print(f"written: {args.out / f'report-{args.label}'}.md and .json")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
