"""Migrate the assistants of a warehouse: today's configurations, or those of a past day.

The source is the simplest one that holds everything: each assistant's payload as received
(``raw_json``), parsed and passed through
:func:`~assistants_export.connectors.migration.responses.to_responses_request`.
Today's configurations are those of the view ``current_assistants``; those of a past day come
from the history (``assistant_history``), whose version valid that day points at the snapshot
that first held it. The warehouse is read in an in-memory session (the DuckDB database attached
read-only, or the Parquet files alone; see :mod:`assistants_export.connectors.warehouse.views`), with the date as a
bound parameter.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb

from assistants_export import sql
from assistants_export.connectors.core.errors import ConfigError, InputError
from assistants_export.connectors.openai_assistants.ids import RejectedId, clean_ids
from assistants_export.connectors.warehouse.views import Source, open_source

from .responses import REASONING_MODELS, Json, Migration, to_responses_request

SHOWN_IDS = 10
"""Unknown IDs named in an error message; the rest are counted."""


@dataclass(frozen=True)
class MigratedAssistant:
    """A migration, the API source of its assistant, and the snapshot date of the configuration it was made from."""

    source: str
    snapshot_date: dt.date
    migration: Migration

    def as_line(self) -> Json:
        """The JSON Lines record ``assistants-export migrate`` writes: the source, then the migration's record."""
        return {"source": self.source, **self.migration.as_line()}


def migrate_warehouse(warehouse: str | Path, *, as_of: dt.date | None = None, ids: Iterable[str] | None = None,
                      reasoning_models: Sequence[str] = REASONING_MODELS,
                      source: Source | None = None) -> list[MigratedAssistant]:
    """Every live assistant of ``warehouse`` (or those in ``ids``) as a Responses API request.

    ``as_of`` picks the configurations valid on that day (default: the current ones). Results
    are sorted by API source (``MigratedAssistant.source``), then assistant ID: the same ID in two
    sources is two assistants, and ``ids`` picks it in each. An ID that is not a live assistant on
    that day, a day the history does not cover and a missing warehouse raise a
    :class:`ConnectorError` whose text is one line. ``source`` picks the copy of the warehouse
    read (the DuckDB database or the Parquet files).
    """
    wanted = _wanted(ids) if ids is not None else None
    when = f"as of {as_of}" if as_of is not None else "in the current snapshot"
    try:
        con, _ = open_source(warehouse, source)
    except duckdb.Error as exc:  # locked by a writer, not a DuckDB file, tables too old for the views...
        raise ConfigError(f"could not open the warehouse at {warehouse}: {_one_line(str(exc))}") from None
    with con:
        try:
            if as_of is None:
                rows = con.execute(sql.load("migration/current_payloads")).fetchall()
            else:
                rows = con.execute(sql.load("migration/payloads_as_of"), {"as_of": as_of}).fetchall()
                if not rows:
                    first = (con.execute(sql.load("migration/history_start")).fetchone() or (None,))[0]
                    span = (f"the history starts on {first}" if first is not None
                            else "the history is empty: run assistants-export snapshot first")
                    raise ConfigError(f"no assistant was live on {as_of} in {warehouse} ({span})")
        except duckdb.Error as exc:
            raise ConfigError(f"could not read the warehouse at {warehouse}: {_one_line(str(exc))}") from None
    if not rows and as_of is None:
        raise ConfigError(f"no live assistant in {warehouse}: run assistants-export snapshot first")
    if wanted is not None:
        found = {row[1] for row in rows}
        missing = [i for i in wanted if i not in found]
        if missing:
            shown = ", ".join(missing[:SHOWN_IDS]) + (f" and {len(missing) - SHOWN_IDS} more"
                                                       if len(missing) > SHOWN_IDS else "")
            raise InputError(f"{len(missing)} ID(s) asked for are not live assistants {when} in {warehouse}: "
                             f"{shown} (assistants-export as-of or history shows what the warehouse holds)")
        rows = [row for row in rows if row[1] in set(wanted)]
    return [MigratedAssistant(api_source, snapshot_date,
                              to_responses_request(json.loads(raw), reasoning_models=reasoning_models))
            for api_source, _, snapshot_date, raw in rows]


def _wanted(ids: Iterable[str]) -> list[str]:
    """The IDs, stripped and de-duplicated in order; a malformed one is an error."""
    wanted: list[str] = []
    for item in clean_ids(ids):
        if isinstance(item, RejectedId):
            raise InputError(f"{item.display!r} is not an assistant ID: {item.reason}")
        wanted.append(item)
    if not wanted:
        raise InputError("no assistant ID given: pass at least one ID, or none to migrate every assistant")
    return wanted


def _one_line(message: str) -> str:
    head = message.strip().split("\n\n", 1)[0]
    return " ".join(part.strip() for part in head.splitlines() if part.strip())
