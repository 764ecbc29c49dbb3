"""Where snapshots are kept: Parquet datasets (the source of truth) and a DuckDB database."""

from .duckdb_store import DuckDBStore
from .parquet_store import ParquetStore, PartitionWriter
from .pending import pending_loads

__all__ = ["DuckDBStore", "ParquetStore", "PartitionWriter", "pending_loads"]
