"""Copy a warehouse to another location: a folder into a bucket (moving to containers), or a bucket to a folder.

Every stored table is copied through the stores' own reads and commits, date by date, in the order a run
commits (payloads, then the membership that names them, then the errors and the run), so the target is a
warehouse like any other at every moment: a copy stopped half-way holds whole dates, and running it again
replaces them. Streams in batches, so no date has to fit in memory. The history's change log and versions
follow, and the target's DuckDB cache is built from what was copied. Every source the warehouse holds is
copied into the same place of the target. Held-back runs (``held/``) are not copied:
they were never part of the snapshot.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, field

from assistants_export.connectors.core.errors import ConfigError
from assistants_export.connectors.core.schemas import (
    ASSISTANT_CHANGES,
    ASSISTANT_VERSIONS,
    FETCH_ERRORS,
    PAYLOAD_TABLES,
    RESPONSES_MAPPINGS,
    SNAPSHOT_MEMBERS,
    SNAPSHOT_RUNS,
    TableSpec,
)

from .stores import Store, open_store, stored_sources
from .writing import ensure_current_layout


@dataclass
class Copied:
    """What a copy wrote."""

    dates: list[dt.date] = field(default_factory=list)
    """Each source's dates, one after the other."""
    rows: dict[str, int] = field(default_factory=dict)
    history_dates: int = 0
    sources: list[str] = field(default_factory=list)


def copy_warehouse(source: str | os.PathLike[str], target: str | os.PathLike[str]) -> Copied:
    """Copy every source's stored dates and history from ``source`` to ``target``, which must hold no warehouse
    yet."""
    origin, destination = open_store(source), open_store(target)
    if os.fspath(source) == os.fspath(target) or origin.root == destination.root:
        raise ConfigError("the copy's source and target are the same warehouse")
    names = stored_sources(source)
    if not names:
        raise ConfigError(f"nothing stored in {origin.root}: there is no warehouse to copy")
    if stored_sources(target):
        raise ConfigError(f"{destination.root} already holds a warehouse: copy into an empty location "
                          "(a copy stopped half-way is finished by deleting the target and copying again)")
    ensure_current_layout(source)  # an older layout is brought to the current one first
    done = Copied()
    for name in names:
        _copy_source(open_store(source, name), open_store(target, name), done)
        done.sources.append(name)
    return done


def _copy_source(origin: Store, destination: Store, done: Copied) -> None:
    """Copy one source's dates and history (see :func:`copy_warehouse`)."""
    dates = sorted(set(origin.partition_dates(SNAPSHOT_RUNS.name)) | set(origin.partition_dates(SNAPSHOT_MEMBERS.name)))
    for date in dates:
        with destination.commit_lock():
            for spec in (*PAYLOAD_TABLES, RESPONSES_MAPPINGS, SNAPSHOT_MEMBERS, FETCH_ERRORS):
                done.rows[spec.name] = done.rows.get(spec.name, 0) + _copy_date(origin, destination, spec, date)
        runs = origin.read(SNAPSHOT_RUNS, date)
        if runs.num_rows:
            destination.write(SNAPSHOT_RUNS, date, runs)
            done.rows[SNAPSHOT_RUNS.name] = done.rows.get(SNAPSHOT_RUNS.name, 0) + runs.num_rows
        done.dates.append(date)
    versions = origin.read_table_file(ASSISTANT_VERSIONS)
    if versions is not None:
        for date in origin.replayed_dates():
            _copy_date(origin, destination, ASSISTANT_CHANGES, date)
            done.history_dates += 1
        destination.write_table_file(ASSISTANT_VERSIONS, versions)


def _copy_date(origin: Store, destination: Store, spec: TableSpec, date: dt.date) -> int:
    with destination.writer(spec, date) as out:
        for batch in origin.iter_batches(spec, date):
            out.write(batch)
    return out.rows
