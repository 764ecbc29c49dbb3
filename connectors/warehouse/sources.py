"""Where each API source of a warehouse is stored (which sources a warehouse holds: :func:`.stores.stored_sources`).

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

from .location import WarehouseLocation, parse_warehouse_uri

SOURCE_NAME = re.compile(settings.SOURCE_NAME_PATTERN)
"""What a source's name may be."""


def check_source_name(name: str) -> str:
    """``name`` if it can name a source; otherwise a :class:`ConfigError` saying what a name may hold."""
    if not isinstance(name, str) or not SOURCE_NAME.fullmatch(name):
        raise ConfigError(f"source name {name!r} is not valid: use 1 to 40 lowercase letters, digits, '_' or '-', "
                          "starting with a letter (it becomes a folder name and a partition key)")
    return name


def source_location(warehouse: str | os.PathLike[str] | WarehouseLocation,
                    name: str = settings.DEFAULT_SOURCE) -> WarehouseLocation:
    """Where ``name``'s own tables are: the warehouse itself for the default source, else ``sources/<name>/``
    below it (a folder, or a prefix of the bucket)."""
    check_source_name(name)
    location = parse_warehouse_uri(warehouse)
    if name == settings.DEFAULT_SOURCE:
        return location
    return WarehouseLocation(location.scheme, "/".join([location.root.rstrip("/"), settings.SOURCES_FOLDER, name]))


def source_root(warehouse: str | os.PathLike[str], name: str = settings.DEFAULT_SOURCE) -> str:
    """The location of ``name``'s own tables as text, for what is shown: a folder as the warehouse was written
    (``./data`` stays relative), a URI otherwise; where it is, :func:`source_location`."""
    check_source_name(name)
    text = os.fspath(warehouse)
    if name == settings.DEFAULT_SOURCE:
        return text
    if "://" not in text:
        return str(Path(text) / settings.SOURCES_FOLDER / name)
    return source_location(text, name).uri
