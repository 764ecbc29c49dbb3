"""``make bench-growth``: how the warehouse and the nightly run grow over many simulated nights.

    python -m benchmarks.growth --n 200 --nights 10 --change-rate 0.05            # a quick look
    python -m benchmarks.growth --n 2000 --nights 60 --change-rate 0.02           # see benchmarks/README.md
    python -m benchmarks.growth --fit results/growth-a.json results/growth-b.json  # bytes per (un)changed assistant
    python -m benchmarks.growth --n 1000 --nights 365 --change-rate 0.02 --warehouse /tmp/wh   # a year
    python -m benchmarks.growth --summary results/growth-n1000-*-k365*.json        # checkpoints against the targets

One sandbox process serves a catalog that evolves by date (``python -m assistants_export.sandbox --change-rate``);
before
each night the runner switches its date (``POST /_control/date``), and then runs the real CLI,
``assistants-export snapshot --date D --force``, in a fresh process: the command a user runs nightly,
history included. Per night it records wall time, CPU seconds and peak RSS of that process and the
warehouse's size on disk, and rewrites ``results/growth-<label>.json`` and ``.md`` so that an
interrupted run still has its table (and ``--resume`` continues a folder's run from its last night). After
the checkpoint nights (1, 30, 90, 180, 365, counted from 1) and the last one it times the answers of
``current_assistants``, ``config_as_of`` and a full-history audit query through the ``query`` command and
through DuckDB directly. ``--compact-every K`` runs ``assistants-export compact`` after every K-th night, where
the command exists.

Nothing here imports the connector: the warehouse is measured as files on disk.
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import json
import os
import shutil
import signal
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
AUDIT_SQL = REPO / "sql" / "audit" / "changes_between.sql"
"""The full-history audit query: every assistant that changed between the first night and the last."""
CHECKPOINTS = (1, 30, 90, 180, 365)
"""Nights (counted from 1: night 1 is the first full load) after which the queries are timed."""

# Issue 24's targets for a year of nights.
TARGET_RATIO = 1.2
"""The last nights' wall, CPU and peak RSS against the first nights' at most this."""
TARGET_FILES_PER_TABLE = 50
"""Data files per table (of one source) at most."""
TARGET_UNCHANGED_BYTES = 300.0
"""Bytes per unchanged assistant-night at most (the fit's a)."""
TARGET_CHANGE_BYTES = 8_000.0
"""Bytes per changed, created or deleted assistant at most (the fit's b)."""


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
                        help="also time the queries after every K-th night (default: only after the checkpoints "
                             "and the last)")
    parser.add_argument("--checkpoints", type=_nights_list, default=CHECKPOINTS, metavar="1,30,...",
                        help="nights, counted from 1, after which the queries are timed and that the report "
                             "compares (default 1,30,90,180,365; the last night is always one)")
    parser.add_argument("--compact-every", type=int, default=0, metavar="K",
                        help="run `assistants-export compact --warehouse W` after every K-th night (needs the "
                             "command; default: never, the files are recorded as the nightly run leaves them)")
    parser.add_argument("--vacuum-every", type=int, default=0, metavar="K",
                        help="run `assistants-export vacuum --warehouse W --retain-days 0` after every K-th night "
                             "(simulated nights pass in minutes, so replaced files never reach a real retention); "
                             "needs the command; may be changed when resuming")
    parser.add_argument("--resume", action="store_true",
                        help="continue the run named by --label (or the same arguments) from the night after the "
                             "last one in its results; needs the --warehouse folder it used")
    parser.add_argument("--query-last", action="store_true",
                        help="with --resume: only time the queries after the last night run (a run stopped "
                             "between checkpoints has none there), then stop")
    parser.add_argument("--query-repeat", type=int, default=3, help="repetitions per query; medians (default 3)")
    parser.add_argument("--label", help="results name: growth-<label>.{json,md} (default n<N>-r<rate>-k<nights>)")
    parser.add_argument("--out", type=Path, default=RESULTS, help="folder for the results (default benchmarks/results)")
    parser.add_argument("--fit", type=Path, nargs="+", metavar="JSON",
                        help="instead: fit bytes = c + a·unchanged assistant-nights + b·changed assistants over "
                             "these results (runs at two change rates separate a from b)")
    parser.add_argument("--summary", type=Path, nargs="+", metavar="JSON",
                        help="instead: the checkpoints of these runs against the targets, and a size fit per "
                             "layout -> results/growth-year.{md,json}")
    parser.add_argument("--render", type=Path, nargs="+", metavar="JSON",
                        help="instead: write each run's .md again from its .json (after the report changed)")
    args = parser.parse_args(argv)
    if sum(bool(x) for x in (args.fit, args.summary, args.render)) > 1:
        parser.error("--fit, --summary and --render are separate reports: give one of them")
    if args.compact_every < 0 or args.query_every < 0 or args.vacuum_every < 0:
        parser.error("--compact-every, --vacuum-every and --query-every must be 0 (never) or more")
    if args.resume and args.object_store:
        parser.error("--resume needs a folder warehouse: moto keeps a bucket in its memory, so a bucket run "
                     "cannot be continued")
    if args.query_last and not args.resume:
        parser.error("--query-last goes with --resume (and the run's --label or arguments, and --warehouse)")
    if args.resume and args.warehouse is None:
        parser.error("--resume needs --warehouse, the folder the interrupted run wrote")
    if not (args.fit or args.summary or args.render):
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
        compact = f"-c{args.compact_every}" if args.compact_every else ""
        args.label = args.label or f"n{args.n}-r{args.change_rate:g}-k{args.nights}{discover}{bucket}{compact}"
        for option, command in ((args.compact_every, "compact"), (args.vacuum_every, "vacuum")):
            if option and not _has_command(command):
                parser.error(f"--{command}-every needs the `assistants-export {command}` command, which this "
                             "checkout does not have: leave the option out")
    return args


