"""Where snapshots are kept: Parquet datasets (the source of truth) and a DuckDB database.

The names below are imported on first use: a module of this package (the read-only query session of
:mod:`.views`, say) can be imported without the stores, so the commands that only read start without pyarrow.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .duckdb_store import DuckDBStore
    from .parquet_store import ParquetStore, PartitionWriter
    from .pending import pending_loads
    from .stores import Store, Writer, open_store

__all__ = ["DuckDBStore", "ParquetStore", "PartitionWriter", "Store", "Writer", "open_store", "pending_loads"]

_HOMES = {"DuckDBStore": "duckdb_store", "ParquetStore": "parquet_store", "PartitionWriter": "parquet_store",
          "pending_loads": "pending", "Store": "stores", "Writer": "stores", "open_store": "stores"}


def __getattr__(name: str) -> Any:
    if name in _HOMES:
        return getattr(importlib.import_module(f".{_HOMES[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
