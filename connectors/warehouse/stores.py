"""The store of a warehouse location: a local folder's Parquet files, or Delta tables in an object store."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, TypeAlias

from assistants_export.connectors.core import settings

from .location import parse_warehouse_uri
from .parquet_store import ParquetStore
from .sources import source_root

if TYPE_CHECKING:
    from .lake_store import LakePartitionWriter, LakeStore
    from .parquet_store import PartitionWriter

Store: TypeAlias = "ParquetStore | LakeStore"
"""Either store: the snapshot, the history and the views use only the methods both have."""

Writer: TypeAlias = "PartitionWriter | LakePartitionWriter"


def open_store(warehouse: str | os.PathLike[str], source_name: str = settings.DEFAULT_SOURCE) -> Store:
    """The stored tables of one source of the warehouse (:mod:`.sources`): a :class:`ParquetStore` for a folder
    (or ``file://``), a :class:`LakeStore` for ``s3://``, ``gs://``, ``az://``.

    The lake store imports ``deltalake``, so a local warehouse never needs it.
    """
    warehouse = source_root(warehouse, source_name)
    location = parse_warehouse_uri(warehouse)
    if location.is_local:
        return ParquetStore(os.fspath(warehouse))
    from .lake_store import LakeStore
    return LakeStore(location)
