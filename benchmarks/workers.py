"""One measured run per process: ``python -m benchmarks.workers KIND '{json arguments}'``.

Each run gets a fresh interpreter so that its peak RSS (``ru_maxrss``) is its own
and no run warms a cache for the next. The last line printed is a JSON object
with the measurements.

Kinds:

* ``floor``: plain httpx, the same concurrency, every ID fetched, the bytes thrown away;
* ``pipeline``: fetch, validate, flatten, Parquet, DuckDB and history (when the history
  step is available), each step timed;
* ``processing``: flatten and load an already stored raw snapshot (no network);
* ``fetch``: the client alone (``fetch_many``), with or without adaptive concurrency,
  for the runs against a server-side concurrency cap;
* ``sdk`` and ``dlt``: the peers in ``benchmarks/peers/``, each run by the peers' own
  interpreter (``.venv-bench-peers``, see ``make bench-peers-env``) in a child process
  that measures itself (``benchmarks/peers/measure.py``).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import resource
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from benchmarks.sandbox_process import API_KEY

DATE = dt.date(2026, 11, 20)


def _rss_mb() -> float:
    """Peak resident memory of this process so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _cpu_s() -> float:
    """CPU seconds this process used (user + system): far less disturbed by busy neighbours than wall time."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _ids(path: str) -> list[str]:
    return Path(path).read_text(encoding="utf-8").split()


def floor(base_url: str, ids_file: str, concurrency: int) -> dict[str, Any]:
    """The least any client must do: one GET per ID through one httpx pool, nothing kept."""
    ids = _ids(ids_file)
    statuses: Counter[int] = Counter()
    headers = {"Authorization": f"Bearer {API_KEY}", "OpenAI-Beta": "assistants=v2"}

    async def main() -> None:
        limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
        async with httpx.AsyncClient(base_url=base_url, headers=headers, limits=limits, timeout=60) as client:
            pending = iter(ids)

            async def worker() -> None:
                for assistant_id in pending:
                    response = await client.get(f"/assistants/{assistant_id}")
                    await response.aread()
                    statuses[response.status_code] += 1

            await asyncio.gather(*(worker() for _ in range(concurrency)))

    started = time.perf_counter()
    asyncio.run(main())
    wall = time.perf_counter() - started
    return {"wall_s": wall, "requests": sum(statuses.values()), "assistants": statuses.get(200, 0),
            "statuses": dict(statuses), "rss_mb": _rss_mb(), "cpu_s": _cpu_s()}


def _history_step() -> Callable[[str, dt.date], object] | None:
    """The history (SCD2) step when this checkout has it; the pipeline run includes it then."""
    try:
        from assistants_export.connectors.history import rebuild_history
    except ImportError:
        return None

    def step(warehouse: str, date: dt.date) -> object:
        return rebuild_history(warehouse, date)

    return step


def pipeline(base_url: str, warehouse: str, concurrency: int, ids_file: str | None = None,
             discover: bool = False, history: bool = True) -> dict[str, Any]:
    """The snapshot as ``assistants-export snapshot`` runs it, minus Dagster's own bookkeeping."""
    from assistants_export import pipelines  # noqa: F401  (the Arrow allocator the CLI and Dagster run with)
    from assistants_export.connectors.openai_assistants.config import ClientConfig, Secret
    from assistants_export.connectors.snapshot import IdSource, fetch_snapshot, flatten_snapshot, load_duckdb

    config = ClientConfig(api_key=Secret(API_KEY), base_url=base_url, concurrency=concurrency)
    source = IdSource(discover=True) if discover else IdSource(ids_file=ids_file)
    steps: dict[str, float] = {}
    steps_cpu: dict[str, float] = {}
    step_rss: dict[str, float] = {}
    result: dict[str, Any] = {}

    def timed(name: str, step: Callable[[], object]) -> None:
        wall, cpu = time.perf_counter(), _cpu_s()
        result[name] = step()
        steps[name] = time.perf_counter() - wall
        steps_cpu[name] = _cpu_s() - cpu
        step_rss[name] = _rss_mb()

    started = time.perf_counter()
    timed("fetch", lambda: fetch_snapshot(config, source, DATE, warehouse))
    timed("flatten", lambda: flatten_snapshot(DATE, warehouse))
    timed("duckdb", lambda: load_duckdb(DATE, warehouse))
    history_step = _history_step() if history else None
    if history_step is not None:
        timed("history", lambda: history_step(warehouse, DATE))
    wall = time.perf_counter() - started
    summary = result["fetch"]
    return {"wall_s": wall, "steps": steps, "requests": summary.requests, "retries": summary.retries,
            "rate_limited": summary.rate_limited, "assistants": summary.outcomes.get("ok", 0),
            "outcomes": dict(summary.outcomes), "history_included": history_step is not None,
            "steps_cpu": steps_cpu, "peak_rss_after_step_mb": step_rss,
            "rss_mb": _rss_mb(), "cpu_s": _cpu_s()}


