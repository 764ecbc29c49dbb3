"""How fast each command that runs no Dagster starts: ``python -m benchmarks.startup``.

Builds a small warehouse (the sandbox's bundled assistants, two nights, some of them changed on the second) in a
temporary folder, then runs each command as a user does (the console script, output to a file) ``--runs`` times
(default 10) and reports the median wall time and CPU time of the whole process: start-up, the command's work on
this small warehouse, exit. Writes ``benchmarks/results/startup.md`` and ``.json``.

    python -m benchmarks.startup              # 10 runs of each command
    python -m benchmarks.startup --runs 3     # a quick look
"""

from __future__ import annotations

import argparse
import copy
import datetime as dt
import json
import os
import statistics
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from benchmarks.cli_harness import cli, machine, run_measured

RESULTS = Path(__file__).parent / "results"
KEY = "sk-startup-bench-Q7wE2r"
TARGET_S = 0.3
"""What each of these commands should start in (issue 23)."""


def build_warehouse(root: Path) -> tuple[str, dt.date, dt.date]:
    """Two nights of the bundled assistants, a few renamed on the second; returns an assistant ID and the dates."""
    from assistants_export.connectors.history import rebuild_history
    from assistants_export.connectors.openai_assistants.config import ClientConfig, Secret
    from assistants_export.connectors.snapshot import IdSource, fetch_snapshot, flatten_snapshot, load_duckdb
    from assistants_export.sandbox import SandboxServer, StaticCatalog, bundled_assistants

    first = bundled_assistants()
    second = copy.deepcopy(first)
    for assistant in second[:5]:
        assistant["name"] = f"{assistant.get('name') or ''} (renamed)"
    today = dt.datetime.now(dt.UTC).date()
    nights = {today - dt.timedelta(days=1): first, today: second}
    ids = IdSource(ids=tuple(a["id"] for a in first))
    for day, catalog in nights.items():
        with SandboxServer(StaticCatalog(catalog), api_key=KEY) as server:
            fetch_snapshot(ClientConfig(api_key=Secret(KEY), base_url=server.base_url), ids, day, str(root))
        flatten_snapshot(day, str(root))
        load_duckdb(day, str(root))
        rebuild_history(str(root), day)
    return first[0]["id"], today - dt.timedelta(days=1), today


def commands(assistant_id: str, first: dt.date, last: dt.date, out: Path) -> dict[str, list[str]]:
    return {
        "--help": ["--help"],
        "query": ["query", "SELECT count(*) AS n FROM current_assistants"],
        "views": ["views"],
        "history": ["history", assistant_id],
        "diff": ["diff", "--from", first.isoformat(), "--to", last.isoformat()],
        "as-of": ["as-of", last.isoformat()],
        "migrate": ["migrate", "--to", "responses", "-o", str(out / "migrated.jsonl")],
    }


FLOORS: dict[str, str] = {
    "python": "pass",
    "click + rich": "import click, rich.console, rich.table",
    "duckdb": "import duckdb",
    "duckdb + click + rich": "import duckdb, click, rich.console, rich.table",
    "pyarrow (with numpy)": "import pyarrow",
    "duckdb + pyarrow + click + rich": "import duckdb, pyarrow, click, rich.console, rich.table",
}
"""What the commands cannot start faster than: the interpreter and the imports each needs, nothing else."""


def measure_floors(runs: int, env: dict[str, str], log: Path) -> dict[str, Any]:
    floors: dict[str, Any] = {}
    for name, code in FLOORS.items():
        samples = [run_measured([sys.executable, "-c", code], env, log) for _ in range(runs)]
        floors[name] = {"wall_s": statistics.median(s["wall_s"] for s in samples),
                        "cpu_s": statistics.median(s["cpu_s"] for s in samples)}
        print(f"  floor {name:<32} {floors[name]['cpu_s']:6.3f} s CPU", flush=True)
    return floors


def measure(runs: int) -> dict[str, Any]:
    started = machine()
    with tempfile.TemporaryDirectory(prefix="startup-bench-") as folder:
        work = Path(folder)
        root = work / "data"
        assistant_id, first, last = build_warehouse(root)
        env = {**os.environ, "ASSISTANTS_WAREHOUSE": str(root)}
        env.pop("DAGSTER_HOME", None)
        results: dict[str, Any] = {}
        for name, arguments in commands(assistant_id, first, last, work).items():
            samples = []
            for _ in range(runs):
                sample = run_measured([*cli(), *arguments], env, work / "output.log")
                if sample["exit"] != 0:
                    raise RuntimeError(f"{name} failed: {(work / 'output.log').read_text()[-2000:]}")
                samples.append(sample)
            results[name] = {"wall_s": statistics.median(s["wall_s"] for s in samples),
                             "cpu_s": statistics.median(s["cpu_s"] for s in samples),
                             "walls": [s["wall_s"] for s in samples]}
            print(f"  {name:<8} {results[name]['wall_s']:6.3f} s wall  {results[name]['cpu_s']:6.3f} s CPU", flush=True)
        floors = measure_floors(runs, env, work / "output.log")
    return {"runs": runs, "machine": {**started, "load_average_end": os.getloadavg()}, "commands": results,
            "floors": floors}


def render(report: dict[str, Any]) -> str:
    m = report["machine"]
    lines = [
        "# Start-up of the commands that run no Dagster",
        "",
        f"{m['date']}, commit `{m['commit']}`, {m['cpus']} CPUs, Python {m['python']}; load average "
        f"{m['load_average_start'][0]:.1f} at the start, {m['load_average_end'][0]:.1f} at the end. "
        f"`python -m benchmarks.startup --runs {report['runs']}`: each command run {report['runs']} times as the "
        "console script against a two-night warehouse of the sandbox's bundled assistants, output to a file; "
        "medians of the whole process (start-up, the command's work, exit).",
        "",
        f"| command | wall s | CPU s | CPU under {TARGET_S} s |",
        "| --- | ---: | ---: | --- |",
    ]
    for name, result in report["commands"].items():
        met = "yes" if result["cpu_s"] < TARGET_S else "**no**"
        lines.append(f"| `{name}` | {result['wall_s']:.3f} | {result['cpu_s']:.3f} | {met} |")
    lines += ["", "CPU s is what busy neighbours disturb least; on a shared machine wall time includes waiting for "
              "a core.", ""]
    if report.get("floors"):
        lines += ["The floor: a bare interpreter importing only what the commands need (`python -c \"import ...\"`, "
                  "same runs, medians). `views` and `--help` need neither DuckDB nor pyarrow; `history`, `diff`, "
                  "`as-of` and `migrate` need DuckDB; `query` streams Arrow batches, so it needs pyarrow (which "
                  "imports numpy) too.", "", "| imports | wall s | CPU s |", "| --- | ---: | ---: |"]
        for name, floor in report["floors"].items():
            lines.append(f"| {name} | {floor['wall_s']:.3f} | {floor['cpu_s']:.3f} |")
        lines.append("")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.startup", description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=10, help="runs of each command; medians are reported")
    parser.add_argument("--out", type=Path, default=RESULTS, help="folder for startup.md and startup.json")
    args = parser.parse_args(argv)
    report = measure(args.runs)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "startup.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    (args.out / "startup.md").write_text(render(report), encoding="utf-8")
    print(f"written: {args.out / 'startup.md'} and .json")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
