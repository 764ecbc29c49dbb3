"""Where each API source of a warehouse is stored, and which sources a warehouse holds.

A warehouse archives one or more named sources (OpenAI projects, Azure resources, compatible servers). Each
source's stored tables live apart, as a complete warehouse of the usual layout: the source named ``default``
at the root (so a warehouse written before there were sources is the default source's, unchanged) and any
other under ``sources/<name>/`` (a folder, or a prefix of the bucket). Runs of two sources therefore touch no
common file and never wait for each other's commit lock. What they share is the one DuckDB database at the
root, whose every table and view carries a ``source`` column.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from assistants_export.connectors.core import settings
from assistants_export.connectors.core.errors import ConfigError

from .location import parse_warehouse_uri

_NAME = re.compile(settings.SOURCE_NAME_PATTERN)


def check_source_name(name: str) -> str:
    """``name`` if it can name a source; otherwise a :class:`ConfigError` saying what a name may hold."""
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise ConfigError(f"source name {name!r} is not valid: use 1 to 40 lowercase letters, digits, '_' or '-', "
                          "starting with a letter (it becomes a folder name and a partition key)")
    return name


def source_root(warehouse: str | os.PathLike[str], name: str = settings.DEFAULT_SOURCE) -> str:
    """The location of ``name``'s own tables: the warehouse itself for the default source."""
    check_source_name(name)
    text = os.fspath(warehouse)
    if name == settings.DEFAULT_SOURCE:
        return text
    location = parse_warehouse_uri(text)
    if location.is_local and "://" not in text:
        return str(Path(text) / settings.SOURCES_FOLDER / name)
    return location.child(settings.SOURCES_FOLDER, name)


def stored_sources(warehouse: str | os.PathLike[str]) -> list[str]:
    """The sources that hold a stored snapshot: ``default`` first when the root holds one, then the others
    by name (a folder under ``sources/`` whose name is not a source's is ignored)."""
    from .stores import open_store  # the stores import this module's neighbours; keep the import graph flat

    found = [settings.DEFAULT_SOURCE] if open_store(warehouse).exists() else []
    for name in sorted(_source_folders(warehouse)):
        if name != settings.DEFAULT_SOURCE and _NAME.fullmatch(name) \
                and open_store(warehouse, name).exists():
            found.append(name)
    return found


def _source_folders(warehouse: str | os.PathLike[str]) -> list[str]:
    location = parse_warehouse_uri(warehouse)
    if location.is_local:
        folder = Path(os.fspath(warehouse)) if "://" not in os.fspath(warehouse) else Path(location.root)
        folder = folder / settings.SOURCES_FOLDER
        return [p.name for p in folder.iterdir() if p.is_dir()] if folder.is_dir() else []
    import pyarrow.fs as pafs

    from .objectstore import open_filesystem

    filesystem, root = open_filesystem(location)
    selector = pafs.FileSelector(f"{root}/{settings.SOURCES_FOLDER}", allow_not_found=True)
    return [info.base_name for info in filesystem.get_file_info(selector) if info.type == pafs.FileType.Directory]
