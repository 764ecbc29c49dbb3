"""A warehouse of several nights of the sandbox's evolving catalogue, built as nightly runs build it (discover mode)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from assistants_export.connectors.history import rebuild_history
from assistants_export.connectors.openai_assistants.config import ClientConfig, Secret
from assistants_export.connectors.snapshot import IdSource, fetch_snapshot, flatten_snapshot, load_duckdb
from assistants_export.sandbox import EvolvingCatalog, SandboxServer

KEY = "sk-sandbox-evolving"
START = dt.date(2026, 3, 1)


def evolving_nights(root: Path, n: int = 40, nights: int = 4, change_rate: float = 0.3, *, seed: int = 5,
                    start: dt.date = START) -> EvolvingCatalog:
    """``nights`` nights from ``start`` of ``n`` assistants changing at ``change_rate`` into the folder ``root``."""
    catalog = EvolvingCatalog(n, change_rate, seed=seed, start=start, deletion_rate=0.05, creation_rate=0.05)
    with SandboxServer(catalog, api_key=KEY) as server:
        config = ClientConfig(api_key=Secret(KEY), base_url=server.base_url)
        for night in range(nights):
            day = start + dt.timedelta(days=night)
            catalog.set_night(night)
            fetch_snapshot(config, IdSource(discover=True), day, root)
            flatten_snapshot(day, root)
            load_duckdb(day, root)
            rebuild_history(root, day)
    return catalog
