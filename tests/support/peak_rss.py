"""Run one date through fetch (discover), flatten, the DuckDB load and the history, then print the peak RSS.

``python tests/support/peak_rss.py BASE_URL WAREHOUSE DATE BATCH_SIZE`` prints one
JSON line: the high-water mark of the resident set (``VmHWM``, KiB) once the modules
are imported, after the flatten step, after the DuckDB load and after the history step. Unlike
``tracemalloc`` it counts everything the process held at its worst moment: Python
objects, Arrow buffers, DuckDB's memory. The key comes from ``OPENAI_API_KEY``.
Used by ``tests/reliability/test_resource_bounds.py``.
"""

import datetime as dt
import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the tree this file belongs to, not an install

from assistants_export.connectors.history import rebuild_history
from assistants_export.connectors.openai_assistants.config import ClientConfig, Secret
from assistants_export.connectors.snapshot import IdSource, fetch_snapshot, flatten_snapshot, load_duckdb


def peak_rss_kib() -> int:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    raise RuntimeError("no VmHWM in /proc/self/status")


def main(base_url: str, warehouse: str, date: str, batch_size: str) -> None:
    snapshot_date = dt.date.fromisoformat(date)
    config = ClientConfig(api_key=Secret(os.environ["OPENAI_API_KEY"]), base_url=base_url)
    imported = peak_rss_kib()
    fetch_snapshot(config, IdSource(discover=True), snapshot_date, warehouse, batch_size=int(batch_size))
    flatten_snapshot(snapshot_date, warehouse, batch_size=int(batch_size))
    flattened = peak_rss_kib()
    load_duckdb(snapshot_date, warehouse)
    loaded = peak_rss_kib()
    rebuild_history(warehouse, snapshot_date)
    print(json.dumps({"imported": imported, "flattened": flattened, "loaded": loaded, "history": peak_rss_kib()}),
          flush=True)


if __name__ == "__main__":
    main(*sys.argv[1:])
