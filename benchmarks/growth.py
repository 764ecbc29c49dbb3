"""``make bench-growth``: how the warehouse and the nightly run grow over many simulated nights.

    python -m benchmarks.growth --n 200 --nights 10 --change-rate 0.05            # a quick look
    python -m benchmarks.growth --n 2000 --nights 60 --change-rate 0.02           # see benchmarks/README.md
    python -m benchmarks.growth --fit results/growth-a.json results/growth-b.json  # bytes per (un)changed assistant

One sandbox process serves a catalog that evolves by date (``python -m assistants_export.sandbox --change-rate``);
before
each night the runner switches its date (``POST /_control/date``), and then runs the real CLI,
``assistants-export snapshot --date D --force``, in a fresh process: the command a user runs nightly,
history included. Per night it records wall time, CPU seconds and peak RSS of that process and the
warehouse's size on disk, and rewrites ``results/growth-<label>.json`` and ``.md`` so that an
interrupted run still has its table. At the end (and every ``--query-every`` nights) it times the
answers of a few queries through the ``query`` and ``as-of`` commands and through DuckDB directly.

Nothing here imports the connector: the warehouse is measured as files on disk.
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from assistants_export.sandbox.evolving import EvolvingCatalog
from benchmarks.cli_harness import MB, REPO, MotoBucket, cli, file_size, machine, run_measured, tail
from benchmarks.sandbox_process import API_KEY, sandbox

RESULTS = Path(__file__).parent / "results"
CONFIG_AS_OF_SQL = REPO / "sql" / "audit" / "config_as_of.sql"


# --- Arguments ----------------------------------------------------------------------------------------------


def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.growth", description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=2_000, help="assistants on the first night (default 2,000)")
    parser.add_argument("--nights", type=int, default=60, help="nights to simulate (default 60)")
    parser.add_argument("--change-rate", type=float, default=0.02,
                        help="probability that an assistant changes on a night (default 0.02)")
    parser.add_argument("--deletion-rate", type=float, help="nightly deletion probability (default change rate / 10)")
    parser.add_argument("--creation-rate", type=float,
                        help="assistants created per night as a share of N (default change rate / 10)")
    parser.add_argument("--seed", type=int, default=0, help="catalog seed (default 0)")
    parser.add_argument("--start-date", type=dt.date.fromisoformat,
                        help="the first night's date (default: so that the last night is two days ago)")
    parser.add_argument("--discover", action="store_true", help="snapshot with --discover instead of an IDs file")
    parser.add_argument("--recent-deleted-days", type=int, default=7,
                        help="IDs mode: the IDs file also lists assistants deleted in this many last nights, "
                             "which then end not_found (default 7)")
    parser.add_argument("--concurrency", type=int, default=8, help="the CLI's --concurrency (default 8)")
    parser.add_argument("--latency-ms", type=float, default=0.0, help="sandbox latency per answer (default 0)")
    parser.add_argument("--warehouse", type=Path,
                        help="warehouse folder to use (and keep); default a temporary one, deleted unless --keep")
    parser.add_argument("--object-store", action="store_true",
                        help="keep the warehouse in a bucket of an S3-compatible server started on loopback (moto's, "
                             "from the dev extra): Delta tables, DuckDB in a local cache")
    parser.add_argument("--keep", action="store_true", help="keep the temporary warehouse and the nights' logs")
    parser.add_argument("--query-every", type=int, default=0, metavar="K",
                        help="also time the queries after every K-th night (default: only after the last)")
    parser.add_argument("--query-repeat", type=int, default=3, help="repetitions per query; medians (default 3)")
    parser.add_argument("--label", help="results name: growth-<label>.{json,md} (default n<N>-r<rate>-k<nights>)")
    parser.add_argument("--out", type=Path, default=RESULTS, help="folder for the results (default benchmarks/results)")
    parser.add_argument("--fit", type=Path, nargs="+", metavar="JSON",
                        help="instead: fit bytes = c + a·unchanged assistant-nights + b·changed assistants over "
                             "these results (runs at two change rates separate a from b)")
    args = parser.parse_args(argv)
    if not args.fit:
        if args.n < 1 or args.nights < 1:
            parser.error("--n and --nights must be at least 1")
        for name in ("change_rate", "deletion_rate", "creation_rate"):
            value = getattr(args, name)
            if value is not None and not 0 <= value <= 1:
                parser.error(f"--{name.replace('_', '-')} must be between 0 and 1")
        today = dt.datetime.now(dt.UTC).date()
        if args.start_date is None:
            args.start_date = today - dt.timedelta(days=args.nights + 1)
        if args.start_date + dt.timedelta(days=args.nights - 1) > today:
            parser.error(f"the last night would be after today ({today}): choose an earlier --start-date")
        discover = "-discover" if args.discover else ""
        bucket = "-s3" if args.object_store else ""
        args.label = args.label or f"n{args.n}-r{args.change_rate:g}-k{args.nights}{discover}{bucket}"
    return args


# --- The CLI, measured --------------------------------------------------------------------------------------


def _env(base_url: str, start: dt.date) -> dict[str, str]:
    """The sandbox as the API; no Dagster instance (DAGSTER_HOME unset), so only the CLI's own work is measured."""
    env = {key: value for key, value in os.environ.items() if key != "DAGSTER_HOME" and not key.startswith("OPENAI_")}
    env.update(OPENAI_BASE_URL=base_url, OPENAI_API_KEY=API_KEY, ASSISTANTS_START_DATE=start.isoformat())
    return env