def _nights_list(text: str) -> tuple[int, ...]:
    """``1,30,90`` as nights counted from 1."""
    try:
        nights = tuple(sorted({int(part) for part in text.split(",") if part.strip()}))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a comma-separated list of nights, e.g. 1,30,90") from None
    if not nights or nights[0] < 1:
        raise argparse.ArgumentTypeError("nights are counted from 1: give numbers of 1 or more, e.g. 1,30,90")
    return nights


def _has_command(name: str) -> bool:
    """Whether the CLI of this checkout has the subcommand ``name`` (its ``--help`` exits 0)."""
    done = subprocess.run([*cli(), name, "--help"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=REPO,
                          check=False)
    return done.returncode == 0


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
    dataset_files: dict[str, int] = {}
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
                dataset_files[dataset] = dataset_files.get(dataset, 0) + 1
    database = warehouse / "assistants.duckdb"
    duckdb = file_size(database)
    wal = file_size(database.with_name(database.name + ".wal"))
    return {"parquet_bytes": parquet, "parquet_files": parquet_files, "duckdb_bytes": duckdb + wal, "wal_bytes": wal,
            "total_bytes": total, "files": files, "parquet_by_dataset": dict(sorted(datasets.items())),
            "files_by_dataset": dict(sorted(dataset_files.items()))}


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


def _queries(warehouse: Path | str, database: Path, env: dict[str, str], first: dt.date, last: dt.date,
             repeat: int) -> dict[str, Any]:
    """Answer times of the queries people ask of a long history, through the CLI and through DuckDB directly.

    ``config_as_of`` asks for the middle night; the audit query (``changes_between``) spans every night from
    ``first`` to ``last``, so it reads the whole change log and joins it to the history.
    """
    as_of = first + (last - first) / 2
    before = first - dt.timedelta(days=1)
    command, where = cli(), ["--warehouse", str(warehouse)]
    config_as_of = CONFIG_AS_OF_SQL.read_text(encoding="utf-8")
    audit = AUDIT_SQL.read_text(encoding="utf-8")
    cli_runs = {
        "startup (SELECT 1)": [*command, "query", *where, "SELECT 1", "--format", "csv"],
        "current_assistants": [*command, "query", *where, "--view", "current_assistants", "--format", "csv"],
        "config_as_of": [*command, "query", *where, "--file", str(CONFIG_AS_OF_SQL), "--param",
                         f"as_of={as_of.isoformat()}", "--format", "csv"],
        "changes_between (all nights)": [*command, "query", *where, "--file", str(AUDIT_SQL), "--param",
                                         f"from_date={before.isoformat()}", "--param", f"to_date={last.isoformat()}",
                                         "--format", "csv"],
    }
    direct = {
        "current_assistants": ("SELECT * FROM current_assistants", {}),
        "config_as_of": (config_as_of, {"as_of": as_of}),
        "changes_between (all nights)": (audit, {"from_date": before, "to_date": last}),
        "count(assistant_changes)": ("SELECT count(*) FROM assistant_changes", {}),
    }
    results: dict[str, Any] = {"as_of": as_of.isoformat(), "audit_from": before.isoformat(),
                               "audit_to": last.isoformat(), "repeat": repeat, "cli": {}, "duckdb": {}}
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
        "| Parquet files | max files per table | DuckDB MB | folder MB | Δ folder KB | compact s |",
        "| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: "
        "| ---: |",
    ]
    previous: dict[str, Any] | None = None
    for night in results["nights"]:
        if night.get("exit") != 0:
            lines.append(f"| {night['night']} | {night['date']} | | | | | failed (exit {night.get('exit')}) "
                         "| | | | | | | | | |")
            continue
        delta = "" if previous is None else f"{(night['total_bytes'] - previous['total_bytes']) / 1000:,.0f}"
        lines.append(
            f"| {night['night']} | {night['date']} | {night['live']:,} | {night['created']:,} | {night['deleted']:,} "
            f"| {night['changed']:,} | {night['wall_s']:.2f} | {night['cpu_s']:.2f} | {night['rss_mb']:.0f} "
            f"| {_mb(night['parquet_bytes'])} | {night['parquet_files']:,} | {_files_cell(night)} "
            f"| {_mb(night['duckdb_bytes'])} | {_mb(night['total_bytes'])} | {delta} "
            f"| {_float((night.get('compact') or {}).get('wall_s'))} |")
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
    rows = checkpoints(results)
    if rows:
        lines += ["", "## Checkpoints", "", *_checkpoint_lines(rows)]
    target = targets(results)
    if target and len([n for n in results["nights"] if n.get("exit") == 0]) > 1:
        lines += ["", "## Targets", "", *_target_lines(target)]
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


