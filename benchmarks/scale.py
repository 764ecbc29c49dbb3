"""``make bench-scale``: many API sources into one object-store warehouse, a run per source as Dagster fans out.

    python -m benchmarks.scale --sources 3 --assistants 500                   # a quick look (about 2 minutes)
    python -m benchmarks.scale                                    # 10 × 20,000 -> results/scale-s10-n20000.*
    python -m benchmarks.scale --sources 4 --assistants 5000 --sweep 1,2,4    # which --parallel suits the machine
    python -m benchmarks.scale --render results/scale-s10-n20000.json         # rewrite the .md from the .json

Each source is a sandbox API in its own process (``python -m assistants_export.sandbox --generated N --seed S``, a
distinct seed per
source, so the payloads differ; the IDs are the same in every source, as the generator derives them from the
index). The warehouse is one bucket on moto's S3 server, in its own process. Each source's night is the real
command in a fresh process, ``assistants-export snapshot --source NAME --warehouse s3://scale/wh``, as Dagster
runs one run per source and date; at most ``--parallel`` of them at once. Per run: wall time, CPU seconds and
peak RSS (``os.wait4``: the CLI runs Dagster in-process and starts no children), the requests and retries the
run logged, Dagster's step times, and how long it waited for and held ``assistants.duckdb`` (one writer at a
time, see ``benchmarks/timed_cli.py``). At the end: the bucket's size per source, and what DuckDB holds per
source through ``assistants-export query``.

``--layout separate`` runs the same processes with ``--base-url`` and ``--ids-file`` into one warehouse prefix per
source instead, each with its own DuckDB file, so no run waits for another's lock (how it ran before the CLI had
``--source``; ``--layout auto``, the default, picks ``sources`` when ``snapshot --help`` offers ``--source``). The
results say which layout ran.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import datetime as dt
import io
import json
import os
import queue
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from assistants_export.sandbox import GeneratedCatalog
from benchmarks.cli_harness import MB, REPO, MotoBucket, cli, machine, run_measured, tail
from benchmarks.sandbox_process import API_KEY, sandbox

RESULTS = Path(__file__).parent / "results"
BUCKET = "scale"
PREFIX = "wh"
DEFAULT_PARALLEL = 2
"""Measured on 2 shared cores (``--sweep 1,2,4``, see benchmarks/README.md): the choice and why is there."""
STEPS = ("fetch_assistants", "flatten_assistants", "duckdb_warehouse", "update_history")


# --- Arguments ----------------------------------------------------------------------------------------------


def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.scale", description=__doc__.split("\n\n")[0])
    parser.add_argument("--sources", type=int, default=10, help="API sources, each its own sandbox (default 10)")
    parser.add_argument("--assistants", type=int, default=20_000, help="assistants per source (default 20,000)")
    parser.add_argument("--parallel", type=int, default=DEFAULT_PARALLEL,
                        help=f"snapshot runs at once (default {DEFAULT_PARALLEL})")
    parser.add_argument("--sweep", help="instead of one run: a fresh run at each of these --parallel values, "
                                        "e.g. 1,2,4, --repeat times interleaved; medians -> scale-sweep-<label>.*")
    parser.add_argument("--repeat", type=int, default=1, help="repetitions of each --sweep value (default 1)")
    parser.add_argument("--layout", choices=("auto", "sources", "separate"), default="auto",
                        help="sources: one warehouse, `snapshot --source NAME` with $ASSISTANTS_SOURCES_FILE; "
                             "separate: today's CLI, one warehouse prefix per source (--base-url, --ids-file); "
                             "auto (default): sources when the CLI has --source")
    parser.add_argument("--discover", action="store_true", help="sources list their assistants instead of an IDs file")
    parser.add_argument("--concurrency", type=int, default=8, help="each run's --concurrency (default 8)")
    parser.add_argument("--latency-ms", type=float, default=0.0, help="sandbox latency per answer (default 0)")
    parser.add_argument("--seed", type=int, default=1, help="source i's sandbox gets seed SEED + i (default 1)")
    parser.add_argument("--date", type=dt.date.fromisoformat, help="the snapshot date (default today, UTC)")
    parser.add_argument("--plain-cli", action="store_true",
                        help="run the console script itself, without the DuckDB lock timing of benchmarks.timed_cli")
    parser.add_argument("--label", help="results name: scale-<label>.{json,md} (default s<S>-n<N>)")
    parser.add_argument("--out", type=Path, default=RESULTS, help="folder for the results (default benchmarks/results)")
    parser.add_argument("--keep", action="store_true", help="keep the work folder (runs' logs, DuckDB cache)")
    parser.add_argument("--render", type=Path, metavar="JSON", help="instead: rewrite the .md of a results .json")
    args = parser.parse_args(argv)
    if args.render:
        return args
    if args.sources < 1 or args.assistants < 1 or args.parallel < 1:
        parser.error("--sources, --assistants and --parallel must be at least 1")
    if args.sources > 100:
        parser.error("--sources: at most 100 (one sandbox process each)")
    if args.sweep:
        try:
            args.sweep = [int(value) for value in args.sweep.split(",")]
        except ValueError:
            parser.error("--sweep takes comma-separated integers, e.g. 1,2,4")
        if min(args.sweep) < 1:
            parser.error("--sweep values must be at least 1")
    today = dt.datetime.now(dt.UTC).date()
    args.date = args.date or today
    if args.date > today:
        parser.error(f"--date {args.date} is after today ({today})")
    args.label = args.label or f"s{args.sources}-n{args.assistants}"
    return args


def _cli_has_source_option() -> bool:
    done = subprocess.run([*cli(), "snapshot", "--help"], capture_output=True, text=True, check=False, cwd=REPO)
    return "--source" in done.stdout


# --- One run per source -------------------------------------------------------------------------------------


def source_name(index: int) -> str:
    return f"src{index:02d}"


_DURATION = re.compile(r"^(?:(?P<h>\d+)h)?(?:(?P<m>\d+)m)?(?:(?P<s>[\d.]+)s)?$|^(?P<ms>[\d.]+)ms$")
_STEP = re.compile(r'Finished execution of step "(?P<step>[^"]+)" in (?P<duration>[\dhms.]+)\.')
_FETCHED = re.compile(r"\): (?P<outcomes>[^;]*); (?P<requests>\d+) requests, (?P<retries>\d+) retries "
                      r"\((?P<rate_limited>\d+) rate-limited, (?P<waited>[\d.]+)s waited\) in (?P<seconds>[\d.]+)s")


def _seconds(text: str) -> float | None:
    """Dagster's ``format_duration`` back to seconds: 533ms, 2.1s, 4m52s, 1h4m."""
    match = _DURATION.match(text)
    if not match or not any(match.groupdict().values()):
        return None
    if match["ms"]:
        return float(match["ms"]) / 1000
    return int(match["h"] or 0) * 3600 + int(match["m"] or 0) * 60 + float(match["s"] or 0)