# --- The warehouse on disk ----------------------------------------------------------------------------------


def _sizes(warehouse: Path) -> dict[str, Any]:
    """Bytes on disk by kind, found by walking the folder (no knowledge of the layout beyond file names)."""
    parquet = parquet_files = total = files = 0
    datasets: dict[str, int] = {}
    for folder, _, names in os.walk(warehouse):
        for name in names:
            path = Path(folder, name)
            try:
                size = path.stat().st_size
            except FileNotFoundError:
                continue
            total += size
            files += 1
            if name.endswith(".parquet"):
                parquet += size
                parquet_files += 1
                # The dataset: the path without hive-style key=value folders and the file name.
                parts = [p for p in path.relative_to(warehouse).parts[:-1] if "=" not in p]
                dataset = "/".join(parts) or "."
                datasets[dataset] = datasets.get(dataset, 0) + size
    database = warehouse / "assistants.duckdb"
    duckdb = file_size(database)
    wal = file_size(database.with_name(database.name + ".wal"))
    return {"parquet_bytes": parquet, "parquet_files": parquet_files, "duckdb_bytes": duckdb + wal, "wal_bytes": wal,
            "total_bytes": total, "files": files, "parquet_by_dataset": dict(sorted(datasets.items()))}


# --- Queries ------------------------------------------------------------------------------------------------


def _time_cli(command: list[str], env: dict[str, str], repeat: int) -> dict[str, Any]:
    times: list[float] = []
    for _ in range(repeat):
        started = time.perf_counter()
        done = subprocess.run(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=REPO,
                              check=False)
        times.append(time.perf_counter() - started)
        if done.returncode != 0:
            return {"error": done.stderr.decode(errors="replace").strip()[-500:]}
    return {"median_s": statistics.median(times), "all_s": times}


def _time_duckdb(database: Path, sql: str, parameters: dict[str, Any], repeat: int) -> dict[str, Any]:
    import duckdb

    times: list[float] = []
    rows = 0
    try:
        with duckdb.connect(str(database), read_only=True) as connection:
            for _ in range(repeat):
                started = time.perf_counter()
                rows = _arrow(connection.execute(sql, parameters)).num_rows
                times.append(time.perf_counter() - started)
    except Exception as error:  # the storage layer is being redesigned: report, do not stop
        return {"error": f"{type(error).__name__}: {error}"[:500]}
    return {"median_s": statistics.median(times), "all_s": times, "rows": rows}


def _arrow(result: Any) -> Any:
    """The whole result as an Arrow table (``to_arrow_table`` in DuckDB 1.4+, ``fetch_arrow_table`` before)."""
    fetch = getattr(result, "to_arrow_table", None) or result.fetch_arrow_table
    return fetch()


