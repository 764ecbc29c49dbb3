"""``make bench``: the pipeline against the fetch floor, over the sandbox API in its own process.

    python -m benchmarks.run                      # N=20,000, 3 repetitions, writes benchmarks/results/bench.*
    python -m benchmarks.run --n 2000 --repeat 1  # a quick look
    python -m benchmarks.run --memory-scale       # N=200,000 pipeline once, for peak RSS (memory-scale.*)

Runs are interleaved (floor, pipeline, processing, discover, the peers; floor, pipeline...)
so that a noisy neighbour slows both sides of a ratio alike, and every figure is
the median of the repetitions. See benchmarks/README.md for what the numbers mean.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from assistants_export.sandbox import GeneratedCatalog
from benchmarks.report import Targets, render_markdown, without_history
from benchmarks.sandbox_process import sandbox

RESULTS = Path(__file__).parent / "results"
PEERS_PYTHON = Path(__file__).parent.parent / ".venv-bench-peers" / "bin" / "python"
"""The peers' own environment (``make bench-peers-env``): openai, dlt and friends are no dependency of ours."""


def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=20_000, help="generated assistants (default 20,000)")
    parser.add_argument("--latency-ms", type=float, default=0.0, help="server latency for the main runs (default 0)")
    parser.add_argument("--concurrency", type=int, default=8, help="requests in flight, floor and pipeline alike")
    parser.add_argument("--repeat", type=int, default=3, help="repetitions; medians are reported (default 3)")
    parser.add_argument("--latency-run-ms", type=float, default=20.0,
                        help="latency of the separate latency run (0 skips it; default 20)")
    parser.add_argument("--latency-run-n", type=int, default=5_000, help="assistants in the latency run")
    parser.add_argument("--cap", type=int, default=4,
                        help="server-side concurrency cap of the rate-limit run (0 skips it; default 4)")
    parser.add_argument("--cap-n", type=int, default=2_000, help="assistants in the rate-limit run")
    parser.add_argument("--cap-concurrency", type=int, default=16, help="client concurrency in the rate-limit run")
    parser.add_argument("--cap-latency-ms", type=float, default=20.0,
                        help="server latency in the rate-limit run, so that requests overlap (default 20)")
    parser.add_argument("--memory-scale", action="store_true",
                        help="instead: one pipeline run at --memory-n for peak RSS (writes memory-scale.*)")
    parser.add_argument("--memory-n", type=int, default=200_000)
    parser.add_argument("--memory-history", action="store_true",
                        help="include the history step in the memory-scale run (left out by default: see README)")
    parser.add_argument("--peers-python", default=str(PEERS_PYTHON),
                        help="interpreter of the peers' environment for runs (e) and (f); '' skips them "
                        "(default .venv-bench-peers/bin/python, skipped when missing)")
    parser.add_argument("--render", action="store_true",
                        help="only rewrite the .md files from the .json results already in --out")
    parser.add_argument("--out", type=Path, default=RESULTS, help="folder for the .md and .json results")
    return parser.parse_args(argv)