def parse_run_log(text: str) -> dict[str, Any]:
    """What a ``--verbose`` run logged: Dagster's step times and the fetch's summary line (requests, retries)."""
    found: dict[str, Any] = {"steps": {}}
    for match in _STEP.finditer(text):
        found["steps"][match["step"]] = _seconds(match["duration"])
    fetched = _FETCHED.search(text)
    if fetched:
        found.update(requests=int(fetched["requests"]), retries=int(fetched["retries"]),
                     rate_limited=int(fetched["rate_limited"]), fetch_seconds=float(fetched["seconds"]),
                     outcomes={k: int(v) for k, v in (part.split("=") for part in fetched["outcomes"].split(", ")
                                                      if "=" in part)})
    if "is locked by another process" in text:
        found["locked_out"] = True
    return found


def parse_lock_log(path: Path, t0: float) -> dict[str, Any]:
    """One run's DuckDB connections (benchmarks.timed_cli): waits, holds, and the intervals relative to ``t0``."""
    if not path.exists():
        return {"connections": 0}
    records = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    records.sort(key=lambda record: record["asked"])
    intervals, memory = [], []
    waited = held = locked_wait = 0.0
    attempts = failed = 0
    for record in records:
        end = record.get("granted", record.get("failed"))
        wait = end - record["asked"]
        waited += wait
        if record.get("locked_attempts"):
            attempts += record["locked_attempts"]
            locked_wait += wait
        if "failed" in record:
            failed += 1
            continue
        closed = record.get("closed", record["granted"])
        held += closed - record["granted"]
        intervals.append([round(record["asked"] - t0, 3), round(record["granted"] - t0, 3), round(closed - t0, 3),
                          record["read_only"]])
        if not record["read_only"]:  # the process's high-water mark when it asked for a write and when it closed it
            memory.append([_kib_mb(record.get("memory_asked", {}).get("VmHWM")),
                           _kib_mb(record.get("memory_closed", {}).get("VmHWM"))])
    return {"connections": len(records), "wait_s": waited, "locked_wait_s": locked_wait, "held_s": held,
            "locked_attempts": attempts, "failed_connections": failed, "intervals": intervals,
            "write_peaks_mb": memory}


def _kib_mb(kib: int | None) -> float | None:
    return None if kib is None else kib * 1024 / MB