def _queries(warehouse: Path | str, database: Path, env: dict[str, str], as_of: dt.date,
             repeat: int) -> dict[str, Any]:
    """Answer times of the queries people ask of a long history, through the CLI and through DuckDB directly."""
    command, where = cli(), ["--warehouse", str(warehouse)]
    config_as_of = CONFIG_AS_OF_SQL.read_text(encoding="utf-8")
    cli_runs = {
        "startup (SELECT 1)": [*command, "query", *where, "SELECT 1", "--format", "csv"],
        "current_assistants": [*command, "query", *where, "--view", "current_assistants", "--format", "csv"],
        "config_as_of": [*command, "query", *where, "--file", str(CONFIG_AS_OF_SQL), "--param",
                         f"as_of={as_of.isoformat()}", "--format", "csv"],
        "as-of": [*command, "as-of", as_of.isoformat(), *where, "--json"],
        "count(assistant_changes)": [*command, "query", *where, "SELECT count(*) FROM assistant_changes", "--format",
                                     "csv"],
    }
    direct = {
        "current_assistants": ("SELECT * FROM current_assistants", {}),
        "config_as_of": (config_as_of, {"as_of": as_of}),
        "count(assistant_changes)": ("SELECT count(*) FROM assistant_changes", {}),
    }
    results: dict[str, Any] = {"as_of": as_of.isoformat(), "repeat": repeat, "cli": {}, "duckdb": {}}
    for name, command in cli_runs.items():
        results["cli"][name] = _time_cli(command, env, repeat)
    for name, (sql, parameters) in direct.items():
        results["duckdb"][name] = _time_duckdb(database, sql, parameters, repeat)
    changes = _scalar(database, "SELECT count(*) FROM assistant_changes")
    history = _scalar(database, "SELECT count(*) FROM assistant_history")
    results["rows"] = {"assistant_changes": changes, "assistant_history": history}
    return results


def _scalar(database: Path, sql: str) -> int | None:
    import duckdb

    try:
        with duckdb.connect(str(database), read_only=True) as connection:
            row = connection.execute(sql).fetchone()
    except Exception:
        return None
    return None if row is None else int(row[0])


# --- Derived figures ----------------------------------------------------------------------------------------


def _median_of(nights: list[dict[str, Any]], key: str) -> float | None:
    values = [night[key] for night in nights if night.get(key) is not None]
    return statistics.median(values) if values else None


def _trend(nights: list[dict[str, Any]]) -> dict[str, Any]:
    """Nights 1-3 against the last three (night 0, the first full load, stands apart): median and ratio."""
    steady = [night for night in nights if night["night"] > 0 and night.get("exit") == 0]
    if len(steady) < 2:
        return {}
    first, last = steady[:3], steady[-3:]
    trend: dict[str, Any] = {"first_nights": [n["night"] for n in first], "last_nights": [n["night"] for n in last]}
    for key in ("wall_s", "cpu_s", "rss_mb"):
        a, b = _median_of(first, key), _median_of(last, key)
        trend[key] = {"first": a, "last": b, "ratio": b / a if a and b is not None else None}
    return trend


def _growth(nights: list[dict[str, Any]]) -> dict[str, Any]:
    """Bytes added per night, per live assistant and per changed assistant (nights after the first)."""
    done = [night for night in nights if night.get("exit") == 0]
    if len(done) < 2:
        return {}
    growth: dict[str, Any] = {}
    later = done[1:]
    live = statistics.mean(n["live"] for n in later)
    touched = statistics.mean(n["changed"] + n["created"] + n["deleted"] for n in later)
    for key in ("parquet_bytes", "duckdb_bytes", "total_bytes"):
        per_night = (done[-1][key] - done[0][key]) / (done[-1]["night"] - done[0]["night"])
        deltas = [b[key] - a[key] for a, b in itertools.pairwise(done)]
        growth[key] = {
            "first_night": done[0][key],
            "per_night": per_night,
            "median_delta": statistics.median(deltas),
            "per_night_per_live_assistant": per_night / live if live else None,
            "per_night_per_changed_assistant": per_night / touched if touched else None,
        }
    growth["mean_live"] = live
    growth["mean_changed_created_deleted"] = touched
    return growth


def _cumulative(nights: list[dict[str, Any]]) -> list[tuple[float, float, dict[str, float]]]:
    """(unchanged assistant-nights, changed assistants, sizes) after each night.

    Night 0's assistants count as changed (created); created and deleted ones count as changed too.
    """
    unchanged = changed = 0.0
    rows = []
    for night in nights:
        if night.get("exit") != 0:
            break
        unchanged += night["unchanged"]
        changed += night["changed"] + night["created"] + night["deleted"]
        rows.append((unchanged, changed, {k: float(night[k]) for k in ("parquet_bytes", "duckdb_bytes",
                                                                      "total_bytes")}))
    return rows


