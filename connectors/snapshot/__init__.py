"""The three steps of a snapshot, free of Dagster: fetch, flatten, load.

1. :func:`fetch_snapshot` (:mod:`.fetch`) asks the API and stores the date: its membership
   (``snapshot_members``), the payloads not stored before (``payloads`` and its
   child tables, flattened), ``fetch_errors`` and ``snapshot_runs``. Its answers
   are staged a batch at a time by :mod:`.sink`; what it is given and records is in :mod:`.run`.
2. :func:`flatten_snapshot` (:mod:`.flatten_step`) rebuilds the payload tables a date stored from
   their raw bodies (no network: after an upgrade that changes the flattening).
3. :func:`load_duckdb` (:mod:`.load_step`) replaces the date in DuckDB with the Parquet partitions.

Each step replaces whole partitions (a payload partition only grows), so any
step can be re-run for a date and the result is the same as running it once.
The fetch step replaces a date only when the run passes every blocking gate
(:mod:`assistants_export.connectors.gates`); otherwise its answers are kept under ``held/`` and
the date stays as it was. Memory is bounded by the batch size, not by the
number of assistants: results stream to Parquet as they come.
"""

from .fetch import fetch_snapshot
from .flatten_step import flatten_snapshot
from .load_step import load_duckdb
from .run import FetchProgress, FetchSummary, IdSource, Progress
from .sink import commit_payloads, commit_staged, payload_writers, with_mappings

__all__ = ["FetchProgress", "FetchSummary", "IdSource", "Progress", "commit_payloads", "commit_staged",
           "fetch_snapshot", "flatten_snapshot", "load_duckdb", "payload_writers", "with_mappings"]
