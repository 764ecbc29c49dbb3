"""What every step that writes a source's tables begins with, defined once: the source's store, opened under its
writer lock, with what a killed run left behind recovered and an older layout upgraded (:mod:`.upgrade`), the
operating system's refusals to write said in one line.

The fetch, the flatten and the load steps, the history, the approval of a held run and ``assistants-export
upgrade`` open the store they write this way; the commands that read every source (``rebuild-duckdb``, ``copy``)
call :func:`ensure_current_layout` first.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from assistants_export.connectors.core import settings
from assistants_export.connectors.core.errors import WarehouseWriteError

from .location import WRITE_REFUSALS, WarehouseLocation, parse_warehouse_uri
from .store import Store
from .stores import open_store
from .upgrade import needs_upgrade, upgrade_warehouse
from .writer_lock import writer_lock

log = logging.getLogger(__name__)

@contextmanager
def warehouse_errors(root: Path | str) -> Iterator[None]:
    """Turn the operating system's refusals to write the warehouse into one line that says what to fix."""
    try:
        yield
    except OSError as exc:
        hint = WRITE_REFUSALS.get(exc.errno or 0)
        if hint is None:
            raise
        where = root if isinstance(root, str) and "://" in root else os.path.abspath(root)
        raise WarehouseWriteError(f"cannot write the warehouse at {where}: {hint} "
                                  "(the date's stored snapshot is unchanged)") from None


@contextmanager
def opened_for_writing(warehouse: str | os.PathLike[str] | WarehouseLocation,
                       source_name: str = settings.DEFAULT_SOURCE, *, run_id: str | None = None,
                       upgraded: list[str] | None = None) -> Iterator[Store]:
    """The store of ``source_name``, under the source's writer lock for the block, recovered and in the current
    layout.

    Waits for another run of the source as :func:`~.writer_lock.writer_lock` does (a lock this process holds
    already only counts). What a killed run left in staging is removed (and logged), and an older layout is
    upgraded, before the block runs; ``upgraded``, when given, receives what the upgrade did. An
    :class:`OSError` the system raised for a reason the user can fix becomes one line
    (:class:`~assistants_export.connectors.core.errors.WarehouseWriteError`).
    """
    location = parse_warehouse_uri(warehouse)  # once: the store and the lock name the same place
    store = open_store(location, source_name)
    with warehouse_errors(store.root), writer_lock(location, source_name, run_id=run_id):
        for action in store.recover():
            log.warning("recovered from an interrupted run: %s", action)
        done = upgrade_warehouse(store)
        if upgraded is not None:
            upgraded.extend(done)
        yield store


def ensure_current_layout(warehouse: str | os.PathLike[str]) -> None:
    """Upgrade a warehouse of an older layout (under its writer lock, as a writing step would) before a command
    reads every source of it; a warehouse in the current layout is left as it is, without taking any lock."""
    if needs_upgrade(open_store(warehouse)):
        with opened_for_writing(warehouse):
            pass