def _solve(matrix: list[list[float]], vector: list[float]) -> list[float] | None:
    """Gaussian elimination with partial pivoting; None when the system is (nearly) singular."""
    size = len(vector)
    rows = [[*matrix[i], vector[i]] for i in range(size)]
    scale = max(abs(x) for row in matrix for x in row) or 1.0
    for column in range(size):
        pivot = max(range(column, size), key=lambda r: abs(rows[r][column]))
        if abs(rows[pivot][column]) < 1e-12 * scale:
            return None
        rows[column], rows[pivot] = rows[pivot], rows[column]
        for r in range(column + 1, size):
            factor = rows[r][column] / rows[column][column]
            rows[r] = [x - factor * y for x, y in zip(rows[r], rows[column], strict=True)]
    solution = [0.0] * size
    for r in reversed(range(size)):
        solution[r] = (rows[r][size] - sum(rows[r][c] * solution[c] for c in range(r + 1, size))) / rows[r][r]
    return solution


def fit(results: list[dict[str, Any]]) -> dict[str, Any]:
    """Least squares over every night of every run: bytes ≈ c + a·(unchanged assistant-nights) + b·(changed).

    Within one run at a constant change rate both counts grow in proportion, so a and b are only
    separated by runs at different change rates (e.g. 2 % and 15 %).
    """
    rows = [row for result in results for row in _cumulative(result["nights"])]
    fitted: dict[str, Any] = {"runs": [r["label"] for r in results], "points": len(rows)}
    rates = {r["config"]["change_rate"] for r in results}
    if len(rates) < 2:
        fitted["warning"] = "one change rate only: a and b are not separable (combine runs at two rates)"
    for key in ("parquet_bytes", "duckdb_bytes", "total_bytes"):
        # Normal equations on the scaled columns [1, U/1e4, C/1e4], then scaled back.
        xs = [(1.0, u / 1e4, c / 1e4) for u, c, _ in rows]
        ys = [sizes[key] for _, _, sizes in rows]
        gram = [[sum(x[i] * x[j] for x in xs) for j in range(3)] for i in range(3)]
        moment = [sum(x[i] * y for x, y in zip(xs, ys, strict=True)) for i in range(3)]
        solution = _solve(gram, moment) if len(rows) >= 3 else None
        if solution is None:
            fitted[key] = None
            continue
        c, a, b = solution[0], solution[1] / 1e4, solution[2] / 1e4
        residuals = [y - (c + a * x[1] * 1e4 + b * x[2] * 1e4) for x, y in zip(xs, ys, strict=True)]
        fitted[key] = {"fixed_bytes": c, "bytes_per_unchanged_assistant_night": a,
                       "bytes_per_changed_assistant": b,
                       "rms_residual_bytes": (sum(r * r for r in residuals) / len(residuals)) ** 0.5}
    return fitted


# --- Report -------------------------------------------------------------------------------------------------


def _mb(value: float | None) -> str:
    return "" if value is None else f"{value / MB:,.2f}"


