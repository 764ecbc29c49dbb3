"""The benchmark's results as a markdown table, with every target of issue 6 checked."""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Targets:
    """Issue 6's targets for a 2-core machine."""

    pipeline_vs_floor: float = 1.15
    """Pipeline end to end at most this times the floor (N=20,000, no latency)."""
    fetch_vs_ideal: float = 1.2
    """With latency L and concurrency C: fetch time at most this times N*L/C."""
    processing_per_second: float = 20_000
    """Flatten and write a stored raw snapshot at least this fast."""
    rss_mb: float = 300
    """Peak RSS of the pipeline process at N=20,000."""
    rss_growth: float = 1.3
    """Peak RSS at N=200,000 at most this times the N=20,000 figure."""


def _median(values: list[float]) -> float:
    return statistics.median(values) if values else 0.0


def _cpu(run: dict[str, Any]) -> str:
    values = [r["cpu_s"] for r in run.get("runs", []) if "cpu_s" in r]
    return f"{_median(values):.1f}" if values else ""


def _row(name: str, run: dict[str, Any], ratio: str = "") -> str:
    per_second = f"{run['per_second']:,.0f}" if run.get("per_second") else ""
    requests = f"{run['requests']:,}" if run.get("requests") is not None else "0"
    return (f"| {name} | {run['wall_s']:.2f} | {_cpu(run)} | {requests} | {per_second} | {run['rss_mb']:.0f} "
            f"| {ratio} |")


def without_history(pipeline: dict[str, Any]) -> dict[str, Any]:
    """The pipeline runs with the history step taken out: wall time, CPU and peak RSS up to the DuckDB load."""
    runs = [{**r, "wall_s": r["wall_s"] - r["steps"].get("history", 0.0),
             "cpu_s": r.get("cpu_s", 0.0) - r.get("steps_cpu", {}).get("history", 0.0),
             "rss_mb": r.get("peak_rss_after_step_mb", {}).get("duckdb", r["rss_mb"])} for r in pipeline["runs"]]
    wall = _median([r["wall_s"] for r in runs])
    return {**pipeline, "runs": runs, "wall_s": wall, "per_second": pipeline["assistants"] / wall,
            "rss_mb": max(r["rss_mb"] for r in runs)}


PEERS = {
    "sdk": ("(e) openai SDK script", "(e) peer: openai SDK script (AsyncOpenAI, json_normalize, Parquet, DuckDB)"),
    "dlt": ("(f) dlt", "(f) peer: dlt rest_api source into DuckDB, merge + SCD2"),
}
"""The peers measured in the same run (benchmarks/peers/): a short name and the table's label."""


def _peer_lines(main: dict[str, Any], floor: dict[str, Any], pipeline: dict[str, Any],
                core: dict[str, Any]) -> list[str]:
    """Where the pipeline stands against each peer measured in the same run: wall and CPU, with and without history."""
    def cpu(run: dict[str, Any]) -> float:
        return _median([r["cpu_s"] for r in run["runs"]])

    lines = []
    for name in (name for name in PEERS if name in main):
        peer = main[name]
        versions = ", ".join(f"{package} {version}" for package, version in peer.get("versions", {}).items())
        lines.append(
            f"{PEERS[name][0]} ({versions}): {peer['wall_s'] / floor['wall_s']:.2f} × the floor's wall time and "
            f"{cpu(peer) / cpu(floor):.2f} × its CPU. The pipeline end to end takes "
            f"{pipeline['wall_s'] / peer['wall_s']:.2f} × the peer's wall time and {cpu(pipeline) / cpu(peer):.2f} × "
            f"its CPU; without the history step {core['wall_s'] / peer['wall_s']:.2f} × and "
            f"{cpu(core) / cpu(peer):.2f} ×.")
    return [*lines, ""] if lines else []


def _verdict(ok: bool) -> str:
    return "met" if ok else "**not met**"


