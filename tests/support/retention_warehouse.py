"""A warehouse for the retention tests: four nights in discover mode, a held run of the newest date, then its
re-run, which leaves the held body named by nothing stored (``build``); and what a reader of it sees."""

import datetime as dt

import pytest
from warehouse_state import comparable

from assistants_export import sql
from assistants_export.connectors.core.errors import HeldBackError
from assistants_export.connectors.history import rebuild_history
from assistants_export.connectors.openai_assistants.config import ClientConfig, Secret
from assistants_export.connectors.snapshot import IdSource, fetch_snapshot, flatten_snapshot, load_duckdb
from assistants_export.connectors.warehouse.views import open_duckdb, open_parquet
from assistants_export.sandbox import SandboxServer, StaticCatalog, bundled_assistants

KEY = "sk-retention-3Vb9Kd"
DAYS = (dt.date(2026, 1, 30), dt.date(2026, 1, 31), dt.date(2026, 2, 1), dt.date(2026, 3, 2))
HISTORY = ("SELECT * FROM current_assistants", "SELECT * FROM assistant_history", "SELECT * FROM assistant_changes")


def night(config, server, root, day, catalog):
    server.catalog = StaticCatalog(catalog)
    fetch_snapshot(config, IdSource(discover=True), day, root)
    flatten_snapshot(day, root)
    load_duckdb(day, root)
    return rebuild_history(root, day)


def build(root):
    """The four nights, a held run of the newest date, then its re-run with assistant 0 renamed once more: the
    body the first run of that date stored (and the held run holds) is then named by nothing stored."""
    fixtures = bundled_assistants()[:8]
    with SandboxServer(StaticCatalog(fixtures), api_key=KEY) as server:
        config = ClientConfig(api_key=Secret(KEY), base_url=server.base_url, max_attempts=1)
        for i, day in enumerate(DAYS):
            night(config, server, root, day, [{**fixtures[0], "name": f"night {i}"}, *fixtures[1:8 - (i % 2)]])
        server.catalog = StaticCatalog([{**fixtures[0], "name": "night 3"}, *fixtures[1:3]])
        with pytest.raises(HeldBackError):  # most of the account gone: held back
            fetch_snapshot(config, IdSource(discover=True), DAYS[-1], root)
        night(config, server, root, DAYS[-1], [{**fixtures[0], "name": "re-run"}, *fixtures[1:7]])
    return fixtures


def history_answers(con):
    out = {}
    for statement in HISTORY:
        cursor = con.execute(statement)
        names = [c[0] for c in cursor.description]
        out[statement] = comparable(dict(zip(names, row, strict=True)) for row in cursor.fetchall())
    for day in DAYS:
        cursor = con.execute(sql.load("audit/config_as_of"), {"as_of": day})
        names = [c[0] for c in cursor.description]
        out[f"as of {day}"] = comparable(dict(zip(names, row, strict=True)) for row in cursor.fetchall())
    return out


def both(root):
    with open_parquet(root) as stored, open_duckdb(root) as loaded:
        return history_answers(stored), history_answers(loaded)


def raw_dates(root):
    with open_parquet(root) as stored, open_duckdb(root) as loaded:
        return tuple(tuple(sorted({r[0] for r in con.execute("SELECT snapshot_date FROM raw_assistants").fetchall()}))
                     for con in (stored, loaded))
