"""The store of a warehouse location (a local folder's Parquet files, or Delta tables in an object store), and
the sources a warehouse holds a stored snapshot of."""

from __future__ import annotations

import os
from pathlib import Path

from assistants_export.connectors.core import settings

from .location import WarehouseLocation, parse_warehouse_uri
from .parquet_store import ParquetStore
from .sources import SOURCE_NAME, source_location, source_root
from .store import Store, Writer

__all__ = ["Store", "Writer", "open_store", "stored_sources"]


def open_store(warehouse: str | os.PathLike[str] | WarehouseLocation,
               source_name: str = settings.DEFAULT_SOURCE) -> Store:
    """The stored tables of one source of the warehouse (:mod:`.sources`): a :class:`ParquetStore` for a folder
    (or ``file://``), a :class:`LakeStore` for ``s3://``, ``gs://``, ``az://``.

    ``warehouse`` is resolved here unless it is a :class:`WarehouseLocation` already (pass that on when opening
    several stores of one warehouse).
    """
    location = source_location(warehouse, source_name)
    if location.is_local:
        return ParquetStore(_local_folder(warehouse, source_name, location))
    # Here, not at the top: the lake store imports deltalake and the object-store SDKs (lazy loading of heavy
    # modules), which a local warehouse never needs and the CLI's start-up must not pay for.
    from .lake_store import LakeStore
    return LakeStore(location)


def _local_folder(warehouse: str | os.PathLike[str] | WarehouseLocation, source_name: str,
                  location: WarehouseLocation) -> str:
    """The folder a local store names in what it shows: as the warehouse was written (``./data`` stays relative)
    when given as text, else the resolved one."""
    return location.root if isinstance(warehouse, WarehouseLocation) else source_root(warehouse, source_name)


def stored_sources(warehouse: str | os.PathLike[str] | WarehouseLocation) -> list[str]:
    """The sources that hold a stored snapshot: ``default`` first when the root holds one, then the others
    by name (a folder under ``sources/`` whose name is not a source's is ignored)."""
    location = parse_warehouse_uri(warehouse)  # once, for every store opened below
    found = [settings.DEFAULT_SOURCE] if open_store(location).exists() else []
    for name in sorted(_source_folders(location)):
        if name != settings.DEFAULT_SOURCE and SOURCE_NAME.fullmatch(name) \
                and open_store(location, name).exists():
            found.append(name)
    return found


def _source_folders(location: WarehouseLocation) -> list[str]:
    if location.is_local:
        folder = Path(location.root) / settings.SOURCES_FOLDER
        return [p.name for p in folder.iterdir() if p.is_dir()] if folder.is_dir() else []
    # Here, not at the top: lazy loading of the object-store code (see open_store).
    import pyarrow.fs as pafs

    from .objectstore import open_filesystem

    filesystem, root = open_filesystem(location)
    selector = pafs.FileSelector(f"{root}/{settings.SOURCES_FOLDER}", allow_not_found=True)
    return [info.base_name for info in filesystem.get_file_info(selector) if info.type == pafs.FileType.Directory]