def _worker(kind: str, **arguments: Any) -> dict[str, Any]:
    """Run one measurement in a fresh interpreter and return its JSON line."""
    done = subprocess.run([sys.executable, "-m", "benchmarks.workers", kind, json.dumps(arguments)],
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{kind} run failed (exit {done.returncode}):\n{done.stderr[-4000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    print(f"  {kind:<11} {result['wall_s']:8.2f} s  {result.get('assistants', 0):>7,} assistants  "
          f"{result['rss_mb']:6.0f} MB", flush=True)
    return result


def _write_ids(folder: Path, n: int) -> str:
    path = folder / f"ids-{n}.txt"
    if not path.exists():
        path.write_text("\n".join(GeneratedCatalog(n).ids()) + "\n", encoding="utf-8")
    return str(path)


def _median(runs: list[dict[str, Any]], key: str = "wall_s") -> float:
    return statistics.median(r[key] for r in runs)


def _step_medians(runs: list[dict[str, Any]]) -> dict[str, float]:
    names = runs[0].get("steps", {}).keys()
    return {name: statistics.median(r["steps"][name] for r in runs) for name in names}


def _summary(runs: list[dict[str, Any]]) -> dict[str, Any]:
    wall = _median(runs)
    assistants = runs[0]["assistants"]
    return {
        "wall_s": wall, "wall_s_all": [r["wall_s"] for r in runs], "requests": runs[0].get("requests"),
        "assistants": assistants, "per_second": assistants / wall if wall else None,
        "rss_mb": max(r["rss_mb"] for r in runs), "steps": _step_medians(runs) if "steps" in runs[0] else {},
        "runs": runs,
    }


def main_runs(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    ids_file = _write_ids(work, args.n)
    floor: list[dict[str, Any]] = []
    pipeline: list[dict[str, Any]] = []
    processing: list[dict[str, Any]] = []
    discover: list[dict[str, Any]] = []
    peers: dict[str, list[dict[str, Any]]] = {"sdk": [], "dlt": []} if _peers_python(args) else {}
    with sandbox(args.n, latency_ms=args.latency_ms) as api:
        print(f"main runs: N={args.n:,}, latency {args.latency_ms:g} ms, concurrency {args.concurrency}, "
              f"{args.repeat} repetitions; sandbox at {api.base_url}", flush=True)
        for repetition in range(1, args.repeat + 1):
            print(f" repetition {repetition}", flush=True)
            floor.append(_worker("floor", base_url=api.base_url, ids_file=ids_file, concurrency=args.concurrency))
            warehouse = work / f"wh-{repetition}"
            pipeline.append(_worker("pipeline", base_url=api.base_url, warehouse=str(warehouse),
                                    concurrency=args.concurrency, ids_file=ids_file))
            processing.append(_worker("processing", warehouse=str(warehouse)))
            shutil.rmtree(warehouse)
            discover.append(_worker("pipeline", base_url=api.base_url, warehouse=str(warehouse),
                                    concurrency=args.concurrency, discover=True))
            shutil.rmtree(warehouse)
            for name, runs in peers.items():
                out = work / f"{name}-{repetition}"
                runs.append(_worker(name, python=args.peers_python, base_url=api.base_url, ids_file=ids_file,
                                    out=str(out), concurrency=args.concurrency))
                shutil.rmtree(out)
    paired = [p["wall_s"] / f["wall_s"] for p, f in zip(pipeline, floor, strict=True)]
    return {"n": args.n, "latency_ms": args.latency_ms, "concurrency": args.concurrency, "repeat": args.repeat,
            "floor": _summary(floor), "pipeline": _summary(pipeline), "processing": _summary(processing),
            "discover": _summary(discover), "paired_ratios": paired,
            "ratio": _median(pipeline) / _median(floor),
            **{name: {**_summary(runs), "versions": runs[0]["versions"]} for name, runs in peers.items()}}


def _peers_python(args: argparse.Namespace) -> bool:
    """True when the peers' interpreter exists; says why the peers are left out otherwise."""
    if args.peers_python and Path(args.peers_python).exists():
        return True
    print(f"peers (e) and (f) skipped: no interpreter at {args.peers_python!r} (make bench-peers-env)", flush=True)
    return False


def latency_runs(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    n, latency = args.latency_run_n, args.latency_run_ms
    ids_file = _write_ids(work, n)
    floor: list[dict[str, Any]] = []
    pipeline: list[dict[str, Any]] = []
    with sandbox(n, latency_ms=latency) as api:
        print(f"latency runs: N={n:,}, latency {latency:g} ms, concurrency {args.concurrency}", flush=True)
        for repetition in range(1, args.repeat + 1):
            print(f" repetition {repetition}", flush=True)
            floor.append(_worker("floor", base_url=api.base_url, ids_file=ids_file, concurrency=args.concurrency))
            warehouse = work / f"wh-latency-{repetition}"
            pipeline.append(_worker("pipeline", base_url=api.base_url, warehouse=str(warehouse),
                                    concurrency=args.concurrency, ids_file=ids_file))
            shutil.rmtree(warehouse)
    ideal = n * latency / 1000 / args.concurrency
    fetch = statistics.median(r["steps"]["fetch"] for r in pipeline)
    return {"n": n, "latency_ms": latency, "concurrency": args.concurrency, "ideal_s": ideal,
            "floor": _summary(floor), "pipeline": _summary(pipeline), "fetch_s": fetch,
            "fetch_vs_ideal": fetch / ideal}


def cap_runs(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    n, cap, concurrency = args.cap_n, args.cap, args.cap_concurrency
    ids_file = _write_ids(work, n)
    runs: dict[str, list[dict[str, Any]]] = {"adaptive": [], "fixed": []}
    with sandbox(n, latency_ms=args.cap_latency_ms, max_concurrent=cap) as api:
        print(f"rate-limit runs: N={n:,}, server cap {cap} in flight, latency {args.cap_latency_ms:g} ms, "
              f"client concurrency {concurrency}", flush=True)
        for repetition in range(1, args.repeat + 1):
            print(f" repetition {repetition}", flush=True)
            for mode in ("adaptive", "fixed"):
                runs[mode].append(_worker("fetch", base_url=api.base_url, ids_file=ids_file,
                                          concurrency=concurrency, adaptive=mode == "adaptive"))
    return {"n": n, "cap": cap, "concurrency": concurrency, "latency_ms": args.cap_latency_ms,
            **{mode: {**_summary(r), "http_429": statistics.median(x["http_429"] for x in r),
                      "lowest_limit": min(x["lowest_limit"] for x in r)} for mode, r in runs.items()}}


def memory_run(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    ids_file = _write_ids(work, args.memory_n)
    with sandbox(args.memory_n) as api:
        print(f"memory-scale run: N={args.memory_n:,}, concurrency {args.concurrency}", flush=True)
        result = _worker("pipeline", base_url=api.base_url, warehouse=str(work / "wh-memory"),
                         concurrency=args.concurrency, ids_file=ids_file, history=args.memory_history)
    return {"n": args.memory_n, "concurrency": args.concurrency, "history_included": args.memory_history,
            "pipeline": _summary([result])}


def _baseline_rss(results: Path, with_history: bool) -> float | None:
    """Peak RSS of the N=20,000 pipeline in bench.json, up to the DuckDB load unless history is compared too."""
    if not results.exists():
        return None
    pipeline = json.loads(results.read_text())["main"]["pipeline"]
    if with_history:
        return float(pipeline["rss_mb"])
    return float(without_history(pipeline)["rss_mb"])


def _render(out: Path) -> int:
    for name in ("bench", "memory-scale"):
        path = out / f"{name}.json"
        if path.exists():
            results = json.loads(path.read_text())
            if "memory_scale" in results:
                scale = results["memory_scale"]
                scale["baseline_rss_mb"] = _baseline_rss(out / "bench.json", scale.get("history_included", False))
                path.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
            (out / f"{name}.md").write_text(render_markdown(results, Targets()), encoding="utf-8")
            print(f"rendered {out / name}.md")
    return 0


def _machine() -> dict[str, Any]:
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                                check=False).stdout.strip()
    except OSError:
        commit = ""
    return {"date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), "cpus": os.cpu_count(),
            "python": platform.python_version(), "platform": platform.platform(), "commit": commit,
            "load_average_start": os.getloadavg()}


def main(argv: Sequence[str] | None = None) -> int:
    args = _parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    if args.render:
        return _render(args.out)
    started = time.perf_counter()
    results: dict[str, Any] = {"machine": _machine()}
    with tempfile.TemporaryDirectory(prefix="assistants-bench-") as scratch:
        work = Path(scratch)
        if args.memory_scale:
            results["memory_scale"] = memory_run(args, work)
            results["memory_scale"]["baseline_rss_mb"] = _baseline_rss(args.out / "bench.json", args.memory_history)
            name = "memory-scale"
        else:
            results["main"] = main_runs(args, work)
            if args.latency_run_ms > 0:
                results["latency"] = latency_runs(args, work)
            if args.cap > 0:
                results["rate_limit"] = cap_runs(args, work)
            name = "bench"
    results["machine"]["load_average_end"] = os.getloadavg()
    results["machine"]["seconds"] = time.perf_counter() - started
    markdown = render_markdown(results, Targets())
    (args.out / f"{name}.json").write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    (args.out / f"{name}.md").write_text(markdown, encoding="utf-8")
    print()
    print(markdown)
    print(f"written: {args.out / name}.md and .json ({results['machine']['seconds']:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