def render_markdown(results: dict[str, Any], targets: Targets) -> str:
    machine = results["machine"]
    lines = [
        "# Benchmark results",
        "",
        f"{machine['date']}, commit `{machine['commit'] or '?'}`, {machine['cpus']} CPUs, Python "
        f"{machine['python']}; load average {machine['load_average_start'][0]:.1f} at the start, "
        f"{machine['load_average_end'][0]:.1f} at the end ({machine['seconds']:.0f} s in all). "
        "The sandbox server runs in its own process on the same machine.",
        "",
    ]
    checks: list[tuple[str, str, bool]] = []
    main = results.get("main")
    if main:
        floor, pipeline, processing, discover = (main[k] for k in ("floor", "pipeline", "processing", "discover"))
        has_history = bool(pipeline["runs"][0].get("history_included"))
        history = "with history" if has_history else "no history step yet"
        core = without_history(pipeline)
        core_ratio = core["wall_s"] / floor["wall_s"]
        steps = ", ".join(f"{name} {seconds:.2f} s" for name, seconds in pipeline["steps"].items())
        cpu_steps = ", ".join(f"{name} {_median([r['steps_cpu'][name] for r in pipeline['runs']]):.1f} s"
                              for name in pipeline["steps"] if "steps_cpu" in pipeline["runs"][0])
        flatten_rate = processing["assistants"] / processing["steps"]["flatten"]
        lines += [
            f"## N = {main['n']:,}, latency {main['latency_ms']:g} ms, concurrency {main['concurrency']} "
            f"(medians of {main['repeat']})",
            "",
            "| run | wall s | CPU s | requests | assistants/s | peak RSS MB | ratio to floor |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
            _row("(a) floor: plain httpx, bytes thrown away", floor),
            _row(f"(b) pipeline end to end ({history})", pipeline, f"{main['ratio']:.2f}"),
            *([_row("(b) pipeline without the history step: fetch, validate, flatten, Parquet, DuckDB", core,
                    f"{core_ratio:.2f}")] if has_history else []),
            _row("(c) processing only: flatten + Parquet + DuckDB", processing),
            _row("(d) discover mode, end to end", discover, f"{discover['wall_s'] / floor['wall_s']:.2f}"),
            *(_row(label, main[name], f"{main[name]['wall_s'] / floor['wall_s']:.2f}")
              for name, (_, label) in PEERS.items() if name in main),
            "",
            "CPU s is the CPU time of the measured process (user + system), a figure busy neighbours disturb far "
            "less than wall time; the sandbox's own CPU is not in it.",
            "",
            f"Pipeline steps, wall (medians): {steps}. CPU: {cpu_steps}. Pipeline/floor per repetition: "
            + ", ".join(f"{r:.2f}" for r in main["paired_ratios"]) + ".",
            f"Processing only: flatten + Parquet alone {processing['steps']['flatten']:.2f} s "
            f"({flatten_rate:,.0f} assistants/s), DuckDB load {processing['steps']['duckdb']:.2f} s.",
            "",
            *_peer_lines(main, floor, pipeline, core),
        ]
        checks += [
            (f"pipeline ≤ {targets.pipeline_vs_floor} × floor", f"{main['ratio']:.2f} × ({history})"
             + (f"; {core_ratio:.2f} × without it" if has_history else ""),
             main["ratio"] <= targets.pipeline_vs_floor),
            (f"processing ≥ {targets.processing_per_second:,.0f} assistants/s",
             f"{processing['per_second']:,.0f}/s (flatten + Parquet alone {flatten_rate:,.0f}/s)",
             processing["per_second"] >= targets.processing_per_second),
            (f"peak RSS ≤ {targets.rss_mb:.0f} MB at N = {main['n']:,}", f"{pipeline['rss_mb']:.0f} MB ({history})"
             + (f"; {core['rss_mb']:.0f} MB up to the DuckDB load" if has_history else ""),
             pipeline["rss_mb"] <= targets.rss_mb),
            ("discover mode ≤ N/100 + 1 requests", f"{discover['requests']:,} for N = {main['n']:,}",
             discover["requests"] <= main["n"] / 100 + 1),
        ]
    latency = results.get("latency")
    if latency:
        lines += [
            f"## Latency {latency['latency_ms']:g} ms: N = {latency['n']:,}, concurrency {latency['concurrency']}",
            "",
            "| run | wall s | CPU s | requests | assistants/s | peak RSS MB | ratio to N×L/C |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
            _row("floor: plain httpx", latency["floor"], f"{latency['floor']['wall_s'] / latency['ideal_s']:.2f}"),
            _row("pipeline end to end", latency["pipeline"],
                 f"{latency['pipeline']['wall_s'] / latency['ideal_s']:.2f}"),
            "",
            f"N×L/C = {latency['ideal_s']:.2f} s; the pipeline's fetch step took {latency['fetch_s']:.2f} s "
            f"({latency['fetch_vs_ideal']:.2f} ×).",
            "",
        ]
        checks.append((f"fetch ≤ {targets.fetch_vs_ideal} × N×L/C at {latency['latency_ms']:g} ms",
                       f"{latency['fetch_vs_ideal']:.2f} ×", latency["fetch_vs_ideal"] <= targets.fetch_vs_ideal))
    capped = results.get("rate_limit")
    if capped:
        lines += [
            f"## Server cap of {capped['cap']} requests in flight: N = {capped['n']:,}, latency "
            f"{capped['latency_ms']:g} ms, client concurrency {capped['concurrency']}",
            "",
            "| client | wall s | requests | HTTP 429 caused | lowest in-flight limit | IDs ok | IDs failed |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
        ]
        for mode, label in (("adaptive", "adaptive concurrency (AIMD, default)"), ("fixed", "fixed concurrency")):
            run = capped[mode]
            failed = max(r["outcomes"].get("failed", 0) for r in run["runs"])
            lines.append(f"| {label} | {run['wall_s']:.2f} | {run['requests']:,} | {run['http_429']:,.0f} | "
                         f"{run['lowest_limit']} | {run['assistants']:,} | {failed} |")
        lines += ["", "Medians of the repetitions; IDs failed is the worst repetition: those IDs ran out of their "
                  "6 attempts, each one waiting the server's Retry-After of 1 s.", ""]
    scale = results.get("memory_scale")
    if scale:
        run = scale["pipeline"]
        baseline = scale.get("baseline_rss_mb")
        growth = run["rss_mb"] / baseline if baseline else None
        steps = ", ".join(f"{name} {seconds:.1f} s" for name, seconds in run["steps"].items())
        scope = "with the history step" if scale.get("history_included") else (
            "fetch, validate, flatten, Parquet and DuckDB; without the history step, compared with the same steps "
            "at N = 20,000")
        lines += [
            f"## Memory at scale: N = {scale['n']:,}, concurrency {scale['concurrency']} (one run; {scope})",
            "",
            "| run | wall s | CPU s | requests | assistants/s | peak RSS MB | RSS vs N = 20,000 |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
            _row("pipeline end to end", run, f"{growth:.2f}" if growth else "n/a"),
            "",
            f"Steps: {steps}.",
            "",
        ]
        if growth is not None:
            checks.append((f"peak RSS at N = {scale['n']:,} ≤ {targets.rss_growth} × N = 20,000",
                           f"{run['rss_mb']:.0f} MB = {growth:.2f} ×", growth <= targets.rss_growth))
    if checks:
        lines += ["## Targets", "", "| target | measured | |", "| --- | --- | --- |"]
        lines += [f"| {name} | {measured} | {_verdict(ok)} |" for name, measured, ok in checks]
        lines.append("")
    return "\n".join(lines)