def _files_cell(night: dict[str, Any]) -> str:
    table, files = _max_files(night)
    return f"{files:,}" if table else ""


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


# --- A year: checkpoints and targets -----------------------------------------------------------------------


def _table_files(night: dict[str, Any]) -> dict[str, int]:
    """Data files per stored table after ``night``: the datasets' last folder name (``parquet/payloads`` and
    ``wh/delta/payloads`` are both ``payloads``; a table's own folders, such as compaction's
    ``parquet/payloads/_compacted``, count for it); held-back runs and staging folders are no table."""
    tables: dict[str, int] = {}
    for dataset, count in (night.get("files_by_dataset") or {}).items():
        parts = dataset.split("/")
        if "held" in parts or any(part.startswith(".") for part in parts):
            continue
        names = [part for part in parts if not part.startswith("_")]
        if names:
            tables[names[-1]] = tables.get(names[-1], 0) + count
    return tables


def _max_files(night: dict[str, Any]) -> tuple[str, int]:
    """The table with the most data files after ``night``, and that count (``("", 0)`` when none is known)."""
    tables = _table_files(night)
    if not tables:
        return "", 0
    name = max(tables, key=lambda table: (tables[table], table))
    return name, tables[name]


def checkpoints(results: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per checkpoint night that was run (counted from 1), with the queries timed after it."""
    nights = {night["night"]: night for night in results["nights"] if night.get("exit") == 0}
    queries = {query["night"]: query for query in results.get("queries", [])}
    wanted = set(results["config"].get("checkpoints") or CHECKPOINTS)
    if nights:
        wanted.add(max(nights) + 1)
    rows = []
    for number in sorted(wanted):
        night = nights.get(number - 1)
        if night is None:
            continue
        table, files = _max_files(night)
        query = queries.get(number - 1, {})
        rows.append({
            "night": number, "date": night["date"], "wall_s": night["wall_s"], "cpu_s": night["cpu_s"],
            "rss_mb": night["rss_mb"], "load_average": night.get("load_average"),
            "total_bytes": night["total_bytes"], "parquet_files": night["parquet_files"],
            "max_files_per_table": files, "max_files_table": table, "files_per_table": _table_files(night),
            "log_files_per_table": max((night.get("log_files_by_table") or {"": 0}).values()),
            "cli": {name: _seconds(t) for name, t in query.get("cli", {}).items()},
            "duckdb": {name: _seconds(t) for name, t in query.get("duckdb", {}).items()},
        })
    return rows


def _median_or_none(values: list[float | None]) -> float | None:
    known = [value for value in values if value is not None]
    return statistics.median(known) if known else None


def _seconds(timing: dict[str, Any] | None) -> float | None:
    return None if not timing or "median_s" not in timing else float(timing["median_s"])


def targets(results: dict[str, Any]) -> dict[str, Any]:
    """The year's targets that one run can check: the last nights against the first ones, files per table.

    Judged against nights 2-4 (the first nights like the later ones: night 1 stores every assistant); the ratio
    against night 1 itself is given too. Medians of three nights, since one night's time on a shared machine
    varies by tens of percent.
    """
    done = [night for night in results["nights"] if night.get("exit") == 0]
    if not done:
        return {}
    trend = _trend(done)
    out: dict[str, Any] = {"nights_done": len(done), "nights": results["config"]["nights"],
                           "last_nights": trend.get("last_nights"), "first_nights": trend.get("first_nights")}
    for key in ("wall_s", "cpu_s", "rss_mb"):
        row = trend.get(key) or {}
        ratio = row.get("ratio")
        last = row.get("last")
        out[key] = {"first": row.get("first"), "last": last, "ratio": ratio,
                    "night_1": done[0][key], "ratio_to_night_1": last / done[0][key] if last and done[0][key] else None,
                    "met": None if ratio is None else ratio <= TARGET_RATIO}
    loads = [night.get("load_average") for night in done]
    first_nights, last_nights = set(trend.get("first_nights") or []), set(trend.get("last_nights") or [])
    out["load_average"] = {
        "first": _median_or_none([x for n, x in zip(done, loads, strict=True) if n["night"] in first_nights]),
        "last": _median_or_none([x for n, x in zip(done, loads, strict=True) if n["night"] in last_nights])}
    table, files = _max_files(done[-1])
    out["files_per_table"] = {"max": files, "table": table, "met": files <= TARGET_FILES_PER_TABLE if table else None}
    return out


def summarize(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Every run's checkpoints and targets, and the size fit per layout (folder, bucket) against its target."""
    summary: dict[str, Any] = {"runs": [], "fits": {}}
    for result in runs:
        config = result["config"]
        summary["runs"].append({
            "label": result["label"], "layout": "bucket" if config.get("object_store") else "folder",
            "n": config["n"], "change_rate": config["change_rate"], "nights": config["nights"],
            "compact_every": config.get("compact_every", 0), "vacuum_every": config.get("vacuum_every", 0),
            "compacted_from": _first_compacted(result), "finished": result.get("finished", False),
            "commit": result["machine"].get("commit"), "date": result["machine"].get("date"),
            "checkpoints": checkpoints(result), "targets": targets(result)})
    for layout in ("folder", "bucket"):
        group = [r for r in runs if ("bucket" if r["config"].get("object_store") else "folder") == layout]
        if not group:
            continue
        fitted = fit(group)
        total = fitted.get("total_bytes")
        if total is not None and "warning" not in fitted:
            fitted["met"] = (total["bytes_per_unchanged_assistant_night"] <= TARGET_UNCHANGED_BYTES
                             and total["bytes_per_changed_assistant"] <= TARGET_CHANGE_BYTES)
        summary["fits"][layout] = fitted
    return summary


def _first_compacted(results: dict[str, Any]) -> int | None:
    """The first night (counted from 1) after which a folder held a compacted month's file, if any."""
    for night in results["nights"]:
        if any("_compacted" in dataset.split("/") for dataset in night.get("files_by_dataset") or {}):
            return int(night["night"]) + 1
    return None


def _met(flag: bool | None) -> str:
    return "" if flag is None else ("met" if flag else "**missed**")


def _float(value: float | None, digits: int = 2) -> str:
    return "" if value is None else f"{value:,.{digits}f}"


def _checkpoint_lines(rows: list[dict[str, Any]]) -> list[str]:
    lines = ["| night | date | max files per table | Delta log entries per table | warehouse MB | wall s | CPU s "
             "| peak RSS MB | load | current_assistants s | config_as_of s | changes_between (all nights) s |",
             "| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for row in rows:
        queries = []
        for name in ("current_assistants", "config_as_of", "changes_between (all nights)"):
            direct, whole = row["duckdb"].get(name), row["cli"].get(name)
            queries.append("" if direct is None and whole is None
                           else f"{_float(direct, 3)} ({_float(whole, 2)})")
        files = f"{row['max_files_per_table']:,} ({row['max_files_table']})" if row["max_files_table"] else ""
        logs = f"{row['log_files_per_table']:,}" if row["log_files_per_table"] else ""
        lines.append(f"| {row['night']} | {row['date']} | {files} | {logs} | {_mb(row['total_bytes'])} "
                     f"| {row['wall_s']:.2f} | {row['cpu_s']:.2f} | {row['rss_mb']:.0f} "
                     f"| {_float(row.get('load_average'), 1)} | {' | '.join(queries)} |")
    lines += ["", "Nights counted from 1 (night 1 stores every assistant; the nightly table counts from 0). "
              "Load: the machine's 1-minute load average when the night ended (2 cores). "
              "Query times: DuckDB directly on `assistants.duckdb`, the query alone (in brackets the whole "
              "`assistants-export query` process, start-up included); medians of the repetitions."]
    return lines


def _target_lines(target: dict[str, Any]) -> list[str]:
    if not target:
        return []
    first, last = target.get("first_nights") or [], target.get("last_nights") or []
    done = "" if target["nights_done"] == target["nights"] else (
        f" (**{target['nights_done']} of {target['nights']} nights done**: the last nights are those run)")
    lines = ["| target | nights 2-4 | night 1 | last nights | last / nights 2-4 | last / night 1 | |",
             "| --- | ---: | ---: | ---: | ---: | ---: | --- |"]
    for key, name in (("wall_s", "wall s"), ("cpu_s", "CPU s"), ("rss_mb", "peak RSS MB")):
        row = target[key]
        lines.append(f"| {name} ≤ {TARGET_RATIO:g} × | {_float(row['first'])} | {_float(row['night_1'])} "
                     f"| {_float(row['last'])} | {_float(row['ratio'])} × | {_float(row['ratio_to_night_1'])} × "
                     f"| {_met(row['met'])} |")
    files = target["files_per_table"]
    lines.append(f"| data files per table ≤ {TARGET_FILES_PER_TABLE} | | | {files['max']:,} ({files['table']}) | | "
                 f"| {_met(files['met'])} |")
    load = target.get("load_average") or {}
    if load.get("first") is not None and load.get("last") is not None:
        lines += ["", f"Machine load (1-minute load average on 2 cores, median over those nights): "
                  f"{load['first']:.1f} in nights 2-4, {load['last']:.1f} in the last nights. Wall time follows the "
                  "load; CPU seconds less so, but they too rise when many processes share the cores."]
    lines += ["", f"Last nights: {_nights([n + 1 for n in last]) if last else '?'}{done}; nights 2-4 are "
              f"{_nights([n + 1 for n in first]) if first else '?'} counted from 1; medians of three nights. The "
              "target is judged against nights 2-4, which fetch and store what later nights do (night 1 stores "
              "every assistant and costs more)."]
    return lines


def render_summary(summary: dict[str, Any]) -> str:
    lines = ["# Growth over a year: checkpoints and targets", "",
             "Runs of `make bench-growth` (`python -m benchmarks.growth`), each night the real "
             "`assistants-export snapshot` in a fresh process; `--summary` over their results. Targets (issue 24): "
             f"the last nights cost at most {TARGET_RATIO:g} × the first in wall, CPU and peak RSS; at most "
             f"{TARGET_FILES_PER_TABLE} data files per table per source; the size fit within "
             f"{TARGET_UNCHANGED_BYTES:g} B per unchanged assistant-night plus {TARGET_CHANGE_BYTES / 1000:g} KB per "
             "change.", ""]
    lines += ["| run | layout | N | change rate | nights | compaction | wall | CPU | RSS | files per table |",
              "| --- | --- | ---: | ---: | --- | --- | --- | --- | --- | --- |"]
    for run in summary["runs"]:
        target = run["targets"] or {}
        done = target.get("nights_done", 0)
        cells = []
        for key in ("wall_s", "cpu_s", "rss_mb"):
            row = target.get(key) or {}
            cells.append("" if row.get("ratio") is None else f"{row['ratio']:.2f} × {_met(row['met'])}")
        files = target.get("files_per_table") or {}
        cells.append("" if not files.get("table") else f"{files['max']:,} {_met(files['met'])}")
        compaction = ", ".join(
            [f"`compact` every {run['compact_every']} nights"] * bool(run["compact_every"])
            + [f"month files from night {run['compacted_from']}"] * (run["compacted_from"] is not None)
            + [f"`vacuum` every {run['vacuum_every']} nights"] * bool(run["vacuum_every"])) or "none"
        lines.append(f"| [{run['label']}](growth-{run['label']}.md) | {run['layout']} | {run['n']:,} "
                     f"| {run['change_rate']:g} | {done} of {run['nights']} | {compaction} | {' | '.join(cells)} |")
    lines += ["", "Wall, CPU, RSS: median of the last three nights over the median of nights 2-4."]
    for layout, fitted in summary["fits"].items():
        lines += ["", f"## Size fit: {layout}", "", render_fit(fitted).split("\n", 2)[2].strip(), ""]
        total = fitted.get("total_bytes")
        if total is not None:
            lines.append(f"Whole {layout}: {total['bytes_per_unchanged_assistant_night']:,.1f} B per unchanged "
                         f"assistant-night (target ≤ {TARGET_UNCHANGED_BYTES:g}) and "
                         f"{total['bytes_per_changed_assistant']:,.0f} B per change (target ≤ "
                         f"{TARGET_CHANGE_BYTES:,.0f}): "
                         + (f"{_met(fitted['met'])}." if "met" in fitted else "not judged (one change rate only)."))
    for run in summary["runs"]:
        lines += ["", f"## {run['label']}", "", *_checkpoint_lines(run["checkpoints"]), "",
                  *_target_lines(run["targets"])]
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


RESUMED_SETTINGS = ("n", "change_rate", "deletion_rate", "creation_rate", "seed", "start_date", "discover",
                    "recent_deleted_days", "concurrency", "latency_ms", "compact_every")
"""What a resumed run takes from the results it continues (the catalog and the command must stay the same)."""


def _query_last(args: argparse.Namespace, warehouse: Path) -> int:
    """Time the queries after the last good night of the folder run ``args.label``, unless that is done."""
    results = _load_run(args, warehouse)
    if not results["nights"]:
        raise SystemExit(f"error: growth-{args.label} has no night run yet: nothing to query")
    last = results["nights"][-1]
    if any(query["night"] == last["night"] for query in results["queries"]):
        print(f"the queries after night {last['night']} are in the results already")
        return 0
    env = _env("http://127.0.0.1:9/v1", args.start_date)  # the queries read the warehouse only
    answers = _queries(warehouse, warehouse / "assistants.duckdb", env, args.start_date,
                       dt.date.fromisoformat(last["date"]), args.query_repeat)
    results["queries"].append({"night": last["night"], "after_stop": True, **answers})
    _write(results, args.out)
    print(f"queries after night {last['night']}: " + ", ".join(
        f"{name} {_timing(timing)} s" for name, timing in answers["cli"].items()))
    return 0


def _load_run(args: argparse.Namespace, warehouse: Path) -> dict[str, Any]:
    """The results of the folder run ``args.label`` up to its last good night; ``args`` set to its settings.
    Raises ``SystemExit`` with one line when they cannot be continued."""
    path = args.out / f"growth-{args.label}.json"
    try:
        results: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SystemExit(f"error: --resume found no results at {path}: give the --label of the run to "
                         "continue") from None
    config = results["config"]
    if config.get("object_store"):
        raise SystemExit(f"error: {path} is a bucket run, which cannot be continued (moto kept the bucket in memory)")
    if results.get("warehouse") != str(warehouse):
        raise SystemExit(f"error: {path} was written into {results.get('warehouse')}, not {warehouse}: give that "
                         "folder as --warehouse")
    for name in RESUMED_SETTINGS:
        value = config.get(name, 0 if name == "compact_every" else None)
        setattr(args, name, dt.date.fromisoformat(value) if name == "start_date" else value)
    done = list(itertools.takewhile(lambda night: night.get("exit") == 0, results["nights"]))
    results["nights"] = done
    results["queries"] = [q for q in results.get("queries", []) if q["night"] < len(done)]
    return results


def _resume(args: argparse.Namespace, warehouse: Path) -> dict[str, Any]:
    """The results of the interrupted run ``args.label``, its failed last night dropped; ``args`` set to its
    settings. Raises ``SystemExit`` with one line when there is nothing to continue."""
    results = _load_run(args, warehouse)
    done = len(results["nights"])
    if done >= args.nights:
        raise SystemExit(f"error: growth-{args.label} already has {done} nights: give a larger --nights to go on")
    results["config"]["nights"] = args.nights
    results["config"]["vacuum_every"] = args.vacuum_every
    results["finished"] = False
    results.setdefault("resumed", []).append({"at_night": done, "vacuum_every": args.vacuum_every, **machine()})
    return results


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def _is_checkpoint(night: int, args: argparse.Namespace) -> bool:
    """Whether the queries are timed after night ``night`` (counted from 0)."""
    return (night == args.nights - 1 or night + 1 in args.checkpoints
            or bool(args.query_every and (night + 1) % args.query_every == 0))


def run(args: argparse.Namespace) -> int:
    args.out.mkdir(parents=True, exist_ok=True)
    temporary = args.warehouse is None
    warehouse = Path(tempfile.mkdtemp(prefix="assistants-growth-")) if temporary else args.warehouse.resolve()
    if args.query_last:
        return _query_last(args, warehouse)
    previous = _resume(args, warehouse) if args.resume else None
    # A run in the background ignores Ctrl-C (SIGINT): stopped with SIGTERM it ends the same way, results kept.
    signal.signal(signal.SIGTERM, _interrupt)
    catalog = EvolvingCatalog(args.n, args.change_rate, seed=args.seed, deletion_rate=args.deletion_rate,
                              creation_rate=args.creation_rate, start=args.start_date)
    config = {"n": args.n, "nights": args.nights, "change_rate": args.change_rate,
              "deletion_rate": catalog.deletion_rate, "creation_rate": catalog.creation_rate, "seed": args.seed,
              "start_date": args.start_date.isoformat(), "discover": args.discover,
              "recent_deleted_days": args.recent_deleted_days, "concurrency": args.concurrency,
              "latency_ms": args.latency_ms, "query_every": args.query_every,
              "checkpoints": list(args.checkpoints), "compact_every": args.compact_every,
              "vacuum_every": args.vacuum_every, "command": cli(),
              "object_store": args.object_store}
    results: dict[str, Any] = previous or {"label": args.label, "config": config, "machine": machine(),
                                           "nights": [], "queries": [], "finished": False}
    first_night = len(results["nights"])
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
          f"{args.change_rate:g}; warehouse {target}"
          + (f"; resumed after night {first_night}" if previous else ""), flush=True)
    try:
        with sandbox(args.n, latency_ms=args.latency_ms, extra=extra) as api:
            env = {**_env(api.base_url, args.start_date), **(bucket.env if bucket else {})}
            for night in range(first_night, args.nights):
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
                record: dict[str, Any] = {"night": night, "date": date.isoformat(), **asdict(expected), **measured,
                                          "ids_requested": ids_requested, "load_average": os.getloadavg()[0]}
                if measured["exit"] == 0 and args.compact_every and (night + 1) % args.compact_every == 0:
                    compact_log = work / f"compact-{night:04d}.log"
                    compacted = run_measured([*cli(), "compact", "--warehouse", str(target)], env, compact_log)
                    record["compact"] = {k: compacted[k] for k in ("exit", "wall_s", "cpu_s", "rss_mb")}
                    if compacted["exit"] != 0:
                        record["compact"]["error"] = tail(compact_log)
                        measured["exit"] = compacted["exit"]
                        log = compact_log
                if measured["exit"] == 0 and args.vacuum_every and (night + 1) % args.vacuum_every == 0:
                    vacuum_log = work / f"vacuum-{night:04d}.log"
                    vacuumed = run_measured([*cli(), "vacuum", "--warehouse", str(target), "--retain-days", "0"],
                                            env, vacuum_log)
                    record["vacuum"] = {k: vacuumed[k] for k in ("exit", "wall_s", "cpu_s", "rss_mb")}
                    if vacuumed["exit"] != 0:
                        record["vacuum"]["error"] = tail(vacuum_log)
                        measured["exit"] = vacuumed["exit"]
                        log = vacuum_log
                record.update(bucket.sizes() if bucket else _sizes(warehouse))
                results["nights"].append(record)
                if measured["exit"] != 0:
                    record["exit"] = measured["exit"]
                    record["error"] = tail(log)
                    _write(results, args.out)
                    print(f"night {night} ({date}) failed, exit {measured['exit']}:\n{record['error']}",
                          file=sys.stderr, flush=True)
                    status = 1
                    break
                compact_note = f"  compact {record['compact']['wall_s']:5.1f} s" if "compact" in record else ""
                print(f"  night {night:>4} {date}  live {expected.live:>6,}  changed {expected.changed:>5,}  "
                      f"{measured['wall_s']:6.1f} s  CPU {measured['cpu_s']:6.1f} s  {measured['rss_mb']:5.0f} MB  "
                      f"folder {record['total_bytes'] / MB:8.2f} MB  files/table {_max_files(record)[1]:>4}"
                      f"{compact_note}", flush=True)
                if _is_checkpoint(night, args):
                    answers = _queries(target, database, env, args.start_date, date, args.query_repeat)
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
        results["machine"]["seconds"] = results["machine"].get("seconds", 0.0) * bool(previous) + (
            time.perf_counter() - started)
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
    if args.render:
        for path in args.render:
            path.with_suffix(".md").write_text(render_markdown(json.loads(path.read_text(encoding="utf-8"))),
                                               encoding="utf-8")
            print(f"written: {path.with_suffix('.md')}")
        return 0
    if args.summary:
        summary = summarize([json.loads(path.read_text(encoding="utf-8")) for path in args.summary])
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "growth-year.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
        (args.out / "growth-year.md").write_text(render_summary(summary), encoding="utf-8")
        print(render_summary(summary))
        print(f"written: {args.out / 'growth-year'}.md and .json")
        return 0
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
