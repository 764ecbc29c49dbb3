"""Micro-benchmark of the fetch step's writer work: hash-keyed flatten (``stored_batch``) and the Parquet write.

``python -m benchmarks.flatten_micro --n 20000 --runs 5`` builds N generated sandbox bodies (the OpenAI catalogue,
or Foundry's with ``--foundry``), decodes each once as the client does (``loads_normalized`` and the content
hash), then per run flattens them in batches of ``BATCH_SIZE`` into the four payload tables and writes them as
zstd Parquet under a temporary folder. It prints the median µs per assistant of flatten alone and of flatten +
write, and the peak RSS the runs added over the decoded bodies (MB). No network, no Dagster, no DuckDB.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import resource
import statistics
import tempfile
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from assistants_export.connectors.core.hashing import content_hash_normalized, loads_normalized
from assistants_export.connectors.core.schemas import PAYLOAD_TABLES, RAW_ASSISTANTS
from assistants_export.connectors.core.settings import BATCH_SIZE
from assistants_export.connectors.openai_assistants.flatten import stored_batch
from assistants_export.sandbox.fixtures import GeneratedCatalog
from assistants_export.sandbox.foundry import FoundryCatalog

DATE = dt.date(2026, 12, 8)
FETCHED = dt.datetime(2026, 12, 8, 2, 0, tzinfo=dt.UTC)


def _rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def _batches(n: int, foundry: bool) -> list[tuple[pa.Table, list[tuple[str, object]]]]:
    catalog = FoundryCatalog(n) if foundry else GeneratedCatalog(n)
    out = []
    for start in range(0, n, BATCH_SIZE):
        bodies = [json.dumps(catalog.build(i), ensure_ascii=False) for i in range(start, min(n, start + BATCH_SIZE))]
        decoded = [(content_hash_normalized(p), p) for p in map(loads_normalized, bodies)]
        raw = pa.table({
            "snapshot_date": pa.repeat(pa.scalar(DATE, pa.date32()), len(bodies)),
            "assistant_id": pa.array([p["id"] for _, p in decoded], pa.string()),
            "fetched_at": pa.repeat(pa.scalar(FETCHED, RAW_ASSISTANTS.schema.field("fetched_at").type), len(bodies)),
            "attempts": pa.repeat(pa.scalar(1, pa.int16()), len(bodies)),
            "raw_json": pa.array(bodies, pa.large_string()),
        }, schema=RAW_ASSISTANTS.schema)
        out.append((raw, decoded))
    return out


def _run(batches: list[tuple[pa.Table, list[tuple[str, object]]]], folder: Path | None) -> tuple[float, float]:
    writers = ({spec.name: pq.ParquetWriter(folder / f"{spec.name}.parquet", spec.schema, compression="zstd")
                for spec in PAYLOAD_TABLES} if folder else {})
    started, cpu = time.perf_counter(), time.process_time()
    for raw, decoded in batches:
        _, tables = stored_batch(DATE, raw, set(), decoded)  # type: ignore[arg-type]
        for name, table in tables.items():
            if folder:
                writers[name].write_table(table)
    for writer in writers.values():
        writer.close()
    return time.perf_counter() - started, time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--foundry", action="store_true", help="Foundry's generated agents instead of OpenAI's")
    args = parser.parse_args()
    batches = _batches(args.n, args.foundry)
    before = _rss_mb()
    flatten_only, with_write = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for run in range(args.runs):
            flatten_only.append(_run(batches, None))
            folder = Path(tmp) / str(run)
            folder.mkdir()
            with_write.append(_run(batches, folder))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    per = 1e6 / args.n
    print(json.dumps({
        "n": args.n, "foundry": args.foundry, "runs": args.runs,
        "flatten_us": round(statistics.median(t for t, _ in flatten_only) * per, 1),
        "flatten_write_us": round(statistics.median(t for t, _ in with_write) * per, 1),
        "flatten_cpu_us": round(statistics.median(c for _, c in flatten_only) * per, 1),
        "flatten_write_cpu_us": round(statistics.median(c for _, c in with_write) * per, 1),
        "peak_added_mb": round(peak - before, 1), "peak_rss_mb": round(peak, 1),
    }))


if __name__ == "__main__":
    main()