def processing(warehouse: str) -> dict[str, Any]:
    """Flatten and load the stored raw snapshot of :data:`DATE` again: no network, only our own work."""
    from assistants_export import pipelines  # noqa: F401  (the Arrow allocator the CLI and Dagster run with)
    from assistants_export.connectors.snapshot import flatten_snapshot, load_duckdb

    started, cpu = time.perf_counter(), _cpu_s()
    rows = flatten_snapshot(DATE, warehouse, force=True)  # the pipeline run wrote them: flatten them again
    flattened, flatten_cpu = time.perf_counter() - started, _cpu_s() - cpu
    load_duckdb(DATE, warehouse)
    wall = time.perf_counter() - started
    return {"wall_s": wall, "steps": {"flatten": flattened, "duckdb": wall - flattened},
            "steps_cpu": {"flatten": flatten_cpu, "duckdb": _cpu_s() - cpu - flatten_cpu},
            "assistants": rows["payloads"], "rows": rows, "rss_mb": _rss_mb(), "cpu_s": _cpu_s()}


def fetch(base_url: str, ids_file: str, concurrency: int, adaptive: bool) -> dict[str, Any]:
    """The client alone, results counted and dropped: how many 429s does it cause?"""
    from assistants_export.connectors.openai_assistants.client import AssistantsClient
    from assistants_export.connectors.openai_assistants.config import ClientConfig, Secret
    from assistants_export.connectors.openai_assistants.results import FetchResult

    config = ClientConfig(api_key=Secret(API_KEY), base_url=base_url, concurrency=concurrency)
    outcomes: Counter[str] = Counter()

    def count(result: FetchResult) -> None:
        outcomes[result.outcome.value] += 1

    async def main() -> AssistantsClient:
        async with AssistantsClient(config, adaptive_concurrency=adaptive) as client:
            await client.fetch_many(_ids(ids_file), count)
        return client

    started = time.perf_counter()
    client = asyncio.run(main())
    wall = time.perf_counter() - started
    stats = client.stats
    return {"wall_s": wall, "requests": stats.requests, "assistants": outcomes.get("ok", 0),
            "outcomes": dict(outcomes), "http_429": stats.status_counts.get(429, 0), "retries": stats.retries,
            "waited_s": stats.waited_seconds, "lowest_limit": stats.concurrency_limit_lowest,
            "limit_decreases": stats.concurrency_decreases, "rss_mb": _rss_mb(), "cpu_s": _cpu_s()}


PEERS = Path(__file__).parent / "peers"
PEER_SCRIPTS = {"sdk": "sdk_script", "dlt": "dlt_pipeline"}


def peer(name: str, python: str, base_url: str, ids_file: str, out: str, concurrency: int) -> dict[str, Any]:
    """A peer script run by ``python`` (the peers' environment, not this one): its own measurements."""
    arguments = {"base_url": base_url, "ids_file": ids_file, "out": out, "concurrency": concurrency}
    environment = {**os.environ, "RUNTIME__DLTHUB_TELEMETRY": "false"}  # dlt would phone home otherwise
    done = subprocess.run([python, str(PEERS / "measure.py"), PEER_SCRIPTS[name], json.dumps(arguments)],
                          capture_output=True, text=True, check=False, env=environment)
    if done.returncode != 0:
        raise RuntimeError(f"peer {name} failed (exit {done.returncode}):\n{done.stderr[-4000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


KINDS: dict[str, Callable[..., dict[str, Any]]] = {
    "floor": floor, "pipeline": pipeline, "processing": processing, "fetch": fetch,
    "sdk": lambda **arguments: peer("sdk", **arguments), "dlt": lambda **arguments: peer("dlt", **arguments),
}


def main(argv: list[str]) -> int:
    kind, arguments = argv[0], json.loads(argv[1])
    result = KINDS[kind](**arguments)
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