class _Runner:
    """Starts the runs, at most ``parallel`` at once, from worker threads, each measuring its own process."""

    def __init__(self, args: argparse.Namespace, layout: str, bucket: MotoBucket, apis: list[str], work: Path,
                 ids_file: Path, sources_file: Path | None) -> None:
        self.args, self.layout, self.bucket, self.apis, self.work = args, layout, bucket, apis, work
        self.ids_file, self.sources_file = ids_file, sources_file
        self.t0 = time.time()
        self.runs: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._started = 0

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items()
               if k != "DAGSTER_HOME" and not k.startswith(("OPENAI_", "ASSISTANTS_"))}
        env.update(self.bucket.env)
        env.update({f"SCALE_KEY_{index:02d}": API_KEY for index in range(len(self.apis))})
        if self.sources_file is not None:
            env["ASSISTANTS_SOURCES_FILE"] = str(self.sources_file)
        return env

    def command(self, index: int) -> list[str]:
        name = source_name(index)
        base = [sys.executable, "-m", "benchmarks.timed_cli"] if not self.args.plain_cli else cli()
        command = [*base, "snapshot", "--date", self.args.date.isoformat(), "--quiet", "--verbose",
                   "--concurrency", str(self.args.concurrency)]
        if self.args.date < dt.datetime.now(dt.UTC).date() - dt.timedelta(days=1):
            command.append("--force")
        if self.layout == "sources":
            return [*command, "--source", name, "--warehouse", self.bucket.uri]
        ids = ["--discover"] if self.args.discover else ["--ids-file", str(self.ids_file)]
        return [*command, "--warehouse", f"s3://{BUCKET}/{self.prefix_of(index)}", "--base-url", self.apis[index],
                "--api-key-env", f"SCALE_KEY_{index:02d}", *ids]

    def prefix_of(self, index: int) -> str:
        """The bucket prefix holding source ``index``'s tables."""
        if self.layout == "sources":
            return f"{PREFIX}/sources/{source_name(index)}"
        return f"{PREFIX}-{source_name(index)}"

    def run_one(self, index: int, slot: int) -> dict[str, Any]:
        name = source_name(index)
        log = self.work / f"run-{name}.log"
        lock_log = self.work / f"duckdb-{name}.jsonl"
        env = {**self.env(), "SCALE_DUCKDB_LOG": str(lock_log)}
        bucket_before = sum(size for _, size in self.bucket.objects())
        with self._lock:
            order = self._started
            self._started += 1
        measured = run_measured(self.command(index), env, log)
        text = log.read_text(encoding="utf-8", errors="replace")
        record: dict[str, Any] = {
            "source": name, "seed": self.args.seed + index, "order": order, "slot": slot,
            **{k: v for k, v in measured.items() if k not in ("started", "ended")},
            "start_s": measured["started"] - self.t0, "end_s": measured["ended"] - self.t0,
            "bucket_bytes_at_start": bucket_before, **parse_run_log(text),
            "duckdb": parse_lock_log(lock_log, self.t0), "load_average": os.getloadavg()[0],
        }
        if measured["exit"] != 0:
            record["error"] = tail(log)
        status = "ok" if measured["exit"] == 0 else f"FAILED (exit {measured['exit']})"
        print(f"  {name}  {measured['wall_s']:6.1f} s  CPU {measured['cpu_s']:6.1f} s  {measured['rss_mb']:5.0f} MB  "
              f"requests {record.get('requests', '?')}  DuckDB wait {record['duckdb'].get('wait_s', 0):5.1f} s  "
              f"{status}", flush=True)
        if measured["exit"] != 0:
            print("    " + record["error"].replace("\n", "\n    "), file=sys.stderr, flush=True)
        return record

    def run_all(self) -> list[dict[str, Any]]:
        todo: queue.Queue[int] = queue.Queue()
        for index in range(len(self.apis)):
            todo.put(index)
        errors: list[BaseException] = []

        def worker(slot: int) -> None:
            while True:
                try:
                    index = todo.get_nowait()
                except queue.Empty:
                    return
                try:
                    record = self.run_one(index, slot)
                except BaseException as error:  # reported after the others finish
                    errors.append(error)
                    return
                with self._lock:
                    self.runs.append(record)

        self.t0 = time.time()
        threads = [threading.Thread(target=worker, args=(slot,), name=f"scale-{slot}", daemon=True)
                   for slot in range(min(self.args.parallel, len(self.apis)))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if errors:
            raise errors[0]
        return sorted(self.runs, key=lambda run: run["source"])


# --- After the runs: the bucket, DuckDB ---------------------------------------------------------------------


def _bucket_by_source(bucket: MotoBucket, prefixes: dict[str, str]) -> dict[str, Any]:
    by_source = {name: {"bytes": 0, "files": 0, "parquet_bytes": 0, "log_bytes": 0} for name in prefixes}
    other = {"bytes": 0, "files": 0}
    total = files = 0
    for key, size in bucket.objects():
        total += size
        files += 1
        owner = next((name for name, prefix in prefixes.items() if key.startswith(prefix + "/")), None)
        if owner is None:
            other["bytes"] += size
            other["files"] += 1
            continue
        entry = by_source[owner]
        entry["bytes"] += size
        entry["files"] += 1
        if "/_delta_log/" in key:
            entry["log_bytes"] += size
        elif key.endswith(".parquet"):
            entry["parquet_bytes"] += size
    return {"total_bytes": total, "files": files, "by_source": by_source, "outside_sources": other}


def _cli_query(env: dict[str, str], warehouse: str, statement: str) -> dict[str, Any]:
    """``assistants-export query`` as CSV; rows as dicts, or the error it printed."""
    started = time.perf_counter()
    done = subprocess.run([*cli(), "query", "--warehouse", warehouse, statement, "--format", "csv"], env=env,
                          capture_output=True, text=True, check=False, cwd=REPO)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        return {"error": (done.stderr.strip() or done.stdout.strip())[-500:], "seconds": seconds}
    return {"rows": list(csv.DictReader(io.StringIO(done.stdout))), "seconds": seconds}


def _duckdb_check(runner: _Runner, env: dict[str, str]) -> dict[str, Any]:
    """Current assistants per source, and each source's snapshot_runs row (requests, retries), as DuckDB has them."""
    names = [source_name(index) for index in range(len(runner.apis))]
    if runner.layout == "sources":
        warehouse = runner.bucket.uri
        current = _cli_query(env, warehouse, "SELECT source, count(*) AS assistants FROM current_assistants "
                                             "GROUP BY source ORDER BY source")
        runs = _cli_query(env, warehouse, "SELECT source, snapshot_date, ok_count, requests, retries, rate_limited "
                                          "FROM snapshot_runs ORDER BY source")
        check: dict[str, Any] = {"current": current, "snapshot_runs": runs,
                                 "database_bytes": _database_bytes(runner.bucket.database)}
    else:  # one warehouse (and one DuckDB file) per source
        rows, runs_rows, errors, seconds = [], [], [], 0.0
        for index, name in enumerate(names):
            warehouse = f"s3://{BUCKET}/{runner.prefix_of(index)}"
            current = _cli_query(env, warehouse, f"SELECT '{name}' AS source, count(*) AS assistants "
                                                 "FROM current_assistants")
            runs = _cli_query(env, warehouse, f"SELECT '{name}' AS source, snapshot_date, ok_count, requests, "
                                              "retries, rate_limited FROM snapshot_runs")
            seconds += current["seconds"]
            rows += current.get("rows", [])
            runs_rows += runs.get("rows", [])
            errors += [f"{name}: {result['error']}" for result in (current, runs) if "error" in result]
        check = {"current": {"rows": rows, "seconds": seconds, **({"error": "; ".join(errors)} if errors else {})},
                 "snapshot_runs": {"rows": runs_rows},
                 "database_bytes": sum(_database_bytes(runner.bucket.database_of(runner.prefix_of(index)))
                                       for index in range(len(names)))}
    counts = {row["source"]: int(row["assistants"]) for row in check["current"].get("rows", [])}
    expected = runner.args.assistants
    check["assistants_by_source"] = counts
    check["expected_per_source"] = expected
    check["complete"] = sorted(counts) == names and all(count == expected for count in counts.values())
    return check


def _database_bytes(database: Path) -> int:
    return sum(path.stat().st_size for path in database.parent.glob(database.name + "*") if path.is_file()) \
        if database.parent.is_dir() else 0


def _union(intervals: list[tuple[float, float]]) -> float:
    total, end = 0.0, float("-inf")
    for start, stop in sorted(intervals):
        if stop <= end:
            continue
        total += stop - max(start, end)
        end = stop
    return total


def _lock_summary(runs: list[dict[str, Any]], total_wall: float) -> dict[str, Any]:
    """How much the one DuckDB writer serialised the runs."""
    held = [(i[1], i[2]) for run in runs for i in run["duckdb"].get("intervals", [])]
    waiting = [(i[0], i[1]) for run in runs for i in run["duckdb"].get("intervals", []) if i[1] - i[0] > 0.2]
    run_walls = sum(run["wall_s"] for run in runs)
    wait = sum(run["duckdb"].get("wait_s", 0.0) for run in runs)
    locked_wait = sum(run["duckdb"].get("locked_wait_s", 0.0) for run in runs)
    timed = any(run["duckdb"].get("connections") for run in runs)
    return {
        "timed": timed,
        "connections": sum(run["duckdb"].get("connections", 0) for run in runs),
        "wait_s": wait, "locked_wait_s": locked_wait,
        "longest_wait_s": max((i[1] - i[0] for run in runs for i in run["duckdb"].get("intervals", [])), default=0.0),
        "held_s": sum(run["duckdb"].get("held_s", 0.0) for run in runs),
        "held_union_s": _union(held),
        "waiting_union_s": _union(waiting),
        "held_share_of_wall": _union(held) / total_wall if total_wall else None,
        "wait_share_of_run_time": wait / run_walls if run_walls else None,
        "runs_that_waited": sum(1 for run in runs if run["duckdb"].get("locked_attempts")),
        "runs_locked_out": [run["source"] for run in runs if run.get("locked_out")],
    }


# --- One scale run ------------------------------------------------------------------------------------------


def run_scale(args: argparse.Namespace, layout: str, parallel: int) -> dict[str, Any]:
    """Start the bucket and the sandboxes, run every source, check DuckDB; the results as a dict."""
    args = argparse.Namespace(**{**vars(args), "parallel": parallel})
    work = Path(tempfile.mkdtemp(prefix="assistants-scale-"))
    config = {"sources": args.sources, "assistants": args.assistants, "parallel": parallel, "layout": layout,
              "discover": args.discover, "concurrency": args.concurrency, "latency_ms": args.latency_ms,
              "seeds": [args.seed + i for i in range(args.sources)], "date": args.date.isoformat(),
              "command": "python -m benchmarks.timed_cli (the CLI's main, DuckDB connections timed)"
              if not args.plain_cli else " ".join(cli())}
    results: dict[str, Any] = {"label": args.label, "config": config, "machine": machine(), "finished": False}
    print(f"scale {args.label}: {args.sources} sources × {args.assistants:,} assistants, parallel {parallel}, "
          f"layout {layout}; work {work}", flush=True)
    setup_started = time.perf_counter()
    bucket = MotoBucket(work, bucket=BUCKET, prefix=PREFIX)
    ids_file = work / "ids.txt"
    ids_file.write_text("\n".join(GeneratedCatalog(args.assistants).ids()) + "\n", encoding="utf-8")
    status_ok = False
    try:
        with contextlib.ExitStack() as stack:
            apis = [stack.enter_context(sandbox(args.assistants, latency_ms=args.latency_ms,
                                                extra=["--seed", str(args.seed + index)])).base_url
                    for index in range(args.sources)]
            sources_file = _write_sources_file(work, apis, ids_file, args.discover) if layout == "sources" else None
            runner = _Runner(args, layout, bucket, apis, work, ids_file, sources_file)
            results["setup_s"] = time.perf_counter() - setup_started
            started = time.perf_counter()
            runs = runner.run_all()
            total_wall = time.perf_counter() - started
            results["runs"] = runs
            ok = [run for run in runs if run["exit"] == 0]
            prefixes = {source_name(i): runner.prefix_of(i) for i in range(args.sources)}
            env = runner.env()
            results["overall"] = {
                "total_wall_s": total_wall,
                "runs_ok": len(ok), "runs_failed": len(runs) - len(ok),
                "assistants_per_s": args.sources * args.assistants / total_wall,
                "sum_run_wall_s": sum(run["wall_s"] for run in runs),
                "sum_cpu_s": sum(run["cpu_s"] for run in runs),
                "max_rss_mb": max(run["rss_mb"] for run in runs),
                "median_rss_mb": statistics.median(run["rss_mb"] for run in runs),
                "requests": sum(run.get("requests", 0) for run in runs),
                "retries": sum(run.get("retries", 0) for run in runs),
                "moto_peak_rss_mb": bucket.peak_rss_mb(),
                "load_average_end": os.getloadavg(),
            }
            results["bucket"] = _bucket_by_source(bucket, prefixes)
            results["duckdb_lock"] = _lock_summary(runs, total_wall)
            results["duckdb"] = _duckdb_check(runner, env)
            status_ok = not results["overall"]["runs_failed"] and results["duckdb"]["complete"]
            results["finished"] = True
    except Exception as error:  # written down with whatever was measured, and the work folder kept
        results["error"] = f"{type(error).__name__}: {error}"
        print(f"the scale run stopped: {results['error']}", file=sys.stderr, flush=True)
    finally:
        bucket.close()
        results["machine"]["load_average_end"] = os.getloadavg()
        if args.keep or not status_ok:
            print(f"kept: runs' logs and the DuckDB cache in {work}", flush=True)
            results["work"] = str(work)
        else:
            shutil.rmtree(work, ignore_errors=True)
    return results


def _write_sources_file(work: Path, apis: list[str], ids_file: Path, discover: bool) -> Path:
    """``$ASSISTANTS_SOURCES_FILE``: one table per source, each key in its own variable."""
    lines = []
    for index, api in enumerate(apis):
        lines += [f"[sources.{source_name(index)}]", f'base_url = "{api}"', f'api_key_env = "SCALE_KEY_{index:02d}"',
                  'auth_style = "bearer"', "discover = true" if discover else f'ids_file = "{ids_file}"', ""]
    path = work / "sources.toml"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


# --- Results ------------------------------------------------------------------------------------------------


def _mb(value: float | None) -> str:
    return "" if value is None else f"{value / MB:,.1f}"


def _opt(value: Any, spec: str = "") -> str:
    return "" if value is None else format(value, spec)


def render_markdown(results: dict[str, Any]) -> str:
    config, machine_ = results["config"], results["machine"]
    overall = results.get("overall", {})
    lines = [
        f"# Scale: {config['sources']} sources × {config['assistants']:,} assistants, parallel {config['parallel']}",
        "",
        f"{machine_['date']}, commit `{machine_['commit'] or '?'}`, {machine_['cpus']} CPUs (**2 shared cores**: other "
        f"people's work ran on the same machine), Python {machine_['python']}; load average "
        f"{machine_['load_average_start'][0]:.1f} at the start, {machine_.get('load_average_end', [0])[0]:.1f} at the "
        f"end. Layout `{config['layout']}`"
        + (" (one warehouse, `snapshot --source NAME`)" if config["layout"] == "sources" else
           " (one warehouse prefix, and so one DuckDB file, per source: the CLI had no `--source` yet)")
        + f"; {'discover' if config['discover'] else 'IDs file'}, concurrency {config['concurrency']}, sandbox "
        f"latency {config['latency_ms']:g} ms, snapshot date {config['date']}. Every run is a fresh process "
        f"({config['command']}); each source is a sandbox process of its own (seeds {config['seeds'][0]}-"
        f"{config['seeds'][-1]}) and the bucket is moto's S3 server in its own process. One repetition: no medians "
        "(see the sweep for repeated figures).",
        "",
    ]
    if not results.get("runs"):
        return "\n".join([*lines, "No run finished.", ""])
    lines += ["| source | start s | end s | wall s | CPU s | peak RSS MB | requests | retries | 429 | fetch s "
              "| flatten s | DuckDB load s | history s | DuckDB wait s | DuckDB held s | bucket at start MB | exit |",
              "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: "
              "| ---: | ---: | --- |"]
    for run in results["runs"]:
        steps = run.get("steps", {})
        duck = run["duckdb"]
        lines.append(
            f"| {run['source']} | {run['start_s']:.1f} | {run['end_s']:.1f} | {run['wall_s']:.1f} | {run['cpu_s']:.1f} "
            f"| {run['rss_mb']:.0f} | {_opt(run.get('requests'), ',')} | {_opt(run.get('retries'))} "
            f"| {_opt(run.get('rate_limited'))} | "
            + " | ".join(_opt(steps.get(step), ".1f") for step in STEPS)
            + f" | {_opt(duck.get('wait_s'), '.1f')} | {_opt(duck.get('held_s'), '.1f')} "
            f"| {_mb(run['bucket_bytes_at_start'])} | {run['exit']}"
            f"{' (locked out)' if run.get('locked_out') else ''} |")
    bucket = results.get("bucket", {})
    duck = results.get("duckdb", {})
    lock = results.get("duckdb_lock", {})
    counts = duck.get("assistants_by_source", {})
    total = config["sources"] * config["assistants"]
    held = sum(counts.values())
    lines += [
        "", "## Overall", "",
        "| | |", "| --- | ---: |",
        f"| total wall (first start to last end) | {overall.get('total_wall_s', 0):,.1f} s |",
        f"| assistants per second (all sources) | {overall.get('assistants_per_s', 0):,.0f} |",
        f"| runs ok / failed | {overall.get('runs_ok')} / {overall.get('runs_failed')} |",
        f"| sum of the runs' wall / CPU | {overall.get('sum_run_wall_s', 0):,.1f} s / "
        f"{overall.get('sum_cpu_s', 0):,.1f} s |",
        f"| peak RSS of a run: median / max | {overall.get('median_rss_mb', 0):.0f} / "
        f"{overall.get('max_rss_mb', 0):.0f} MB |",
        f"| requests / retries (as the runs logged them) | {overall.get('requests', 0):,} / "
        f"{overall.get('retries', 0):,} |",
        f"| bucket | {_mb(bucket.get('total_bytes'))} MB in {bucket.get('files', 0):,} objects |",
        f"| DuckDB file (local cache) | {_mb(duck.get('database_bytes'))} MB |",
        f"| moto's peak RSS (it holds the bucket in memory) | {_opt(overall.get('moto_peak_rss_mb'), '.0f')} MB |",
        f"| set-up (moto, {config['sources']} sandboxes) | {results.get('setup_s', 0):.1f} s |",
        f"| DuckDB: current assistants | {held:,} of {total:,}, "
        + ("complete and even" if duck.get("complete") else "**not** as expected")
        + f" ({', '.join(f'{name} {count:,}' for name, count in counts.items()) or 'none'}) |",
    ]
    stored = {row["source"]: row for row in duck.get("snapshot_runs", {}).get("rows", [])}
    if stored:
        agree = all(str(run.get("requests")) == stored.get(run["source"], {}).get("requests")
                    and str(run.get("retries")) == stored.get(run["source"], {}).get("retries")
                    for run in results["runs"])
        lines.append(f"| requests and retries in DuckDB's `snapshot_runs` | "
                     f"{'the same as the runs logged' if agree else '**differ from the runs logs** (see the JSON)'} |")
    if "error" in duck.get("current", {}):
        lines.append(f"| DuckDB query error | {duck['current']['error'].splitlines()[-1][:200].replace('|', '/')} |")
    by_source = bucket.get("by_source", {})
    if by_source:
        sizes = [entry["bytes"] for entry in by_source.values()]
        lines += ["", f"Bucket per source: median {_mb(statistics.median(sizes))} MB (min {_mb(min(sizes))}, max "
                  f"{_mb(max(sizes))}); Delta logs {_mb(sum(e['log_bytes'] for e in by_source.values()))} MB in all; "
                  f"outside the sources' prefixes {_mb(bucket['outside_sources']['bytes'])} MB in "
                  f"{bucket['outside_sources']['files']} objects."]
    if lock.get("timed"):
        lines += [
            "", "## DuckDB's one writer", "",
            f"{lock['connections']} connections to `assistants.duckdb` over all runs. Time spent waiting to connect: "
            f"{lock['wait_s']:.1f} s in all ({lock['locked_wait_s']:.1f} s of it in connections that found the file "
            f"locked; {lock['runs_that_waited']} of {len(results['runs'])} runs met the lock), the longest single wait "
            f"{lock['longest_wait_s']:.1f} s; {100 * (lock['wait_share_of_run_time'] or 0):.1f} % of the runs' summed "
            f"wall time. The file was held {lock['held_s']:.1f} s in all; some run held it during "
            f"{lock['held_union_s']:.1f} s of the {overall.get('total_wall_s', 0):.1f} s total wall "
            f"({100 * (lock['held_share_of_wall'] or 0):.0f} %), and some run was waiting for it during "
            f"{lock['waiting_union_s']:.1f} s.",
        ]
        if lock["runs_locked_out"]:
            lines += ["", f"**Locked out** (waited past the lock timeout; their Parquet/Delta data are stored and the "
                      f"next run loads them): {', '.join(lock['runs_locked_out'])}."]
    else:
        lines += ["", "No DuckDB lock figures: the runs were not timed (`--plain-cli`, or the connector's "
                  "`DuckDBStore.connect` moved)."]
    peaks = [(run["source"], run["duckdb"].get("write_peaks_mb") or [], run["rss_mb"]) for run in results["runs"]]
    if any(writes for _, writes, _ in peaks):
        lines += ["", "## Peak RSS as each run went", "",
                  "The run's high-water mark (VmHWM) when it asked for each DuckDB write connection and when it closed "
                  "it: the first is the load (so its first figure is the peak of fetch + flatten), the last the "
                  "history's (asked for once the new history is computed); then the peak at exit (`wait4`).", "",
                  "| source | bucket at start MB | write connections: asked → closed, MB | at exit MB |",
                  "| --- | ---: | --- | ---: |"]
        starts = {run["source"]: run["bucket_bytes_at_start"] for run in results["runs"]}
        for name, writes, rss in peaks:
            shown = ", ".join(f"{_opt(a, '.0f')} → {_opt(b, '.0f')}" for a, b in writes)
            lines.append(f"| {name} | {_mb(starts[name])} | {shown} | {rss:.0f} |")
    observations = results.get("observations")
    if observations:
        lines += ["", "## Observations", "", *[f"* {note}" for note in observations]]
    failed = [run for run in results["runs"] if run["exit"] != 0]
    for run in failed:
        lines += ["", f"### {run['source']} failed (exit {run['exit']})", "", "```", run.get("error", ""), "```"]
    return "\n".join(lines) + "\n"


def render_sweep(sweep: dict[str, Any]) -> str:
    config = sweep["config"]
    lines = [f"# Scale sweep: {config['sources']} sources × {config['assistants']:,} assistants, parallel "
             f"{', '.join(map(str, config['values']))}", "",
             f"{sweep['machine']['date']}, commit `{sweep['machine']['commit'] or '?'}`, "
             f"{sweep['machine']['cpus']} CPUs (2 shared cores), layout `{config['layout']}`, {config['repeat']} "
             "repetition(s) per value, interleaved; medians (each repetition: a fresh bucket, sandboxes, warehouse).",
             "",
             "| parallel | total wall s | assistants/s | median run wall s | max peak RSS MB | DuckDB wait s "
             "| most one run waited for DuckDB s | DuckDB held % of wall | runs failed "
             "| repetitions: total wall s (load average at the start) |",
             "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |"]
    for value in config["values"]:
        rows = [r for r in sweep["repetitions"] if r["parallel"] == value]
        if not rows:
            continue

        def med(key: str, rows: list[dict[str, Any]] = rows) -> float:
            return statistics.median(r[key] for r in rows)

        lines.append(f"| {value} | {med('total_wall_s'):.1f} | {med('assistants_per_s'):,.0f} "
                     f"| {med('median_run_wall_s'):.1f} | {med('max_rss_mb'):.0f} | {med('wait_s'):.1f} "
                     f"| {max(run['duckdb_wait_s'] or 0 for r in rows for run in r['runs']):.1f} "
                     f"| {100 * med('held_share_of_wall'):.0f} | {sum(r['runs_failed'] for r in rows)} "
                     f"| {', '.join(_repetition(r) for r in rows)} |")
    if sweep.get("observations"):
        lines += ["", "## Observations", "", *[f"* {note}" for note in sweep["observations"]]]
    return "\n".join(lines) + "\n"


def _repetition(row: dict[str, Any]) -> str:
    load = row.get("load_average_start")
    return f"{row['total_wall_s']:.0f}" + ("" if load is None else f" ({load:.1f})")


def _write(text_json: dict[str, Any], markdown: str, stem: Path) -> None:
    for suffix, text in (("json", json.dumps(text_json, indent=2) + "\n"), ("md", markdown)):
        path = stem.with_suffix("." + suffix)
        aside = path.with_name(path.name + ".tmp")
        aside.write_text(text, encoding="utf-8")
        aside.replace(path)


def _sweep_row(results: dict[str, Any]) -> dict[str, Any]:
    overall, lock = results.get("overall", {}), results.get("duckdb_lock", {})
    runs = results.get("runs", [])
    return {"parallel": results["config"]["parallel"], "total_wall_s": overall.get("total_wall_s"),
            "assistants_per_s": overall.get("assistants_per_s"),
            "median_run_wall_s": statistics.median(r["wall_s"] for r in runs) if runs else None,
            "max_rss_mb": overall.get("max_rss_mb"), "wait_s": lock.get("wait_s", 0.0),
            "held_share_of_wall": lock.get("held_share_of_wall") or 0.0, "runs_failed": overall.get("runs_failed"),
            "complete": results.get("duckdb", {}).get("complete"),
            "load_average_start": results["machine"]["load_average_start"][0],
            "load_average_end": results["machine"].get("load_average_end", [None])[0]}


def main(argv: Sequence[str] | None = None) -> int:
    args = _parse_args(argv)
    if args.render:
        results = json.loads(args.render.read_text(encoding="utf-8"))
        markdown = render_sweep(results) if "repetitions" in results else render_markdown(results)
        args.render.with_suffix(".md").write_text(markdown, encoding="utf-8")
        print(markdown)
        return 0
    layout = args.layout
    if layout == "auto":
        layout = "sources" if _cli_has_source_option() else "separate"
    args.out.mkdir(parents=True, exist_ok=True)
    if args.sweep:
        sweep: dict[str, Any] = {"config": {"sources": args.sources, "assistants": args.assistants,
                                            "values": args.sweep, "repeat": args.repeat, "layout": layout},
                                 "machine": machine(), "repetitions": []}
        for _ in range(args.repeat):
            for value in args.sweep:
                results = run_scale(args, layout, value)
                sweep["repetitions"].append({**_sweep_row(results), "runs": [
                    {k: run.get(k) for k in ("source", "wall_s", "cpu_s", "rss_mb", "start_s", "end_s", "steps")}
                    | {"duckdb_wait_s": run["duckdb"].get("wait_s")} for run in results.get("runs", [])]})
                _write(sweep, render_sweep(sweep), args.out / f"scale-sweep-{args.label}")
        print(render_sweep(sweep))
        print(f"written: {args.out / f'scale-sweep-{args.label}'}.md and .json")
        return 0 if all(r["complete"] and not r["runs_failed"] for r in sweep["repetitions"]) else 1
    results = run_scale(args, layout, args.parallel)
    markdown = render_markdown(results)
    _write(results, markdown, args.out / f"scale-{args.label}")
    print()
    print(markdown)
    print(f"written: {args.out / f'scale-{args.label}'}.md and .json")
    return 0 if _succeeded(results) else 1


def _succeeded(results: dict[str, Any]) -> bool:
    return bool(results.get("finished") and results["duckdb"]["complete"] and not results["overall"]["runs_failed"])


if __name__ == "__main__":
    sys.exit(main())
