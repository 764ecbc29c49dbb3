"""Where snapshots are kept: Parquet datasets (the source of truth) and a DuckDB database."""

from .duckdb_store import DuckDBStore
from .parquet_store import ParquetStore, PartitionWriter
from .pending import pending_loads
from .stores import Store, Writer, open_store

__all__ = ["DuckDBStore", "ParquetStore", "PartitionWriter", "Store", "Writer", "open_store", "pending_loads"]
