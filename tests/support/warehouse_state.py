"""What a reader of a warehouse sees, in a form two runs can be compared by.

Used by the reliability suite: a crashed-then-repaired run must leave exactly
what an uninterrupted run leaves, row for row. Columns that differ between any
two runs (wall-clock times, run IDs) are dropped; everything else is compared.
"""

import json
from pathlib import Path

import duckdb
import pyarrow.parquet as pq

from assistants_export.connectors.core.schemas import STORED_TABLES, VIEW_TABLES
from assistants_export.connectors.warehouse.location import duckdb_path

VOLATILE = ("snapshot_at", "fetched_at", "started_at", "finished_at", "run_id", "token")
"""Clocks, run IDs, and the file tokens DuckDB keeps of the change-log partitions it loaded (mtimes)."""


def comparable(rows, drop=VOLATILE):
    """Rows as sorted canonical JSON strings, without the volatile columns."""
    return sorted(json.dumps({k: v for k, v in r.items() if k not in drop}, default=str, sort_keys=True)
                  for r in rows)


def parquet_state(warehouse):
    """``{(table, partition): rows}`` for every committed Parquet partition (or unpartitioned file).

    Each file is read whole with pyarrow, so a half-written one would fail here.
    Staging (``.staging``) is not looked at: readers never see it.
    """
    if "://" in str(warehouse):
        return _lake_state(warehouse)
    root = Path(warehouse) / "parquet"
    compacted = {path.parent.name for path in root.glob("*/_compacted.json")}
    state = {}
    for file in sorted(root.rglob("*.parquet")):
        relative = file.relative_to(root).parts
        if relative[0] in compacted or any(part.startswith(("_", ".")) for part in relative):
            continue  # Arrow's folder discovery skips such names too (a month file no manifest names yet)
        key = (relative[0], relative[1] if len(relative) > 2 else "")
        state.setdefault(key, []).extend(pq.read_table(file).to_pylist())
    if compacted:  # a table whose closed months were compacted: each date as the store reads it
        from assistants_export.connectors.warehouse import ParquetStore

        store = ParquetStore(warehouse)
        for name in compacted:
            for date in store.partition_dates(name):
                state[(name, f"snapshot_date={date.isoformat()}")] = store.read(STORED_TABLES[name], date).to_pylist()
    return {key: comparable(rows) for key, rows in state.items()}


def _lake_state(warehouse):
    """The same for a warehouse of Delta tables, read at their latest versions (no empty partitions there)."""
    from assistants_export.connectors.warehouse.lake_store import LakeStore
    from assistants_export.connectors.warehouse.location import parse_warehouse_uri

    store = LakeStore(parse_warehouse_uri(warehouse))
    state = {}
    for name, spec in STORED_TABLES.items():
        dataset = store.dataset(spec)
        if dataset is None:
            continue
        rows = dataset.to_table().to_pylist()
        if "snapshot_date" not in spec.schema.names:
            state[(name, "")] = rows
            continue
        for row in rows:
            state.setdefault((name, f"snapshot_date={row['snapshot_date'].isoformat()}"), []).append(row)
    return {key: comparable(rows) for key, rows in state.items()}


def duckdb_state(warehouse):
    """``{table: rows}`` for every table of ``assistants.duckdb`` ({} when there is no database).

    The tables users query that are views over the stored ones (``assistants``, ``raw_assistants``, the
    child tables, ``assistant_history``) are read too; the bundled views (current_assistants, ...) are not.
    """
    path = duckdb_path(warehouse)
    if not path.exists():
        return {}
    with duckdb.connect(str(path), read_only=True) as con:
        tables = [r[0] for r in con.execute(
            "SELECT table_name, table_type FROM information_schema.tables WHERE table_schema = 'main'").fetchall()
            if r[1] == "BASE TABLE" or r[0] in VIEW_TABLES]
        state = {}
        for table in tables:
            cursor = con.execute(f'SELECT * FROM "{table}"')
            names = [c[0] for c in cursor.description]
            state[table] = comparable(dict(zip(names, row, strict=True)) for row in cursor.fetchall())
        return state


class HeldRun:
    """One held-back run's folder (``held/<date>/<run_id>/``), in a warehouse folder or a bucket."""

    def __init__(self, filesystem, path, shown):
        self._fs, self._path, self.shown = filesystem, path, shown

    def __str__(self):
        return self.shown

    def read(self, table):
        import pyarrow.parquet as pq
        return pq.read_table(f"{self._path}/{table}/part-0.parquet", filesystem=self._fs)

    def note(self):
        with self._fs.open_input_stream(f"{self._path}/held.json") as stream:
            return json.loads(stream.read().decode("utf-8"))


def held_runs(warehouse, date):
    """The held-back runs of ``date``, sorted by run ID."""
    import pyarrow.fs as pafs

    from assistants_export.connectors.warehouse.location import parse_warehouse_uri
    from assistants_export.connectors.warehouse.objectstore import open_filesystem

    location = parse_warehouse_uri(warehouse)
    filesystem, root = open_filesystem(location)
    folder = f"{root}/held/{date.isoformat()}"
    found = filesystem.get_file_info(pafs.FileSelector(folder, allow_not_found=True))
    runs = sorted(info.path for info in found if info.type == pafs.FileType.Directory)
    shown = str(Path(warehouse)) if location.is_local else location.uri
    return [HeldRun(filesystem, path, f"{shown}/held/{date.isoformat()}/{path.rsplit('/', 1)[-1]}") for path in runs]