def render_markdown(results: dict[str, Any]) -> str:
    config, machine = results["config"], results["machine"]
    recent = config["recent_deleted_days"]
    mode = "discover" if config["discover"] else f"IDs file (+ the assistants deleted in the last {recent} nights)"
    done = len([n for n in results["nights"] if n.get("exit") == 0])
    lines = [
        f"# Growth: {results['label']}",
        "",
        f"N = {config['n']:,}, change rate {config['change_rate']:g} a night (deletions "
        f"{config['deletion_rate']:g}, creations {config['creation_rate']:g} × N), {done} of {config['nights']} "
        f"nights from {config['start_date']}, {mode}, concurrency {config['concurrency']}, seed {config['seed']}. "
        f"Each night is `assistants-export snapshot --date D --force` in a fresh process (history included), "
        f"against the sandbox in its own process. {machine['date']}, commit `{machine['commit'] or '?'}`, "
        f"{machine['cpus']} CPUs, Python {machine['python']}; load average {machine['load_average_start'][0]:.1f} "
        f"at the start{'' if results.get('finished') else ' (run not finished)'}"
        + (f", {machine['load_average_end'][0]:.1f} at the end ({machine['seconds']:.0f} s in all)."
           if "load_average_end" in machine else "."),
        "",
        "| night | date | live | created | deleted | changed | wall s | CPU s | peak RSS MB | Parquet MB "
        "| Parquet files | DuckDB MB | folder MB | Δ folder KB |",
        "| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    previous: dict[str, Any] | None = None
    for night in results["nights"]:
        if night.get("exit") != 0:
            lines.append(f"| {night['night']} | {night['date']} | | | | | failed (exit {night.get('exit')}) "
                         "| | | | | | | |")
            continue
        delta = "" if previous is None else f"{(night['total_bytes'] - previous['total_bytes']) / 1000:,.0f}"
        lines.append(
            f"| {night['night']} | {night['date']} | {night['live']:,} | {night['created']:,} | {night['deleted']:,} "
            f"| {night['changed']:,} | {night['wall_s']:.2f} | {night['cpu_s']:.2f} | {night['rss_mb']:.0f} "
            f"| {_mb(night['parquet_bytes'])} | {night['parquet_files']:,} | {_mb(night['duckdb_bytes'])} "
            f"| {_mb(night['total_bytes'])} | {delta} |")
        previous = night
    trend = results.get("trend") or {}
    if trend:
        lines += ["", f"## Trend: nights {_nights(trend['first_nights'])} against {_nights(trend['last_nights'])} "
                  "(medians; night 0, the first full load, left out)", "",
                  "| | first | last | last / first |", "| --- | ---: | ---: | ---: |"]
        for key, name in (("wall_s", "wall s"), ("cpu_s", "CPU s"), ("rss_mb", "peak RSS MB")):
            row = trend[key]
            ratio = "" if row["ratio"] is None else f"{row['ratio']:.2f} ×"
            lines.append(f"| {name} | {row['first']:.2f} | {row['last']:.2f} | {ratio} |")
    growth = results.get("growth") or {}
    if growth:
        lines += ["", "## Growth per night (after night 0)", "",
                  f"Mean live assistants {growth['mean_live']:,.0f}; changed + created + deleted per night "
                  f"{growth['mean_changed_created_deleted']:,.1f}.", "",
                  "| | night 0 MB | per night KB | median Δ KB | per live assistant-night B "
                  "| per changed assistant B |",
                  "| --- | ---: | ---: | ---: | ---: | ---: |"]
        for key, name in (("parquet_bytes", "Parquet"), ("duckdb_bytes", "DuckDB"), ("total_bytes", "whole folder")):
            g = growth[key]
            per_live = g["per_night_per_live_assistant"]
            per_changed = g["per_night_per_changed_assistant"]
            lines.append(f"| {name} | {_mb(g['first_night'])} | {g['per_night'] / 1000:,.1f} "
                         f"| {g['median_delta'] / 1000:,.1f} | {'' if per_live is None else f'{per_live:,.0f}'} "
                         f"| {'' if per_changed is None else f'{per_changed:,.0f}'} |")
        lines += ["", "Per live assistant-night: the growth divided by every live assistant (as if each one cost "
                  "the same every night); per changed assistant: divided by the changed, created and deleted "
                  "ones only (as if unchanged ones cost nothing). The truth is in between: `--fit` over runs at "
                  "two change rates separates the two."]
    for query in results.get("queries", []):
        lines += ["", f"## Queries after night {query['night']} (median of {query['repeat']}, s; as of "
                  f"{query['as_of']})", "",
                  f"Rows: assistant_changes {_count(query['rows']['assistant_changes'])}, assistant_history "
                  f"{_count(query['rows']['assistant_history'])}.", "",
                  "| query | CLI | DuckDB directly |", "| --- | ---: | ---: |"]
        for name, timing in query["cli"].items():
            lines.append(f"| {name} | {_timing(timing)} | {_timing(query['duckdb'].get(name))} |")
        lines += ["", "CLI: the whole command in a fresh process (its startup is the `SELECT 1` row); DuckDB: the "
                  "query alone over `assistants.duckdb`, read-only, result fetched as Arrow."]
    return "\n".join(lines) + "\n"


def _nights(nights: list[int]) -> str:
    return f"{nights[0]}-{nights[-1]}" if len(nights) > 1 else str(nights[0])


def _count(value: int | None) -> str:
    return "?" if value is None else f"{value:,}"


def _timing(timing: dict[str, Any] | None) -> str:
    if timing is None:
        return ""
    if "error" in timing:
        return "error: " + timing["error"].splitlines()[-1][:80].replace("|", "/")
    return f"{timing['median_s']:.3f}"


def render_fit(fitted: dict[str, Any]) -> str:
    lines = [f"# Growth fit: {', '.join(fitted['runs'])}", "",
             f"bytes ≈ c + a·(unchanged assistant-nights) + b·(changed, created or deleted assistants), least "
             f"squares over {fitted['points']} nights.", ""]
    if "warning" in fitted:
        lines += [f"**{fitted['warning']}**", ""]
    lines += ["| | c (fixed) MB | a: per unchanged assistant-night B | b: per changed assistant B | RMS residual KB |",
              "| --- | ---: | ---: | ---: | ---: |"]
    for key, name in (("parquet_bytes", "Parquet"), ("duckdb_bytes", "DuckDB"), ("total_bytes", "whole folder")):
        f = fitted.get(key)
        if f is None:
            lines.append(f"| {name} | not identifiable | | | |")
            continue
        lines.append(f"| {name} | {_mb(f['fixed_bytes'])} | {f['bytes_per_unchanged_assistant_night']:,.1f} "
                     f"| {f['bytes_per_changed_assistant']:,.0f} | {f['rms_residual_bytes'] / 1000:,.1f} |")
    return "\n".join(lines) + "\n"


# --- The run ------------------------------------------------------------------------------------------------


def _write(results: dict[str, Any], out: Path) -> None:
    """Both files, replaced whole (written aside, then renamed), after every night."""
    results["trend"] = _trend(results["nights"])
    results["growth"] = _growth(results["nights"])
    for suffix, text in (("json", json.dumps(results, indent=2) + "\n"), ("md", render_markdown(results))):
        path = out / f"growth-{results['label']}.{suffix}"
        aside = path.with_name(path.name + ".tmp")
        aside.write_text(text, encoding="utf-8")
        aside.replace(path)


def _switch(base_url: str, date: dt.date) -> dict[str, Any]:
    """Make the sandbox serve ``date`` (POST /_control/date); returns what it now serves."""
    control = base_url.removesuffix("/v1") + f"/_control/date?date={date.isoformat()}"
    request = urllib.request.Request(control, method="POST", headers={"Authorization": f"Bearer {API_KEY}"})
    with urllib.request.urlopen(request, timeout=120) as answer:
        state: dict[str, Any] = json.loads(answer.read())
    if state["date"] != date.isoformat():
        raise RuntimeError(f"the sandbox serves {state['date']}, not {date}")
    return state


def run(args: argparse.Namespace) -> int:
    catalog = EvolvingCatalog(args.n, args.change_rate, seed=args.seed, deletion_rate=args.deletion_rate,
                              creation_rate=args.creation_rate, start=args.start_date)
    config = {"n": args.n, "nights": args.nights, "change_rate": args.change_rate,
              "deletion_rate": catalog.deletion_rate, "creation_rate": catalog.creation_rate, "seed": args.seed,
              "start_date": args.start_date.isoformat(), "discover": args.discover,
              "recent_deleted_days": args.recent_deleted_days, "concurrency": args.concurrency,
              "latency_ms": args.latency_ms, "query_every": args.query_every, "command": cli(),
              "object_store": args.object_store}
    results: dict[str, Any] = {"label": args.label, "config": config, "machine": machine(), "nights": [],
                               "queries": [], "finished": False}
    args.out.mkdir(parents=True, exist_ok=True)
    temporary = args.warehouse is None
    warehouse = Path(tempfile.mkdtemp(prefix="assistants-growth-")) if temporary else args.warehouse.resolve()
    work = Path(tempfile.mkdtemp(prefix="assistants-growth-work-"))
    bucket = MotoBucket(work) if args.object_store else None
    target: Path | str = bucket.uri if bucket else warehouse
    database = bucket.database if bucket else warehouse / "assistants.duckdb"
    results["warehouse"] = str(target)
    started = time.perf_counter()
    status = 0
    extra = ["--change-rate", str(args.change_rate), "--seed", str(args.seed), "--start-date",
             args.start_date.isoformat(), "--deletion-rate", str(catalog.deletion_rate), "--creation-rate",
             str(catalog.creation_rate)]
    print(f"growth {args.label}: N={args.n:,}, {args.nights} nights from {args.start_date}, change rate "
          f"{args.change_rate:g}; warehouse {target}", flush=True)
    try:
        with sandbox(args.n, latency_ms=args.latency_ms, extra=extra) as api:
            env = {**_env(api.base_url, args.start_date), **(bucket.env if bucket else {})}
            for night in range(args.nights):
                date = args.start_date + dt.timedelta(days=night)
                served = _switch(api.base_url, date)
                expected = catalog.summary(night)
                if served["assistants"] != expected.live:
                    raise RuntimeError(f"the sandbox serves {served['assistants']} assistants on {date}, the "
                                       f"benchmark expected {expected.live}")
                command = [*cli(), "snapshot", "--date", date.isoformat(), "--force", "--quiet",
                           "--warehouse", str(target), "--concurrency", str(args.concurrency)]
                ids_requested = None
                if args.discover:
                    command.append("--discover")
                else:
                    first_recent = max(1, night - args.recent_deleted_days + 1)
                    ids = catalog.live(night) + catalog.deleted_between(first_recent, night)
                    ids_file = work / "ids.txt"
                    ids_file.write_text("\n".join(ids) + "\n", encoding="utf-8")
                    command += ["--ids-file", str(ids_file)]
                    ids_requested = len(ids)
                log = work / f"night-{night:04d}.log"
                measured = run_measured(command, env, log)
                record = {"night": night, "date": date.isoformat(), **asdict(expected), **measured,
                          "ids_requested": ids_requested, "load_average": os.getloadavg()[0],
                          **(bucket.sizes() if bucket else _sizes(warehouse))}
                results["nights"].append(record)
                if measured["exit"] != 0:
                    record["error"] = tail(log)
                    _write(results, args.out)
                    print(f"night {night} ({date}) failed, exit {measured['exit']}:\n{record['error']}",
                          file=sys.stderr, flush=True)
                    status = 1
                    break
                print(f"  night {night:>4} {date}  live {expected.live:>6,}  changed {expected.changed:>5,}  "
                      f"{measured['wall_s']:6.1f} s  CPU {measured['cpu_s']:6.1f} s  {measured['rss_mb']:5.0f} MB  "
                      f"folder {record['total_bytes'] / MB:8.2f} MB", flush=True)
                last = night == args.nights - 1
                if last or (args.query_every and (night + 1) % args.query_every == 0):
                    as_of = args.start_date + dt.timedelta(days=night // 2)
                    answers = _queries(target, database, env, as_of, args.query_repeat)
                    results["queries"].append({"night": night, **answers})
                    print(f"  queries after night {night}: " + ", ".join(
                        f"{name} {_timing(timing)} s" for name, timing in answers["cli"].items()), flush=True)
                _write(results, args.out)
        results["finished"] = status == 0
    except KeyboardInterrupt:
        print("interrupted: the nights done so far are in the results", file=sys.stderr)
        status = 130
    finally:
        results["machine"]["load_average_end"] = os.getloadavg()
        results["machine"]["seconds"] = time.perf_counter() - started
        if bucket is not None:
            bucket.close()
        _write(results, args.out)
        if temporary and not args.keep:
            shutil.rmtree(warehouse, ignore_errors=True)
        if args.keep or status != 0:
            print(f"kept: warehouse {warehouse}, nights' logs in {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    name = args.out / f"growth-{args.label}"
    print()
    print(render_markdown(results))
    print(f"written: {name}.md and .json ({results['machine']['seconds']:.0f} s)")
    return status


def main(argv: Sequence[str] | None = None) -> int:
    args = _parse_args(argv)
    if args.fit:
        fitted = fit([json.loads(path.read_text(encoding="utf-8")) for path in args.fit])
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "growth-fit.json").write_text(json.dumps(fitted, indent=2) + "\n", encoding="utf-8")
        (args.out / "growth-fit.md").write_text(render_fit(fitted), encoding="utf-8")
        print(render_fit(fitted))
        print(f"written: {args.out / 'growth-fit'}.md and .json")
        return 0
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
