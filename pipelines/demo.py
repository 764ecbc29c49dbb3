"""``make demo``: a whole snapshot, end to end, on this machine alone.

Starts the sandbox API on a free loopback port with the bundled assistants
(plus a few invalid bodies), writes an IDs file that also holds unknown and
malformed IDs, runs ``assistants-export snapshot`` through Dagster into its own
warehouse, ``./demo-data`` (``--warehouse DIR`` for another), then prints what
it made and the answers of the sample queries in ``sql/examples/``. It never
writes ``./data``, the default warehouse, so a first snapshot of one's own does
not replace the demo's (or the other way round).

With ``OPENAI_API_KEY`` and ``OPENAI_BASE_URL`` both set, the sandbox is not
started: the same command runs against that endpoint in discover mode.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import tempfile
from pathlib import Path

from rich.console import Console
from rich.table import Table

from assistants_export import sql
from assistants_export.connectors.core import settings
from assistants_export.connectors.warehouse import DuckDBStore
from assistants_export.sandbox import SandboxServer, StaticCatalog, bundled_assistants, invalid_assistants

from .cli import run

DEMO_KEY = "sk-demo-sandbox-key"
DEMO_WAREHOUSE = "demo-data"
"""Not ./data (the default warehouse): the demo's snapshot of today must not collide with a user's own."""
EXTRA_IDS = ["asst_doesnotexist000000000001", "asst_doesnotexist000000000002", "../files", "asst bad id"]
EXAMPLES = ("assistants_per_model", "tools_by_type", "fetch_problems")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m assistants_export.pipelines.demo",
                                     description="The sandbox demo (make demo).")
    parser.add_argument("--warehouse", default=DEMO_WAREHOUSE, help=f"where to write (default ./{DEMO_WAREHOUSE})")
    warehouse = parser.parse_args(argv).warehouse
    today = dt.datetime.now(dt.UTC).date()
    console = Console()
    if os.environ.get("OPENAI_API_KEY") and os.environ.get("OPENAI_BASE_URL"):
        console.print(f"Using {os.environ['OPENAI_BASE_URL']} (discover mode)")
        status = run(["snapshot", "--discover", "--date", today.isoformat(), "--warehouse", warehouse])
    else:
        status = _run_on_sandbox(console, warehouse, today)
    if status == 0:
        _show(console, warehouse, today)
        console.print(f"\nThe demo's warehouse is {warehouse}/ (your own snapshots go to ./data by default). "
                      f"Query it with: .venv/bin/assistants-export query --warehouse {warehouse} "
                      '"SELECT name, model FROM current_assistants LIMIT 5"')
    return status


def _run_on_sandbox(console: Console, warehouse: str, today: dt.date) -> int:
    bodies: dict[str, object] = {a["id"]: a for a in bundled_assistants()}
    bodies.update(invalid_assistants())
    with SandboxServer(StaticCatalog(bodies), api_key=DEMO_KEY) as server, \
            tempfile.TemporaryDirectory() as tmp:
        ids_file = Path(tmp) / "ids.txt"
        ids_file.write_text("\n".join([*bodies, *EXTRA_IDS]) + "\n", encoding="utf-8")
        console.print(f"Sandbox API at {server.base_url} with {len(bodies)} assistants; "
                      f"fetching {len(bodies) + len(EXTRA_IDS)} IDs (some unknown, malformed or invalid on purpose)")
        os.environ["OPENAI_API_KEY"] = DEMO_KEY
        os.environ["OPENAI_BASE_URL"] = server.base_url
        try:
            return run(["snapshot", "--ids-file", str(ids_file), "--date", today.isoformat(),
                        "--warehouse", warehouse])
        finally:
            del os.environ["OPENAI_API_KEY"], os.environ["OPENAI_BASE_URL"]


def _show(console: Console, warehouse: str, today: dt.date) -> None:
    root = Path(warehouse)
    console.print(f"\nFiles for {today} under {root.resolve()}:")
    for path in sorted((root / "parquet").glob(f"*/snapshot_date={today}/*.parquet")):
        console.print(f"  {path.relative_to(root)}  ({path.stat().st_size:,} bytes)")
    console.print(f"  {settings.DUCKDB_FILENAME}")
    store = DuckDBStore(warehouse)
    for name in EXAMPLES:
        statement = sql.load(f"examples/{name}")
        result = store.query(statement, {"snapshot_date": today})
        table = Table(*result.column_names, title=f"sql/examples/{name}.sql")
        for row in result.to_pylist():
            table.add_row(*("" if v is None else str(v) for v in row.values()))
        console.print(table)


if __name__ == "__main__":
    sys.exit(main())
