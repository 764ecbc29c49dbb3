"""Settings of the warehouse: where it is, how its files are written, and the gates that guard a date.

Shared by every layer that writes or reads the warehouse (the snapshot step, the history, the
quality checks, the CLI and Dagster). The source's own knobs (endpoint, timeouts, retries, the
Assistant's field limits) live in :mod:`assistants_export.connectors.openai_assistants.settings`.
"""

from __future__ import annotations

from . import settings_registry as registry

# --- Writing --------------------------------------------------------------

DEFAULT_WAREHOUSE = registry.WAREHOUSE.fallback
DEFAULT_WAREHOUSE_ENV = registry.WAREHOUSE.variable


def default_warehouse() -> str:
    """Where a warehouse that is not named is: ``$ASSISTANTS_WAREHOUSE``, else ``./data`` (resolved here only)."""
    return registry.WAREHOUSE.text()


DEFAULT_SOURCE = "default"
"""The name of the source a single-source warehouse holds: it is stored at the warehouse's root, so every
warehouse written before there were several sources is this source's, as it is."""
SOURCES_FOLDER = "sources"
"""Under the warehouse: every other source's own tables, ``sources/<name>/``, laid out as the root is."""
SOURCE_NAME_PATTERN = r"[a-z][a-z0-9_-]{0,39}"
"""A source's name becomes a folder, a prefix and a Dagster partition key: a lowercase letter, then up to 39
lowercase letters, digits, ``_`` or ``-``."""
SOURCES_FILE_ENV = registry.SOURCES_FILE.variable
"""The TOML file naming the sources (``pipelines/sources.py``); unset, the environment configures one source."""
BATCH_SIZE = 1000
"""Assistants held in memory before a batch is written; bounds memory whatever the ID count."""

HELD_FOLDER = "held"
"""Under the warehouse: the answers of runs that a blocking gate held back, ``held/<date>/<run_id>/``."""
HELD_MAX_AGE_DAYS = 30.0
"""A held-back run older than this (days since it was held) is removed by the next snapshot of its source."""

PARQUET_COMPRESSION = "zstd"
DUCKDB_FILENAME = "assistants.duckdb"
DUCKDB_CACHE_ENV = registry.DUCKDB_CACHE.variable
"""Where ``assistants.duckdb`` of a warehouse in an object store is kept (a local cache, rebuilt at will)."""
DEFAULT_DUCKDB_CACHE = registry.DUCKDB_CACHE.fallback
DUCKDB_LOCK_WAIT = 15.0
"""Seconds a step waits for another process to release assistants.duckdb before it gives up (the Parquet side
is stored either way). Covers the moments two processes touch the file at once; a notebook that keeps it open
still ends the step with one line."""
DUCKDB_READ_WAIT = 2.0
"""Seconds a reader (``query``, ``read_table``, the ``history`` commands) waits for a writer to let go of
assistants.duckdb before it reads the same views over the stored files instead (and says so on stderr)."""
WRITER_WAIT = float(registry.WRITER_WAIT.fallback)
"""Seconds a run waits for another run of the same source to end before it gives up, writing nothing (exit 75)."""
WRITER_WAIT_ENV = registry.WRITER_WAIT.variable
"""Overrides :data:`WRITER_WAIT` (seconds; ``0`` gives up at once); the CLI's ``--writer-wait`` and the Dagster
resource's ``writer_wait`` override it in turn."""
WRITER_LOCK_FILE = ".writer.lock"
"""In a folder source's root: the file a run holds an OS lock on (``flock``) while it writes the source."""
WRITER_LEASE_TABLE = "writer_lease"
"""In a bucket source's ``delta/``: the one-row Delta table holding the source's writer lease."""
WRITER_LEASE_SECONDS = 120.0
"""How long a bucket lease lasts unless renewed: a run that died without releasing it (SIGKILL, a lost
container) keeps the source for at most this long. Renewed every :data:`WRITER_LEASE_RENEW` seconds."""
WRITER_LEASE_RENEW = 30.0
DUCKDB_WRITE_MEMORY_LIMIT = "64MB"
"""DuckDB memory for connections that write (loads, history). Its default, 80 % of RAM, let a load hold a
whole date's tables in memory until the commit (450 MB more at 20,000 assistants, growing with N); with
this limit it writes blocks out as it goes, no slower (benchmarks/README.md). Read-only queries keep the default."""
DUCKDB_BLOCK_SIZE = 65_536
"""Block size of a new ``assistants.duckdb`` (DuckDB's default is 256 KiB): a warehouse has a dozen small tables
and appends a little to most of them every night, and each table's tail occupies whole blocks. Smaller blocks
(16 KiB) made loads several times slower for little more saving."""
DUCKDB_ROW_GROUP_SIZE = 4_096
"""Rows per row group of the tables written (DuckDB's default is 122,880). DuckDB writes a transaction's appends
to the file a row group at a time; with its default a whole date (up to 122,880 assistants, 3 KB of JSON each)
waited in memory for the commit."""

# --- Blocking gates (connectors/gates.py) ---------------------------------

DEFAULT_MAX_FAILED_SHARE = float(registry.MAX_FAILED_SHARE.fallback)
"""Largest share of the IDs answered that may end ``failed`` before a run is held back."""
DEFAULT_MASS_DELETION_THRESHOLD = float(registry.MASS_DELETION_THRESHOLD.fallback)
"""Largest share of the live assistants one snapshot may delete before it is held back."""
